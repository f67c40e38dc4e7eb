/* tanh_cuda.cu: the tanh neuron forward and backward (§3.1, Figure 1), the
 * CUDA twin of kernels/cpu/tanh_cpu.c. The backward is the CPU's expression
 * operation for operation; the forward uses CUDA's tanhf, within 2 ulp of
 * glibc's. See ops_cuda.h. */
#include "cuda_check.h"
#include "cuda_launch.h"
#include "ops_cuda.h"

__global__ static void tanh_forward_kernel(float *out, const float *in, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = tanhf(in[i]);
}

__global__ static void tanh_backward_kernel(float *dinput, const float *doutput, const float *out, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dinput[i] = __fmul_rn(doutput[i], __fsub_rn(1.0f, __fmul_rn(out[i], out[i])));
}

an_status tanh_forward_cuda(cuda_context *ctx, float *out, const float *in, size_t n)
{
    if (n == 0) return AN_OK;
    tanh_forward_kernel<<<cuda_blocks_for(n), CUDA_BLOCK, 0, ctx->compute>>>(out, in, n);
    CUDA_TRY_LAUNCH("tanh_forward_kernel");
    return AN_OK;
}

an_status tanh_backward_cuda(cuda_context *ctx, float *dinput, const float *doutput, const float *out,
                             size_t n)
{
    if (n == 0) return AN_OK;
    tanh_backward_kernel<<<cuda_blocks_for(n), CUDA_BLOCK, 0, ctx->compute>>>(dinput, doutput, out, n);
    CUDA_TRY_LAUNCH("tanh_backward_kernel");
    return AN_OK;
}
