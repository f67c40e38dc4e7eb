/* image_resample.c: separable fixed-point antialiased bilinear resize to 256x256. */
#include "image_resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image_geometry.h"

#define WEIGHT_BITS 14

/* For each of the 256 outputs along one axis: taps [first, first + count) of
 * the input with weights[o * max_taps + k] (sum 1 << WEIGHT_BITS). `taps` is
 * the largest count; uniform_first[o] .. + taps is a window of that many
 * taps inside the axis holding all of output o's, whose weights
 * uniform[o * taps + k] are zero outside them, so that the horizontal pass
 * runs the same loop for every output (no mispredicted loop exits). */
typedef struct axis_filter {
    int first[IMAGE_STORED_SIZE], count[IMAGE_STORED_SIZE];
    int max_taps;
    int32_t *weights; /* [256, max_taps] */
    int taps;
    int uniform_first[IMAGE_STORED_SIZE];
    int32_t *uniform; /* [256, taps] */
} axis_filter;

/* Fills f->taps, uniform_first and uniform from first, count and weights. */
static an_status axis_filter_make_uniform(axis_filter *f, int length)
{
    f->taps = 1;
    for (int o = 0; o < IMAGE_STORED_SIZE; o++)
        if (f->count[o] > f->taps) f->taps = f->count[o]; /* <= length: counts never exceed it */
    f->uniform = calloc((size_t)IMAGE_STORED_SIZE * (size_t)f->taps, sizeof *f->uniform);
    AN_CHECK_ALLOC(f->uniform, (size_t)IMAGE_STORED_SIZE * (size_t)f->taps * sizeof *f->uniform);
    for (int o = 0; o < IMAGE_STORED_SIZE; o++) {
        int first = f->first[o];
        if (first + f->taps > length) first = length - f->taps;
        f->uniform_first[o] = first;
        for (int k = 0; k < f->count[o]; k++)
            f->uniform[(size_t)o * f->taps + (size_t)(f->first[o] - first + k)] =
                f->weights[(size_t)o * f->max_taps + (size_t)k];
    }
    return AN_OK;
}

