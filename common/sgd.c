/* sgd.c: the momentum and weight-decay update of §5 over a flat block. */
#include "sgd.h"

void sgd_update(float *params, float *momentum, const float *grads, size_t count, float lr,
                float momentum_coef, float weight_decay)
{
    const float decay = weight_decay * lr;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < count; i++) {
        float v = momentum_coef * momentum[i] - decay * params[i] - lr * grads[i];
        momentum[i] = v;
        params[i] += v;
    }
}
