/* nccl_replicas.c: gradient sums across the local GPUs with NCCL. See
 * nccl_replicas.h.
 *
 * Waiting: a failed peer leaves the others' all-reduce waiting forever, and
 * cudaStreamSynchronize with it. So nobody synchronizes on a sum blindly: an
 * event recorded after each replica's all-reduce is polled together with
 * ncclCommGetAsyncError, under a time limit whose message names the replica;
 * on an error or at the limit every communicator is aborted
 * (ncclCommAbort), which returns without the peers. The next sum waits for
 * the previous one that way, so the host stays at most one sum ahead.
 *
 * Teardown: since NCCL 2.18 ncclCommDestroy finalizes, a collective across
 * the devices; called one communicator at a time from one thread, the first
 * would wait for the others. So: ncclGroupStart, ncclCommFinalize on each,
 * ncclGroupEnd, then destroy each (or abort each, after a failure). */
#include "nccl_replicas.h"

#include <stdlib.h>
#include <time.h>

#include <nccl.h>

#include "cuda_check.h"
#include "progress.h"

struct nccl_replicas {
    int count;
    ncclComm_t *comms;     /* [count] */
    cuda_context **ctxs;   /* [count] not owned */
    cudaEvent_t *summed;   /* [count] recorded on ctxs[i]->compute after replica i's all-reduce */
    int pending;           /* 1: a sum was queued and not yet seen finished */
    int aborted;           /* 1: the communicators were aborted after a failure */
    double wait_limit_s;
};

an_status nccl_replicas_create(nccl_replicas **out, cuda_context *const *ctxs, int count)
{
    *out = NULL;
    if (count < 1) return error_set(AN_ERR_ARG, "NCCL needs at least one replica, not %d", count);
    an_status st = AN_OK;
    int *devices = NULL;
    nccl_replicas *r = calloc(1, sizeof *r);
    AN_CHECK_ALLOC(r, sizeof *r);
    r->count = count;
    r->wait_limit_s = NCCL_REPLICAS_WAIT_LIMIT_S;
    r->comms = calloc((size_t)count, sizeof *r->comms);
    r->ctxs = calloc((size_t)count, sizeof *r->ctxs);
    r->summed = calloc((size_t)count, sizeof *r->summed);
    devices = calloc((size_t)count, sizeof *devices);
    if (!r->comms || !r->ctxs || !r->summed || !devices) {
        st = error_set(AN_ERR_NOMEM, "out of memory for %d NCCL replicas", count);
        goto done;
    }
    for (int i = 0; i < count; i++) {
        r->ctxs[i] = ctxs[i];
        devices[i] = ctxs[i]->device;
        /* NCCL refuses two ranks on one GPU (nccl_replicas.h): say so before it does. */
        for (int j = 0; j < i; j++) {
            if (devices[j] == devices[i]) {
                st = error_set(AN_ERR_ARG, "NCCL replicas %d and %d are both on CUDA device %d: NCCL "
                               "needs one replica per GPU", j, i, devices[i]);
                goto done;
            }
        }
    }
    for (int i = 0; i < count; i++) {
        AN_TRY_GOTO(st, cuda_status_runtime(cudaSetDevice(devices[i]), "cudaSetDevice", __FILE__, __LINE__), done);
        AN_TRY_GOTO(st, cuda_status_runtime(cudaEventCreateWithFlags(&r->summed[i], cudaEventDisableTiming),
                                    "cudaEventCreateWithFlags", __FILE__, __LINE__), done);
    }
    AN_TRY_GOTO(st, cuda_status_nccl(ncclCommInitAll(r->comms, count, devices), "ncclCommInitAll", __FILE__,
                                     __LINE__), done);
    *out = r;
done:
    free(devices);
    if (st != AN_OK) nccl_replicas_destroy(r);
    return st;
}

void nccl_replicas_set_wait_limit(nccl_replicas *r, double seconds)
{
    r->wait_limit_s = seconds;
}

/* Every communicator aborted: returns without waiting for the peers. */
static void abort_all(nccl_replicas *r)
{
    for (int i = 0; i < r->count; i++) {
        if (!r->comms[i]) continue;
        (void)cudaSetDevice(r->ctxs[i]->device);
        (void)ncclCommAbort(r->comms[i]);
        r->comms[i] = NULL;
    }
    r->aborted = 1;
    r->pending = 0;
}

