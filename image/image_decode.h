/* image_decode.h: one image in, one 256x256 8-bit sRGB image out (paper §2),
 * with libvips.
 *
 * Geometry: --resize crop (default, §2) scales so the shorter side is 256 and
 * keeps the central 256x256; --resize squash scales each axis to 256 (the
 * Caffe convention). Both upscale small images. Resampling: JPEG
 * shrink-on-load (DCT scaling) where it keeps both sides >= 256, then
 * antialiased bilinear: image_resample.h for images up to 4 Mpx (decoded
 * whole), vips_resize with the linear kernel for larger ones (streamed).
 *
 * Colour: any input becomes 3-band 8-bit sRGB: embedded ICC profiles are
 * imported, except sRGB ones, whose pixels are kept (image_icc.h); CMYK
 * without a profile goes through libvips' built-in CMYK profile,
 * grayscale is replicated, 16-bit is reduced to 8-bit, palettes are expanded,
 * and an alpha channel is flattened onto white (255, 255, 255).
 *
 * EXIF orientation is ignored: pixels are used as stored, for every split
 * (the convention of the common ImageNet tools, which ignore it too).
 *
 * Safety: the format is detected from the content, never the file name; only
 * the JPEG, PNG, WebP, GIF and TIFF loaders may run (libvips' untrusted
 * operations are blocked as well); a header that declares more than
 * max_pixels is refused before any pixel is decoded; truncated files are
 * refused. A refused image returns AN_ERR_IMAGE with a one-line reason.
 */
#ifndef ALEXNET_IMAGE_DECODE_H
#define ALEXNET_IMAGE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

typedef enum image_resize_mode { IMAGE_RESIZE_CROP = 0, IMAGE_RESIZE_SQUASH = 1 } image_resize_mode;

/* "crop" or "squash": the names --resize takes and dataset.json's `resize` holds. */
const char *image_resize_name(image_resize_mode mode);
/* The mode named by text; AN_ERR_ARG naming the two choices otherwise. */
an_status image_resize_parse(const char *text, image_resize_mode *out);

typedef struct image_decode_options {
    image_resize_mode resize;
    uint64_t max_pixels;     /* header width*height above this is refused (default 100 Mpx) */
    uint64_t max_file_bytes; /* larger files are refused without reading (default 256 MiB) */
    int libvips_only;        /* 1: no image_jpeg.h fast path (tests compare the two) */
} image_decode_options;

/* Names the resampling of both paths; part of the dataset id, so a change redoes old shards. */
#define IMAGE_RESAMPLER "aa-bilinear-q14+vips-resize-linear+srgb-icc-kept"


#define IMAGE_DEFAULT_MAX_PIXELS 100000000ull
#define IMAGE_DEFAULT_MAX_FILE_BYTES (256ull << 20)

/* Starts libvips once per process: blocks untrusted operations, turns the
 * operation cache off, and sets libvips' own thread count to 1 (alexnet-prep
 * runs one decode per worker thread instead). */
an_status image_decode_init(const char *argv0);
void image_decode_shutdown(void);

/* Decodes the file at `path` into out [256, 256, 3]. AN_ERR_IMAGE with the
 * reason in reason[reason_size] when the image is refused. */
an_status image_decode_file(const char *path, const image_decode_options *o, uint8_t *out, char *reason,
                           size_t reason_size);

/* The same for an encoded image already in memory. */
an_status image_decode_buffer(const void *data, size_t size, const image_decode_options *o, uint8_t *out,
                             char *reason, size_t reason_size);

/* A grayscale array [rows, cols] uint8 (IDX) into out [256, 256, 3] (image_resample.h). */
an_status image_decode_gray(const uint8_t *pixels, int rows, int cols, const image_decode_options *o, uint8_t *out,
                           char *reason, size_t reason_size);

#endif
