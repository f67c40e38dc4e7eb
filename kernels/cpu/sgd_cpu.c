/* sgd_cpu.c: the momentum and weight-decay update of §5 over a flat block
 * (ops_cpu.h), the CPU twin of sgd_update_cuda. */
#include "ops_cpu.h"

#include <math.h>

an_status sgd_update_cpu(backend *be, float *weights, float *velocity, int32_t *applied, const float *grads, size_t n,
                         float lr, float momentum, float weight_decay)
{
    cpu_use(be);
    int finite = 1;
#pragma omp parallel for schedule(static) reduction(&& : finite)
    for (size_t i = 0; i < n; i++) finite = finite && isfinite(grads[i]);
    *applied = finite;
    if (!finite) return AN_OK; /* a non-finite step is never applied */
    const float decay = weight_decay * lr;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        float v = momentum * velocity[i] - decay * weights[i] - lr * grads[i];
        velocity[i] = v;
        weights[i] += v;
    }
    return AN_OK;
}
