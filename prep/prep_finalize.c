/* prep_finalize.c: shards + plan -> dataset.h5, dataset.json, bad-files.tsv. */
#include "prep_finalize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "dataset.h"
#include "dataset_json.h"
#include "log.h"
#include "prep_plan.h"
#include "prep_stats.h"
#include "shard_reader.h"
#include "text_buffer.h"
#include "version.h"

/* One row of bad-files.tsv: split, path, reason. */
static an_status bad_file_row(text_buffer *t, const char *a, const char *b, const char *c)
{
    text_printf(t, "%s\t%s\t%s\n", a, b, c);
    return t->status;
}

/* Reads one shard's contribution: counts, labels, stats, refused files. */
static an_status add_shard(const prep_plan *plan, dataset *d, int split, int index, shard_stats *sums,
                           shard_stats *scratch, text_buffer *bad, prep_final_summary *summary)
{
    const char *name = split == 0 ? "train" : "val";
    char path[ATOMIC_PATH_MAX + 32];
    AN_TRY(shard_file_path(d->dir, name, index, plan->shards[split], path, sizeof path));
    shard_reader *r = NULL;
    an_status st = shard_reader_open(&r, path);
    if (st != AN_OK) return error_context(st, "shard %d of %s is missing or unreadable (run its --shard-range)", index, name);
    if (r->store != plan->store) {
        st = error_set(AN_ERR_FORMAT, "%s stores %s images but the plan of %s is the %s store (stores are never "
                       "mixed: rerun that --shard-range with the same --store)", path, shard_store_name(r->store),
                       d->dir, shard_store_name(plan->store));
        goto done;
    }
    if (strcmp(r->dataset_id, plan->dataset_id) != 0 || strcmp(r->split, name) != 0 || r->shard_index != index ||
        r->shard_count != plan->shards[split]) {
        st = error_set(AN_ERR_FORMAT, "%s belongs to dataset %s, not %s", path, r->dataset_id, plan->dataset_id);
        goto done;
    }
    dataset_split *s = split == 0 ? &d->train : &d->val;
    for (size_t i = 0; i < r->count; i++) {
        if (r->labels[i] < 0 || r->labels[i] >= d->num_classes) {
            st = error_set(AN_ERR_FORMAT, "%s: image %zu has label %d, outside 0..%d", path, i, r->labels[i],
                           d->num_classes - 1);
            goto done;
        }
        s->class_counts[r->labels[i]]++;
    }
    s->num_images += r->count;
    summary->images[split] += r->count;
    summary->stored_bytes[split] += r->stored_bytes;
    summary->refused += r->refused_count;
    for (size_t i = 0; i < r->refused_count && st == AN_OK; i++)
        st = bad_file_row(bad, name, r->refused_paths[i], r->refused_reasons[i]);
    if (st == AN_OK && split == 0) {
        st = shard_reader_read_stats(r, scratch);
        if (st == AN_OK) shard_stats_merge(sums, scratch);
    }
done:
    shard_reader_close(r);
    return st;
}

/* Refuses a merge while shards are missing, naming every missing range in
 * the --shard-range form that makes it (global numbers: train, then val). */
static an_status check_all_shards_present(const prep_plan *plan, const char *dir)
{
    int total = plan->shards[0] + plan->shards[1], missing = 0, run_start = -1;
    char ranges[1024] = "", path[ATOMIC_PATH_MAX + 32];
    size_t used = 0;
    for (int g = 0; g <= total; g++) {
        int absent = 0;
        if (g < total) {
            int split = g < plan->shards[0] ? 0 : 1, index = split == 0 ? g : g - plan->shards[0];
            AN_TRY(shard_file_path(dir, split == 0 ? "train" : "val", index, plan->shards[split], path, sizeof path));
            struct stat sb;
            absent = stat(path, &sb) != 0 || !S_ISREG(sb.st_mode);
        }
        if (absent) {
            missing++;
            if (run_start < 0) run_start = g;
        } else if (run_start >= 0) {
            if (used + 32 < sizeof ranges)
                used += (size_t)snprintf(ranges + used, sizeof ranges - used, "%s%d:%d", used ? ", " : "", run_start, g);
            else if (used + 5 < sizeof ranges)
                used += (size_t)snprintf(ranges + used, sizeof ranges - used, ", ...");
            run_start = -1;
        }
    }
    if (missing)
        return error_set(AN_ERR_IO, "%s: %d of %d shards are missing: --shard-range %s (shards are numbered train "
                         "first, then val; %d train shards). Run alexnet-prep with the same options and each of "
                         "these --shard-range values into %s (a failed task of a Slurm array: its log says why), "
                         "then merge again", dir, missing, total, ranges, plan->shards[0], dir);
    return AN_OK;
}

