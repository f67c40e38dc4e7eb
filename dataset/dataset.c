/* dataset.c: dataset.h5 read and write; a dataset opens only when complete
 * (dataset_json.h). */
#include "dataset.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "dataset_json.h"
#include "h5_error.h"
#include "h5_io.h"
#include "shard_reader.h"

static const char *const split_names[2] = {"train", "val"};

const dataset_split *dataset_get_split(const dataset *d, const char *split)
{
    if (strcmp(split, "train") == 0) return &d->train;
    if (strcmp(split, "val") == 0) return &d->val;
    return NULL;
}

an_status dataset_check_shard(const dataset *d, const shard_reader *r)
{
    if (r->store != d->store)
        return error_set(AN_ERR_FORMAT, "%s stores %s images but dataset %s is a %s dataset (stores are never "
                         "mixed; re-run alexnet-prep into a new directory)", r->path, shard_store_name(r->store),
                         d->dir, shard_store_name(d->store));
    if (strcmp(r->dataset_id, d->dataset_id) != 0)
        return error_set(AN_ERR_FORMAT, "%s belongs to dataset %s, not %s (mixed dataset directories?)", r->path,
                         r->dataset_id, d->dataset_id);
    return AN_OK;
}

an_status dataset_alloc(dataset **out, int num_classes)
{
    *out = NULL;
    if (num_classes < 1) return error_set(AN_ERR_ARG, "a dataset needs at least one class, got %d", num_classes);
    dataset *d = calloc(1, sizeof *d);
    AN_CHECK_ALLOC(d, sizeof *d);
    d->num_classes = num_classes;
    d->format_version = SHARD_FORMAT_VERSION;
    d->class_ids = calloc((size_t)num_classes, sizeof(char *));
    d->class_names = calloc((size_t)num_classes, sizeof(char *));
    d->mean_image = calloc(IMAGE_STORED_BYTES, sizeof(float));
    d->train.class_counts = calloc((size_t)num_classes, sizeof(int64_t));
    d->val.class_counts = calloc((size_t)num_classes, sizeof(int64_t));
    if (!d->class_ids || !d->class_names || !d->mean_image || !d->train.class_counts || !d->val.class_counts) {
        dataset_close(d);
        return error_set(AN_ERR_NOMEM, "out of memory for a dataset of %d classes", num_classes);
    }
    *out = d;
    return AN_OK;
}

static void free_split(dataset_split *s)
{
    h5_io_free_strings(s->shard_paths, (size_t)s->num_shards);
    free(s->class_counts);
}

void dataset_close(dataset *d)
{
    if (!d) return;
    h5_io_free_strings(d->class_ids, (size_t)d->num_classes);
    h5_io_free_strings(d->class_names, (size_t)d->num_classes);
    free(d->mean_image);
    free_split(&d->train);
    free_split(&d->val);
    free(d);
}

static an_status build_shard_paths(dataset *d, dataset_split *s, const char *split)
{
    s->shard_paths = calloc(s->num_shards > 0 ? (size_t)s->num_shards : 1, sizeof(char *));
    AN_CHECK_ALLOC(s->shard_paths, (size_t)s->num_shards * sizeof(char *));
    char path[ATOMIC_PATH_MAX];
    for (int i = 0; i < s->num_shards; i++) {
        AN_TRY(shard_file_path(d->dir, split, i, s->num_shards, path, sizeof path));
        if (access(path, R_OK) != 0)
            return error_set(AN_ERR_IO, "shard %s listed in %s/dataset.h5 is missing: %s (re-run alexnet-prep)",
                             path, d->dir, strerror(errno));
        s->shard_paths[i] = strdup(path);
        AN_CHECK_ALLOC(s->shard_paths[i], strlen(path) + 1);
    }
    return AN_OK;
}

static an_status read_split(hid_t file, dataset *d, dataset_split *s, const char *split)
{
    char name[64];
    long long n = 0, shards = 0;
    snprintf(name, sizeof name, "num_%s", split);
    AN_TRY(h5_io_read_attr_int(file, name, &n));
    snprintf(name, sizeof name, "%s_shards", split);
    AN_TRY(h5_io_read_attr_int(file, name, &shards));
    if (n < 0 || shards < 0 || shards > 1000000)
        return error_set(AN_ERR_FORMAT, "bad %s counts (%lld images, %lld shards)", split, n, shards);
    s->num_images = (uint64_t)n;
    s->num_shards = (int)shards;
    /* Datasets whose writer left no refusal gaps may omit num_{split}_ids. */
    snprintf(name, sizeof name, "num_%s_ids", split);
    htri_t has_ids = H5Aexists(file, name);
    if (has_ids < 0) return h5_error_capture("looking for attribute %s", name);
    long long ids = n;
    if (has_ids > 0) AN_TRY(h5_io_read_attr_int(file, name, &ids));
    if (ids < n) return error_set(AN_ERR_FORMAT, "%s is %lld, below num_%s %lld", name, ids, split, n);
    s->id_count = (uint64_t)ids;
    snprintf(name, sizeof name, "%s_class_counts", split);
    AN_TRY(h5_io_read_dataset(file, name, H5T_NATIVE_INT64, (size_t)d->num_classes, s->class_counts));
    return build_shard_paths(d, s, split);
}

