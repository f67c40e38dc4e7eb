/* maxpool_cpu.c: overlapping max pooling (§3.4), 3x3 windows with stride 2
 * in the network; the first maximum in row-major window order wins ties and
 * alone receives the gradient. */
#include <math.h>
#include <string.h>

#include "ops_cpu.h"

static an_status pool_shape_check(const pool_shape *s, int *ho, int *wo)
{
    if (s->batch < 0 || s->channels < 1 || s->size < 1 || s->stride < 1)
        return error_set(AN_ERR_ARG, "bad pooling shape: batch %d channels %d size %d stride %d",
                         s->batch, s->channels, s->size, s->stride);
    *ho = pool_out_size(s->in_h, s->size, s->stride, s->ceil_mode);
    *wo = pool_out_size(s->in_w, s->size, s->stride, s->ceil_mode);
    if (*ho < 1 || *wo < 1)
        return error_set(AN_ERR_ARG, "pooling window %d does not fit a %dx%d input", s->size,
                         s->in_h, s->in_w);
    return AN_OK;
}

an_status maxpool_forward_cpu(backend *be, float *out, int32_t *argmax, const float *in, const pool_shape *s)
{
    cpu_use(be);
    int ho = 0, wo = 0;
    AN_TRY(pool_shape_check(s, &ho, &wo));
    const int h = s->in_h, w = s->in_w;
    const int planes = s->batch * s->channels;
#pragma omp parallel for schedule(static)
    for (int pl = 0; pl < planes; pl++) {
        const float *x = in + (size_t)pl * h * w; /* [H, W] */
        float *y = out + (size_t)pl * ho * wo;    /* [Ho, Wo] */
        int32_t *am = argmax ? argmax + (size_t)pl * ho * wo : NULL;
        for (int oy = 0; oy < ho; oy++) {
            int y0 = oy * s->stride, y1 = y0 + s->size > h ? h : y0 + s->size;
            for (int ox = 0; ox < wo; ox++) {
                int x0 = ox * s->stride, x1 = x0 + s->size > w ? w : x0 + s->size;
                int best = y0 * w + x0;
                float vbest = x[best];
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) {
                        float v = x[iy * w + ix];
                        /* strictly greater: the first maximum stays; a NaN, once found, stays */
                        if (v > vbest || (isnan(v) && !isnan(vbest))) {
                            vbest = v;
                            best = iy * w + ix;
                        }
                    }
                y[oy * wo + ox] = vbest;
                if (am) am[oy * wo + ox] = best;
            }
        }
    }
    return AN_OK;
}

an_status maxpool_backward_cpu(backend *be, float *dinput, const float *doutput, const int32_t *argmax,
                               const pool_shape *s)
{
    cpu_use(be);
    int ho = 0, wo = 0;
    AN_TRY(pool_shape_check(s, &ho, &wo));
    const size_t in_plane = (size_t)s->in_h * s->in_w, out_plane = (size_t)ho * wo;
    const int planes = s->batch * s->channels;
#pragma omp parallel for schedule(static)
    for (int pl = 0; pl < planes; pl++) {
        float *dx = dinput + (size_t)pl * in_plane;          /* [H, W] */
        const float *dy = doutput + (size_t)pl * out_plane;  /* [Ho, Wo] */
        const int32_t *am = argmax + (size_t)pl * out_plane; /* [Ho, Wo] */
        memset(dx, 0, sizeof(float) * in_plane);
        for (size_t i = 0; i < out_plane; i++) dx[am[i]] += dy[i];
    }
    return AN_OK;
}
