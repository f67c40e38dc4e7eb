/* prep_pool.c: pthread workers around one shared loop counter. */
#include "prep_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct prep_pool {
    int workers;
    pthread_t *threads;      /* [workers] */
    pthread_mutex_t mutex;
    pthread_cond_t start, finished;
    unsigned long generation; /* bumped for every loop */
    int stopping;
    prep_pool_fn fn;
    void *ctx;
    size_t n, next;          /* loop size and the next index to hand out */
    int running;             /* workers still inside the current loop */
};

typedef struct worker_arg { prep_pool *pool; int index; } worker_arg;

static void *worker_main(void *p)
{
    worker_arg arg = *(worker_arg *)p;
    free(p);
    prep_pool *pool = arg.pool;
    unsigned long seen = 0;
    pthread_mutex_lock(&pool->mutex);
    for (;;) {
        while (!pool->stopping && pool->generation == seen) pthread_cond_wait(&pool->start, &pool->mutex);
        if (pool->stopping) break;
        seen = pool->generation;
        while (pool->next < pool->n) {
            size_t i = pool->next++;
            pthread_mutex_unlock(&pool->mutex);
            pool->fn(pool->ctx, i, arg.index);
            pthread_mutex_lock(&pool->mutex);
        }
        if (--pool->running == 0) pthread_cond_signal(&pool->finished);
    }
    pthread_mutex_unlock(&pool->mutex);
    return NULL;
}

an_status prep_pool_create(prep_pool **out, int workers)
{
    *out = NULL;
    if (workers < 1) return error_set(AN_ERR_ARG, "need at least one worker, got %d", workers);
    prep_pool *p = calloc(1, sizeof *p);
    AN_CHECK_ALLOC(p, sizeof *p);
    p->threads = calloc((size_t)workers, sizeof *p->threads);
    if (!p->threads) {
        free(p);
        return error_set(AN_ERR_NOMEM, "out of memory for %d workers", workers);
    }
    pthread_mutex_init(&p->mutex, NULL);
    pthread_cond_init(&p->start, NULL);
    pthread_cond_init(&p->finished, NULL);
    for (int i = 0; i < workers; i++) {
        worker_arg *arg = malloc(sizeof *arg);
        int rc = arg ? 0 : -1;
        if (arg) {
            *arg = (worker_arg){p, i};
            rc = pthread_create(&p->threads[i], NULL, worker_main, arg);
            if (rc != 0) free(arg);
        }
        if (rc != 0) {
            p->workers = i;
            prep_pool_destroy(p);
            return error_set(AN_ERR_NOMEM, "cannot start worker thread %d: %s", i, strerror(rc > 0 ? rc : 12));
        }
    }
    p->workers = workers;
    *out = p;
    return AN_OK;
}

int prep_pool_workers(const prep_pool *p) { return p->workers; }

void prep_pool_run(prep_pool *p, prep_pool_fn fn, void *ctx, size_t n)
{
    pthread_mutex_lock(&p->mutex);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->next = 0;
    p->running = p->workers;
    p->generation++;
    pthread_cond_broadcast(&p->start);
    while (p->running > 0) pthread_cond_wait(&p->finished, &p->mutex);
    pthread_mutex_unlock(&p->mutex);
}

void prep_pool_destroy(prep_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mutex);
    p->stopping = 1;
    pthread_cond_broadcast(&p->start);
    pthread_mutex_unlock(&p->mutex);
    for (int i = 0; i < p->workers; i++) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mutex);
    pthread_cond_destroy(&p->start);
    pthread_cond_destroy(&p->finished);
    free(p->threads);
    free(p);
}
