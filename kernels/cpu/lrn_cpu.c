/* lrn_cpu.c: local response normalisation across adjacent channels (§3.3),
 *   b[c] = a[c] / (k + α' Σ_{c' in window(c)} a[c']²)^β,
 * window(c) = c - n/2 .. c - n/2 + n - 1, clipped to [0, C) (for odd n the
 * centred window; for even n one more channel before than after, as PyTorch).
 * α' = α / n or α (lrn_alpha_convention in ops_cpu.h). */
#include <math.h>
#include <stdlib.h>

#include "ops_cpu.h"

/* scale^-β; β = 0.75 (the paper's) as 1 / sqrt(scale * sqrt(scale)), which is
 * exact to a few ulp and several times faster than powf. */
static inline float lrn_pow_neg_beta(float scale, float beta)
{
    if (beta == 0.75f) return 1.0f / sqrtf(scale * sqrtf(scale));
    return powf(scale, -beta);
}

static float lrn_effective_alpha(const lrn_params *p)
{
    return p->convention == LRN_ALPHA_DIVIDED_BY_N ? p->alpha / (float)p->n : p->alpha;
}

an_status lrn_forward_cpu(backend *be, float *out, float *scale, const float *in, int batch, int channels,
                          int height, int width, const lrn_params *p)
{
    cpu_use(be);
    const size_t plane = (size_t)height * width;
    const float alpha = lrn_effective_alpha(p);
    const int before = p->n / 2, after = p->n - 1 - p->n / 2;
#pragma omp parallel for schedule(static) collapse(2)
    for (int b = 0; b < batch; b++) {
        for (int c = 0; c < channels; c++) {
            const float *x = in + (size_t)b * channels * plane;  /* [C, H*W] */
            float *y = out + ((size_t)b * channels + c) * plane; /* [H*W] */
            float *s = scale ? scale + ((size_t)b * channels + c) * plane : NULL;
            int lo = c - before < 0 ? 0 : c - before;
            int hi = c + after >= channels ? channels - 1 : c + after;
            for (size_t i = 0; i < plane; i++) {
                float sum = 0.0f;
                for (int cc = lo; cc <= hi; cc++) {
                    float v = x[(size_t)cc * plane + i];
                    sum += v * v;
                }
                float sc = p->k + alpha * sum;
                if (s) s[i] = sc;
                y[i] = x[(size_t)c * plane + i] * lrn_pow_neg_beta(sc, p->beta);
            }
        }
    }
    return AN_OK;
}

/* d a[c] = dy[c] scale[c]^-β
 *        - 2 α' β a[c] Σ_{c' : c in window(c')} dy[c'] y[c'] / scale[c']
 * scale NULL: recomputed from in first, as a backend that keeps none does. */
static void lrn_backward_kept(float *dinput, const float *doutput, const float *in, const float *out,
                              const float *scale, int batch, int channels, int height, int width,
                              const lrn_params *p);

an_status lrn_backward_cpu(backend *be, float *dinput, const float *doutput, const float *in, const float *out,
                           const float *scale, int batch, int channels, int height, int width,
                           const lrn_params *p)
{
    cpu_use(be);
    if (scale) {
        lrn_backward_kept(dinput, doutput, in, out, scale, batch, channels, height, width, p);
        return AN_OK;
    }
    const size_t n = (size_t)batch * channels * height * width;
    float *recomputed = malloc((2 * n + 1) * sizeof(float)); /* scale [B, C, H, W], then out [B, C, H, W] */
    AN_CHECK_ALLOC(recomputed, (2 * n + 1) * sizeof(float));
    lrn_forward_cpu(be, recomputed + n, recomputed, in, batch, channels, height, width, p);
    lrn_backward_kept(dinput, doutput, in, out, recomputed, batch, channels, height, width, p);
    free(recomputed);
    return AN_OK;
}

static void lrn_backward_kept(float *dinput, const float *doutput, const float *in, const float *out,
                              const float *scale, int batch, int channels, int height, int width,
                              const lrn_params *p)
{
    const size_t plane = (size_t)height * width;
    const float alpha = lrn_effective_alpha(p);
    const int before = p->n / 2, after = p->n - 1 - p->n / 2;
    const float coef = 2.0f * alpha * p->beta;
#pragma omp parallel for schedule(static) collapse(2)
    for (int b = 0; b < batch; b++) {
        for (int c = 0; c < channels; c++) {
            const size_t img = (size_t)b * channels * plane;
            const float *dy = doutput + img; /* [C, H*W] */
            const float *y = out + img;      /* [C, H*W] */
            const float *s = scale + img;    /* [C, H*W] */
            const float *x = in + img + (size_t)c * plane; /* [H*W] */
            float *dx = dinput + img + (size_t)c * plane;  /* [H*W] */
            /* c is in window(c') for c' in c - after .. c + before */
            int lo = c - after < 0 ? 0 : c - after;
            int hi = c + before >= channels ? channels - 1 : c + before;
            for (size_t i = 0; i < plane; i++) {
                float acc = 0.0f;
                for (int cc = lo; cc <= hi; cc++) {
                    size_t j = (size_t)cc * plane + i;
                    acc += dy[j] * y[j] / s[j];
                }
                size_t j = (size_t)c * plane + i;
                dx[i] = dy[j] * lrn_pow_neg_beta(s[j], p->beta) - coef * x[i] * acc;
            }
        }
    }
}
