/* dropout_cpu.c: inverted dropout after fc6 and fc7 (§4.2) with masks drawn
 * from Philox, keyed by (seed, purpose, step, image id, element) so that any
 * backend, thread count or replica split draws the same mask. */
#include "ops_cpu.h"
#include "philox.h"

an_status dropout_forward_cpu(backend *be, float *out, uint8_t *mask, const float *in, int batch, int n_per_image,
                              float rate, uint64_t seed, uint32_t purpose, uint32_t step,
                              const uint32_t *image_ids)
{
    cpu_use(be);
    const float keep_scale = rate < 1.0f ? 1.0f / (1.0f - rate) : 0.0f;
#pragma omp parallel for schedule(static)
    for (int b = 0; b < batch; b++) {
        const float *x = in + (size_t)b * n_per_image;  /* [N] */
        float *y = out + (size_t)b * n_per_image;       /* [N] */
        uint8_t *m = mask + (size_t)b * n_per_image;    /* [N] */
        for (int e0 = 0; e0 < n_per_image; e0 += 4) {
            philox_block r = philox_draw(seed, purpose, step, image_ids[b], (uint32_t)(e0 / 4));
            for (int j = 0; j < 4 && e0 + j < n_per_image; j++) {
                int keep = philox_uniform(r.v[j]) >= rate;
                m[e0 + j] = (uint8_t)keep;
                y[e0 + j] = keep ? x[e0 + j] * keep_scale : 0.0f;
            }
        }
    }
    return AN_OK;
}

an_status dropout_backward_cpu(backend *be, float *dinput, const float *doutput, const uint8_t *mask, int batch,
                               int n_per_image, float rate)
{
    cpu_use(be);
    const float keep_scale = rate < 1.0f ? 1.0f / (1.0f - rate) : 0.0f;
    size_t n = (size_t)batch * (size_t)n_per_image;
    for (size_t i = 0; i < n; i++) dinput[i] = mask[i] ? doutput[i] * keep_scale : 0.0f;
    return AN_OK;
}
