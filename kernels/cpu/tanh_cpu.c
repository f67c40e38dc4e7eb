/* tanh_cpu.c: the hyperbolic tangent neuron (§3.1, Figure 1), forward and
 * backward; the paper's saturating non-linearity that ReLU is compared with
 * (--activation tanh, docs/experiments.md). */
#include <math.h>

#include "ops_cpu.h"

void tanh_forward_cpu(float *out, const float *in, size_t n)
{
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) out[i] = tanhf(in[i]);
}

void tanh_backward_cpu(float *dinput, const float *doutput, const float *out, size_t n)
{
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) dinput[i] = doutput[i] * (1.0f - out[i] * out[i]);
}
