/* loader.c: the thread pool that reads and checks images, and draws their
 * augmentation, into a bounded ring of batches. See loader.h for the contract.
 *
 * Synchronisation: one mutex guards the cursors and slot states. Workers take
 * one image at a time (step s, position k) under the mutex, draw its
 * augmentation and read it without the mutex into slot s % depth at position
 * k, and count it done.
 * A worker may only take step s while s < window_start + depth, where
 * window_start is the oldest step the consumer has not released: this is
 * the memory bound and the back-pressure.
 */
#include "loader.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "epoch_order.h"

typedef struct loader_slot {
    loader_batch batch;
    uint64_t begin;  /* position of the slice in the epoch order */
    uint32_t done;   /* images finished */
    int ready;       /* all `count` images finished and not yet released */
} loader_slot;

struct loader {
    loader_config cfg;
    uint32_t num_images;  /* N: images in the shards */
    uint32_t id_count;    /* every id < id_count; ids of refused inputs are unused */
    uint32_t num_used;    /* N or the validation limit */
    uint64_t steps;       /* per epoch */
    uint32_t local_max;   /* the largest slice of a global batch: ceil(B / ranks) */
    uint32_t *shard_of;   /* [id_count] by image id: which shard; UINT32_MAX for an unused id */
    uint32_t *index_of;   /* [id_count] by image id: index in that shard */
    uint32_t *ids;        /* [N] the existing image ids, increasing */
    uint32_t *order;      /* [num_used] image ids in visiting order */
    loader_slot *slots;   /* [queue_depth] */
    pthread_t *threads;   /* [threads] */
    int threads_started;

    pthread_mutex_t mutex;
    pthread_cond_t work;  /* workers wait here for something to take */
    pthread_cond_t ready; /* the consumer waits here for its batch */
    pthread_cond_t idle;  /* loader_start_epoch waits here for busy == 0 */
    int active;           /* an epoch is being produced */
    int stop;
    int busy;             /* workers processing a taken image */
    uint32_t epoch;
    uint64_t take_step;   /* next image to take: step and position */
    uint32_t take_pos;
    uint64_t next_out;    /* next step loader_next returns */
    uint64_t window_start;/* oldest step not yet released */
    an_status status;     /* first worker error, sticky */
    char message[1024];
};

/* Called with the mutex held: can a worker take an image now? */
static int has_work(const loader *l)
{
    return l->active && l->status == AN_OK && l->take_step < l->steps &&
           l->take_step < l->window_start + (uint64_t)l->cfg.queue_depth;
}

/* Called with the mutex held: fills slot's labels and ids for step s. */
static void slot_begin_step(loader *l, loader_slot *slot, uint64_t s)
{
    uint64_t begin, count, global_begin, global_count;
    epoch_batch_slice(l->num_used, l->cfg.batch, s, l->cfg.rank, l->cfg.ranks, &begin, &count);
    epoch_batch_slice(l->num_used, l->cfg.batch, s, 0, 1, &global_begin, &global_count);
    slot->begin = begin;
    slot->done = 0;
    slot->ready = 0;
    slot->batch.count = (uint32_t)count;
    slot->batch.global_count = (uint32_t)global_count;
    slot->batch.epoch = l->epoch;
    slot->batch.step = s;
    for (uint32_t k = 0; k < count; k++) {
        uint32_t id = l->order[begin + k];
        slot->batch.image_ids[k] = id;
        slot->batch.labels[k] = l->cfg.shards[l->shard_of[id]]->labels[l->index_of[id]];
    }
}

static void record_error(loader *l, an_status st)
{
    if (l->status != AN_OK) return;
    l->status = st;
    snprintf(l->message, sizeof l->message, "%s", error_message());
}

/* Called with the mutex held: a worker's error as this thread's status and message. */
static an_status take_error(const loader *l)
{
    return l->status == AN_OK ? AN_OK : error_set(l->status, "%s", l->message);
}

