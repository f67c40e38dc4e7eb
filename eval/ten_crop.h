/* ten_crop.h: the ten 224x224 views of a 256x256 image that the paper scores
 * at test time (§4.1: "the four corner patches and the center patch as well
 * as their horizontal reflections"), cut into the network's input layout.
 *
 * Views 0..4 are the top-left, top-right, bottom-left, bottom-right corners
 * and the centre; views 5..9 are the same five, mirrored left-right. View 4
 * alone is the single centre crop. The sizes and the corner and centre
 * offsets are common/image_geometry.h's.
 *
 * The mean image is subtracted at the SOURCE pixel, before the mirror, the
 * same convention as training (§2; docs/eval.md, "What is scored"), by the same CPU crop
 * (kernels/cpu/crop_cpu.h): output pixel (y, x) of a mirrored view is
 * image[y0+y][x0+223-x] - mean[y0+y][x0+223-x].
 */
#ifndef ALEXNET_EVAL_TEN_CROP_H
#define ALEXNET_EVAL_TEN_CROP_H

#include <stdint.h>

#include "image_geometry.h"
#include "op_shapes.h"

#define TEN_CROP_VIEWS 10
#define TEN_CROP_CENTRE_VIEW 4

/* The geometry of view v in [0, 10): its corner (x, y), its mirror (flip),
 * no shift (kernels/op_shapes.h). */
crop_choice ten_crop_view(int v);

/* Cuts one view.
 * image: [256, 256, 3] uint8 HWC RGB; mean: [256, 256, 3] float byte units;
 * out:   [3, 224, 224] float CHW, byte units minus the mean. */
void crop_cut(const uint8_t *image, const float *mean, crop_choice view, float *out);

/* Cuts all ten views of one image into out: [10, 3, 224, 224]. */
void ten_crop_cut(const uint8_t *image, const float *mean, float *out);

#endif
