/* image_resample.h: the resize of a decoded 8-bit image to 256x256 RGB with
 * the geometry of paper §2 (crop: the shorter side to 256, central crop;
 * squash: each axis to 256), by separable antialiased bilinear filtering:
 * a triangle filter whose support widens by the shrink factor when
 * shrinking (plain bilinear when enlarging), pixel centres aligned, edges
 * clamped, weights in 14-bit fixed point and the intermediate rounded to 8
 * bits, so the result is exact and the same on every machine. This is the
 * filter of the usual Pillow prep (Image.BILINEAR).
 *
 * Used for IDX arrays (1 channel, replicated) and for decoded images up to a
 * few megapixels: a libvips resize pipeline costs about a millisecond per
 * image just to build. */
#ifndef ALEXNET_IMAGE_RESAMPLE_H
#define ALEXNET_IMAGE_RESAMPLE_H

#include <stdint.h>

#include "status.h"

/* pixels [rows, cols, channels] uint8 (channels 1 or 3) -> out [256, 256, 3];
 * one channel is replicated to three. squash: 1 for --resize squash. */
an_status image_resample(const uint8_t *pixels, int rows, int cols, int channels, int squash, uint8_t *out);

#endif
