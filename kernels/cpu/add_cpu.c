/* add_cpu.c: the element-wise sum of two blocks (ops_cpu.h), the CPU twin of
 * add_cuda: the partial sums of --reproducible's gradient tree. */
#include "ops_cpu.h"

an_status add_cpu(backend *be, float *out, const float *a, const float *b, size_t n)
{
    cpu_use(be);
    if (!b) {
        if (out != a)
#pragma omp parallel for schedule(static) if (n > 65536)
            for (size_t i = 0; i < n; i++) out[i] = a[i];
        return AN_OK;
    }
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
    return AN_OK;
}