/* `scale` = output / input length; `offset` = index of the first kept output in the scaled axis. */
static an_status axis_filter_make(axis_filter *f, int length, double scale, int offset)
{
    double step = 1.0 / scale;                       /* input pixels per output pixel */
    double support = step > 1.0 ? step : 1.0;        /* the triangle's half width, in input pixels */
    f->max_taps = (int)ceil(support) * 2 + 1;
    f->weights = calloc((size_t)IMAGE_STORED_SIZE * (size_t)f->max_taps, sizeof *f->weights);
    AN_CHECK_ALLOC(f->weights, (size_t)IMAGE_STORED_SIZE * (size_t)f->max_taps * sizeof *f->weights);
    double *w = malloc((size_t)f->max_taps * sizeof *w);
    if (!w) return error_set(AN_ERR_NOMEM, "out of memory for filter taps");
    for (int o = 0; o < IMAGE_STORED_SIZE; o++) {
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
    return axis_filter_make_uniform(f, length);
}

static uint8_t clamp_round(int32_t acc)
{
    int32_t v = (acc + (1 << (WEIGHT_BITS - 1))) >> WEIGHT_BITS; /* |acc| < 2^14 * 255 * 2 */
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* Rows [row0, row1) of in [rows, cols, C] -> t [row1 - row0, 256, C]
 * through fx's uniform taps. Inlined with constant `channels` and `taps`
 * (the switch below), the tap loop unrolls. */
static inline __attribute__((always_inline)) void horizontal_rows(uint8_t *t, const uint8_t *in, int row0,
                                                                  int row1, int cols, int channels,
                                                                  const axis_filter *fx, int taps)
{
    for (int y = row0; y < row1; y++) {
        const uint8_t *row = in + (size_t)y * (size_t)cols * (size_t)channels;
        uint8_t *dst = t + (size_t)(y - row0) * IMAGE_STORED_SIZE * (size_t)channels;
        for (int x = 0; x < IMAGE_STORED_SIZE; x++) {
            const int32_t *w = fx->uniform + (size_t)x * (size_t)taps;
            const uint8_t *p = row + (size_t)fx->uniform_first[x] * (size_t)channels;
            int32_t acc[3] = {0, 0, 0}; /* [channels] */
            for (int k = 0; k < taps; k++)
                for (int c = 0; c < channels; c++) acc[c] += w[k] * p[k * channels + c];
            for (int c = 0; c < channels; c++) dst[x * channels + c] = clamp_round(acc[c]);
        }
    }
}

static void horizontal_pass(uint8_t *t, const uint8_t *in, int row0, int row1, int cols, int channels,
                            const axis_filter *fx)
{
#define HORIZONTAL_CASE(C, T)                                                                      \
    case (C) * 16 + (T): horizontal_rows(t, in, row0, row1, cols, C, fx, T); return;
    switch (fx->taps <= 8 ? channels * 16 + fx->taps : 0) {
    HORIZONTAL_CASE(3, 1) HORIZONTAL_CASE(3, 2) HORIZONTAL_CASE(3, 3) HORIZONTAL_CASE(3, 4)
    HORIZONTAL_CASE(3, 5) HORIZONTAL_CASE(3, 6) HORIZONTAL_CASE(3, 7) HORIZONTAL_CASE(3, 8)
    HORIZONTAL_CASE(1, 1) HORIZONTAL_CASE(1, 2) HORIZONTAL_CASE(1, 3) HORIZONTAL_CASE(1, 4)
    default:
        if (channels == 3) horizontal_rows(t, in, row0, row1, cols, 3, fx, fx->taps);
        else horizontal_rows(t, in, row0, row1, cols, 1, fx, fx->taps);
        return;
    }
#undef HORIZONTAL_CASE
}

an_status image_resample(const uint8_t *pixels /* [rows, cols, channels] */, int rows, int cols, int channels,
                        int squash, uint8_t *out /* [256, 256, 3] */)
{
    if (rows < 1 || cols < 1 || rows > 65536 || cols > 65536 || (channels != 1 && channels != 3))
        return error_set(AN_ERR_ARG, "cannot resize a %dx%dx%d image", cols, rows, channels);
    double sx, sy;
    int ox = 0, oy = 0;
    if (squash) {
        sx = (double)IMAGE_STORED_SIZE / cols;
        sy = (double)IMAGE_STORED_SIZE / rows;
    } else { /* §2: the shorter side to 256, then the central 256x256 */
        double s = (double)IMAGE_STORED_SIZE / (rows < cols ? rows : cols);
        sx = sy = s;
        ox = ((int)lround(cols * s) - IMAGE_STORED_SIZE) / 2;
        oy = ((int)lround(rows * s) - IMAGE_STORED_SIZE) / 2;
        if (ox < 0) ox = 0;
        if (oy < 0) oy = 0;
    }
    an_status st = AN_OK;
    axis_filter fx = {0}, fy = {0};
    uint8_t *tmp = NULL; /* [rows used, 256, channels] after the horizontal pass */
    AN_TRY_GOTO(st, axis_filter_make(&fx, cols, sx, ox), done);
    AN_TRY_GOTO(st, axis_filter_make(&fy, rows, sy, oy), done);
    int row0 = fy.first[0], row1 = fy.first[IMAGE_STORED_SIZE - 1] + fy.count[IMAGE_STORED_SIZE - 1];
    tmp = malloc((size_t)(row1 - row0) * IMAGE_STORED_SIZE * (size_t)channels);
    if (!tmp) {
        st = error_set(AN_ERR_NOMEM, "out of memory resizing a %dx%d image", cols, rows);
        goto done;
    }
    horizontal_pass(tmp, pixels, row0, row1, cols, channels, &fx);
    /* Vertical pass: whole rows at a time, so the inner loop vectorises; the
     * products as int16 x int16 -> int32 (weights < 2^15), which SSE2 multiplies
     * natively where an int32 product needs emulating. */
    size_t width = IMAGE_STORED_SIZE * (size_t)channels;
    int32_t acc[IMAGE_STORED_SIZE * 3]; /* [256 * channels] */
    for (int y = 0; y < IMAGE_STORED_SIZE; y++) {
        const int32_t *w = fy.weights + (size_t)y * (size_t)fy.max_taps;
        for (size_t x = 0; x < width; x++) acc[x] = 0;
        for (int k = 0; k < fy.count[y]; k++) {
            const uint8_t *t = tmp + (size_t)(fy.first[y] - row0 + k) * width;
            const int16_t wk = (int16_t)w[k];
            for (size_t x = 0; x < width; x++) acc[x] += (int32_t)wk * (int16_t)t[x];
        }
        uint8_t *o = out + (size_t)y * IMAGE_STORED_SIZE * 3;
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
    free(fx.uniform);
    free(fy.uniform);
    return st;
}
