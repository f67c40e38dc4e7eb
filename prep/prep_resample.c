/* prep_resample.c: separable fixed-point antialiased bilinear resize to 256x256. */
#include "prep_resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "shard_format.h"

#define WEIGHT_BITS 14

/* For each of the 256 outputs along one axis: taps [first, first + count) of
 * the input with weights[o * max_taps + k] (sum 1 << WEIGHT_BITS). */
typedef struct axis_filter {
    int first[AN_IMAGE_SIZE], count[AN_IMAGE_SIZE];
    int max_taps;
    int32_t *weights; /* [256, max_taps] */
} axis_filter;

/* `scale` = output / input length; `offset` = index of the first kept output in the scaled axis. */
static an_status axis_filter_make(axis_filter *f, int length, double scale, int offset)
{
    double step = 1.0 / scale;                       /* input pixels per output pixel */
    double support = step > 1.0 ? step : 1.0;        /* the triangle's half width, in input pixels */
    f->max_taps = (int)ceil(support) * 2 + 1;
    f->weights = calloc((size_t)AN_IMAGE_SIZE * (size_t)f->max_taps, sizeof *f->weights);
    AN_CHECK_ALLOC(f->weights, (size_t)AN_IMAGE_SIZE * (size_t)f->max_taps * sizeof *f->weights);
    double *w = malloc((size_t)f->max_taps * sizeof *w);
    if (!w) return error_set(AN_ERR_NOMEM, "out of memory for filter taps");
    for (int o = 0; o < AN_IMAGE_SIZE; o++) {
        double centre = ((double)(o + offset) + 0.5) * step; /* in input coordinates, pixel i covers [i, i+1) */
        int lo = (int)floor(centre - support + 0.5), hi = (int)floor(centre + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > length) hi = length;
        if (hi - lo > f->max_taps) hi = lo + f->max_taps;
        if (hi <= lo) { /* beyond the edge (enlarging a 1-pixel axis): the nearest pixel */
            lo = centre < 0.5 ? 0 : length - 1;
            hi = lo + 1;
        }
        double total = 0;
        for (int i = lo; i < hi; i++) {
            double t = fabs(((double)i + 0.5 - centre) / support);
            w[i - lo] = t < 1.0 ? 1.0 - t : 0.0;
            total += w[i - lo];
        }
        if (total <= 0) { w[0] = 1.0; total = 1.0; hi = lo + 1; }
        /* Quantise so that the weights sum exactly to 1 << WEIGHT_BITS. */
        int32_t sum = 0;
        int32_t *q = f->weights + (size_t)o * (size_t)f->max_taps;
        for (int k = 0; k < hi - lo; k++) {
            q[k] = (int32_t)lround(w[k] / total * (1 << WEIGHT_BITS));
            sum += q[k];
        }
        int big = 0;
        for (int k = 1; k < hi - lo; k++)
            if (q[k] > q[big]) big = k;
        q[big] += (1 << WEIGHT_BITS) - sum;
        f->first[o] = lo;
        f->count[o] = hi - lo;
    }
    free(w);
    return AN_OK;
}

static uint8_t clamp_round(int32_t acc)
{
    int32_t v = (acc + (1 << (WEIGHT_BITS - 1))) >> WEIGHT_BITS; /* |acc| < 2^14 * 255 * 2 */
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

an_status prep_resample(const uint8_t *pixels /* [rows, cols, channels] */, int rows, int cols, int channels,
                        int squash, uint8_t *out /* [256, 256, 3] */)
{
    if (rows < 1 || cols < 1 || rows > 65536 || cols > 65536 || (channels != 1 && channels != 3))
        return error_set(AN_ERR_ARG, "cannot resize a %dx%dx%d image", cols, rows, channels);
    double sx, sy;
    int ox = 0, oy = 0;
    if (squash) {
        sx = (double)AN_IMAGE_SIZE / cols;
        sy = (double)AN_IMAGE_SIZE / rows;
    } else { /* §2: the shorter side to 256, then the central 256x256 */
        double s = (double)AN_IMAGE_SIZE / (rows < cols ? rows : cols);
        sx = sy = s;
        ox = ((int)lround(cols * s) - AN_IMAGE_SIZE) / 2;
        oy = ((int)lround(rows * s) - AN_IMAGE_SIZE) / 2;
        if (ox < 0) ox = 0;
        if (oy < 0) oy = 0;
    }
    an_status st = AN_OK;
    axis_filter fx = {0}, fy = {0};
    uint8_t *tmp = NULL; /* [rows used, 256, channels] after the horizontal pass */
    AN_TRY_GOTO(st, axis_filter_make(&fx, cols, sx, ox), done);
    AN_TRY_GOTO(st, axis_filter_make(&fy, rows, sy, oy), done);
    int row0 = fy.first[0], row1 = fy.first[AN_IMAGE_SIZE - 1] + fy.count[AN_IMAGE_SIZE - 1];
    tmp = malloc((size_t)(row1 - row0) * AN_IMAGE_SIZE * (size_t)channels);
    if (!tmp) {
        st = error_set(AN_ERR_NOMEM, "out of memory resizing a %dx%d image", cols, rows);
        goto done;
    }
    for (int y = row0; y < row1; y++) {
        const uint8_t *in = pixels + (size_t)y * (size_t)cols * (size_t)channels;
        uint8_t *t = tmp + (size_t)(y - row0) * AN_IMAGE_SIZE * (size_t)channels;
        if (channels == 3) {
            for (int x = 0; x < AN_IMAGE_SIZE; x++) {
                const int32_t *w = fx.weights + (size_t)x * (size_t)fx.max_taps;
                const uint8_t *p = in + (size_t)fx.first[x] * 3;
                int32_t r = 0, g = 0, b = 0;
                for (int k = 0; k < fx.count[x]; k++) {
                    r += w[k] * p[3 * k];
                    g += w[k] * p[3 * k + 1];
                    b += w[k] * p[3 * k + 2];
                }
                t[3 * x] = clamp_round(r);
                t[3 * x + 1] = clamp_round(g);
                t[3 * x + 2] = clamp_round(b);
            }
        } else {
            for (int x = 0; x < AN_IMAGE_SIZE; x++) {
                const int32_t *w = fx.weights + (size_t)x * (size_t)fx.max_taps;
                const uint8_t *p = in + fx.first[x];
                int32_t v = 0;
                for (int k = 0; k < fx.count[x]; k++) v += w[k] * p[k];
                t[x] = clamp_round(v);
            }
        }
    }
    /* Vertical pass: whole rows at a time, so the inner loop vectorises. */
    size_t width = AN_IMAGE_SIZE * (size_t)channels;
    int32_t acc[AN_IMAGE_SIZE * 3]; /* [256 * channels] */
    for (int y = 0; y < AN_IMAGE_SIZE; y++) {
        const int32_t *w = fy.weights + (size_t)y * (size_t)fy.max_taps;
        for (size_t x = 0; x < width; x++) acc[x] = 0;
        for (int k = 0; k < fy.count[y]; k++) {
            const uint8_t *t = tmp + (size_t)(fy.first[y] - row0 + k) * width;
            int32_t wk = w[k];
            for (size_t x = 0; x < width; x++) acc[x] += wk * t[x];
        }
        uint8_t *o = out + (size_t)y * AN_IMAGE_SIZE * 3;
        if (channels == 3) {
            for (size_t x = 0; x < width; x++) o[x] = clamp_round(acc[x]);
        } else {
            for (size_t x = 0; x < width; x++) o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = clamp_round(acc[x]);
        }
    }
done:
    free(tmp);
    free(fx.weights);
    free(fy.weights);
    return st;
}
