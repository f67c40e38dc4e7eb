/* canvas.h: an RGB picture in memory for the §6.1 figures: filled rectangles,
 * scaled copies of images, and blending of grey-level masks (rendered text).
 * Plain C; only text rendering and PNG output (figures_vips.c) need libvips. */
#ifndef ALEXNET_EVAL_CANVAS_H
#define ALEXNET_EVAL_CANVAS_H

#include <stdint.h>

#include "status.h"

typedef struct rgb8 { uint8_t r, g, b; } rgb8;

typedef struct canvas {
    int width, height;
    uint8_t *rgb; /* [height, width, 3] */
} canvas;

an_status canvas_create(canvas *c, int width, int height, rgb8 background);
void canvas_free(canvas *c);
/* Clipped to the canvas. */
void canvas_fill_rect(canvas *c, int x, int y, int w, int h, rgb8 colour);
/* Copies src [sh, sw, 3] scaled (nearest neighbour) to dw x dh at (x, y). */
void canvas_blit(canvas *c, int x, int y, const uint8_t *src, int sw, int sh, int dw, int dh);
/* Paints colour through mask [mh, mw] (0 = transparent, 255 = opaque) at (x, y). */
void canvas_blend_mask(canvas *c, int x, int y, const uint8_t *mask, int mw, int mh, rgb8 colour);

/* Renders text (plain, not markup) at (x, y), at most max_width pixels wide,
 * with a font about `size` pixels high. AN_ERR_VIPS when no font renders:
 * callers may go on without text. */
an_status canvas_text(canvas *c, int x, int y, int max_width, int size, const char *text, rgb8 colour);
/* Saves as PNG, atomically. */
an_status canvas_save_png(const canvas *c, const char *path);

#endif
