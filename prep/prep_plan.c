/* prep_plan.c: dataset id, shard order, prep-plan.h5. */
#include "prep_plan.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "checksum.h"
#include "h5_error.h"
#include "h5_io.h"
#include "philox.h"
#include "version.h"

static an_status make_order(prep_plan *p, int split, uint64_t seed)
{
    size_t n = p->count[split];
    p->order[split] = malloc((n ? n : 1) * sizeof(uint32_t));
    AN_CHECK_ALLOC(p->order[split], n * sizeof(uint32_t));
    uint32_t *order = p->order[split]; /* [n] */
    for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) {
        philox_block b = philox_draw(seed, PHILOX_PURPOSE_PREP_ORDER, (uint32_t)split, (uint32_t)(i - 1), 0);
        size_t j = philox_below(b.v[0], (uint32_t)i);
        uint32_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    return AN_OK;
}

static an_status copy_classes(prep_plan *p, int n, char *const *ids, char *const *names)
{
    p->num_classes = n;
    p->class_ids = calloc((size_t)n, sizeof(char *));
    p->class_names = calloc((size_t)n, sizeof(char *));
    AN_CHECK_ALLOC(p->class_ids, (size_t)n * sizeof(char *));
    AN_CHECK_ALLOC(p->class_names, (size_t)n * sizeof(char *));
    for (int i = 0; i < n; i++) {
        p->class_ids[i] = strdup(ids[i]);
        p->class_names[i] = strdup(names[i]);
        if (!p->class_ids[i] || !p->class_names[i]) return error_set(AN_ERR_NOMEM, "out of memory for classes");
    }
    return AN_OK;
}

an_status prep_plan_make(prep_plan *p, const prep_listing *l, const prep_options *o)
{
    memset(p, 0, sizeof *p);
    if (o->shard_size < 1 || o->shard_size > 1000000) return error_set(AN_ERR_ARG, "shard size must be 1..1000000");
    snprintf(p->source, sizeof p->source, "%s", l->source);
    snprintf(p->input, sizeof p->input, "%s", l->input_root);
    p->shard_size = o->shard_size;
    p->resize = o->decode.resize;
    p->store = o->store;
    p->jpeg_quality = o->store == SHARD_STORE_JPEG ? o->jpeg_quality : 0;
    p->jpeg_subsampling = o->jpeg_subsampling;
    char store[64];
    if (o->store == SHARD_STORE_JPEG)
        snprintf(store, sizeof store, "store=jpeg jpeg_quality=%d jpeg_subsampling=%s", o->jpeg_quality,
                 shard_jpeg_subsampling_name(o->jpeg_subsampling));
    else
        snprintf(store, sizeof store, "store=raw");
    snprintf(p->params, sizeof p->params,
             "version=%s format=%d resize=%s resampler=%s shard_size=%zu seed=%llu train_limit=%llu val_limit=%llu "
             "max_pixels=%llu %s",
             ALEXNET_VERSION, SHARD_FORMAT_VERSION, image_resize_name(o->decode.resize), IMAGE_RESAMPLER,
             o->shard_size, (unsigned long long)o->seed, (unsigned long long)o->train_limit,
             (unsigned long long)o->val_limit, (unsigned long long)o->decode.max_pixels, store);
    snprintf(p->max_bad, sizeof p->max_bad, o->max_bad.is_percent ? "%g%%" : "%.0f", o->max_bad.value);
    hash64 h;
    hash64_init(&h);
    hash64_update_str(&h, p->source);
    hash64_update_str(&h, p->params);
    for (int c = 0; c < l->num_classes; c++) {
        hash64_update_str(&h, l->class_ids[c]);
        hash64_update_str(&h, l->class_names[c]);
    }
    for (int s = 0; s < PREP_SPLITS; s++) {
        const prep_item_list *list = &l->split[s];
        p->count[s] = list->count;
        p->skipped[s] = list->skipped;
        p->shards[s] = (int)((list->count + o->shard_size - 1) / o->shard_size);
        hash64_update_str(&h, prep_split_names[s]);
        for (size_t i = 0; i < list->count; i++) {
            hash64_update_str(&h, list->items[i].path);
            hash64_update(&h, &list->items[i].label, sizeof list->items[i].label);
        }
        AN_TRY(make_order(p, s, o->seed));
    }
    hash64_hex(&h, p->dataset_id);
    return copy_classes(p, l->num_classes, l->class_ids, l->class_names);
}

void prep_plan_shard_span(const prep_plan *p, int split, int shard, size_t *begin, size_t *end)
{
    size_t b = (size_t)shard * p->shard_size;
    size_t e = b + p->shard_size;
    if (e > p->count[split]) e = p->count[split];
    *begin = b;
    *end = e;
}

int prep_plan_total_shards(const prep_plan *p) { return p->shards[PREP_TRAIN] + p->shards[PREP_VAL]; }

