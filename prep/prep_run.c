/* prep_run.c: shard by shard, decode in parallel, write atomically, resume. */
#include "prep_run.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "checksum.h"
#include "log.h"
#include "prep_async.h"
#include "prep_pool.h"
#include "progress.h"
#include "shard_jpeg.h"
#include "shard_reader.h"
#include "shard_writer.h"

#define REASON_MAX 256

/* One shard's work, shared by the worker threads. */
typedef struct shard_job {
    const prep_listing *listing;
    const prep_options *options;
    int split;
    const uint32_t *ids;           /* [n] image ids (= listing positions) in shard order */
    size_t n;
    uint8_t *images;               /* [n, 256, 256, 3] decoded pixels (jpeg store: as the JPEG decodes) */
    uint8_t **jpeg;                /* jpeg store: [n] each image's JPEG stream (malloc'ed), else NULL */
    uint32_t *jpeg_lengths;        /* jpeg store: [n] bytes of each stream */
    uint32_t *checksums;           /* [n] CRC-32 of the stored bytes (pixels or JPEG stream) */
    an_status *status;             /* [n] AN_OK or AN_ERR_IMAGE */
    char (*reasons)[REASON_MAX];   /* [n] */
    shard_stats *worker_stats;     /* [workers], training shards only */
    uint32_t **pixel_acc;          /* [workers][256*256*3] the workers' pixel sums */
    progress *bar;
} shard_job;

/* The jpeg store: encodes image i, keeps the stream and its CRC-32, and
 * replaces the pixels by the stream's decode, so the statistics are those of
 * what every reader will see (docs/prep.md, "Stores"). */
static an_status store_jpeg(shard_job *job, size_t i, uint8_t *image /* [256,256,3] */)
{
    const prep_options *o = job->options;
    free(job->jpeg[i]);
    job->jpeg[i] = NULL;
    size_t size = 0;
    AN_TRY(shard_jpeg_encode(image, o->jpeg_quality, o->jpeg_subsampling, &job->jpeg[i], &size));
    if (size > UINT32_MAX) return error_set(AN_ERR_INTERNAL, "a %zu-byte JPEG of a 256x256 image", size);
    job->jpeg_lengths[i] = (uint32_t)size;
    job->checksums[i] = checksum_crc32(job->jpeg[i], size);
    an_status st = shard_jpeg_decode(job->jpeg[i], size, image);
    if (st != AN_OK) return error_context(st, "decoding the JPEG just encoded");
    return AN_OK;
}

static void decode_one(void *ctx, size_t i, int worker)
{
    shard_job *job = ctx;
    const prep_listing *l = job->listing;
    const prep_item *item = &l->split[job->split].items[job->ids[i]];
    uint8_t *image = job->images + i * IMAGE_STORED_BYTES; /* [256,256,3] */
    an_status st;
    job->reasons[i][0] = 0;
    if (l->idx_pixels[job->split]) {
        size_t plane = (size_t)l->idx_rows * (size_t)l->idx_cols;
        st = image_decode_gray(l->idx_pixels[job->split] + item->source_index * plane, l->idx_rows, l->idx_cols,
                              &job->options->decode, image, job->reasons[i], REASON_MAX);
    } else {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", l->input_root, item->path);
        st = image_decode_file(path, &job->options->decode, image, job->reasons[i], REASON_MAX);
    }
    if (st == AN_OK && job->jpeg) st = store_jpeg(job, i, image);
    if (st != AN_OK && st != AN_ERR_IMAGE) snprintf(job->reasons[i], REASON_MAX, "%s", error_message());
    job->status[i] = st;
    if (st == AN_OK) {
        if (!job->jpeg) job->checksums[i] = checksum_image(image);
        if (job->worker_stats)
            shard_stats_add_image_split(&job->worker_stats[worker], job->pixel_acc[worker], image);
    }
    progress_add(job->bar, 1);
}

/* A shard already on disk is kept when it belongs to this dataset, sits at
 * this place, and every checksum verifies. */
