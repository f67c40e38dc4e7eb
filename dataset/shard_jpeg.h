/* shard_jpeg.h: the codec of the JPEG store (docs/FORMAT.md §1.1): a stored
 * 256x256 RGB image encoded once by alexnet-prep, decoded by every reader.
 *
 * Both directions are libjpeg-turbo with fixed settings, so a stored image
 * decodes to the same pixels on every machine and in every program:
 * - encode: baseline (not progressive), YCbCr with 4:2:0 or 4:4:4 chroma
 *   subsampling, quality 1..100 with libjpeg's standard tables, accurate
 *   integer DCT, optimised Huffman tables;
 * - decode: accurate integer IDCT (JDCT_ISLOW) and fancy upsampling, RGB out:
 *   libjpeg's defaults, the ones Pillow uses too (FORMAT.md's h5py + Pillow
 *   example decodes the same bytes).
 * alexnet-prep computes the dataset's statistics from the decoded pixels, so
 * the mean image and the RGB eigenvectors are those of what the trainer sees.
 */
#ifndef ALEXNET_SHARD_JPEG_H
#define ALEXNET_SHARD_JPEG_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define SHARD_JPEG_DEFAULT_QUALITY 90

typedef enum shard_jpeg_subsampling {
    SHARD_JPEG_420 = 0, /* chroma at half resolution both ways (libjpeg's default) */
    SHARD_JPEG_444 = 1  /* chroma at full resolution */
} shard_jpeg_subsampling;

/* "4:2:0" or "4:4:4", as stored in the shard's jpeg_subsampling attribute. */
const char *shard_jpeg_subsampling_name(shard_jpeg_subsampling s);

/* image [256, 256, 3] HWC RGB -> *out [*size] JPEG bytes (malloc'ed; the
 * caller frees them). AN_ERR_NOMEM or AN_ERR_INTERNAL (libjpeg's message). */
an_status shard_jpeg_encode(const uint8_t *image, int quality, shard_jpeg_subsampling subsampling,
                            uint8_t **out, size_t *size);

/* data [size] -> rows [row_begin, row_end) of out [256, 256, 3] HWC RGB; the
 * other rows of out are not written. The rows above row_begin are skipped
 * (jpeg_skip_scanlines: entropy-decoded only) and decoding stops at row_end;
 * the rows written are identical to those of a whole decode. AN_ERR_FORMAT
 * with libjpeg's message when the bytes are not a 256x256 3-component JPEG
 * or are corrupt (any libjpeg warning counts). Thread-safe. */
an_status shard_jpeg_decode_rows(const uint8_t *data, size_t size, uint8_t *out, int row_begin, int row_end);

/* The whole image: shard_jpeg_decode_rows over rows [0, 256). */
an_status shard_jpeg_decode(const uint8_t *data, size_t size, uint8_t *out);

#endif
