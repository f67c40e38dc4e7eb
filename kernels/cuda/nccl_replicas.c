/* nccl_replicas.c: gradient sums across the local GPUs with NCCL. See
 * nccl_replicas.h. */
#include "nccl_replicas.h"

#include <stdlib.h>

#include <nccl.h>

#include "cuda_check.h"

struct nccl_replicas {
    int count;
    ncclComm_t *comms;     /* [count] */
    cuda_context **ctxs;   /* [count] not owned */
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
    r->comms = calloc((size_t)count, sizeof *r->comms);
    r->ctxs = calloc((size_t)count, sizeof *r->ctxs);
    devices = calloc((size_t)count, sizeof *devices);
    if (!r->comms || !r->ctxs || !devices) {
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
    AN_TRY_GOTO(st, cuda_status_nccl(ncclCommInitAll(r->comms, count, devices), "ncclCommInitAll", __FILE__,
                                     __LINE__), done);
    *out = r;
done:
    free(devices);
    if (st != AN_OK) nccl_replicas_destroy(r);
    return st;
}

void nccl_replicas_destroy(nccl_replicas *r)
{
    if (!r) return;
    for (int i = 0; r->comms && i < r->count; i++)
        if (r->comms[i]) ncclCommDestroy(r->comms[i]);
    free(r->comms);
    free(r->ctxs);
    free(r);
}

an_status nccl_replicas_sum(nccl_replicas *r, float *const *blocks, size_t n)
{
    /* One process drives every device: the calls form one group. */
    NCCL_TRY(ncclGroupStart());
    an_status st = AN_OK;
    for (int i = 0; i < r->count && st == AN_OK; i++)
        st = cuda_status_nccl(ncclAllReduce(blocks[i], blocks[i], n, ncclFloat, ncclSum, r->comms[i],
                                            r->ctxs[i]->compute),
                              "ncclAllReduce", __FILE__, __LINE__);
    an_status end = cuda_status_nccl(ncclGroupEnd(), "ncclGroupEnd", __FILE__, __LINE__);
    return st != AN_OK ? st : end;
}
