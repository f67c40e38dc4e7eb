/* image_jpeg.h: the fast path for plain JPEGs (most of ImageNet):
 * libjpeg-turbo called directly, without libvips' per-image pipeline.
 *
 * It decodes exactly what libvips' JPEG loader decodes (the same library,
 * the same settings: accurate integer IDCT, fancy upsampling, and the same
 * shrink-on-load rule: 1/2, 1/4 or 1/8 of the size, the largest step that
 * keeps both sides >= 256), then resizes with image_resample.h as the libvips
 * path does; the 256x256 result is identical byte for byte (tested), only
 * faster: decode and resize take 2.0 instead of 3.7 ms per image of the
 * bench/prep corpus (500x375 mostly), 5.4 instead of 7.8 ms per real photo
 * (wall clock, one thread, 2-core development VM).
 *
 * libjpeg-turbo can also decode at 3/8, 5/8, 6/8 and 7/8, which would let
 * a 500x375 photo be decoded at 6/8 (281 pixels high). It is slower, not
 * faster: those IDCTs have no SIMD code (measured with libjpeg-turbo 2.1.5 on
 * 500x375 q96 photos: 1.43 ms at 6/8 against 1.19 ms whole), so they are
 * not used.
 *
 * Only what libvips would decode to the same sRGB pixels takes this path:
 * YCbCr, grayscale or RGB JPEGs without an ICC profile or with an sRGB one
 * (image_icc.h; libvips keeps those pixels too), whose decoded size
 * stays within IMAGE_JPEG_MAX_PIXELS. Anything else, and any JPEG that makes
 * libjpeg warn or fail (truncated, corrupt), is left to the libvips path of
 * image_decode.c, which converts it or refuses it with its reason. */
#ifndef ALEXNET_IMAGE_JPEG_H
#define ALEXNET_IMAGE_JPEG_H

#include <stddef.h>
#include <stdint.h>

#include "image_decode.h"
#include "status.h"

/* Decoded (scaled) images up to this many pixels are handled here. */
#define IMAGE_JPEG_MAX_PIXELS 4000000ull

/* The scale numerator M (of 8: 1, 2, 4 or 8) a width x height JPEG is
 * decoded at: libvips' shrink-on-load rule, the smallest M with
 * floor(shorter side * M / 8) >= 256. */
int image_jpeg_scale(int width, int height);

/* data [size] (a JPEG, by its first bytes) -> out [256, 256, 3] sRGB.
 * *handled is 1 when out holds the image, 0 when the caller must use
 * libvips instead (nothing written to out). Returns AN_ERR_NOMEM when
 * memory runs out, else AN_OK. */
an_status image_jpeg_decode(const void *data, size_t size, const image_decode_options *o,
                           uint8_t *out, int *handled);

#endif
