/* augment.c: the draws of the random crop, flip and PCA lighting (§4.1);
 * the cut itself, mean subtracted at the source pixel (§2), is the backend's
 * input op (crop_input). See augment.h. */
#include "augment.h"

#include <string.h>

#include "philox.h"

const char *augment_mode_name(augment_mode m)
{
    switch (m) {
    case AUGMENT_NO_LIGHTING: return "no-lighting";
    case AUGMENT_CENTRE: return "centre";
    case AUGMENT_FULL: break;
    }
    return "full";
}

an_status augment_mode_parse(const char *name, augment_mode *out)
{
    if (strcmp(name, "full") == 0) *out = AUGMENT_FULL;
    else if (strcmp(name, "no-lighting") == 0) *out = AUGMENT_NO_LIGHTING;
    else if (strcmp(name, "centre") == 0) *out = AUGMENT_CENTRE;
    else return error_set(AN_ERR_ARG, "unknown augmentation '%s' (full, no-lighting or centre)", name);
    return AN_OK;
}

void augment_draw_for(const augment_params *params, uint32_t epoch, uint32_t image_id, augment_draw *out)
{
    if (params->mode == AUGMENT_CENTRE) { /* §4.1's experiment: no augmentation at all */
        augment_draw_centre(out);
        return;
    }
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
    const float std = params->mode == AUGMENT_NO_LIGHTING ? 0.0f : params->lighting_std;
    for (int i = 0; i < 3; i++) out->alpha[i] = std * z[i];

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

crop_choice augment_choice(const augment_draw *draw)
{
    crop_choice choice = {.x = draw->x, .y = draw->y, .flip = draw->flip};
    for (int c = 0; c < 3; c++) choice.shift[c] = draw->shift[c];
    return choice;
}
