/* topk.h: top-1 and top-5 errors from a batch of scores (§6 reports both). */
#ifndef ALEXNET_TOPK_H
#define ALEXNET_TOPK_H

#include <stdint.h>

/* Counts the images whose label is not the highest score (top-1) and not
 * among the 5 highest (top-5). A class scoring equal to the label counts as
 * above it, so ties never flatter the model.
 *   scores [batch, classes]; labels [batch] */
void topk_count_errors(const float *scores, const int32_t *labels, int batch, int classes,
                       int64_t *top1_errors, int64_t *top5_errors);

#endif