static an_status write_plan(hid_t f, const prep_plan *p)
{
    AN_TRY(h5_io_write_attr_int(f, "format_version", SHARD_FORMAT_VERSION));
    AN_TRY(h5_io_write_attr_string(f, "dataset_id", p->dataset_id));
    AN_TRY(h5_io_write_attr_string(f, "source", p->source));
    AN_TRY(h5_io_write_attr_string(f, "input", p->input));
    AN_TRY(h5_io_write_attr_string(f, "params", p->params));
    AN_TRY(h5_io_write_attr_string(f, "max_bad", p->max_bad));
    AN_TRY(h5_io_write_attr_int(f, "shard_size", (long long)p->shard_size));
    AN_TRY(h5_io_write_attr_string(f, "resize", image_resize_name(p->resize)));
    AN_TRY(h5_io_write_attr_string(f, "store", shard_store_name(p->store)));
    if (p->store == SHARD_STORE_JPEG) {
        AN_TRY(h5_io_write_attr_int(f, "jpeg_quality", p->jpeg_quality));
        AN_TRY(h5_io_write_attr_string(f, "jpeg_subsampling", shard_jpeg_subsampling_name(p->jpeg_subsampling)));
    }
    AN_TRY(h5_io_write_attr_int(f, "num_classes", p->num_classes));
    char name[64];
    for (int s = 0; s < PREP_SPLITS; s++) {
        snprintf(name, sizeof name, "listed_%s", prep_split_names[s]);
        AN_TRY(h5_io_write_attr_int(f, name, (long long)p->count[s]));
        snprintf(name, sizeof name, "skipped_%s", prep_split_names[s]);
        AN_TRY(h5_io_write_attr_int(f, name, (long long)p->skipped[s]));
        snprintf(name, sizeof name, "%s_shards", prep_split_names[s]);
        AN_TRY(h5_io_write_attr_int(f, name, p->shards[s]));
    }
    AN_TRY(h5_io_write_strings(f, "class_ids", (const char *const *)p->class_ids, (size_t)p->num_classes));
    AN_TRY(h5_io_write_strings(f, "class_names", (const char *const *)p->class_names, (size_t)p->num_classes));
    return AN_OK;
}

/* The plan's resize mode; plans written before the attribute name it only in params. */
static an_status read_resize(hid_t f, h5_io_strings strings, prep_plan *p)
{
    htri_t has = H5Aexists(f, "resize");
    if (has < 0) return h5_error_capture("looking for attribute resize");
    if (has == 0) {
        p->resize = strstr(p->params, " resize=squash ") ? IMAGE_RESIZE_SQUASH : IMAGE_RESIZE_CROP;
        return AN_OK;
    }
    char text[16];
    AN_TRY(h5_io_read_attr_string(f, strings, "resize", text, sizeof text));
    an_status st = image_resize_parse(text, &p->resize);
    return st == AN_OK ? st : error_context(st, "prep-plan.h5");
}

/* Everything after the format version; variable-length strings only in
 * plans of format version 1 (shard_format.h). */
static an_status read_contents(hid_t f, long long version, prep_plan *p)
{
    h5_io_strings strings = version < SHARD_FORMAT_VERSION ? H5IO_STRINGS_LEGACY : H5IO_STRINGS_FIXED;
    long long v = 0;
    AN_TRY(h5_io_read_attr_string(f, strings, "dataset_id", p->dataset_id, sizeof p->dataset_id));
    AN_TRY(h5_io_read_attr_string(f, strings, "source", p->source, sizeof p->source));
    AN_TRY(h5_io_read_attr_string(f, strings, "input", p->input, sizeof p->input));
    AN_TRY(h5_io_read_attr_string(f, strings, "params", p->params, sizeof p->params));
    AN_TRY(h5_io_read_attr_string(f, strings, "max_bad", p->max_bad, sizeof p->max_bad));
    AN_TRY(h5_io_read_attr_int(f, "shard_size", &v));
    p->shard_size = (size_t)v;
    AN_TRY(read_resize(f, strings, p));
    htri_t has_store = H5Aexists(f, "store");
    if (has_store < 0) return h5_error_capture("looking for attribute store");
    char text[SHARD_STORE_NAME_MAX] = "raw"; /* plans written before the JPEG store have none */
    if (has_store > 0) AN_TRY(h5_io_read_attr_string(f, strings, "store", text, sizeof text));
    AN_TRY(shard_store_parse(text, &p->store));
    if (p->store == SHARD_STORE_JPEG) {
        AN_TRY(h5_io_read_attr_int(f, "jpeg_quality", &v));
        p->jpeg_quality = (int)v;
        AN_TRY(h5_io_read_attr_string(f, strings, "jpeg_subsampling", text, sizeof text));
        p->jpeg_subsampling = strcmp(text, shard_jpeg_subsampling_name(SHARD_JPEG_444)) == 0 ? SHARD_JPEG_444
                                                                                             : SHARD_JPEG_420;
    }
    AN_TRY(h5_io_read_attr_int(f, "num_classes", &v));
    if (v < 1 || v > 1000000) return error_set(AN_ERR_FORMAT, "num_classes %lld out of range", v);
    p->num_classes = (int)v;
    char name[64];
    for (int s = 0; s < PREP_SPLITS; s++) {
        snprintf(name, sizeof name, "listed_%s", prep_split_names[s]);
        AN_TRY(h5_io_read_attr_int(f, name, &v));
        p->count[s] = (size_t)v;
        snprintf(name, sizeof name, "skipped_%s", prep_split_names[s]);
        AN_TRY(h5_io_read_attr_int(f, name, &v));
        p->skipped[s] = (size_t)v;
        snprintf(name, sizeof name, "%s_shards", prep_split_names[s]);
        AN_TRY(h5_io_read_attr_int(f, name, &v));
        p->shards[s] = (int)v;
    }
    AN_TRY(h5_io_read_strings(f, strings, "class_ids", (size_t)p->num_classes, &p->class_ids));
    AN_TRY(h5_io_read_strings(f, strings, "class_names", (size_t)p->num_classes, &p->class_names));
    return AN_OK;
}

