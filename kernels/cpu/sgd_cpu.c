/* sgd_cpu.c: the momentum and weight-decay update of §5 over a flat block
 * (ops_cpu.h), the CPU twin of sgd_update_cuda. */
#include "ops_cpu.h"

an_status sgd_update_cpu(backend *be, float *weights, float *velocity, const float *grads, size_t n, float lr, float momentum,
                         float weight_decay)
{
    cpu_use(be);
    const float decay = weight_decay * lr;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        float v = momentum * velocity[i] - decay * weights[i] - lr * grads[i];
        velocity[i] = v;
        weights[i] += v;
    }
    return AN_OK;
}
