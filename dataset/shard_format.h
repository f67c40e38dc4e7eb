/* shard_format.h: the constants and file names of the dataset directory that
 * alexnet-prep writes and train/eval read (docs/FORMAT.md section 1).
 *
 * One image is uint8 [256, 256, 3], HWC, RGB, 196608 bytes: the stored image
 * of common/image_geometry.h (IMAGE_STORED_SIZE, IMAGE_CHANNELS,
 * IMAGE_STORED_BYTES). Shards are named "{split}-{index:05d}-of-{count:05d}.h5"
 * with split "train" or "val".
 */
#ifndef ALEXNET_SHARD_FORMAT_H
#define ALEXNET_SHARD_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "image_geometry.h"
#include "status.h"

/* The version every file of the dataset directory carries (docs/FORMAT.md §1).
 * 2: strings are fixed-length (common/h5_io.h). 1: they were variable-length,
 * kept in HDF5's global heap; still read (docs/RELIABILITY.md says how far a
 * reader trusts them). */
#define SHARD_FORMAT_VERSION 2
#define SHARD_FORMAT_VERSION_OLDEST 1
#define AN_DATASET_ID_LEN 16 /* lowercase hex characters */
#define AN_SPLIT_NAME_MAX 8

/* How a shard stores its images (root attribute "store"; docs/FORMAT.md §1.1):
 * raw pixels, or each image as JPEG bytes (dataset/shard_jpeg.h). One dataset
 * uses one store; its id includes it. */
typedef enum shard_store {
    SHARD_STORE_RAW = 0,  /* images uint8 [N, 256, 256, 3] */
    SHARD_STORE_JPEG = 1  /* jpeg uint8 [total bytes] + per-image offsets and lengths */
} shard_store;
#define SHARD_STORE_NAME_MAX 8

/* "raw" or "jpeg". */
const char *shard_store_name(shard_store store);
/* "raw" / "jpeg" -> *out; AN_ERR_ARG for anything else. */
an_status shard_store_parse(const char *name, shard_store *out);

/* The statistics sums one training shard carries (group "stats"). Sums are
 * kept as exact integers so that any partition into shards, resumed or
 * distributed, adds up to bitwise the same dataset statistics. */
typedef struct shard_stats {
    uint64_t num_images;
    double *pixel_sum;           /* [256, 256, 3] sum of byte values (exact integers in float64) */
    uint64_t rgb_sum[3];         /* sum over all pixels of byte values */
    uint64_t rgb_outer_sum[3][3];/* sum over all pixels of byte_i * byte_j */
} shard_stats;

/* Allocates pixel_sum (zeroed) and clears the rest. */
an_status shard_stats_init(shard_stats *s);
void shard_stats_free(shard_stats *s);
/* Adds one image [256,256,3] to the sums. */
void shard_stats_add_image(shard_stats *s, const uint8_t *image);
/* The same sums split for speed: the RGB sums and the count go to s, the
 * pixel values to pixel_acc [256,256,3] (uint32, exact for up to 16.8 M
 * images), which shard_stats_fold_pixels() adds to s->pixel_sum and clears.
 * Equal to shard_stats_add_image() once folded. */
void shard_stats_add_image_split(shard_stats *s, uint32_t *pixel_acc, const uint8_t *image);
void shard_stats_fold_pixels(shard_stats *s, uint32_t *pixel_acc);
/* s += other (exact). */
void shard_stats_merge(shard_stats *s, const shard_stats *other);

/* "{dir}/{split}-{index:05d}-of-{count:05d}.h5" into out. */
an_status shard_file_path(const char *dir, const char *split, int index, int count, char *out, size_t size);

#endif