static int shard_is_done(const char *path, const prep_plan *plan, int split, int index, size_t *count,
                         uint64_t *refused)
{
    if (access(path, F_OK) != 0) return 0;
    shard_reader *r = NULL;
    if (shard_reader_open(&r, path) != AN_OK) {
        log_warn("redoing %s: %s", path, error_message());
        return 0;
    }
    size_t begin, end;
    prep_plan_shard_span(plan, split, index, &begin, &end);
    int ok = strcmp(r->dataset_id, plan->dataset_id) == 0 && strcmp(r->split, prep_split_names[split]) == 0 &&
             r->shard_index == index && r->shard_count == plan->shards[split] &&
             r->count + r->refused_count == end - begin && (split != PREP_TRAIN || r->has_stats);
    if (!ok) log_warn("redoing %s: it belongs to another dataset or place", path);
    else if (shard_reader_verify(r, NULL) != AN_OK) {
        log_warn("redoing %s: %s", path, error_message());
        ok = 0;
    }
    if (ok) {
        *count = r->count;
        *refused = r->refused_count;
    }
    shard_reader_close(r);
    return ok;
}

typedef struct shard_buffers {
    uint8_t *images;     /* [shard_size, 256, 256, 3] */
    uint8_t **jpeg;      /* jpeg store: [shard_size] each image's JPEG stream; NULL for raw */
    uint32_t *jpeg_lengths; /* jpeg store: [shard_size] */
    uint8_t *jpeg_blob;  /* jpeg store: [jpeg_blob_capacity] the kept streams back to back */
    size_t jpeg_blob_capacity;
    uint32_t *checksums, *ids_kept; /* [shard_size] */
    int32_t *labels;     /* [shard_size] */
    an_status *status;   /* [shard_size] */
    char (*reasons)[REASON_MAX];
    const char **paths, **refused_paths, **refused_reasons; /* [shard_size] */
    char **stored_paths; /* [shard_size] source paths as stored (valid UTF-8) */
    size_t capacity;
    shard_stats *worker_stats; /* [workers] */
    uint32_t **pixel_acc;      /* [workers][256*256*3] */
    shard_stats total;
    int workers;
    /* The shard these buffers hold, for the writer thread. */
    const prep_listing *listing;
    const prep_plan *plan;
    int split, index;
    int pending;                 /* submitted to the writer, results not yet counted */
    size_t written, refused;     /* the writer's results: images stored, inputs refused */
    size_t n;
    const uint32_t *ids;         /* [n] image ids in shard order */
    char path[ATOMIC_PATH_MAX];
} shard_buffers;

static an_status buffers_alloc(shard_buffers *b, size_t n, int workers, shard_store store)
{
    memset(b, 0, sizeof *b);
    if (store == SHARD_STORE_JPEG) {
        b->jpeg = calloc(n, sizeof *b->jpeg);
        b->jpeg_lengths = calloc(n, sizeof *b->jpeg_lengths);
        if (!b->jpeg || !b->jpeg_lengths)
            return error_set(AN_ERR_NOMEM, "out of memory for a shard of %zu images (try a smaller --shard-size)", n);
    }
    b->images = malloc(n * IMAGE_STORED_BYTES);
    b->checksums = malloc(n * sizeof *b->checksums);
    b->ids_kept = malloc(n * sizeof *b->ids_kept);
    b->labels = malloc(n * sizeof *b->labels);
    b->status = malloc(n * sizeof *b->status);
    b->reasons = malloc(n * sizeof *b->reasons);
    b->paths = malloc(n * sizeof *b->paths);
    b->refused_paths = malloc(n * sizeof *b->refused_paths);
    b->refused_reasons = malloc(n * sizeof *b->refused_reasons);
    b->worker_stats = calloc((size_t)workers, sizeof *b->worker_stats);
    b->pixel_acc = calloc((size_t)workers, sizeof *b->pixel_acc);
    b->stored_paths = calloc(n, sizeof *b->stored_paths);
    b->capacity = n;
    if (!b->stored_paths || !b->images || !b->checksums || !b->ids_kept || !b->labels || !b->status || !b->reasons || !b->paths ||
        !b->refused_paths || !b->refused_reasons || !b->worker_stats || !b->pixel_acc)
        return error_set(AN_ERR_NOMEM, "out of memory for a shard of %zu images (try a smaller --shard-size)", n);
    b->workers = workers;
    for (int w = 0; w < workers; w++) {
        AN_TRY(shard_stats_init(&b->worker_stats[w]));
        b->pixel_acc[w] = calloc(IMAGE_STORED_BYTES, sizeof *b->pixel_acc[w]);
        AN_CHECK_ALLOC(b->pixel_acc[w], IMAGE_STORED_BYTES * sizeof *b->pixel_acc[w]);
    }
    return shard_stats_init(&b->total);
}

