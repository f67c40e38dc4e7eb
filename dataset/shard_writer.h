/* shard_writer.h: writes one complete shard file, atomically.
 *
 * The shard is created under a temporary name beside its final name, all
 * datasets are written, the file is closed, fsynced and renamed into place
 * (atomic_file.h): a reader never sees a partial shard, and a crash leaves
 * at most a ".NAME.tmp.*" file. Layout: docs/FORMAT.md section 1.
 */
#ifndef ALEXNET_SHARD_WRITER_H
#define ALEXNET_SHARD_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "shard_format.h"
#include "shard_jpeg.h"
#include "status.h"

typedef struct shard_contents {
    const char *dataset_id;          /* 16 lowercase hex characters */
    const char *split;               /* "train" or "val" */
    int shard_index, shard_count;
    size_t count;                    /* images in this shard (may be 0) */
    const uint8_t *images;           /* raw store: [count, 256, 256, 3] HWC RGB; jpeg store: unused */
    const int32_t *labels;           /* [count] class index */
    const uint32_t *image_ids;       /* [count] unique within the split */
    const uint32_t *checksums;       /* [count] CRC-32 of each image's stored bytes: checksum_image() of the
                                      * pixels (raw), checksum_crc32() of the JPEG stream (jpeg) */
    const char *const *paths;        /* [count] source paths relative to the input root */
    const shard_stats *stats;        /* training shards: sums over these images; NULL for val */
    size_t refused_count;            /* inputs of this shard that were refused */
    const char *const *refused_paths;   /* [refused_count] */
    const char *const *refused_reasons; /* [refused_count] */
    /* The JPEG store (shard_jpeg.h); a zeroed tail is the raw store. */
    shard_store store;
    int jpeg_quality;                /* 1..100, as encoded */
    shard_jpeg_subsampling jpeg_subsampling;
    const uint8_t *jpeg_bytes;       /* [sum of jpeg_lengths] the images' JPEG streams back to back, in order */
    const uint32_t *jpeg_lengths;    /* [count] bytes of image i's stream */
} shard_contents;

/* Writes `c` to final_path (temp name, fsync, rename). */
an_status shard_write(const char *final_path, const shard_contents *c);

#endif
