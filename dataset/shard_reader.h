/* shard_reader.h: reads one shard of a dataset directory (docs/FORMAT.md §1).
 *
 * shard_reader_open() reads the attributes and the small per-image arrays
 * (labels, ids, checksums, paths) with HDF5, finds the file offset of the
 * contiguous image data once (`images` in the raw store, `jpeg` in the JPEG
 * store), closes HDF5 and keeps a plain file descriptor.
 * shard_reader_read_image() is then one pread() plus a CRC-32 check (and, in
 * the JPEG store, a libjpeg-turbo decode: shard_jpeg.h) and no HDF5 call:
 * any number of threads may read images from one open reader at the same time. Opening is serialised internally (HDF5 is
 * not thread-safe), so readers may be opened from any thread too.
 */
#ifndef ALEXNET_SHARD_READER_H
#define ALEXNET_SHARD_READER_H

#include <stddef.h>
#include <stdint.h>

#include "shard_format.h"
#include "status.h"

typedef struct shard_reader {
    char path[4096];
    int format_version;             /* SHARD_FORMAT_VERSION_OLDEST..SHARD_FORMAT_VERSION */
    char dataset_id[AN_DATASET_ID_LEN + 1];
    char split[AN_SPLIT_NAME_MAX];  /* "train" or "val" */
    int shard_index, shard_count;
    size_t count;                   /* images in this shard */
    int32_t *labels;                /* [count] class index in 0..num_classes-1 */
    uint32_t *image_ids;            /* [count] unique within the split: the key of per-image randomness */
    uint32_t *checksums;            /* [count] crc32 of each image's stored bytes (pixels or JPEG stream) */
    char **paths;                   /* [count] source path relative to the input root */
    size_t refused_count;           /* inputs of this shard refused by prep */
    char **refused_paths;           /* [refused_count] */
    char **refused_reasons;         /* [refused_count] */
    int has_stats;                  /* training shards carry group "stats" */
    int fd;                         /* opened read-only for pread */
    uint64_t images_offset;         /* byte offset of the image data (images[0] or jpeg[0]) in the file */
    shard_store store;              /* raw pixels or JPEG streams ("store" attribute; absent: raw) */
    uint64_t stored_bytes;          /* bytes of image data: count * 196608 (raw), the jpeg blob's size (jpeg) */
    int jpeg_quality;               /* jpeg store: as encoded */
    char jpeg_subsampling[8];       /* jpeg store: "4:2:0" or "4:4:4" */
    uint64_t *jpeg_offsets;         /* jpeg store: [count] image i's stream starts at jpeg[jpeg_offsets[i]] */
    uint32_t *jpeg_lengths;         /* jpeg store: [count] and is this many bytes long */
} shard_reader;

/* Opens and validates a shard (format version, attributes, array sizes, file
 * length). AN_ERR_IO if it cannot be opened, AN_ERR_FORMAT/AN_ERR_HDF5 if it
 * is not a valid shard; the message names the file. */
an_status shard_reader_open(shard_reader **out, const char *path);

/* Small accessors (the fields above may also be read directly). */
size_t shard_reader_count(const shard_reader *r);
const int32_t *shard_reader_labels(const shard_reader *r);
const uint32_t *shard_reader_image_ids(const shard_reader *r);
const uint32_t *shard_reader_checksums(const shard_reader *r);

/* Reads image i into out [256, 256, 3] HWC RGB with one pread and checks its
 * CRC-32: AN_ERR_CHECKSUM naming the shard, the index, the image id and the
 * source path on mismatch. The JPEG store decodes the checked bytes
 * (AN_ERR_FORMAT naming the image if they do not decode). Thread-safe. */
an_status shard_reader_read_image(const shard_reader *r, size_t i, uint8_t *out);

/* The same for a reader that needs only rows [row_begin, row_end) of out
 * (a crop): the JPEG store decodes only those rows (the others of out are not
 * written); the raw store reads the whole image, as its CRC-32 covers it all. */
an_status shard_reader_read_image_rows(const shard_reader *r, size_t i, uint8_t *out, int row_begin, int row_end);

/* Reads every image and checks every checksum. On the first mismatch returns
 * AN_ERR_CHECKSUM and stores its index in *first_bad (if not NULL). */
an_status shard_reader_verify(const shard_reader *r, size_t *first_bad);

/* Reads the shard's statistics sums (training shards) into `out`, which must
 * have been initialised with shard_stats_init(). */
an_status shard_reader_read_stats(const shard_reader *r, shard_stats *out);

void shard_reader_close(shard_reader *r);

#endif