static void buffers_free(shard_buffers *b)
{
    if (b->jpeg)
        for (size_t i = 0; i < b->capacity; i++) free(b->jpeg[i]);
    free(b->jpeg);
    free(b->jpeg_lengths);
    free(b->jpeg_blob);
    free(b->images);
    free(b->checksums);
    free(b->ids_kept);
    free(b->labels);
    free(b->status);
    free(b->reasons);
    free(b->paths);
    free(b->refused_paths);
    free(b->refused_reasons);
    if (b->stored_paths)
        for (size_t i = 0; i < b->capacity; i++) free(b->stored_paths[i]);
    free(b->stored_paths);
    if (b->worker_stats)
        for (int w = 0; w < b->workers; w++) shard_stats_free(&b->worker_stats[w]);
    if (b->pixel_acc)
        for (int w = 0; w < b->workers; w++) free(b->pixel_acc[w]);
    free(b->pixel_acc);
    free(b->worker_stats);
    shard_stats_free(&b->total);
}

/* Decodes one shard's images into b with the worker pool (main thread). */
static an_status decode_shard(const prep_listing *l, const prep_plan *plan, const prep_options *o, prep_pool *pool,
                              shard_buffers *b, progress *bar, int split, int index, const char *path)
{
    size_t begin, end;
    prep_plan_shard_span(plan, split, index, &begin, &end);
    b->listing = l;
    b->plan = plan;
    b->split = split;
    b->index = index;
    b->n = end - begin;
    b->ids = plan->order[split] + begin;
    snprintf(b->path, sizeof b->path, "%s", path);
    for (int w = 0; w < b->workers; w++) {
        memset(b->worker_stats[w].pixel_sum, 0, IMAGE_STORED_BYTES * sizeof *b->worker_stats[w].pixel_sum);
        double *keep = b->worker_stats[w].pixel_sum;
        memset(&b->worker_stats[w], 0, sizeof b->worker_stats[w]);
        b->worker_stats[w].pixel_sum = keep;
    }
    shard_job job = {l, o, split, b->ids, b->n, b->images, b->jpeg, b->jpeg_lengths, b->checksums, b->status,
                     b->reasons, split == PREP_TRAIN ? b->worker_stats : NULL, b->pixel_acc, bar};
    prep_pool_run(pool, decode_one, &job, b->n);
    /* Running out of memory is not the image's fault: stop (the shards
     * written so far stay, a rerun resumes) instead of refusing it. */
    for (size_t i = 0; i < b->n; i++)
        if (b->status[i] == AN_ERR_NOMEM) {
            const prep_item *item = &l->split[split].items[b->ids[i]];
            return error_set(AN_ERR_NOMEM, "%s, decoding %s; rerun with fewer --jobs or free memory",
                             b->reasons[i], item->path);
        }
    return AN_OK;
}

/* The jpeg store: the first `kept` streams, back to back, into jpeg_blob. */
static an_status join_jpeg_streams(shard_buffers *b, size_t kept)
{
    size_t total = 0;
    for (size_t i = 0; i < kept; i++) total += b->jpeg_lengths[i];
    if (total > b->jpeg_blob_capacity) {
        uint8_t *grown = realloc(b->jpeg_blob, total);
        AN_CHECK_ALLOC(grown, total);
        b->jpeg_blob = grown;
        b->jpeg_blob_capacity = total;
    }
    size_t at = 0;
    for (size_t i = 0; i < kept; i++) {
        memcpy(b->jpeg_blob + at, b->jpeg[i], b->jpeg_lengths[i]);
        at += b->jpeg_lengths[i];
    }
    return AN_OK;
}