static an_status read_metadata(hid_t file, dataset *d)
{
    /* variable-length strings only in datasets of format version 1 (shard_format.h) */
    h5_io_strings strings = d->format_version < SHARD_FORMAT_VERSION ? H5IO_STRINGS_LEGACY : H5IO_STRINGS_FIXED;
    AN_TRY(h5_io_read_attr_string(file, strings, "dataset_id", d->dataset_id, sizeof d->dataset_id));
    AN_TRY(h5_io_read_attr_string(file, strings, "source", d->source, sizeof d->source));
    htri_t has_store = H5Aexists(file, "store");
    if (has_store < 0) return h5_error_capture("looking for attribute store");
    char store[SHARD_STORE_NAME_MAX] = "raw"; /* datasets made before the JPEG store have none */
    if (has_store > 0) AN_TRY(h5_io_read_attr_string(file, strings, "store", store, sizeof store));
    AN_TRY(shard_store_parse(store, &d->store));
    AN_TRY(h5_io_read_strings(file, strings, "class_ids", (size_t)d->num_classes, &d->class_ids));
    AN_TRY(h5_io_read_strings(file, strings, "class_names", (size_t)d->num_classes, &d->class_names));
    AN_TRY(h5_io_read_dataset(file, "mean_image", H5T_NATIVE_FLOAT, IMAGE_STORED_BYTES, d->mean_image));
    AN_TRY(h5_io_read_dataset(file, "rgb_mean", H5T_NATIVE_DOUBLE, 3, d->rgb_mean));
    AN_TRY(h5_io_read_dataset(file, "rgb_std", H5T_NATIVE_DOUBLE, 3, d->rgb_std));
    AN_TRY(h5_io_read_dataset(file, "rgb_covariance", H5T_NATIVE_DOUBLE, 9, d->rgb_covariance));
    AN_TRY(h5_io_read_dataset(file, "eigenvalues", H5T_NATIVE_DOUBLE, 3, d->eigenvalues));
    AN_TRY(h5_io_read_dataset(file, "eigenvectors", H5T_NATIVE_DOUBLE, 9, d->eigenvectors));
    for (int k = 0; k < 2; k++)
        AN_TRY(read_split(file, d, k == 0 ? &d->train : &d->val, split_names[k]));
    return AN_OK;
}

typedef struct metadata_job {
    hid_t file;
    dataset *d;
} metadata_job;

static an_status read_metadata_job(void *ctx)
{
    metadata_job *j = ctx;
    return read_metadata(j->file, j->d);
}

static an_status open_file(hid_t file, const char *dir, dataset **out)
{
    long long version = 0, classes = 0, size = 0;
    AN_TRY(h5_io_read_attr_int(file, "format_version", &version));
    if (version < SHARD_FORMAT_VERSION_OLDEST || version > SHARD_FORMAT_VERSION)
        return error_set(AN_ERR_FORMAT, "format_version %lld is not %d..%d (written by another alexnet version?)",
                         version, SHARD_FORMAT_VERSION_OLDEST, SHARD_FORMAT_VERSION);
    AN_TRY(h5_io_read_attr_int(file, "num_classes", &classes));
    AN_TRY(h5_io_read_attr_int(file, "image_size", &size));
    if (size != IMAGE_STORED_SIZE) return error_set(AN_ERR_FORMAT, "image_size %lld is not %d", size, IMAGE_STORED_SIZE);
    if (classes < 1 || classes > 1000000) return error_set(AN_ERR_FORMAT, "num_classes %lld is out of range", classes);
    dataset *d = NULL;
    AN_TRY(dataset_alloc(&d, (int)classes));
    snprintf(d->dir, sizeof d->dir, "%s", dir);
    d->format_version = (int)version;
    /* dataset_alloc's empty string arrays are replaced by the ones read. */
    free(d->class_ids);
    free(d->class_names);
    d->class_ids = d->class_names = NULL;
    /* A dataset of format version 1 keeps its strings in HDF5's global heap:
     * they are read first in a child that only checks them (h5_io.h). */
    metadata_job job = {file, d};
    an_status st = d->format_version < SHARD_FORMAT_VERSION ? h5_io_check_in_child(read_metadata_job, &job) : AN_OK;
    if (st == AN_OK) st = read_metadata(file, d);
    if (st != AN_OK) {
        if (!d->class_ids) d->num_classes = 0; /* nothing to free per class */
        dataset_close(d);
        return st;
    }
    *out = d;
    return AN_OK;
}

