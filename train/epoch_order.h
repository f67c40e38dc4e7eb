/* epoch_order.h: which images each training step sees.
 *
 * Every epoch visits every training image exactly once, in a permutation of
 * the image ids that depends only on (seed, epoch): not on the shard layout,
 * the thread count, the number of processes or a resume. Step b of an epoch
 * takes positions [b*B, min(N, (b+1)*B)) of the permutation (the last batch
 * of an epoch may be short); with R processes, rank r takes the r-th of R
 * nearly equal contiguous slices of that global batch.
 */
#ifndef ALEXNET_EPOCH_ORDER_H
#define ALEXNET_EPOCH_ORDER_H

#include <stddef.h>
#include <stdint.h>

/* order: [n] receives a permutation of 0..n-1 (Fisher-Yates, philox purpose SHUFFLE). */
void epoch_order_make(uint64_t seed, uint32_t epoch, uint32_t n, uint32_t *order);

/* Steps in an epoch of n images with global batch B: ceil(n / B). */
uint64_t epoch_steps(uint64_t n, uint64_t batch);

/* Positions [*begin, *begin + *count) of the permutation that rank `rank` of
 * `ranks` processes takes at step `step` of an epoch of n images. */
void epoch_batch_slice(uint64_t n, uint64_t batch, uint64_t step, int rank, int ranks,
                       uint64_t *begin, uint64_t *count);

#endif
