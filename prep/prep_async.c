/* prep_async.c: a single background worker with a one-task mailbox. */
#include "prep_async.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct prep_async {
    pthread_t thread;
    pthread_mutex_t mutex;
    pthread_cond_t changed;
    prep_async_fn fn;     /* the task waiting or running; NULL when idle */
    void *ctx;
    int stopping;
    an_status status;     /* the first failure */
    char message[2048];   /* its message, from the background thread */
};

static void *async_main(void *p)
{
    prep_async *a = p;
    pthread_mutex_lock(&a->mutex);
    for (;;) {
        while (!a->fn && !a->stopping) pthread_cond_wait(&a->changed, &a->mutex);
        if (!a->fn) break;
        prep_async_fn fn = a->fn;
        void *ctx = a->ctx;
        pthread_mutex_unlock(&a->mutex);
        an_status st = fn(ctx);
        pthread_mutex_lock(&a->mutex);
        if (st != AN_OK && a->status == AN_OK) {
            a->status = st;
            snprintf(a->message, sizeof a->message, "%s", error_message());
        }
        a->fn = NULL;
        pthread_cond_broadcast(&a->changed);
    }
    pthread_mutex_unlock(&a->mutex);
    return NULL;
}

an_status prep_async_create(prep_async **out)
{
    *out = NULL;
    prep_async *a = calloc(1, sizeof *a);
    AN_CHECK_ALLOC(a, sizeof *a);
    pthread_mutex_init(&a->mutex, NULL);
    pthread_cond_init(&a->changed, NULL);
    int rc = pthread_create(&a->thread, NULL, async_main, a);
    if (rc != 0) {
        pthread_mutex_destroy(&a->mutex);
        pthread_cond_destroy(&a->changed);
        free(a);
        return error_set(AN_ERR_NOMEM, "cannot start the shard writer thread: %s", strerror(rc));
    }
    *out = a;
    return AN_OK;
}

an_status prep_async_wait(prep_async *a)
{
    pthread_mutex_lock(&a->mutex);
    while (a->fn) pthread_cond_wait(&a->changed, &a->mutex);
    an_status st = a->status;
    if (st != AN_OK) error_set(st, "%s", a->message);
    pthread_mutex_unlock(&a->mutex);
    return st;
}

an_status prep_async_submit(prep_async *a, prep_async_fn fn, void *ctx)
{
    AN_TRY(prep_async_wait(a));
    pthread_mutex_lock(&a->mutex);
    a->fn = fn;
    a->ctx = ctx;
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->mutex);
    return AN_OK;
}

void prep_async_destroy(prep_async *a)
{
    if (!a) return;
    pthread_mutex_lock(&a->mutex);
    while (a->fn) pthread_cond_wait(&a->changed, &a->mutex);
    a->stopping = 1;
    pthread_cond_broadcast(&a->changed);
    pthread_mutex_unlock(&a->mutex);
    pthread_join(a->thread, NULL);
    pthread_mutex_destroy(&a->mutex);
    pthread_cond_destroy(&a->changed);
    free(a);
}
