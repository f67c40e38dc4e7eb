/* prep_upscale.c: separable fixed-point bilinear resize for IDX arrays. */
#include "prep_upscale.h"

#include <math.h>
#include <stdlib.h>

#include "shard_format.h"

/* For each of the 256 outputs along one axis: the two source taps and the
 * weight of the second in 1/256 units. `scale` = output/input length,
 * `offset` = the first output pixel's index in the scaled (uncropped) axis. */
static void axis_taps(int length, double scale, int offset, int *lo, int *hi, int *w_hi)
{
    for (int x = 0; x < AN_IMAGE_SIZE; x++) {
        double src = ((double)(x + offset) + 0.5) / scale - 0.5;
        if (src < 0) src = 0;
        if (src > length - 1) src = length - 1;
        int a = (int)floor(src);
        int b = a + 1 < length ? a + 1 : a;
        lo[x] = a;
        hi[x] = b;
        w_hi[x] = (int)lround((src - a) * 256.0);
    }
}

an_status prep_upscale_gray(const uint8_t *pixels /* [rows, cols] */, int rows, int cols, int squash,
                            uint8_t *out /* [256, 256, 3] */)
{
    if (rows < 1 || cols < 1 || rows > 65536 || cols > 65536)
        return error_set(AN_ERR_ARG, "cannot resize a %dx%d array", cols, rows);
    double sx, sy;
    int ox = 0, oy = 0;
    if (squash) {
        sx = (double)AN_IMAGE_SIZE / cols;
        sy = (double)AN_IMAGE_SIZE / rows;
    } else { /* §2: shorter side to 256, central crop */
        double s = (double)AN_IMAGE_SIZE / (rows < cols ? rows : cols);
        sx = sy = s;
        ox = ((int)lround(cols * s) - AN_IMAGE_SIZE) / 2;
        oy = ((int)lround(rows * s) - AN_IMAGE_SIZE) / 2;
    }
    int xl[AN_IMAGE_SIZE], xh[AN_IMAGE_SIZE], xw[AN_IMAGE_SIZE];
    int yl[AN_IMAGE_SIZE], yh[AN_IMAGE_SIZE], yw[AN_IMAGE_SIZE];
    axis_taps(cols, sx, ox, xl, xh, xw);
    axis_taps(rows, sy, oy, yl, yh, yw);
    uint16_t *tmp = malloc((size_t)rows * AN_IMAGE_SIZE * sizeof *tmp); /* [rows, 256], value * 256 */
    AN_CHECK_ALLOC(tmp, (size_t)rows * AN_IMAGE_SIZE * sizeof *tmp);
    for (int y = 0; y < rows; y++) {
        const uint8_t *row = pixels + (size_t)y * cols;
        for (int x = 0; x < AN_IMAGE_SIZE; x++)
            tmp[(size_t)y * AN_IMAGE_SIZE + x] = (uint16_t)(row[xl[x]] * (256 - xw[x]) + row[xh[x]] * xw[x]);
    }
    for (int y = 0; y < AN_IMAGE_SIZE; y++) {
        const uint16_t *a = tmp + (size_t)yl[y] * AN_IMAGE_SIZE, *b = tmp + (size_t)yh[y] * AN_IMAGE_SIZE;
        uint32_t wa = (uint32_t)(256 - yw[y]), wb = (uint32_t)yw[y];
        uint8_t *o = out + (size_t)y * AN_IMAGE_SIZE * 3;
        for (int x = 0; x < AN_IMAGE_SIZE; x++) {
            uint8_t v = (uint8_t)((a[x] * wa + b[x] * wb + 32768u) >> 16);
            o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = v;
        }
    }
    free(tmp);
    return AN_OK;
}