typedef struct contents_job {
    hid_t f;
    long long version;
    prep_plan *p;
} contents_job;

static an_status read_contents_job(void *ctx)
{
    contents_job *j = ctx;
    return read_contents(j->f, j->version, j->p);
}

static an_status read_plan(hid_t f, prep_plan *p)
{
    long long v = 0;
    AN_TRY(h5_io_read_attr_int(f, "format_version", &v));
    if (v < SHARD_FORMAT_VERSION_OLDEST || v > SHARD_FORMAT_VERSION)
        return error_set(AN_ERR_FORMAT, "format_version %lld is not %d..%d (written by another alexnet version?)", v,
                         SHARD_FORMAT_VERSION_OLDEST, SHARD_FORMAT_VERSION);
    /* A plan of format version 1 keeps its strings in HDF5's global heap:
     * they are read first in a child that only checks them (h5_io.h). */
    if (v < SHARD_FORMAT_VERSION) {
        contents_job job = {f, v, p};
        AN_TRY(h5_io_check_in_child(read_contents_job, &job));
    }
    return read_contents(f, v, p);
}

an_status prep_plan_load(prep_plan *p, const char *dir)
{
    memset(p, 0, sizeof *p);
    char path[ATOMIC_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/prep-plan.h5", dir);
    if (access(path, R_OK) != 0)
        return error_set(AN_ERR_IO, "cannot read %s: %s (run alexnet-prep with --output %s first)", path,
                         strerror(errno), dir);
    h5_error_init();
    h5_io_lock();
    an_status st;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        st = h5_error_capture("opening %s", path);
    } else {
        st = h5_io_advise(read_plan(f, p), "prep-plan.h5 is damaged, or not one this alexnet-prep writes: run "
                          "alexnet-prep again with a new --output directory");
        H5Fclose(f);
    }
    h5_io_unlock();
    if (st != AN_OK) return error_context(st, "reading %s", path);
    return AN_OK;
}

an_status prep_plan_store(const prep_plan *p, const char *dir)
{
    char path[ATOMIC_PATH_MAX + 32], tmp[ATOMIC_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/prep-plan.h5", dir);
    if (access(path, F_OK) == 0) {
        prep_plan old;
        an_status st = prep_plan_load(&old, dir);
        int same = st == AN_OK && strcmp(old.dataset_id, p->dataset_id) == 0;
        char old_id[AN_DATASET_ID_LEN + 1];
        snprintf(old_id, sizeof old_id, "%s", old.dataset_id);
        prep_plan_free(&old);
        if (same) return AN_OK;
        if (st != AN_OK) return st;
        return error_set(AN_ERR_ARG,
                         "%s already holds dataset %s, but these inputs and options make dataset %s "
                         "(use a new --output directory, or remove the old one)", dir, old_id, p->dataset_id);
    }
    AN_TRY(atomic_temp_name(path, tmp, sizeof tmp));
    h5_error_init();
    h5_io_lock();
    an_status st;
    hid_t f = h5_io_create_file(tmp, H5F_ACC_EXCL);
    if (f < 0) {
        st = h5_error_capture("creating %s", tmp);
    } else {
        st = write_plan(f, p);
        if (H5Fclose(f) < 0 && st == AN_OK) st = h5_error_capture("closing %s", tmp);
    }
    h5_io_unlock();
    if (st == AN_OK) st = atomic_rename_durable(tmp, path);
    if (st != AN_OK) unlink(tmp);
    return st;
}

void prep_plan_free(prep_plan *p)
{
    for (int s = 0; s < PREP_SPLITS; s++) free(p->order[s]);
    h5_io_free_strings(p->class_ids, (size_t)p->num_classes);
    h5_io_free_strings(p->class_names, (size_t)p->num_classes);
    memset(p, 0, sizeof *p);
}
