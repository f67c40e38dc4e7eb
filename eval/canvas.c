/* canvas.c: rectangles, scaled blits and mask blending on an RGB buffer. */
#include "canvas.h"

#include <stdlib.h>

an_status canvas_create(canvas *c, int width, int height, rgb8 background)
{
    c->width = width;
    c->height = height;
    c->rgb = malloc((size_t)width * height * 3);
    if (!c->rgb) return error_set(AN_ERR_NOMEM, "out of memory for a %dx%d figure", width, height);
    canvas_fill_rect(c, 0, 0, width, height, background);
    return AN_OK;
}

void canvas_free(canvas *c)
{
    free(c->rgb);
    c->rgb = NULL;
}

void canvas_fill_rect(canvas *c, int x, int y, int w, int h, rgb8 colour)
{
    for (int yy = y < 0 ? 0 : y; yy < y + h && yy < c->height; yy++)
        for (int xx = x < 0 ? 0 : x; xx < x + w && xx < c->width; xx++) {
            uint8_t *p = c->rgb + ((size_t)yy * c->width + xx) * 3;
            p[0] = colour.r;
            p[1] = colour.g;
            p[2] = colour.b;
        }
}

void canvas_blit(canvas *c, int x, int y, const uint8_t *src, int sw, int sh, int dw, int dh)
{
    for (int j = 0; j < dh; j++) {
        int yy = y + j;
        if (yy < 0 || yy >= c->height) continue;
        int sy = (int)((long)j * sh / dh);
        for (int i = 0; i < dw; i++) {
            int xx = x + i;
            if (xx < 0 || xx >= c->width) continue;
            int sx = (int)((long)i * sw / dw);
            const uint8_t *s = src + ((size_t)sy * sw + sx) * 3;
            uint8_t *p = c->rgb + ((size_t)yy * c->width + xx) * 3;
            p[0] = s[0];
            p[1] = s[1];
            p[2] = s[2];
        }
    }
}

void canvas_blend_mask(canvas *c, int x, int y, const uint8_t *mask, int mw, int mh, rgb8 colour)
{
    const uint8_t col[3] = {colour.r, colour.g, colour.b};
    for (int j = 0; j < mh; j++) {
        int yy = y + j;
        if (yy < 0 || yy >= c->height) continue;
        for (int i = 0; i < mw; i++) {
            int xx = x + i;
            if (xx < 0 || xx >= c->width) continue;
            unsigned a = mask[(size_t)j * mw + i];
            uint8_t *p = c->rgb + ((size_t)yy * c->width + xx) * 3;
            for (int k = 0; k < 3; k++) p[k] = (uint8_t)((p[k] * (255u - a) + col[k] * a + 127u) / 255u);
        }
    }
}
