/* prep_upscale.h: the resize of raw grayscale arrays (IDX input, e.g. 28x28
 * Fashion-MNIST) to 256x256 RGB: separable bilinear interpolation with pixel
 * centres aligned (source x = (out x + 0.5) / scale - 0.5, edges clamped), in
 * 8-bit fixed point so the result is exact on every machine. The geometry is
 * the same as for decoded images (prep_decode.h): crop scales the shorter side
 * to 256 and keeps the centre; squash scales each axis to 256.
 *
 * Why not libvips here: IDX pixels need no decoding, and building a libvips
 * pipeline for a 28x28 array costs milliseconds, far more than the resize. */
#ifndef ALEXNET_PREP_UPSCALE_H
#define ALEXNET_PREP_UPSCALE_H

#include <stdint.h>

#include "status.h"

/* pixels [rows, cols] uint8 -> out [256, 256, 3] (gray replicated). squash: 1 for --resize squash. */
an_status prep_upscale_gray(const uint8_t *pixels, int rows, int cols, int squash, uint8_t *out);

#endif
