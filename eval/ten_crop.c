/* ten_crop.c: corner, centre and mirrored 224x224 views (§4.1) with the mean
 * image subtracted at the source pixel. */
#include "ten_crop.h"

#include <stddef.h>

crop_view ten_crop_view(int v)
{
    enum { M = IMAGE_MAX_OFFSET, C = IMAGE_CENTRE_OFFSET }; /* 32, 16 */
    /* (y0, x0) of the five unmirrored views: four corners, then the centre. */
    static const int origin[5][2] = {{0, 0}, {0, M}, {M, 0}, {M, M}, {C, C}};
    crop_view view;
    int base = v % 5;
    view.y0 = origin[base][0];
    view.x0 = origin[base][1];
    view.mirror = v >= 5;
    return view;
}

void crop_cut(const uint8_t *image, const float *mean, crop_view view, float *out)
{
    const size_t plane = (size_t)IMAGE_CROP_SIZE * IMAGE_CROP_SIZE;
    for (int y = 0; y < IMAGE_CROP_SIZE; y++) {
        /* source row: [256, 3] */
        const uint8_t *src = image + ((size_t)(view.y0 + y) * IMAGE_STORED_SIZE + view.x0) * IMAGE_CHANNELS;
        const float *src_mean = mean + ((size_t)(view.y0 + y) * IMAGE_STORED_SIZE + view.x0) * IMAGE_CHANNELS;
        float *dst = out + (size_t)y * IMAGE_CROP_SIZE;
        for (int x = 0; x < IMAGE_CROP_SIZE; x++) {
            int sx = view.mirror ? IMAGE_CROP_SIZE - 1 - x : x;
            const uint8_t *px = src + (size_t)sx * IMAGE_CHANNELS;
            const float *mx = src_mean + (size_t)sx * IMAGE_CHANNELS;
            for (int c = 0; c < IMAGE_CHANNELS; c++)
                dst[(size_t)c * plane + x] = (float)px[c] - mx[c];
        }
    }
}

void ten_crop_cut(const uint8_t *image, const float *mean, float *out)
{
    for (int v = 0; v < TEN_CROP_VIEWS; v++)
        crop_cut(image, mean, ten_crop_view(v), out + (size_t)v * IMAGE_CROP_FLOATS);
}
