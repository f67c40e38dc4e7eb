/* tanh_cpu.c: the hyperbolic tangent neuron (§3.1, Figure 1), forward and
 * backward; the paper's saturating non-linearity that ReLU is compared with
 * (--activation tanh, docs/experiments.md). */
#include <math.h>

#include "ops_cpu.h"

an_status tanh_forward_cpu(backend *be, float *out, const float *in, size_t n)
{
    cpu_use(be);
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) out[i] = tanhf(in[i]);
    return AN_OK;
}

an_status tanh_backward_cpu(backend *be, float *dinput, const float *doutput, const float *out, size_t n)
{
    cpu_use(be);
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) dinput[i] = doutput[i] * (1.0f - out[i] * out[i]);
    return AN_OK;
}
