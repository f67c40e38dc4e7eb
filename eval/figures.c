/* figures.c: Figure 3 and Figure 4 of the paper (§6.1) for our network. */
#include "figures.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>

#include "canvas.h"
#include "ten_crop.h"

static const rgb8 WHITE = {255, 255, 255}, BLACK = {0, 0, 0}, GREY = {200, 200, 200}, RED = {200, 30, 30},
                  BLUE = {60, 90, 170}, DARK = {40, 40, 40};

enum { PRED_IMAGE = 160, PRED_CELL_W = 200, PRED_CELL_H = 300, PRED_COLUMNS = 4, PRED_BAR_H = 16, PRED_FONT = 12 };

an_status figure_predictions(const char *path, int n, const uint8_t *images, const eval_image *info,
                             const char *const *class_names, int *with_text)
{
    an_status st = AN_OK;
    canvas c = {0};
    int columns = n < PRED_COLUMNS ? n : PRED_COLUMNS;
    int rows = (n + PRED_COLUMNS - 1) / PRED_COLUMNS;
    *with_text = 1;
    AN_TRY(canvas_create(&c, columns * PRED_CELL_W, rows * PRED_CELL_H, WHITE));
    for (int i = 0; i < n; i++) {
        int x0 = (i % PRED_COLUMNS) * PRED_CELL_W + (PRED_CELL_W - PRED_IMAGE) / 2;
        int y0 = (i / PRED_COLUMNS) * PRED_CELL_H + 8;
        canvas_blit(&c, x0, y0, images + (size_t)i * IMAGE_STORED_BYTES, IMAGE_STORED_SIZE, IMAGE_STORED_SIZE,
                    PRED_IMAGE, PRED_IMAGE);
        int ty = y0 + PRED_IMAGE + 4;
        if (*with_text && canvas_text(&c, x0, ty, PRED_IMAGE, PRED_FONT + 1, class_names[info[i].label], BLACK) != AN_OK)
            *with_text = 0; /* no fonts: bars only */
        ty += PRED_BAR_H + 6;
        for (int k = 0; k < EVAL_TOP_K && info[i].top[k] >= 0; k++) {
            int y = ty + k * (PRED_BAR_H + 4);
            int full = PRED_IMAGE;
            int w = (int)(info[i].top_probs[k] * (float)full + 0.5f);
            canvas_fill_rect(&c, x0, y, full, PRED_BAR_H, GREY);
            canvas_fill_rect(&c, x0, y, w, PRED_BAR_H, info[i].top[k] == info[i].label ? RED : BLUE);
            if (*with_text) {
                char label[160];
                snprintf(label, sizeof label, "%s %.0f%%", class_names[info[i].top[k]], 100.0 * info[i].top_probs[k]);
                if (canvas_text(&c, x0 + 2, y + 1, full - 4, PRED_FONT - 1, label, w > full / 2 ? WHITE : DARK) != AN_OK)
                    *with_text = 0;
            }
        }
    }
    st = canvas_save_png(&c, path);
    canvas_free(&c);
    return st;
}

enum { NB_TILE = 112, NB_GAP = 6, NB_QUERY_GAP = 18 };

an_status figure_neighbours(const char *path, int q, const uint8_t *queries, int k, const uint8_t *neighbours)
{
    canvas c = {0};
    int width = NB_GAP + NB_TILE + NB_QUERY_GAP + k * (NB_TILE + NB_GAP);
    int height = NB_GAP + q * (NB_TILE + NB_GAP);
    AN_TRY(canvas_create(&c, width, height, WHITE));
    for (int i = 0; i < q; i++) {
        int y = NB_GAP + i * (NB_TILE + NB_GAP);
        canvas_blit(&c, NB_GAP, y, queries + (size_t)i * IMAGE_STORED_BYTES, IMAGE_STORED_SIZE,
                    IMAGE_STORED_SIZE, NB_TILE, NB_TILE);
        canvas_fill_rect(&c, NB_GAP + NB_TILE + NB_QUERY_GAP / 2 - 1, y, 2, NB_TILE, RED);
        for (int j = 0; j < k; j++) {
            int x = NB_GAP + NB_TILE + NB_QUERY_GAP + j * (NB_TILE + NB_GAP);
            canvas_blit(&c, x, y, neighbours + ((size_t)i * k + j) * IMAGE_STORED_BYTES, IMAGE_STORED_SIZE,
                        IMAGE_STORED_SIZE, NB_TILE, NB_TILE);
        }
    }
    an_status st = canvas_save_png(&c, path);
    canvas_free(&c);
    return st;
}

enum { K_SCALE = 4, K_GAP = 2, K_COLUMNS = 12 };

an_status figure_conv1(const char *path, const float *weight, int cout, int ksize)
{
    an_status st = AN_OK;
    canvas c = {0};
    int tile = ksize * K_SCALE;
    int columns = cout < K_COLUMNS ? cout : K_COLUMNS;
    int rows = (cout + K_COLUMNS - 1) / K_COLUMNS;
    size_t plane = (size_t)ksize * ksize;
    uint8_t *rgb = malloc(plane * 3); /* [ksize, ksize, 3] one kernel as a picture */
    if (!rgb) return error_set(AN_ERR_NOMEM, "out of memory for a kernel tile");
    AN_TRY_GOTO(st, canvas_create(&c, K_GAP + columns * (tile + K_GAP), K_GAP + rows * (tile + K_GAP), BLACK), done);
    for (int o = 0; o < cout; o++) {
        const float *w = weight + (size_t)o * 3 * plane; /* [3, ksize, ksize] */
        float lo = FLT_MAX, hi = -FLT_MAX;
        for (size_t i = 0; i < 3 * plane; i++) {
            if (w[i] < lo) lo = w[i];
            if (w[i] > hi) hi = w[i];
        }
        float scale = hi > lo ? 255.0f / (hi - lo) : 0.0f;
        for (size_t p = 0; p < plane; p++)
            for (int ch = 0; ch < 3; ch++) rgb[p * 3 + ch] = (uint8_t)((w[ch * plane + p] - lo) * scale + 0.5f);
        int x = K_GAP + (o % K_COLUMNS) * (tile + K_GAP), y = K_GAP + (o / K_COLUMNS) * (tile + K_GAP);
        canvas_blit(&c, x, y, rgb, ksize, ksize, tile, tile);
    }
    st = canvas_save_png(&c, path);
done:
    canvas_free(&c);
    free(rgb);
    return st;
}
