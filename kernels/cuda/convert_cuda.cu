/* convert_cuda.cu: float <-> bf16 for the mixed-precision path (fp32 master
 * weights, bf16 copies). See train_ops_cuda.h. */
#include <cuda_bf16.h>

#include "cuda_check.h"
#include "cuda_launch.h"
#include "train_ops_cuda.h"

__global__ static void f32_to_bf16_kernel(uint16_t *out, const float *in, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = __bfloat16_as_ushort(__float2bfloat16_rn(in[i]));
}

__global__ static void bf16_to_f32_kernel(float *out, const uint16_t *in, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = __bfloat162float(__ushort_as_bfloat16(in[i]));
}

an_status convert_f32_to_bf16_cuda(cuda_context *ctx, uint16_t *out, const float *in, size_t n)
{
    if (n == 0) return AN_OK;
    f32_to_bf16_kernel<<<cuda_blocks_for(n), CUDA_BLOCK, 0, ctx->compute>>>(out, in, n);
    CUDA_TRY_LAUNCH("f32_to_bf16_kernel");
    return AN_OK;
}

an_status convert_bf16_to_f32_cuda(cuda_context *ctx, float *out, const uint16_t *in, size_t n)
{
    if (n == 0) return AN_OK;
    bf16_to_f32_kernel<<<cuda_blocks_for(n), CUDA_BLOCK, 0, ctx->compute>>>(out, in, n);
    CUDA_TRY_LAUNCH("bf16_to_f32_kernel");
    return AN_OK;
}
