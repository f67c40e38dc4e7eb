/* dropout_cuda.cu: inverted dropout (§4.2) with the CPU's masks: the same
 * Philox draw (seed, purpose, step, image id, element / 4), word element % 4.
 * One thread per 4-element Philox block. See ops_cuda.h. */
#include "cuda_check.h"
#include "cuda_launch.h"
#include "ops_cuda.h"
#include "philox.h"

__global__ static void dropout_forward_kernel(float *out, uint8_t *mask, const float *in, int batch,
                                             int n_per_image, float rate, float scale, uint64_t seed,
                                             uint32_t purpose, uint32_t step, const uint32_t *image_ids)
{
    int blocks_per_image = (n_per_image + 3) / 4;
    size_t total = (size_t)batch * blocks_per_image;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x) {
        int b = (int)(i / blocks_per_image), block = (int)(i % blocks_per_image);
        philox_block r = philox_draw(seed, purpose, step, image_ids[b], (uint32_t)block);
        for (int w = 0; w < 4; w++) {
            int e = block * 4 + w;
            if (e >= n_per_image) break;
            size_t at = (size_t)b * n_per_image + e;
            uint8_t keep = philox_uniform(r.v[w]) < rate ? 0 : 1;
            mask[at] = keep;
            out[at] = keep ? in[at] * scale : 0.0f;
        }
    }
}

__global__ static void dropout_backward_kernel(float *dinput, const float *doutput, const uint8_t *mask,
                                              size_t total, float scale)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x)
        dinput[i] = mask[i] ? doutput[i] * scale : 0.0f;
}

static an_status rate_check(float rate)
{
    if (!(rate >= 0.0f && rate < 1.0f))
        return error_set(AN_ERR_ARG, "dropout rate %g is outside [0, 1)", (double)rate);
    return AN_OK;
}

an_status dropout_forward_cuda(cuda_context *ctx, float *out, uint8_t *mask, const float *in, int batch,
                               int n_per_image, float rate, uint64_t seed, uint32_t purpose,
                               uint32_t step, const uint32_t *image_ids)
{
    AN_TRY(rate_check(rate));
    size_t blocks = (size_t)batch * (size_t)((n_per_image + 3) / 4);
    if (blocks == 0) return AN_OK;
    dropout_forward_kernel<<<cuda_blocks_for(blocks), CUDA_BLOCK, 0, ctx->compute>>>(
        out, mask, in, batch, n_per_image, rate, 1.0f / (1.0f - rate), seed, purpose, step, image_ids);
    CUDA_TRY_LAUNCH("dropout_forward_kernel");
    return AN_OK;
}

an_status dropout_backward_cuda(cuda_context *ctx, float *dinput, const float *doutput,
                                const uint8_t *mask, int batch, int n_per_image, float rate)
{
    AN_TRY(rate_check(rate));
    size_t total = (size_t)batch * (size_t)n_per_image;
    if (total == 0) return AN_OK;
    dropout_backward_kernel<<<cuda_blocks_for(total), CUDA_BLOCK, 0, ctx->compute>>>(
        dinput, doutput, mask, total, 1.0f / (1.0f - rate));
    CUDA_TRY_LAUNCH("dropout_backward_kernel");
    return AN_OK;
}
