/* relu_cuda.cu: ReLU forward and backward (§3.1), our own element-wise
 * kernels rather than cuDNN's activation, so that the result is the CPU's to
 * the bit, NaN included (the CPU maps a NaN input to 0: `in > 0 ? in : 0`).
 * See ops_cuda.h. */
#include "cuda_check.h"
#include "cuda_launch.h"
#include "ops_cuda.h"

__global__ static void relu_forward_kernel(float *out, const float *in, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

__global__ static void relu_backward_kernel(float *dinput, const float *doutput, const float *out, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dinput[i] = out[i] > 0.0f ? doutput[i] : 0.0f;
}

an_status relu_forward_cuda(cuda_context *ctx, float *out, const float *in, size_t n)
{
    if (n == 0) return AN_OK;
    relu_forward_kernel<<<cuda_blocks_for(n), CUDA_BLOCK, 0, ctx->compute>>>(out, in, n);
    CUDA_TRY_LAUNCH("relu_forward_kernel");
    return AN_OK;
}

an_status relu_backward_cuda(cuda_context *ctx, float *dinput, const float *doutput, const float *out,
                             size_t n)
{
    if (n == 0) return AN_OK;
    relu_backward_kernel<<<cuda_blocks_for(n), CUDA_BLOCK, 0, ctx->compute>>>(dinput, doutput, out, n);
    CUDA_TRY_LAUNCH("relu_backward_kernel");
    return AN_OK;
}