an_status nccl_replicas_wait(nccl_replicas *r)
{
    if (r->aborted)
        return error_set(AN_ERR_CUDA, "the NCCL communicators were aborted after an earlier failure");
    if (!r->pending) return AN_OK;
    const double start = progress_now();
    for (;;) {
        int first_busy = -1;
        for (int i = 0; i < r->count; i++) {
            const int device = r->ctxs[i]->device;
            CUDA_TRY(cudaSetDevice(device));
            ncclResult_t async = ncclSuccess, got = ncclCommGetAsyncError(r->comms[i], &async);
            if (got != ncclSuccess || (async != ncclSuccess && async != ncclInProgress)) {
                const char *why = ncclGetErrorString(got != ncclSuccess ? got : async);
                abort_all(r);
                return error_set(AN_ERR_CUDA, "replica %d (CUDA device %d): NCCL reports a failed gradient "
                                 "sum: %s (every communicator aborted; NCCL_DEBUG=INFO says more)",
                                 i, device, why);
            }
            cudaError_t q = cudaEventQuery(r->summed[i]);
            if (q == cudaErrorNotReady) {
                (void)cudaGetLastError(); /* not an error: clear it */
                if (first_busy < 0) first_busy = i;
            } else if (q != cudaSuccess) {
                an_status st = cuda_status_runtime(q, "cudaEventQuery", __FILE__, __LINE__);
                abort_all(r);
                return error_context(st, "replica %d (CUDA device %d) waiting for its gradient sum", i, device);
            }
        }
        if (first_busy < 0) {
            r->pending = 0;
            return AN_OK;
        }
        const double waited = progress_now() - start;
        if (waited > r->wait_limit_s) {
            abort_all(r);
            return error_set(AN_ERR_CUDA, "replica %d (CUDA device %d) has not finished its gradient sum after "
                             "%.0f s: a peer failed or hangs (every communicator aborted; NCCL_DEBUG=INFO "
                             "says more)", first_busy, r->ctxs[first_busy]->device, waited);
        }
        const struct timespec pause = {0, 100000}; /* 0.1 ms */
        nanosleep(&pause, NULL);
    }
}

void nccl_replicas_destroy(nccl_replicas *r)
{
    if (!r) return;
    if (r->comms && !r->aborted) {
        int live = 1;
        for (int i = 0; i < r->count; i++) live = live && r->comms[i];
        if (live && nccl_replicas_wait(r) != AN_OK) error_clear(); /* a failure aborts every communicator */
        if (!r->aborted && live) {
            /* one group: each finalize is part of one collective across the devices */
            if (ncclGroupStart() == ncclSuccess) {
                for (int i = 0; i < r->count; i++) {
                    (void)cudaSetDevice(r->ctxs[i]->device);
                    (void)ncclCommFinalize(r->comms[i]);
                }
                (void)ncclGroupEnd();
            }
        }
        for (int i = 0; i < r->count; i++) {
            if (!r->comms[i]) continue;
            (void)cudaSetDevice(r->ctxs[i]->device);
            (void)ncclCommDestroy(r->comms[i]);
        }
    }
    for (int i = 0; r->summed && i < r->count; i++) {
        if (!r->summed[i]) continue;
        (void)cudaSetDevice(r->ctxs[i]->device);
        (void)cudaEventDestroy(r->summed[i]);
    }
    free(r->summed);
    free(r->comms);
    free(r->ctxs);
    free(r);
}

an_status nccl_replicas_sum(nccl_replicas *r, float *const *blocks, size_t n)
{
    AN_TRY(nccl_replicas_wait(r)); /* the previous sum, polled (above) */
    /* One process drives every device: the calls form one group. */
    NCCL_TRY(ncclGroupStart());
    an_status st = AN_OK;
    for (int i = 0; i < r->count && st == AN_OK; i++)
        st = cuda_status_nccl(ncclAllReduce(blocks[i], blocks[i], n, ncclFloat, ncclSum, r->comms[i],
                                            r->ctxs[i]->compute),
                              "ncclAllReduce", __FILE__, __LINE__);
    an_status end = cuda_status_nccl(ncclGroupEnd(), "ncclGroupEnd", __FILE__, __LINE__);
    if (st != AN_OK || end != AN_OK) return st != AN_OK ? st : end;
    for (int i = 0; i < r->count; i++) {
        CUDA_TRY(cudaSetDevice(r->ctxs[i]->device));
        CUDA_TRY(cudaEventRecord(r->summed[i], r->ctxs[i]->compute));
    }
    r->pending = 1;
    return AN_OK;
}
