/* relu_cpu.c: the rectified linear unit (§3.1), forward and backward. */
#include "ops_cpu.h"

an_status relu_forward_cpu(backend *be, float *out, const float *in, size_t n)
{
    cpu_use(be);
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
    return AN_OK;
}

an_status relu_backward_cpu(backend *be, float *dinput, const float *doutput, const float *out, size_t n)
{
    cpu_use(be);
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) dinput[i] = out[i] > 0.0f ? doutput[i] : 0.0f;
    return AN_OK;
}
