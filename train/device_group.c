/* device_group.c: the replicas of one process, their threads and their sum
 * (device_group.h). */
#include "device_group.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_select.h"

typedef struct device_group device_group;

/* What a worker thread needs to know: its group and its replica. */
typedef struct worker_arg {
    device_group *g;
    int replica;
} worker_arg;

struct device_group {
    int size;
    backend *bes[BACKEND_MAX_DEVICES];
    communicator *comm;           /* NULL with one replica */
    int threads_per_replica;      /* CPU replicas: cores each */
    char description[320];

    /* the workers of replicas 1..size-1 */
    pthread_t threads[BACKEND_MAX_DEVICES];
    worker_arg args[BACKEND_MAX_DEVICES];
    int started;                  /* workers created (replicas 1..started) */
    int sync_ready;               /* lock and conditions initialised */
    pthread_mutex_t lock;
    pthread_cond_t wake, done;    /* a job is there / the workers finished it */
    unsigned long generation;     /* jobs handed out so far */
    int pending;                  /* workers still on the current job */
    int quit;
    replica_job job;
    void *ctx;
    an_status status[BACKEND_MAX_DEVICES];
    int first_failed;             /* the replica whose job failed first in the current run; -1 */
    char message[BACKEND_MAX_DEVICES][1024]; /* a failed worker's message (messages are per thread) */
};

/* Under g->lock: replica r's job failed; the first failure aborts the communicator. */
static void replica_failed(device_group *g, int r)
{
    snprintf(g->message[r], sizeof g->message[r], "%s", error_message());
    if (g->first_failed >= 0) return;
    g->first_failed = r;
    if (g->comm) g->comm->ops->abort(g->comm);
}

static void *worker_main(void *arg)
{
    device_group *g = ((worker_arg *)arg)->g;
    const int replica = ((worker_arg *)arg)->replica;
    unsigned long seen = 0;
    for (;;) {
        pthread_mutex_lock(&g->lock);
        while (g->generation == seen && !g->quit) pthread_cond_wait(&g->wake, &g->lock);
        seen = g->generation;
        const int quit = g->quit;
        replica_job job = g->job;
        void *ctx = g->ctx;
        pthread_mutex_unlock(&g->lock);
        if (quit) break;
        an_status st = job(ctx, replica);
        pthread_mutex_lock(&g->lock);
        g->status[replica] = st;
        if (st != AN_OK) replica_failed(g, replica);
        if (--g->pending == 0) pthread_cond_signal(&g->done);
        pthread_mutex_unlock(&g->lock);
    }
    return NULL;
}

static an_status start_workers(device_group *g)
{
    if (pthread_mutex_init(&g->lock, NULL) != 0 || pthread_cond_init(&g->wake, NULL) != 0 ||
        pthread_cond_init(&g->done, NULL) != 0)
        return error_set(AN_ERR_INTERNAL, "cannot initialise the replicas' locks");
    g->sync_ready = 1;
    for (int r = 1; r < g->size; r++) {
        g->args[r] = (worker_arg){.g = g, .replica = r};
        if (pthread_create(&g->threads[r], NULL, worker_main, &g->args[r]) != 0)
            return error_set(AN_ERR_INTERNAL, "cannot start the thread of replica %d", r);
        g->started = r;
    }
    return AN_OK;
}

an_status device_group_open(device_group **out, const char *list, backend_precision precision, int rank,
                            int processes, int threads)
{
    *out = NULL;
    device_group *g = calloc(1, sizeof *g);
    AN_CHECK_ALLOC(g, sizeof *g);
    /* deterministic: a resume repeats the run; the CPU replicas share `threads` */
    backend_request request = {.device = NULL, .precision = precision, .rank = rank, .deterministic = 1,
                               .threads = threads};
    an_status st = backend_open_list(g->bes, &g->size, BACKEND_MAX_DEVICES, list, &request, processes);
    if (st == AN_OK && g->size > 1) {
        g->threads_per_replica = backend_cpu_threads_each(threads, g->size);
        st = communicator_open(&g->comm, g->bes, g->size);
        if (st == AN_OK) st = start_workers(g);
        if (strcmp(g->bes[0]->kind, "cpu") == 0)
            snprintf(g->description, sizeof g->description, "%d CPU replicas in one process, %d thread%s each, "
                     "gradients summed in replica order", g->size, g->threads_per_replica,
                     g->threads_per_replica == 1 ? "" : "s");
        else
            snprintf(g->description, sizeof g->description, "%d GPU replicas in one process (%.100s, ...), "
                     "gradients summed by NCCL", g->size, g->bes[0]->description);
    } else if (st == AN_OK) {
        snprintf(g->description, sizeof g->description, "%s", g->bes[0]->description);
    }
    if (st != AN_OK) {
        device_group_close(g);
        return st;
    }
    *out = g;
    return AN_OK;
}

void device_group_close(device_group *g)
{
    if (!g) return;
    if (g->sync_ready) {
        pthread_mutex_lock(&g->lock);
        g->quit = 1;
        pthread_cond_broadcast(&g->wake);
        pthread_mutex_unlock(&g->lock);
        for (int r = 1; r <= g->started; r++) pthread_join(g->threads[r], NULL);
        pthread_mutex_destroy(&g->lock);
        pthread_cond_destroy(&g->wake);
        pthread_cond_destroy(&g->done);
    }
    communicator_destroy(g->comm);
    for (int i = 0; i < g->size; i++) backend_destroy(g->bes[i]);
    free(g);
}

int device_group_size(const device_group *g) { return g->size; }
backend *device_group_backend(device_group *g, int replica) { return g->bes[replica]; }
const char *device_group_describe(const device_group *g) { return g->description; }

an_status device_group_run(device_group *g, replica_job job, void *ctx)
{
    if (g->size == 1) return job(ctx, 0);
    pthread_mutex_lock(&g->lock);
    g->job = job;
    g->ctx = ctx;
    g->pending = g->size - 1;
    g->first_failed = -1;
    g->generation++;
    pthread_cond_broadcast(&g->wake);
    pthread_mutex_unlock(&g->lock);
    an_status st = job(ctx, 0);
    pthread_mutex_lock(&g->lock);
    g->status[0] = st;
    if (st != AN_OK) replica_failed(g, 0);
    while (g->pending > 0) pthread_cond_wait(&g->done, &g->lock);
    const int r = g->first_failed;
    pthread_mutex_unlock(&g->lock);
    if (r >= 0) return error_set(g->status[r], "replica %d: %s", r, g->message[r]);
    return AN_OK;
}

communicator *device_group_communicator(device_group *g) { return g->comm; }

an_status device_group_sum(device_group *g, float *const *blocks, size_t n)
{
    return g->comm ? g->comm->ops->sum(g->comm, blocks, n) : AN_OK;
}
