/* eval_fixture.h: a tiny but real dataset directory (HDF5 shards written by
 * the format library, no libvips) and a checkpoint of a narrow network
 * trained on it for a few SGD steps, for the eval tests. Images of class c
 * are a noisy picture with a bright band whose position depends on c, so a
 * few steps already separate some classes. */
#ifndef ALEXNET_TEST_EVAL_FIXTURE_H
#define ALEXNET_TEST_EVAL_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"

#define FIXTURE_CLASSES 3
#define FIXTURE_TRAIN 12      /* one shard */
#define FIXTURE_VAL_A 6       /* val shard 0 */
#define FIXTURE_VAL_B 5       /* val shard 1 */
#define FIXTURE_WIDTH 0.0625  /* 1/16 of the paper's channels */
#define FIXTURE_DATASET_ID "00c0ffee00c0ffee"

/* The image of (split, id, label): [256, 256, 3]. */
void fixture_image(int is_val, uint32_t id, int label, uint8_t *out);

/* Writes the dataset into dir (which must exist). */
void fixture_write_dataset(const char *dir);

/* Creates, trains for `steps` SGD steps on the training split, and saves a
 * checkpoint of FIXTURE_WIDTH with num_classes outputs, recording dataset_id. */
void fixture_write_checkpoint(const char *dataset_dir, const char *path, int num_classes, const char *dataset_id,
                              int steps);

/* Runs a shell command (printf format) and returns its exit status, or -1
 * when it did not exit normally. */
int fixture_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A fresh temporary directory name in out (created). */
void fixture_tempdir(char *out, size_t size, const char *tag);
/* rm -rf dir, unless ALEXNET_KEEP_TEST_DIRS is set (to look at it after a failure). */
void fixture_remove_dir(const char *dir);

/* A test's group state: a temporary dir holding the dataset and ckpt, a
 * checkpoint trained on it for 8 steps. */
typedef struct fixture_trained {
    char dir[256], ckpt[512];
} fixture_trained;

/* Allocates and fills one for a cmocka group setup (tag names the temp dir);
 * fixture_trained_free removes the directory. */
fixture_trained *fixture_trained_new(const char *tag);
void fixture_trained_free(fixture_trained *f);

/* A dataset made by the real programs: tests/train/make_folder_source's PNG
 * collection (one unreadable file per split) prepared by the real alexnet-prep
 * (--max-bad 2) into dir/data, and a checkpoint trained on it for `steps`
 * steps in dir/ckpt.h5; program is alexnet-eval's path. NULL (with a message
 * on stderr) when a program is missing or fails; fixture_prepared_free removes dir. */
typedef struct fixture_prepared {
    char dir[256], data[512], ckpt[512], program[4096];
} fixture_prepared;
fixture_prepared *fixture_prepared_new(const char *tag, int steps);
void fixture_prepared_free(fixture_prepared *f);

#endif
