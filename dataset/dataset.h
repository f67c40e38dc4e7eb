/* dataset.h: a dataset directory's metadata (dataset.h5): classes, counts,
 * the training statistics of the paper (§2 mean image, §4.1 RGB eigen
 * decomposition) and the list of shard files per split. Layout:
 * docs/FORMAT.md section 1.
 *
 * dataset_open() is for train and eval; dataset_write() is for alexnet-prep
 * (and for tests that build small datasets without libvips).
 */
#ifndef ALEXNET_DATASET_H
#define ALEXNET_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "shard_format.h"
#include "shard_reader.h"
#include "status.h"

typedef struct dataset_split {
    uint64_t num_images;
    uint64_t id_count;      /* every image id of the split is < id_count; equals num_images unless prep
                             * refused inputs (their ids stay unused): size per-id tables with this */
    int num_shards;
    char **shard_paths;     /* [num_shards] "{dir}/{split}-{i:05d}-of-{n:05d}.h5" */
    int64_t *class_counts;  /* [num_classes] images per class */
} dataset_split;

typedef struct dataset {
    char dir[4096];
    int format_version;     /* SHARD_FORMAT_VERSION_OLDEST..SHARD_FORMAT_VERSION, as read */
    char dataset_id[AN_DATASET_ID_LEN + 1];
    char source[64];        /* "idx", "folder", "imagenet", "manifest" */
    shard_store store;      /* how every shard stores its images ("store" attribute; absent: raw) */
    int num_classes;
    char **class_ids;       /* [num_classes] e.g. WNID or folder name */
    char **class_names;     /* [num_classes] human-readable words */
    float *mean_image;      /* [256, 256, 3] HWC, byte units 0..255 */
    double rgb_mean[3];     /* byte units */
    double rgb_std[3];      /* byte units */
    double rgb_covariance[3][3]; /* [0,1] units */
    double eigenvalues[3];  /* descending, [0,1] units */
    double eigenvectors[3][3]; /* row-major; COLUMN i is the unit eigenvector of eigenvalues[i] */
    dataset_split train, val;
} dataset;

/* Reads DIR/dataset.h5 and builds the shard lists. Checks the format version,
 * that DIR/dataset.json is there and agrees (a complete dataset:
 * dataset_json.h), and that every listed shard file exists (not their
 * contents: see verify). */
an_status dataset_open(dataset **out, const char *dir);

/* Checks that an open shard belongs to this dataset: the same store (AN_ERR_FORMAT
 * naming both: a dataset never mixes stores) and the same dataset id. */
an_status dataset_check_shard(const dataset *d, const shard_reader *r);

/* "train" or "val" -> the split; NULL for any other name. */
const dataset_split *dataset_get_split(const dataset *d, const char *split);

/* Allocates an empty dataset with num_classes classes (class ids/names NULL,
 * counts zeroed, mean image zeroed) for a writer to fill in. */
an_status dataset_alloc(dataset **out, int num_classes);

/* Writes `d` as DIR/dataset.h5 (temp name, fsync, rename). Shard paths are not
 * stored (they follow from the split's shard count). */
an_status dataset_write(const dataset *d, const char *dir);

void dataset_close(dataset *d);

#endif
