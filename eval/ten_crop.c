/* ten_crop.c: corner, centre and mirrored 224x224 views (§4.1) with the mean
 * image subtracted at the source pixel, cut by the one CPU crop
 * (kernels/cpu/crop_cpu.h). */
#include "ten_crop.h"

#include <stddef.h>

#include "crop_cpu.h"

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
    crop_choice choice = {.x = view.x0, .y = view.y0, .flip = view.mirror}; /* shift 0: scoring has no lighting */
    crop_batch_cpu(out, image, mean, &choice, 1);
}

void ten_crop_cut(const uint8_t *image, const float *mean, float *out)
{
    for (int v = 0; v < TEN_CROP_VIEWS; v++)
        crop_cut(image, mean, ten_crop_view(v), out + (size_t)v * IMAGE_CROP_FLOATS);
}
