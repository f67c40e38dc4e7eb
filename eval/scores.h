/* scores.h: from the network's logits to class probabilities and rankings.
 *
 * Ten-crop scoring (§4.1, §6) averages the SOFTMAX outputs of the ten views,
 * not their logits. Rankings use one tie rule everywhere: a higher
 * probability ranks first, and among equal probabilities the lower class
 * index ranks first. So "label in the top k" is well defined even when the
 * network outputs exact ties (e.g. a dead network with all-equal logits
 * predicts class 0, 1, 2, ... in that order). A single view's probabilities
 * are the network's own softmax layer (net_read_probs).
 */
#ifndef ALEXNET_EVAL_SCORES_H
#define ALEXNET_EVAL_SCORES_H

#include <stddef.h>

#define SOFTMAX_MAX_VIEWS 16

/* Averages the softmax of `views` consecutive rows of logits [views, C] into
 * probs [C]; 1 <= views <= SOFTMAX_MAX_VIEWS. Arithmetic in double. */
void softmax_average(const float *logits, int views, int num_classes, float *probs);

/* The 0-based rank of class `c` in probs [C] under the tie rule above;
 * "c is in the top k" is rank < k. */
int class_rank(const float *probs, int num_classes, int c);

/* The k best classes in rank order into classes [k] (and their probabilities
 * into top_probs [k] when not NULL); k is clamped to C; returns the count. */
int top_k(const float *probs, int num_classes, int k, int *classes, float *top_probs);

#endif
