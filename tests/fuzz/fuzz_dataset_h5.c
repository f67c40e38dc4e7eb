/* fuzz_dataset_h5.c: libFuzzer target, structure-aware: a dataset
 * directory's dataset.h5 written by someone else (docs/FORMAT.md section 1).
 * A valid dataset directory of 3 classes (dataset.h5, dataset.json and its
 * three shard files) is written once; each input then applies up to eight
 * edits to a copy of dataset.h5 with the HDF5 API (fuzz_h5.h: an attribute
 * rewritten or deleted, a dataset replaced or deleted) and may cut the file.
 * The directory is opened as every reader opens it (dataset_open, which also
 * checks dataset.json) and what a reader uses is touched. Refusals must come
 * with a message, never a crash or a read outside what was allocated. */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "dataset_json.h"
#include "fuzz_h5.h"
#include "fuzz_util.h"
#include "h5_error.h"
#include "shard_format.h"

static const char *const attrs[] = {"format_version", "dataset_id", "num_classes", "image_size", "source", "store",
                                    "num_train", "num_val", "num_train_ids", "num_val_ids", "train_shards",
                                    "val_shards"};
static const char *const datasets[] = {"class_ids", "class_names", "mean_image", "rgb_mean", "rgb_std",
                                       "rgb_covariance", "eigenvalues", "eigenvectors", "train_class_counts",
                                       "val_class_counts"};
/* The strings an attribute may be rewritten with: the format's own values and an empty one. */
static const char *const strings[7] = {"raw", "jpeg", "idx", "fixture", "0123456789abcdef", "n01440764", ""};
enum { NUM_ATTRS = sizeof attrs / sizeof attrs[0], NUM_DATASETS = sizeof datasets / sizeof datasets[0] };

static uint8_t *template_bytes; /* dataset.h5 of the valid directory */
static size_t template_size;
static char dir[4096];          /* the directory every input is opened from */

static void make_template(void)
{
    snprintf(dir, sizeof dir, "%s/data", fuzz_dir());
    if (mkdir(dir, 0755) != 0) abort();
    dataset *d = NULL;
    if (dataset_alloc(&d, 3) != AN_OK) abort();
    snprintf(d->dir, sizeof d->dir, "%s", dir);
    snprintf(d->dataset_id, sizeof d->dataset_id, "0123456789abcdef");
    snprintf(d->source, sizeof d->source, "fixture");
    for (int c = 0; c < 3; c++) {
        char id[16], name[16];
        snprintf(id, sizeof id, "n%d", c);
        snprintf(name, sizeof name, "class %d", c);
        d->class_ids[c] = strdup(id);
        d->class_names[c] = strdup(name);
        d->train.class_counts[c] = 2;
        d->val.class_counts[c] = 1;
        d->eigenvectors[c][c] = 1.0;
        d->eigenvalues[c] = 1.0;
    }
    d->train.num_images = d->train.id_count = 6;
    d->val.num_images = d->val.id_count = 3;
    d->train.num_shards = 2;
    d->val.num_shards = 1;
    dataset_provenance p = {.tool = "fuzz", .input = "fuzz", .params = "", .max_bad = "0"};
    if (dataset_write(d, dir) != AN_OK || dataset_write_json(d, dir, &p) != AN_OK) abort();
    for (int k = 0; k < 3; k++) { /* the shard files: dataset_open only checks they are there */
        char path[4096];
        if (shard_file_path(dir, k < 2 ? "train" : "val", k < 2 ? k : 0, k < 2 ? 2 : 1, path, sizeof path) != AN_OK)
            abort();
        FILE *f = fopen(path, "wb");
        if (!f || fclose(f) != 0) abort();
    }
    dataset_close(d);
    char path[4096];
    snprintf(path, sizeof path, "%s/dataset.h5", dir);
    template_bytes = fuzz_read_file(path, &template_size);
    dataset *check = NULL; /* the template itself must open */
    if (dataset_open(&check, dir) != AN_OK) abort();
    dataset_close(check);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h5_error_init();
    if (!template_bytes) make_template();
    char path[4096];
    hid_t file = fuzz_h5_open_copy("data/dataset.h5", template_bytes, template_size, path);
    fuzz_bytes b = {data, size, 0};
    for (int edit = 0; edit < 8 && b.used < b.size; edit++) {
        unsigned op = fuzz_byte(&b) % 3, which = fuzz_byte(&b);
        if (op == 0) fuzz_h5_rewrite_attr(file, ".", attrs[which % NUM_ATTRS], strings, &b);
        else if (op == 1) fuzz_h5_replace_dataset(file, datasets[which % NUM_DATASETS], &b);
        else break;
    }
    H5Fclose(file);
    fuzz_h5_cut(path, template_size, &b);

    dataset *d = NULL;
    if (dataset_open(&d, dir) != AN_OK) return 0;
    /* What the readers use: every class's id and name, the statistics, the shard paths. */
    size_t letters = 0;
    for (int c = 0; c < d->num_classes; c++) letters += strlen(d->class_ids[c]) + strlen(d->class_names[c]);
    double sum = d->mean_image[0] + d->mean_image[IMAGE_STORED_BYTES - 1] + d->eigenvalues[2] + d->eigenvectors[2][2];
    for (int s = 0; s < d->train.num_shards; s++) letters += strlen(d->train.shard_paths[s]);
    for (int s = 0; s < d->val.num_shards; s++) letters += strlen(d->val.shard_paths[s]);
    if (letters == 0 && sum != sum) abort(); /* keeps the reads */
    dataset_close(d);
    return 0;
}
