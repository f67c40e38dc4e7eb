/* relu_cpu.c: the rectified linear unit (§3.1), forward and backward. */
#include "ops_cpu.h"

void relu_forward_cpu(float *out, const float *in, size_t n)
{
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void relu_backward_cpu(float *dinput, const float *doutput, const float *out, size_t n)
{
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) dinput[i] = out[i] > 0.0f ? doutput[i] : 0.0f;
}