/* Compacts the decoded shard, adds up its statistics and writes it (writer thread). */
static an_status write_shard(void *ctx)
{
    shard_buffers *b = ctx;
    const prep_listing *l = b->listing;
    const int train = b->split == PREP_TRAIN;
    /* Compact: refused images leave a gap that later images close; no label moves to another image. */
    size_t kept = 0, refused = 0;
    for (size_t i = 0; i < b->n; i++) {
        const prep_item *item = &l->split[b->split].items[b->ids[i]];
        free(b->stored_paths[i]);
        b->stored_paths[i] = prep_path_utf8(item->path);
        AN_CHECK_ALLOC(b->stored_paths[i], strlen(item->path) * 4 + 1);
        if (b->status[i] != AN_OK) {
            b->refused_paths[refused] = b->stored_paths[i];
            b->refused_reasons[refused++] = b->reasons[i];
            log_verbose("refused %s: %s", item->path, b->reasons[i]);
            continue;
        }
        if (b->jpeg) {
            b->jpeg_lengths[kept] = b->jpeg_lengths[i];
            uint8_t *t = b->jpeg[kept]; /* keep every stream pointer owned exactly once */
            b->jpeg[kept] = b->jpeg[i];
            b->jpeg[i] = t;
        } else if (kept != i) {
            memmove(b->images + kept * IMAGE_STORED_BYTES, b->images + i * IMAGE_STORED_BYTES, IMAGE_STORED_BYTES);
        }
        b->checksums[kept] = b->checksums[i];
        b->ids_kept[kept] = b->ids[i];
        b->labels[kept] = item->label;
        b->paths[kept++] = b->stored_paths[i];
    }
    memset(b->total.pixel_sum, 0, IMAGE_STORED_BYTES * sizeof *b->total.pixel_sum);
    double *keep = b->total.pixel_sum;
    memset(&b->total, 0, sizeof b->total);
    b->total.pixel_sum = keep;
    if (train)
        for (int w = 0; w < b->workers; w++) {
            shard_stats_fold_pixels(&b->worker_stats[w], b->pixel_acc[w]);
            shard_stats_merge(&b->total, &b->worker_stats[w]);
        }
    shard_contents c = {.dataset_id = b->plan->dataset_id, .split = prep_split_names[b->split],
                        .shard_index = b->index, .shard_count = b->plan->shards[b->split], .count = kept,
                        .images = b->images, .labels = b->labels, .image_ids = b->ids_kept,
                        .checksums = b->checksums, .paths = b->paths, .stats = train ? &b->total : NULL,
                        .refused_count = refused, .refused_paths = b->refused_paths,
                        .refused_reasons = b->refused_reasons, .store = SHARD_STORE_RAW};
    if (b->jpeg) {
        c.store = SHARD_STORE_JPEG;
        c.jpeg_quality = b->plan->jpeg_quality;
        c.jpeg_subsampling = b->plan->jpeg_subsampling;
        c.jpeg_lengths = b->jpeg_lengths;
        AN_TRY(join_jpeg_streams(b, kept));
        c.jpeg_bytes = b->jpeg_blob;
    }
    AN_TRY(shard_write(b->path, &c));
    b->written = kept;
    b->refused = refused;
    return AN_OK;
}

/* Removes temporary files a killed run left beside this shard. */
static void remove_stale_temps(const char *dir, const char *shard_path)
{
    const char *base = strrchr(shard_path, '/');
    base = base ? base + 1 : shard_path;
    char prefix[ATOMIC_PATH_MAX + 16];
    snprintf(prefix, sizeof prefix, ".%s.tmp.", base);
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[ATOMIC_PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (unlink(path) == 0) log_verbose("removed stale %s", path);
    }
    closedir(d);
}

/* Adds a written shard's results to the summary (main thread, writer idle). */
static void count_written(shard_buffers *b, prep_run_summary *summary)
{
    if (!b->pending) return;
    summary->decoded += b->written;
    summary->refused += b->refused;
    summary->written_shards++;
    b->pending = 0;
}