static void *worker_main(void *arg)
{
    loader *l = arg;
    pthread_mutex_lock(&l->mutex);
    for (;;) {
        while (!l->stop && !has_work(l)) pthread_cond_wait(&l->work, &l->mutex);
        if (l->stop) break;

        uint64_t s = l->take_step;
        loader_slot *slot = &l->slots[s % (uint64_t)l->cfg.queue_depth];
        if (l->take_pos == 0) {
            slot_begin_step(l, slot, s);
            if (slot->batch.count == 0) { /* this rank has nothing in a tiny last batch */
                slot->ready = 1;
                l->take_step++;
                pthread_cond_broadcast(&l->ready);
                continue;
            }
        }
        uint32_t k = l->take_pos++;
        if (l->take_pos == slot->batch.count) {
            l->take_step++;
            l->take_pos = 0;
        }
        uint32_t id = slot->batch.image_ids[k];
        uint32_t epoch = l->epoch;
        l->busy++;
        pthread_mutex_unlock(&l->mutex);

        /* The draw first: a JPEG shard then decodes only the crop's rows. */
        augment_draw draw;
        if (l->cfg.mode == LOADER_TRAIN)
            augment_draw_for(l->cfg.augment, epoch, id, &draw);
        else
            augment_draw_centre(&draw);
        slot->batch.choices[k] = augment_choice(&draw);
        const shard_reader *shard = l->cfg.shards[l->shard_of[id]];
        uint8_t *image = slot->batch.images + (size_t)k * IMAGE_STORED_BYTES; /* [256,256,3] in the ring */
        an_status st = shard_reader_read_image_rows(shard, l->index_of[id], image, draw.y, draw.y + IMAGE_CROP_SIZE);

        pthread_mutex_lock(&l->mutex);
        l->busy--;
        if (st != AN_OK) {
            record_error(l, st);
            pthread_cond_broadcast(&l->ready);
        } else if (++slot->done == slot->batch.count) {
            slot->ready = 1;
            pthread_cond_broadcast(&l->ready);
        }
        if (l->busy == 0) pthread_cond_broadcast(&l->idle);
    }
    pthread_mutex_unlock(&l->mutex);
    return NULL;
}

/* Builds id -> (shard, index) over 0..id_count-1, checks every id is below
 * id_count and unique, and lists the existing ids in increasing order. */
static an_status build_id_table(loader *l)
{
    uint64_t total = 0;
    for (int s = 0; s < l->cfg.shard_count; s++) total += l->cfg.shards[s]->count;
    if (total == 0) return error_set(AN_ERR_FORMAT, "the split has no images");
    uint64_t id_count = l->cfg.id_count ? l->cfg.id_count : total;
    if (id_count < total)
        return error_set(AN_ERR_FORMAT, "the split has %llu images but only %llu ids (dataset.h5 and the shards "
                         "disagree; re-run alexnet-prep)", (unsigned long long)total, (unsigned long long)id_count);
    if (id_count > UINT32_MAX) return error_set(AN_ERR_FORMAT, "the split has %llu image ids, more than 2^32-1",
                                                (unsigned long long)id_count);
    l->num_images = (uint32_t)total;
    l->id_count = (uint32_t)id_count;
    l->shard_of = malloc(id_count * sizeof *l->shard_of);
    l->index_of = malloc(id_count * sizeof *l->index_of);
    l->ids = malloc(total * sizeof *l->ids);
    AN_CHECK_ALLOC(l->shard_of, id_count * sizeof *l->shard_of);
    AN_CHECK_ALLOC(l->index_of, id_count * sizeof *l->index_of);
    AN_CHECK_ALLOC(l->ids, total * sizeof *l->ids);
    memset(l->shard_of, 0xff, id_count * sizeof *l->shard_of);
    for (int s = 0; s < l->cfg.shard_count; s++) {
        const shard_reader *r = l->cfg.shards[s];
        for (size_t i = 0; i < r->count; i++) {
            uint32_t id = r->image_ids[i];
            if (id >= id_count)
                return error_set(AN_ERR_FORMAT, "%s: image %zu has id %u, not below the split's id count %llu "
                                 "(dataset.h5 and the shards disagree; re-run alexnet-prep)",
                                 r->path, i, id, (unsigned long long)id_count);
            if (l->shard_of[id] != UINT32_MAX)
                return error_set(AN_ERR_FORMAT, "%s: image %zu repeats id %u (ids must be unique "
                                 "within a split; re-run alexnet-prep)", r->path, i, id);
            l->shard_of[id] = (uint32_t)s;
            l->index_of[id] = (uint32_t)i;
        }
    }
    uint32_t n = 0;
    for (uint32_t id = 0; id < l->id_count; id++)
        if (l->shard_of[id] != UINT32_MAX) l->ids[n++] = id;
    return AN_OK;
}

