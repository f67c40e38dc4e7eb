/* dataset_json.h: DIR/dataset.json, the dataset's summary in JSON and the mark
 * of a complete dataset (docs/FORMAT.md sections 1 and 1.3). alexnet-prep
 * writes it last, after every shard and dataset.h5; every reader (train, eval,
 * `alexnet-prep verify` and `info`) refuses a directory without it, so a prep
 * still running, or one that stopped early, is never trained on. */
#ifndef ALEXNET_DATASET_JSON_H
#define ALEXNET_DATASET_JSON_H

#include <stdint.h>

#include "dataset.h"
#include "status.h"

/* What dataset.json says about how the dataset was made, besides `dataset`. */
typedef struct dataset_provenance {
    const char *tool;      /* "alexnet-prep VERSION" */
    const char *input;     /* the input as given */
    const char *params;    /* "key=value ..." that define the dataset */
    const char *resize;    /* "crop" or "squash" (--resize), read by alexnet-eval classify */
    const char *max_bad;   /* --max-bad as given */
    uint64_t refused;      /* inputs refused */
    uint64_t skipped;      /* non-image files ignored */
    int jpeg_quality;      /* the JPEG store's quality; 0 for raw */
    const char *jpeg_subsampling; /* the JPEG store's "420" or "444"; NULL for raw */
    uint64_t stored_bytes[2]; /* bytes of image data in the train and val shards */
} dataset_provenance;

/* Writes DIR/dataset.json atomically (common/atomic_file.h); call it after
 * every shard and dataset_write(). */
an_status dataset_write_json(const dataset *d, const char *dir, const dataset_provenance *p);

/* Reads d->dir/dataset.json (d as read from dataset.h5) and checks that it
 * is there and agrees with dataset.h5: format version, dataset id, classes,
 * image and shard counts. AN_ERR_FORMAT saying what is missing or different
 * and what to do. */
an_status dataset_check_complete(const dataset *d);

#endif
