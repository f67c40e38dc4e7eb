/* activation_cuda.cu: the neurons, forward and backward, as element-wise
 * lambdas (cuda_launch.h): ReLU (§3.1) and tanh (§3.1, Figure 1), the CUDA
 * twins of kernels/cpu/relu_cpu.c and tanh_cpu.c.
 *   - ReLU: our own kernels rather than cuDNN's activation, so that the
 *     result is the CPU's to the bit, NaN included (the CPU maps a NaN input
 *     to 0: `in > 0 ? in : 0`).
 *   - tanh: the backward is the CPU's expression operation for operation; the
 *     forward uses CUDA's tanhf, within 2 ulp of glibc's. */
#include "cuda_launch.h"
#include "ops_cuda.h"

an_status relu_forward_cuda(backend *be, float *out, const float *in, size_t n)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    return cuda_for_each(ctx, n, "relu_forward", [=] __device__(size_t i) { out[i] = in[i] > 0.0f ? in[i] : 0.0f; });
}

an_status relu_backward_cuda(backend *be, float *dinput, const float *doutput, const float *out, size_t n)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    return cuda_for_each(ctx, n, "relu_backward",
                         [=] __device__(size_t i) { dinput[i] = out[i] > 0.0f ? doutput[i] : 0.0f; });
}

an_status tanh_forward_cuda(backend *be, float *out, const float *in, size_t n)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    return cuda_for_each(ctx, n, "tanh_forward", [=] __device__(size_t i) { out[i] = tanhf(in[i]); });
}

an_status tanh_backward_cuda(backend *be, float *dinput, const float *doutput, const float *out, size_t n)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    return cuda_for_each(ctx, n, "tanh_backward", [=] __device__(size_t i) {
        dinput[i] = __fmul_rn(doutput[i], __fsub_rn(1.0f, __fmul_rn(out[i], out[i])));
    });
}
