/* figures.h: the paper's pictures of what the network learned (§6.1), drawn
 * on a canvas and saved as PNG:
 *   - predictions (Figure 4, left): images with their true label and the
 *     five most probable classes as bars, the true class's bar in red;
 *   - neighbours (Figure 4, right): query images in the first column, then
 *     the training images nearest in fc7 space;
 *   - conv1 kernels (Figure 3): every first-layer filter as a small RGB tile.
 * When no font renders, labels are left out and *with_text is 0. */
#ifndef ALEXNET_EVAL_FIGURES_H
#define ALEXNET_EVAL_FIGURES_H

#include <stdint.h>

#include "eval_score.h"
#include "status.h"

/* images [n, 256, 256, 3]; info [n] their scores (true label, top 5). */
an_status figure_predictions(const char *path, int n, const uint8_t *images, const eval_image *info,
                             const char *const *class_names, int *with_text);

/* queries [q, 256, 256, 3]; neighbours [q, k, 256, 256, 3], nearest first. */
an_status figure_neighbours(const char *path, int q, const uint8_t *queries, int k, const uint8_t *neighbours);

/* weight [cout, 3, ksize, ksize] (conv1.weight): each kernel scaled to
 * 0..255 on its own range, as a tile in a grid of 12 columns. */
an_status figure_conv1(const char *path, const float *weight, int cout, int ksize);

#endif
