/* ten_crop.c: corner, centre and mirrored 224x224 views (§4.1) with the mean
 * image subtracted at the source pixel, cut by the one CPU crop
 * (kernels/cpu/crop_cpu.h). */
#include "ten_crop.h"

#include <stddef.h>

#include "crop_cpu.h"

crop_choice ten_crop_view(int v)
{
    enum { M = IMAGE_MAX_OFFSET, C = IMAGE_CENTRE_OFFSET }; /* 32, 16 */
    /* (y, x) of the five unmirrored views: four corners, then the centre. */
    static const int origin[5][2] = {{0, 0}, {0, M}, {M, 0}, {M, M}, {C, C}};
    int base = v % 5;
    crop_choice view = {.x = origin[base][1], .y = origin[base][0], .flip = v >= 5}; /* shift 0: no lighting */
    return view;
}

void crop_cut(const uint8_t *image, const float *mean, crop_choice view, float *out)
{
    crop_batch_cpu(out, image, mean, &view, 1);
}

void ten_crop_cut(const uint8_t *image, const float *mean, float *out)
{
    for (int v = 0; v < TEN_CROP_VIEWS; v++)
        crop_cut(image, mean, ten_crop_view(v), out + (size_t)v * IMAGE_CROP_FLOATS);
}
