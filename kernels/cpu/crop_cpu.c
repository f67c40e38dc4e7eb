/* crop_cpu.c: crop, mean subtraction at the source pixel (§2), mirror and
 * shift (§4.1) from stored uint8 HWC images to float CHW network inputs; the
 * one CPU loop behind train/augment.c and eval/ten_crop.c. See crop_cpu.h. */
#include "crop_cpu.h"

#include <stddef.h>

#include "image_geometry.h"
#include "ops_cpu.h"

/* One view: image [256,256,3] uint8 HWC, mean_image [256,256,3] float HWC -> out [3,224,224] float CHW. */
static void crop_one(float *out, const uint8_t *image, const float *mean_image, const crop_choice *choice)
{
    enum { S = IMAGE_STORED_SIZE, W = IMAGE_CROP_SIZE, C = IMAGE_CHANNELS, PLANE = W * W };
    _Static_assert(C == 3, "the row loop below is written for RGB");
    float row[W * C]; /* [224,3] one source row of the crop, mean subtracted, shifted */
    const float s0 = choice->shift[0], s1 = choice->shift[1], s2 = choice->shift[2];
    for (int y = 0; y < W; y++) {
        size_t src = ((size_t)(y + choice->y) * S + (size_t)choice->x) * C;
        const uint8_t *pix = image + src;     /* [224,3] */
        const float *mean = mean_image + src; /* [224,3] */
        /* The mean is subtracted at the source pixel, before any flip (§2). */
        for (int k = 0; k < W * C; k += C) {
            row[k + 0] = ((float)pix[k + 0] - mean[k + 0]) + s0;
            row[k + 1] = ((float)pix[k + 1] - mean[k + 1]) + s1;
            row[k + 2] = ((float)pix[k + 2] - mean[k + 2]) + s2;
        }
        float *r = out + (size_t)y * W; /* [224] in plane 0 */
        float *g = r + PLANE, *b = r + 2 * PLANE;
        if (choice->flip) {
            for (int x = 0; x < W; x++) {
                const float *p = row + (size_t)(W - 1 - x) * C;
                r[x] = p[0]; g[x] = p[1]; b[x] = p[2];
            }
        } else {
            for (int x = 0; x < W; x++) {
                const float *p = row + (size_t)x * C;
                r[x] = p[0]; g[x] = p[1]; b[x] = p[2];
            }
        }
    }
}

void crop_batch_cpu(float *out, const uint8_t *images, const float *mean_image, const crop_choice *choices,
                    int batch)
{
    for (int b = 0; b < batch; b++)
        crop_one(out + (size_t)b * IMAGE_CROP_FLOATS, images + (size_t)b * IMAGE_STORED_BYTES, mean_image,
                 &choices[b]);
}

an_status crop_input_cpu(backend *be, float *out, const uint8_t *images, const float *mean_image,
                         const crop_choice *choices, int batch, int views_per_image)
{
    cpu_use(be);
    if (batch < 0 || views_per_image < 1)
        return error_set(AN_ERR_ARG, "cropping %d views of %d per image", batch, views_per_image);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < batch; b++)
        crop_batch_cpu(out + (size_t)b * IMAGE_CROP_FLOATS,
                       images + (size_t)(b / views_per_image) * IMAGE_STORED_BYTES, mean_image, &choices[b], 1);
    return AN_OK;
}
