/* augment.h: the paper's data augmentation (§4.1), from a stored 256x256
 * uint8 image to the network's float input [3,224,224]: the draws here, the
 * cut by the backend's input op (crop_input).
 *
 * Training images get a random 224x224 crop (offset x, y in [0, 32]), a
 * horizontal flip with probability 0.5, and PCA lighting: every pixel gets
 * 255 * sum_i eigenvectors[:, i] * alpha_i * eigenvalues[i] added, with
 * alpha_i ~ N(0, 0.1) drawn once per image per epoch. The mean image is
 * subtracted at the SOURCE pixel of the crop, before the flip (§2).
 * Validation images get the centre crop (offset 16, 16), no flip, no lighting.
 * The experiments of §4.1 (--augment, docs/experiments.md) train without the
 * lighting (AUGMENT_NO_LIGHTING) or on the centre crop alone (AUGMENT_CENTRE).
 *
 * Every random number is philox(seed, purpose, epoch, image id): the output
 * for one image does not depend on which thread, batch slot, process or
 * backend computes it, nor on a resume (docs/train.md, "Randomness and
 * reproducibility").
 */
#ifndef ALEXNET_AUGMENT_H
#define ALEXNET_AUGMENT_H

#include <stdint.h>

#include "image_geometry.h"
#include "op_shapes.h"
#include "status.h"

/* The image sizes (256 stored, 224 crop, offsets 0..32, centre 16) are
 * common/image_geometry.h's IMAGE_* constants. */
#define AUGMENT_LIGHTING_STD 0.1f /* §4.1 */

/* Which of §4.1's augmentations training uses. */
typedef enum augment_mode {
    AUGMENT_FULL = 0,        /* random crops, flips and PCA lighting: the paper's */
    AUGMENT_NO_LIGHTING = 1, /* random crops and flips only (§4.1: lighting is worth 1 % top-1) */
    AUGMENT_CENTRE = 2       /* the centre crop, no flip, no lighting: no augmentation */
} augment_mode;

/* "full", "no-lighting", "centre", and the parser (AN_ERR_ARG on another name). */
const char *augment_mode_name(augment_mode m);
an_status augment_mode_parse(const char *name, augment_mode *out);

/* What does not change between images: the dataset's statistics. */
typedef struct augment_params {
    uint64_t seed;
    augment_mode mode;         /* AUGMENT_FULL unless an experiment asks otherwise */
    const float *mean_image;   /* [256,256,3] HWC, byte units 0..255; not owned */
    float eigenvectors[3][3];  /* row-major: column i is the unit eigenvector i */
    float eigenvalues[3];      /* [0,1] units, descending */
    float lighting_std;        /* std of alpha; AUGMENT_LIGHTING_STD; 0 turns lighting off */
} augment_params;

/* The random choices for one image in one epoch. */
typedef struct augment_draw {
    int x, y;        /* crop offset in [0, 32] */
    int flip;        /* 1: mirror left-right */
    float alpha[3];  /* lighting coefficients */
    float shift[3];  /* per-channel RGB shift in byte units from the alphas */
} augment_draw;

/* The draws for (params->seed, epoch, image_id) under params->mode: with
 * AUGMENT_NO_LIGHTING the same crop and flip as AUGMENT_FULL and no shift;
 * with AUGMENT_CENTRE the centre crop's draw. */
void augment_draw_for(const augment_params *params, uint32_t epoch, uint32_t image_id, augment_draw *out);

/* The centre crop's "draw": offset 16, no flip, no shift. */
void augment_draw_centre(augment_draw *out);

/* The input op's choice for a draw (kernels/op_shapes.h's crop_choice): the
 * loader hands it to the trainer with the stored image, and the backend's
 * crop_input (kernels/backend_ops.def) cuts the view: out = crop(image -
 * mean) (+ shift), flipped if asked. Only the crop's rows [draw->y,
 * draw->y + 224) of the image are read, so a reader may decode just those
 * (shard_reader_read_image_rows). */
crop_choice augment_choice(const augment_draw *draw);

#endif
