/* crop_cpu.h: the crop that turns stored images into network inputs, on the
 * CPU, implemented once for training's augmentation (train/augment.c: random
 * crop, flip and PCA lighting, §4.1) and scoring's ten views (eval/ten_crop.c,
 * §4.1). A 224x224 window of each stored 256x256 image
 * (common/image_geometry.h), the mean image subtracted at the SOURCE pixel
 * before the mirror (§2), mirrored left-right if asked, a per-channel shift
 * added; the formula is crop_choice's (kernels/op_shapes.h).
 *
 * Shapes:
 *   images     [B, 256, 256, 3] uint8 HWC RGB, image b at images + b * IMAGE_STORED_BYTES
 *   mean_image [256, 256, 3] float HWC, byte units 0..255
 *   choices    [B]: choice b applies to image b
 *   out        [B, 3, 224, 224] float CHW, view b at out + b * IMAGE_CROP_FLOATS
 *
 * Contract: every output value is ((float)pixel - mean) + shift[c], computed
 * in float in that order, so a zero shift gives exactly (float)pixel - mean
 * (+0.0f changes no float but -0.0f, which pixel - mean never yields). The
 * corners must lie in [0, IMAGE_MAX_OFFSET]; they are not checked, so the
 * caller owns them (the draws and the ten fixed views all do). Runs on the
 * calling thread (the loader's workers call it concurrently); cannot fail.
 */
#ifndef ALEXNET_CROP_CPU_H
#define ALEXNET_CROP_CPU_H

#include <stdint.h>

#include "op_shapes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Cuts choices[b]'s view of images[b] into out[b], for b in [0, batch); batch 0 writes nothing. */
void crop_batch_cpu(float *out, const uint8_t *images, const float *mean_image, const crop_choice *choices,
                    int batch);

#ifdef __cplusplus
}
#endif

#endif
