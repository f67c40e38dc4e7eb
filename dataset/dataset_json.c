/* dataset_json.c: dataset.json written (json_writer.h) and checked against
 * dataset.h5 (json_reader.h). */
#include "dataset_json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "json_reader.h"
#include "json_writer.h"

/* dataset.json of ImageNet's 1000 classes is about 150 KB; a file far larger is not ours. */
#define DATASET_JSON_MAX_BYTES (64u << 20)

static void json_vector(json_writer *w, const char *key, const double *v, int n)
{
    json_key(w, key);
    json_begin_array(w);
    for (int i = 0; i < n; i++) json_double(w, v[i]);
    json_end_array(w);
}

an_status dataset_write_json(const dataset *d, const char *dir, const dataset_provenance *p)
{
    json_writer w;
    json_init(&w);
    json_begin_object(&w);
    json_kv_int(&w, "format_version", SHARD_FORMAT_VERSION);
    json_kv_string(&w, "dataset_id", d->dataset_id);
    json_kv_string(&w, "tool", p->tool);
    json_kv_string(&w, "source", d->source);
    json_kv_string(&w, "input", p->input);
    json_kv_string(&w, "params", p->params);
    json_kv_string(&w, "store", shard_store_name(d->store));
    json_kv_string(&w, "resize", p->resize);
    if (p->jpeg_subsampling) {
        json_kv_int(&w, "jpeg_quality", p->jpeg_quality);
        json_kv_string(&w, "jpeg_subsampling", p->jpeg_subsampling);
    }
    json_kv_int(&w, "train_stored_bytes", (int64_t)p->stored_bytes[0]);
    json_kv_int(&w, "val_stored_bytes", (int64_t)p->stored_bytes[1]);
    json_kv_string(&w, "max_bad", p->max_bad);
    json_kv_int(&w, "image_size", IMAGE_STORED_SIZE);
    json_kv_int(&w, "num_classes", d->num_classes);
    json_kv_int(&w, "num_train", (int64_t)d->train.num_images);
    json_kv_int(&w, "num_val", (int64_t)d->val.num_images);
    json_kv_int(&w, "num_train_ids", (int64_t)d->train.id_count);
    json_kv_int(&w, "num_val_ids", (int64_t)d->val.id_count);
    json_kv_int(&w, "train_shards", d->train.num_shards);
    json_kv_int(&w, "val_shards", d->val.num_shards);
    json_kv_int(&w, "refused", (int64_t)p->refused);
    json_kv_int(&w, "skipped", (int64_t)p->skipped);
    json_key(&w, "statistics");
    json_begin_object(&w);
    json_vector(&w, "rgb_mean", d->rgb_mean, 3);
    json_vector(&w, "rgb_std", d->rgb_std, 3);
    json_vector(&w, "rgb_covariance", &d->rgb_covariance[0][0], 9);
    json_vector(&w, "eigenvalues", d->eigenvalues, 3);
    json_vector(&w, "eigenvectors", &d->eigenvectors[0][0], 9);
    json_end_object(&w);
    json_key(&w, "classes");
    json_begin_array(&w);
    for (int c = 0; c < d->num_classes; c++) {
        json_begin_object(&w);
        json_kv_int(&w, "index", c);
        json_kv_string(&w, "id", d->class_ids[c]);
        json_kv_string(&w, "name", d->class_names[c]);
        json_kv_int(&w, "train", d->train.class_counts[c]);
        json_kv_int(&w, "val", d->val.class_counts[c]);
        json_end_object(&w);
    }
    json_end_array(&w);
    json_end_object(&w);
    an_status st = json_finish(&w);
    char path[ATOMIC_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/dataset.json", dir);
    if (st == AN_OK) st = atomic_write_file(path, w.data, w.length);
    json_free(&w);
    if (st != AN_OK) return error_context(st, "writing %s", path);
    return AN_OK;
}

/* AN_ERR_FORMAT unless dataset.json's integer `key` equals dataset.h5's `expected`. */
static an_status agree(const json_doc *j, const char *key, int64_t expected)
{
    int64_t v;
    AN_TRY(json_doc_int(j, key, INT64_MIN, INT64_MAX, &v));
    if (v != expected)
        return error_set(AN_ERR_FORMAT, "%s says %s %lld but dataset.h5 says %lld", j->what, key, (long long)v,
                         (long long)expected);
    return AN_OK;
}

static an_status check_contents(const json_doc *j, const dataset *d)
{
    const char *id;
    AN_TRY(agree(j, "format_version", d->format_version));
    AN_TRY(json_doc_string(j, "dataset_id", &id));
    if (strcmp(id, d->dataset_id) != 0)
        return error_set(AN_ERR_FORMAT, "%s names dataset %s but dataset.h5 names %s", j->what, id, d->dataset_id);
    AN_TRY(agree(j, "num_classes", d->num_classes));
    AN_TRY(agree(j, "num_train", (int64_t)d->train.num_images));
    AN_TRY(agree(j, "num_val", (int64_t)d->val.num_images));
    AN_TRY(agree(j, "train_shards", d->train.num_shards));
    AN_TRY(agree(j, "val_shards", d->val.num_shards));
    return AN_OK;
}

an_status dataset_check_complete(const dataset *d)
{
    char path[ATOMIC_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/dataset.json", d->dir);
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT) return error_set(AN_ERR_IO, "cannot read %s: %s", path, strerror(errno));
        return error_set(AN_ERR_FORMAT,
                         "%s is not a complete dataset: %s is missing (alexnet-prep writes it last, so a prep "
                         "that is still running or that stopped early has none). Run the same alexnet-prep command "
                         "again to finish it (it keeps the shards already written), or `alexnet-prep merge %s` "
                         "after --shard-range runs",
                         d->dir, path, d->dir);
    }
    json_doc j;
    an_status st = json_doc_read_file(&j, path, DATASET_JSON_MAX_BYTES);
    if (st == AN_OK) st = check_contents(&j, d);
    json_doc_free(&j);
    if (st != AN_OK)
        return error_context(st, "%s is damaged or belongs to another dataset (run alexnet-prep again to rewrite it)",
                             path);
    return AN_OK;
}
