/* neighbours.h: §6.1's second probe of what the network learned (Figure 4,
 * right): for a query image, the training images whose last hidden layer
 * (fc7 after ReLU, 4096 values at width 1.0) is closest in Euclidean
 * distance. Features come from the centre view (ten_crop.h view 4). */
#ifndef ALEXNET_EVAL_NEIGHBOURS_H
#define ALEXNET_EVAL_NEIGHBOURS_H

#include <stdint.h>

#include "net.h"
#include "eval_score.h"
#include "status.h"

/* fc7 of the centre view of the split's images at positions [n] (shard
 * order, as eval_split_locate) into out [n, F7], `batch` views per forward. */
an_status fc7_features(net *model, const eval_split *s, const float *mean_image,
                       const uint64_t *positions, int n, int batch, float *out);

/* For each query [Q, F] the k nearest rows of pool [P, F]: indices into the
 * pool into nearest [Q, k] and distances into distance [Q, k], nearest first,
 * ties by lower pool index. k <= P. */
void nearest_neighbours(const float *queries, int num_queries, const float *pool, int pool_size, int features,
                        int k, int *nearest, float *distance);

/* `count` positions spread evenly over [0, total): floor(i * total / count). */
void evenly_spaced(uint64_t total, int count, uint64_t *positions);

#endif
