/* convert_cuda.cu: float <-> bf16 for the mixed-precision path (fp32 master
 * weights, bf16 copies). See convert_cuda.h. */
#include <cuda_bf16.h>

#include "cuda_check.h"
#include "cuda_launch.h"
#include "convert_cuda.h"

an_status convert_f32_to_bf16_cuda(cuda_context *ctx, uint16_t *out, const float *in, size_t n)
{
    return cuda_for_each(ctx, n, "f32_to_bf16",
                         [=] __device__(size_t i) { out[i] = __bfloat16_as_ushort(__float2bfloat16_rn(in[i])); });
}

an_status convert_bf16_to_f32_cuda(cuda_context *ctx, float *out, const uint16_t *in, size_t n)
{
    return cuda_for_each(ctx, n, "bf16_to_f32",
                         [=] __device__(size_t i) { out[i] = __bfloat162float(__ushort_as_bfloat16(in[i])); });
}
