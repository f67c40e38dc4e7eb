/* communicator_nccl.c: NCCL sums across the CUDA replicas of one process
 * (communicator_nccl.h), over nccl_replicas.c. */
#include "communicator_nccl.h"

#include <stdlib.h>

#include "backend_cuda.h"
#include "nccl_replicas.h"

typedef struct communicator_nccl {
    communicator base; /* first: a communicator * of this kind is a communicator_nccl * */
    nccl_replicas *replicas;
} communicator_nccl;

static an_status nccl_sum(communicator *c, float *const *blocks, size_t n)
{
    /* queued on every replica's compute stream after its backward pass */
    return nccl_replicas_sum(((communicator_nccl *)c)->replicas, blocks, n);
}

static void nccl_destroy(communicator *c)
{
    nccl_replicas_destroy(((communicator_nccl *)c)->replicas);
    free(c);
}

static const communicator_ops nccl_communicator_ops = {.sum = nccl_sum, .destroy = nccl_destroy};

an_status communicator_nccl_create(communicator **out, backend *const *bes, int members)
{
    *out = NULL;
    if (members < 1) return error_set(AN_ERR_ARG, "a communicator needs at least 1 member, got %d", members);
    cuda_context **ctxs = calloc((size_t)members, sizeof *ctxs);
    AN_CHECK_ALLOC(ctxs, (size_t)members * sizeof *ctxs);
    for (int m = 0; m < members; m++) {
        ctxs[m] = backend_cuda_context(bes[m]);
        if (!ctxs[m]) {
            free(ctxs);
            return error_set(AN_ERR_ARG, "replica %d is not on a GPU: NCCL sums GPU replicas only", m);
        }
    }
    communicator_nccl *c = calloc(1, sizeof *c);
    if (!c) {
        free(ctxs);
        return error_set(AN_ERR_NOMEM, "out of memory for a communicator");
    }
    an_status st = nccl_replicas_create(&c->replicas, ctxs, members);
    free(ctxs);
    if (st != AN_OK) {
        free(c);
        return error_context(st, "setting up NCCL for %d GPUs", members);
    }
    c->base.ops = &nccl_communicator_ops;
    c->base.members = members;
    c->base.kind = "nccl";
    *out = &c->base;
    return AN_OK;
}
