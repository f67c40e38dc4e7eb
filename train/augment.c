/* augment.c: random crop, flip and PCA lighting (§4.1), mean subtracted at
 * the source pixel (§2). See augment.h. */
#include "augment.h"

#include <stddef.h>

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
    enum { S = IMAGE_STORED_SIZE, W = IMAGE_CROP_SIZE, PLANE = W * W };
    float row[W * 3]; /* [224,3] one source row of the crop, mean subtracted, shifted */
    const float s0 = draw->shift[0], s1 = draw->shift[1], s2 = draw->shift[2];
    for (int y = 0; y < W; y++) {
        size_t src = ((size_t)(y + draw->y) * S + (size_t)draw->x) * 3;
        const uint8_t *pix = image + src;      /* [224,3] */
        const float *mean = mean_image + src;  /* [224,3] */
        /* The mean is subtracted at the source pixel, before any flip (§2). */
        for (int k = 0; k < W * 3; k += 3) {
            row[k + 0] = ((float)pix[k + 0] - mean[k + 0]) + s0;
            row[k + 1] = ((float)pix[k + 1] - mean[k + 1]) + s1;
            row[k + 2] = ((float)pix[k + 2] - mean[k + 2]) + s2;
        }
        float *r = out + (size_t)y * W;        /* [224] in plane 0 */
        float *g = r + PLANE, *b = r + 2 * PLANE;
        if (draw->flip) {
            for (int x = 0; x < W; x++) {
                const float *p = row + (size_t)(W - 1 - x) * 3;
                r[x] = p[0]; g[x] = p[1]; b[x] = p[2];
            }
        } else {
            for (int x = 0; x < W; x++) {
                const float *p = row + (size_t)x * 3;
                r[x] = p[0]; g[x] = p[1]; b[x] = p[2];
            }
        }
    }
}

void augment_train(const augment_params *params, uint32_t epoch, uint32_t image_id,
                   const uint8_t *image, float *out)
{
    augment_draw draw;
    augment_draw_for(params, epoch, image_id, &draw);
    augment_apply(image, params->mean_image, &draw, out);
}

void augment_centre(const augment_params *params, const uint8_t *image, float *out)
{
    augment_draw draw;
    augment_draw_centre(&draw);
    augment_apply(image, params->mean_image, &draw, out);
}
