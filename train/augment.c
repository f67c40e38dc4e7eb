/* augment.c: the draws of the random crop, flip and PCA lighting (§4.1);
 * the cut itself, mean subtracted at the source pixel (§2), is the one CPU
 * crop of kernels/cpu/crop_cpu.h. See augment.h. */
#include "augment.h"

#include "crop_cpu.h"
#include "philox.h"

void augment_draw_for(const augment_params *params, uint32_t epoch, uint32_t image_id, augment_draw *out)
{
    /* §4.1: one of the 33 x 33 offsets, uniformly. */
    philox_block crop = philox_draw(params->seed, PHILOX_PURPOSE_CROP, epoch, image_id, 0);
    out->x = (int)philox_below(crop.v[0], IMAGE_MAX_OFFSET + 1);
    out->y = (int)philox_below(crop.v[1], IMAGE_MAX_OFFSET + 1);

    /* §4.1: horizontal reflection with probability 0.5. */
    philox_block flip = philox_draw(params->seed, PHILOX_PURPOSE_FLIP, epoch, image_id, 0);
    out->flip = (int)(flip.v[0] >> 31);

    /* §4.1: alpha_i ~ N(0, 0.1), one draw per image per epoch. */
    float z[4];
    philox_normal2(philox_draw(params->seed, PHILOX_PURPOSE_LIGHTING, epoch, image_id, 0), &z[0], &z[1]);
    philox_normal2(philox_draw(params->seed, PHILOX_PURPOSE_LIGHTING, epoch, image_id, 1), &z[2], &z[3]);
    for (int i = 0; i < 3; i++) out->alpha[i] = params->lighting_std * z[i];

    /* shift = 255 * P (alpha .* lambda), P's columns the eigenvectors, in byte units. */
    for (int c = 0; c < 3; c++) {
        double sum = 0.0;
        for (int i = 0; i < 3; i++)
            sum += (double)params->eigenvectors[c][i] * (double)out->alpha[i] * (double)params->eigenvalues[i];
        out->shift[c] = (float)(255.0 * sum);
    }
}

void augment_draw_centre(augment_draw *out)
{
    out->x = IMAGE_CENTRE_OFFSET;
    out->y = IMAGE_CENTRE_OFFSET;
    out->flip = 0;
    for (int c = 0; c < 3; c++) out->alpha[c] = out->shift[c] = 0.0f;
}

void augment_apply(const uint8_t *image, const float *mean_image, const augment_draw *draw, float *out)
{
    crop_choice choice = {.x = draw->x, .y = draw->y, .flip = draw->flip};
    for (int c = 0; c < 3; c++) choice.shift[c] = draw->shift[c];
    crop_batch_cpu(out, image, mean_image, &choice, 1);
}
