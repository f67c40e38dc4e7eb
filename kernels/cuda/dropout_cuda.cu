/* dropout_cuda.cu: inverted dropout (§4.2) with the CPU's masks: the same
 * Philox draw (seed, purpose, step, image id, element / 4), word element % 4.
 * One thread per 4-element Philox block. See ops_cuda.h. */
#include "cuda_check.h"
#include "cuda_launch.h"
#include "ops_cuda.h"
#include "philox.h"

static an_status rate_check(float rate)
{
    if (!(rate >= 0.0f && rate < 1.0f))
        return error_set(AN_ERR_ARG, "dropout rate %g is outside [0, 1)", (double)rate);
    return AN_OK;
}

an_status dropout_forward_cuda(backend *be, float *out, uint8_t *mask, const float *in, int batch,
                               int n_per_image, float rate, uint64_t seed, uint32_t purpose,
                               uint32_t step, const uint32_t *image_ids)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    AN_TRY(rate_check(rate));
    const int blocks_per_image = (n_per_image + 3) / 4; /* one Philox draw: 4 elements */
    const float scale = 1.0f / (1.0f - rate);
    return cuda_for_each(ctx, (size_t)batch * (size_t)blocks_per_image, "dropout_forward",
                         [=] __device__(size_t i) {
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
                         });
}

an_status dropout_backward_cuda(backend *be, float *dinput, const float *doutput,
                                const uint8_t *mask, int batch, int n_per_image, float rate)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    AN_TRY(rate_check(rate));
    const float scale = 1.0f / (1.0f - rate);
    return cuda_for_each(ctx, (size_t)batch * (size_t)n_per_image, "dropout_backward",
                         [=] __device__(size_t i) { dinput[i] = mask[i] ? doutput[i] * scale : 0.0f; });
}