/* *out = `bytes` of the ring's image memory: the backend's host memory, or ordinary memory without one. */
static an_status ring_alloc(loader *l, void **out, size_t bytes)
{
    backend *be = l->cfg.host_memory;
    if (be) return be->ops->host_alloc(be, out, bytes, "the loader's input images");
    *out = malloc(bytes);
    AN_CHECK_ALLOC(*out, bytes);
    return AN_OK;
}

static void ring_free(loader *l, void *p)
{
    backend *be = l->cfg.host_memory;
    if (be) be->ops->host_free(be, p);
    else free(p);
}

static an_status loader_alloc(loader *l)
{
    AN_TRY(build_id_table(l));
    l->num_used = l->num_images;
    if (l->cfg.mode == LOADER_VAL && l->cfg.limit > 0 && l->cfg.limit < l->num_images)
        l->num_used = l->cfg.limit;
    l->steps = epoch_steps(l->num_used, l->cfg.batch);
    l->local_max = (l->cfg.batch + (uint32_t)l->cfg.ranks - 1) / (uint32_t)l->cfg.ranks;
    l->order = malloc((size_t)l->num_used * sizeof *l->order);
    AN_CHECK_ALLOC(l->order, (size_t)l->num_used * sizeof *l->order);
    l->slots = calloc((size_t)l->cfg.queue_depth, sizeof *l->slots);
    AN_CHECK_ALLOC(l->slots, (size_t)l->cfg.queue_depth * sizeof *l->slots);
    for (int q = 0; q < l->cfg.queue_depth; q++) {
        loader_batch *b = &l->slots[q].batch;
        AN_TRY(ring_alloc(l, (void **)&b->images, (size_t)l->local_max * IMAGE_STORED_BYTES));
        b->choices = malloc((size_t)l->local_max * sizeof *b->choices);
        AN_CHECK_ALLOC(b->choices, (size_t)l->local_max * sizeof *b->choices);
        b->labels = malloc((size_t)l->local_max * sizeof *b->labels);
        AN_CHECK_ALLOC(b->labels, (size_t)l->local_max * sizeof *b->labels);
        b->image_ids = malloc((size_t)l->local_max * sizeof *b->image_ids);
        AN_CHECK_ALLOC(b->image_ids, (size_t)l->local_max * sizeof *b->image_ids);
    }
    l->threads = calloc((size_t)l->cfg.threads, sizeof *l->threads);
    AN_CHECK_ALLOC(l->threads, (size_t)l->cfg.threads * sizeof *l->threads);
    return AN_OK;
}

an_status loader_create(loader **out, const loader_config *cfg)
{
    *out = NULL;
    if (cfg->shard_count < 1 || cfg->batch < 1 || cfg->ranks < 1 || cfg->rank < 0 || cfg->rank >= cfg->ranks ||
        cfg->threads < 1 || cfg->queue_depth < 1 || !cfg->augment)
        return error_set(AN_ERR_ARG, "loader: bad configuration (shards %d, batch %u, rank %d of %d, "
                         "threads %d, queue depth %d)", cfg->shard_count, cfg->batch, cfg->rank, cfg->ranks,
                         cfg->threads, cfg->queue_depth);
    loader *l = calloc(1, sizeof *l);
    AN_CHECK_ALLOC(l, sizeof *l);
    l->cfg = *cfg;
    pthread_mutex_init(&l->mutex, NULL);
    pthread_cond_init(&l->work, NULL);
    pthread_cond_init(&l->ready, NULL);
    pthread_cond_init(&l->idle, NULL);
    an_status st;
    AN_TRY_GOTO(st, loader_alloc(l), done);
    for (int t = 0; t < cfg->threads; t++) {
        int rc = pthread_create(&l->threads[t], NULL, worker_main, l);
        if (rc != 0) {
            st = error_set(AN_ERR_INTERNAL, "loader: cannot start thread %d of %d: %s", t + 1, cfg->threads,
                           strerror(rc));
            goto done;
        }
        l->threads_started++;
    }
    st = AN_OK;
done:
    if (st != AN_OK) {
        loader_destroy(l);
        return st;
    }
    *out = l;
    return AN_OK;
}