/* Refusals so far against --max-bad. */
static an_status check_refusals(const prep_plan *plan, const prep_run_summary *summary, uint64_t allowed)
{
    if (summary->refused <= allowed) return AN_OK;
    return error_set(AN_ERR_IMAGE,
                     "%llu images refused, more than --max-bad %s allows (%llu of %llu); "
                     "rerun with --verbose to see each reason, or raise --max-bad",
                     (unsigned long long)summary->refused, plan->max_bad, (unsigned long long)allowed,
                     (unsigned long long)(plan->count[PREP_TRAIN] + plan->count[PREP_VAL]));
}

an_status prep_run(const prep_listing *l, const prep_plan *plan, const prep_options *o, prep_run_summary *summary)
{
    memset(summary, 0, sizeof *summary);
    int total_shards = prep_plan_total_shards(plan);
    int range_begin = o->range_begin, range_end = o->range_end < 0 ? total_shards : o->range_end;
    if (range_end > total_shards) range_end = total_shards;
    uint64_t work = 0;
    for (int g = range_begin; g < range_end; g++) {
        int split = g < plan->shards[PREP_TRAIN] ? PREP_TRAIN : PREP_VAL;
        size_t begin, end;
        prep_plan_shard_span(plan, split, split == PREP_TRAIN ? g : g - plan->shards[PREP_TRAIN], &begin, &end);
        work += end - begin;
    }
    uint64_t allowed = prep_max_bad_allowed(&o->max_bad, plan->count[PREP_TRAIN] + plan->count[PREP_VAL]);
    prep_pool *pool = NULL;
    prep_async *writer = NULL;
    /* Two sets of buffers: the main thread decodes shard g+1 into one while the
     * writer thread writes shard g from the other. */
    shard_buffers buffers[2];
    memset(buffers, 0, sizeof buffers);
    an_status st = AN_OK;
    AN_TRY(prep_pool_create(&pool, o->jobs));
    AN_TRY_GOTO(st, prep_async_create(&writer), done);
    for (int k = 0; k < 2; k++) {
        AN_TRY_GOTO(st, buffers_alloc(&buffers[k], o->shard_size, o->jobs, plan->store), done);
    }
    progress bar;
    progress_start(&bar, "prep", work);
    double start = progress_now();
    int next = 0;
    for (int g = range_begin; g < range_end && st == AN_OK; g++) {
        int split = g < plan->shards[PREP_TRAIN] ? PREP_TRAIN : PREP_VAL;
        int index = split == PREP_TRAIN ? g : g - plan->shards[PREP_TRAIN];
        char path[ATOMIC_PATH_MAX];
        AN_TRY_GOTO(st, shard_file_path(o->output, prep_split_names[split], index, plan->shards[split], path,
                                        sizeof path), finish);
        size_t count = 0;
        uint64_t refused = 0;
        if (shard_is_done(path, plan, split, index, &count, &refused)) {
            log_verbose("keeping %s (%zu images, verified)", path, count);
            summary->kept_shards++;
            summary->kept_images += count;
            summary->refused += refused;
            progress_add(&bar, count + refused);
        } else {
            remove_stale_temps(o->output, path);
            AN_TRY_GOTO(st, decode_shard(l, plan, o, pool, &buffers[next], &bar, split, index, path), finish);
            AN_TRY_GOTO(st, prep_async_submit(writer, write_shard, &buffers[next]), finish);
            buffers[next].pending = 1;
            next ^= 1;
            count_written(&buffers[next], summary); /* the previous shard: finished before the submit */
        }
        st = check_refusals(plan, summary, allowed);
    }
finish:
    if (writer) {
        an_status last = prep_async_wait(writer);
        if (st == AN_OK) st = last;
        for (int k = 0; k < 2; k++) count_written(&buffers[k], summary);
        if (st == AN_OK) st = check_refusals(plan, summary, allowed);
    }
    progress_finish(&bar);
    summary->seconds = progress_now() - start;
done:
    prep_async_destroy(writer);
    for (int k = 0; k < 2; k++) buffers_free(&buffers[k]);
    prep_pool_destroy(pool);
    return st;
}
