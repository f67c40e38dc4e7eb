/* train_fixture.h: small synthetic dataset directories for the training
 * tests, written with the real shard writer and dataset.h5 writer (no image
 * decoding): image bytes are a function of (split, image id), so a test can
 * recompute any image the loader returns. */
#ifndef ALEXNET_TRAIN_FIXTURE_H
#define ALEXNET_TRAIN_FIXTURE_H

#include <stdint.h>

#include "shard_format.h"
#include "status.h"

/* The image [256,256,3] of (split, id): split 0 train, 1 val. */
void fixture_image(int split, uint32_t id, uint8_t *out);

/* The image a reader gets back for (split, id) from a dataset of `store`:
 * fixture_image, through the JPEG codec (quality 90, 4:2:0) for the jpeg store. */
void fixture_stored_image(int split, uint32_t id, shard_store store, uint8_t *out);

/* Label of an image: id % classes. */
int32_t fixture_label(uint32_t id, int classes);

/* Writes DIR/dataset.h5 and the shards: num_train images over train_shards
 * shards (ids spread across shards out of order), num_val over one val shard. */
an_status fixture_write_dataset(const char *dir, uint32_t num_train, int train_shards, uint32_t num_val,
                                int classes);

/* As fixture_write_dataset, with the ids in missing[missing_count]
 * (increasing, each below n + missing_count) left unused in both splits, as
 * alexnet-prep leaves the ids of inputs it refused: split ids are
 * 0..n+missing_count-1 without those, and dataset.h5 records the id counts. */
#define FIXTURE_DEFAULT_DATASET_ID "0123456789abcdef"
/* As fixture_write_dataset_gapped with the given dataset id (16 lowercase hex
 * digits) instead of FIXTURE_DEFAULT_DATASET_ID: another dataset. */
an_status fixture_write_dataset_id(const char *dir, uint32_t num_train, int train_shards, uint32_t num_val,
                                   int classes, const uint32_t *missing, int missing_count, const char *id_hex);
an_status fixture_write_dataset_gapped(const char *dir, uint32_t num_train, int train_shards, uint32_t num_val,
                                       int classes, const uint32_t *missing, int missing_count);

/* As fixture_write_dataset, in the given store (the shards of the jpeg store
 * hold fixture_image encoded as fixture_stored_image decodes it). */
an_status fixture_write_dataset_store(const char *dir, uint32_t num_train, int train_shards, uint32_t num_val,
                                      int classes, shard_store store);

/* A fresh temporary directory under $TMPDIR (or /tmp) into out[4096]. */
an_status fixture_temp_dir(const char *tag, char *out);

/* rm -r of a directory made by fixture_temp_dir (best effort). */
void fixture_remove_dir(const char *dir);

#endif
