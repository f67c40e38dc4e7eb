/* sgd.h: the update rule of §5, applied element-wise over a flat block
 * (every weight and bias alike, as the paper writes it):
 *   v <- momentum * v - weight_decay * lr * w - lr * g
 *   w <- w + v
 * with momentum 0.9, weight_decay 0.0005 and g the batch-mean gradient.
 */
#ifndef ALEXNET_SGD_H
#define ALEXNET_SGD_H

#include <stddef.h>

#define SGD_PAPER_MOMENTUM 0.9f      /* §5 */
#define SGD_PAPER_WEIGHT_DECAY 0.0005f /* §5 */

/*   params   [count] updated
 *   momentum [count] updated (v)
 *   grads    [count] */
void sgd_update(float *params, float *momentum, const float *grads, size_t count, float lr,
                float momentum_coef, float weight_decay);

#endif