an_status dataset_open(dataset **out, const char *dir)
{
    *out = NULL;
    char path[ATOMIC_PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/dataset.h5", dir);
    if (n < 0 || (size_t)n >= sizeof path) return error_set(AN_ERR_ARG, "path too long: %s", dir);
    if (access(path, R_OK) != 0)
        return error_set(AN_ERR_IO, "cannot read %s: %s (is %s a dataset made by alexnet-prep, and did it finish?)",
                         path, strerror(errno), dir);
    h5_error_init();
    h5_io_lock();
    an_status st;
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        st = h5_error_capture("opening %s", path);
    } else {
        st = open_file(file, dir, out);
        if (st != AN_OK)
            st = h5_io_advise(error_context(st, "%s", path), "dataset.h5 is damaged, or not one this alexnet-prep "
                              "writes: make the dataset again, or get another copy");
        H5Fclose(file);
    }
    h5_io_unlock();
    if (st == AN_OK) {
        st = dataset_check_complete(*out);
        if (st != AN_OK) {
            dataset_close(*out);
            *out = NULL;
        }
    }
    if (st != AN_OK) return error_context(st, "dataset %s", dir);
    return AN_OK;
}

static an_status write_contents(hid_t file, const dataset *d)
{
    hsize_t c = (hsize_t)d->num_classes, dims3[1] = {3}, dims33[2] = {3, 3};
    hsize_t dims_mean[3] = {IMAGE_STORED_SIZE, IMAGE_STORED_SIZE, IMAGE_CHANNELS};
    AN_TRY(h5_io_write_attr_int(file, "format_version", SHARD_FORMAT_VERSION));
    AN_TRY(h5_io_write_attr_string(file, "dataset_id", d->dataset_id));
    AN_TRY(h5_io_write_attr_int(file, "num_classes", d->num_classes));
    AN_TRY(h5_io_write_attr_int(file, "image_size", IMAGE_STORED_SIZE));
    AN_TRY(h5_io_write_attr_string(file, "source", d->source));
    AN_TRY(h5_io_write_attr_string(file, "store", shard_store_name(d->store)));
    AN_TRY(h5_io_write_attr_int(file, "num_train", (long long)d->train.num_images));
    AN_TRY(h5_io_write_attr_int(file, "num_val", (long long)d->val.num_images));
    uint64_t train_ids = d->train.id_count > d->train.num_images ? d->train.id_count : d->train.num_images;
    uint64_t val_ids = d->val.id_count > d->val.num_images ? d->val.id_count : d->val.num_images;
    AN_TRY(h5_io_write_attr_int(file, "num_train_ids", (long long)train_ids));
    AN_TRY(h5_io_write_attr_int(file, "num_val_ids", (long long)val_ids));
    AN_TRY(h5_io_write_attr_int(file, "train_shards", d->train.num_shards));
    AN_TRY(h5_io_write_attr_int(file, "val_shards", d->val.num_shards));
    AN_TRY(h5_io_write_strings(file, "class_ids", (const char *const *)d->class_ids, c));
    AN_TRY(h5_io_write_strings(file, "class_names", (const char *const *)d->class_names, c));
    AN_TRY(h5_io_write_dataset(file, "mean_image", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 3, dims_mean, d->mean_image));
    AN_TRY(h5_io_write_dataset(file, "rgb_mean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims3, d->rgb_mean));
    AN_TRY(h5_io_write_dataset(file, "rgb_std", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims3, d->rgb_std));
    AN_TRY(h5_io_write_dataset(file, "rgb_covariance", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dims33,
                               d->rgb_covariance));
    AN_TRY(h5_io_write_dataset(file, "eigenvalues", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims3, d->eigenvalues));
    AN_TRY(h5_io_write_dataset(file, "eigenvectors", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dims33, d->eigenvectors));
    AN_TRY(h5_io_write_dataset(file, "train_class_counts", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &c,
                               d->train.class_counts));
    AN_TRY(h5_io_write_dataset(file, "val_class_counts", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &c,
                               d->val.class_counts));
    return AN_OK;
}

an_status dataset_write(const dataset *d, const char *dir)
{
    for (int i = 0; i < d->num_classes; i++)
        if (!d->class_ids[i] || !d->class_names[i])
            return error_set(AN_ERR_ARG, "class %d has no id or name", i);
    char path[ATOMIC_PATH_MAX], tmp[ATOMIC_PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/dataset.h5", dir);
    if (n < 0 || (size_t)n >= sizeof path) return error_set(AN_ERR_ARG, "path too long: %s", dir);
    AN_TRY(atomic_temp_name(path, tmp, sizeof tmp));
    h5_error_init();
    an_status st;
    h5_io_lock();
    hid_t file = h5_io_create_file(tmp, H5F_ACC_EXCL);
    if (file < 0) {
        st = h5_error_capture("creating %s", tmp);
    } else {
        st = write_contents(file, d);
        if (H5Fclose(file) < 0 && st == AN_OK) st = h5_error_capture("closing %s", tmp);
    }
    h5_io_unlock();
    if (st == AN_OK) st = atomic_rename_durable(tmp, path);
    if (st != AN_OK) {
        unlink(tmp);
        return error_context(st, "writing %s", path);
    }
    return AN_OK;
}