uint32_t loader_num_images(const loader *l) { return l->num_used; }
uint64_t loader_steps_per_epoch(const loader *l) { return l->steps; }

an_status loader_start_epoch(loader *l, uint32_t epoch, uint64_t first_step)
{
    pthread_mutex_lock(&l->mutex);
    l->active = 0;
    while (l->busy > 0) pthread_cond_wait(&l->idle, &l->mutex);
    an_status st = take_error(l);
    if (st != AN_OK) {
        pthread_mutex_unlock(&l->mutex);
        return st;
    }
    l->epoch = epoch;
    if (l->cfg.mode == LOADER_TRAIN) {
        /* A permutation of the positions 0..N-1 of the existing ids, so it
         * depends only on (seed, epoch) and which ids exist. */
        epoch_order_make(l->cfg.augment->seed, epoch, l->num_used, l->order);
        for (uint32_t i = 0; i < l->num_used; i++) l->order[i] = l->ids[l->order[i]];
    } else {
        for (uint32_t i = 0; i < l->num_used; i++) l->order[i] = l->ids[i];
    }
    uint64_t first = first_step < l->steps ? first_step : l->steps;
    l->take_step = first;
    l->take_pos = 0;
    l->next_out = first;
    l->window_start = first;
    for (int q = 0; q < l->cfg.queue_depth; q++) l->slots[q].ready = 0;
    l->active = 1;
    pthread_cond_broadcast(&l->work);
    pthread_mutex_unlock(&l->mutex);
    return AN_OK;
}

an_status loader_next(loader *l, loader_batch **out)
{
    *out = NULL;
    pthread_mutex_lock(&l->mutex);
    if (!l->active || l->next_out >= l->steps) {
        an_status st = take_error(l);
        pthread_mutex_unlock(&l->mutex);
        return st;
    }
    loader_slot *slot = &l->slots[l->next_out % (uint64_t)l->cfg.queue_depth];
    while (l->status == AN_OK && !(slot->ready && slot->batch.step == l->next_out))
        pthread_cond_wait(&l->ready, &l->mutex);
    if (l->status != AN_OK) {
        an_status st = take_error(l);
        pthread_mutex_unlock(&l->mutex);
        return st;
    }
    l->next_out++;
    *out = &slot->batch;
    pthread_mutex_unlock(&l->mutex);
    return AN_OK;
}

void loader_release(loader *l, loader_batch *batch)
{
    if (!batch) return;
    pthread_mutex_lock(&l->mutex);
    loader_slot *slot = &l->slots[batch->step % (uint64_t)l->cfg.queue_depth];
    slot->ready = 0;
    if (batch->step + 1 > l->window_start) l->window_start = batch->step + 1;
    pthread_cond_broadcast(&l->work);
    pthread_mutex_unlock(&l->mutex);
}

void loader_destroy(loader *l)
{
    if (!l) return;
    pthread_mutex_lock(&l->mutex);
    l->stop = 1;
    pthread_cond_broadcast(&l->work);
    pthread_mutex_unlock(&l->mutex);
    for (int t = 0; t < l->threads_started; t++) pthread_join(l->threads[t], NULL);
    if (l->slots) {
        for (int q = 0; q < l->cfg.queue_depth; q++) {
            ring_free(l, l->slots[q].batch.images);
            free(l->slots[q].batch.choices);
            free(l->slots[q].batch.labels);
            free(l->slots[q].batch.image_ids);
        }
    }
    free(l->slots);
    free(l->threads);
    free(l->order);
    free(l->ids);
    free(l->shard_of);
    free(l->index_of);
    pthread_mutex_destroy(&l->mutex);
    pthread_cond_destroy(&l->work);
    pthread_cond_destroy(&l->ready);
    pthread_cond_destroy(&l->idle);
    free(l);
}