static an_status fill_classes(dataset *d, const prep_plan *plan, const char *dir)
{
    snprintf(d->dir, sizeof d->dir, "%s", dir);
    snprintf(d->dataset_id, sizeof d->dataset_id, "%s", plan->dataset_id);
    snprintf(d->source, sizeof d->source, "%s", plan->source);
    d->store = plan->store;
    for (int c = 0; c < d->num_classes; c++) {
        d->class_ids[c] = strdup(plan->class_ids[c]);
        d->class_names[c] = strdup(plan->class_names[c]);
        if (!d->class_ids[c] || !d->class_names[c]) return error_set(AN_ERR_NOMEM, "out of memory for classes");
    }
    d->train.num_shards = plan->shards[0];
    d->val.num_shards = plan->shards[1];
    d->train.id_count = plan->count[0]; /* ids number the listed images; refused ones stay unused */
    d->val.id_count = plan->count[1];
    return AN_OK;
}

static an_status check_max_bad(const prep_plan *plan, const prep_final_summary *summary)
{
    prep_max_bad m = {0, 0.0};
    size_t len = strlen(plan->max_bad);
    m.is_percent = len > 0 && plan->max_bad[len - 1] == '%';
    m.value = atof(plan->max_bad);
    uint64_t listed = plan->count[0] + plan->count[1];
    uint64_t allowed = prep_max_bad_allowed(&m, listed);
    if (summary->refused > allowed)
        return error_set(AN_ERR_IMAGE, "%llu of %llu images were refused, more than --max-bad %s allows "
                         "(see bad-files.tsv)", (unsigned long long)summary->refused, (unsigned long long)listed,
                         plan->max_bad);
    return AN_OK;
}

an_status prep_finalize(const char *dir, prep_final_summary *summary)
{
    memset(summary, 0, sizeof *summary);
    prep_plan plan;
    dataset *d = NULL;
    shard_stats sums, scratch;
    text_buffer bad;
    text_init(&bad);
    memset(&sums, 0, sizeof sums);
    memset(&scratch, 0, sizeof scratch);
    an_status st = prep_plan_load(&plan, dir);
    if (st != AN_OK) return st;
    AN_TRY_GOTO(st, dataset_alloc(&d, plan.num_classes), done);
    AN_TRY_GOTO(st, fill_classes(d, &plan, dir), done);
    AN_TRY_GOTO(st, shard_stats_init(&sums), done);
    AN_TRY_GOTO(st, shard_stats_init(&scratch), done);
    AN_TRY_GOTO(st, check_all_shards_present(&plan, dir), done);
    AN_TRY_GOTO(st, bad_file_row(&bad, "split", "path", "reason"), done);
    for (int split = 0; split < 2; split++)
        for (int i = 0; i < plan.shards[split]; i++)
            AN_TRY_GOTO(st, add_shard(&plan, d, split, i, &sums, &scratch, &bad, summary), done);
    summary->skipped = plan.skipped[0] + plan.skipped[1];
    char path[ATOMIC_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/bad-files.tsv", dir);
    AN_TRY_GOTO(st, text_write_file(&bad, path), done);
    AN_TRY_GOTO(st, check_max_bad(&plan, summary), done);
    AN_TRY_GOTO(st, prep_stats_finish(&sums, d), done);
    AN_TRY_GOTO(st, dataset_write(d, dir), done);
    dataset_provenance provenance = {
        .tool = "alexnet-prep " ALEXNET_VERSION, .input = plan.input, .params = plan.params,
        .resize = image_resize_name(plan.resize),
        .max_bad = plan.max_bad, .refused = summary->refused, .skipped = summary->skipped,
        .jpeg_quality = plan.store == SHARD_STORE_JPEG ? plan.jpeg_quality : 0,
        .jpeg_subsampling = plan.store == SHARD_STORE_JPEG ? shard_jpeg_subsampling_name(plan.jpeg_subsampling) : NULL,
        .stored_bytes = {summary->stored_bytes[0], summary->stored_bytes[1]}};
    AN_TRY_GOTO(st, dataset_write_json(d, dir, &provenance), done);
done:
    text_free(&bad);
    shard_stats_free(&sums);
    shard_stats_free(&scratch);
    dataset_close(d);
    prep_plan_free(&plan);
    return st;
}
