/* communicator_nccl.c: NCCL sums across the CUDA replicas of one process
 * (communicator_nccl.h), over nccl_replicas.c, and the all-gathers and
 * reduce-scatters of a split network, which every member queues from its
 * own thread on communicators of their own (one per device, made with
 * ncclCommInitAll; the sum's, in nccl_replicas.c, are driven by one thread).
 * NCCL gathers and scatters equal contiguous chunks: each member's part is
 * packed into a chunk of rows x the largest part (cudaMemcpy2DAsync on the
 * replica's compute stream), the chunks go through ncclAllGather or
 * ncclReduceScatter, and are unpacked the same way. NOT YET RUN ON A GPU. */
#include "communicator_nccl.h"

#include <pthread.h>
#include <stdlib.h>

#include <nccl.h>

#include "backend_cuda.h"
#include "cuda_check.h"
#include "nccl_replicas.h"

/* One member's scratch for the packed chunks, grown on demand. */
typedef struct nccl_member {
    cuda_context *ctx;  /* not owned */
    ncclComm_t comm;    /* the member's communicator for all_gather and reduce_scatter */
    float *send;        /* [send_floats] device memory */
    float *recv;        /* [recv_floats] device memory */
    size_t send_floats, recv_floats;
} nccl_member;

typedef struct communicator_nccl {
    communicator base; /* first: a communicator * of this kind is a communicator_nccl * */
    nccl_replicas *replicas;
    nccl_member *members; /* [base.members] */
    pthread_mutex_t lock; /* guards aborted against the members' calls */
    int aborted;
} communicator_nccl;

static an_status nccl_sum(communicator *c, float *const *blocks, size_t n)
{
    /* queued on every replica's compute stream after its backward pass */
    return nccl_replicas_sum(((communicator_nccl *)c)->replicas, blocks, n);
}

/* *buffer holds at least `floats` on the member's device. */
static an_status scratch(float **buffer, size_t *have, size_t floats)
{
    if (*have >= floats) return AN_OK;
    if (*buffer) CUDA_TRY(cudaFree(*buffer));
    *buffer = NULL;
    *have = 0;
    CUDA_TRY(cudaMalloc((void **)buffer, floats * sizeof(float)));
    *have = floats;
    return AN_OK;
}

static size_t largest_part(const communicator *c, const size_t *parts)
{
    size_t most = 0;
    for (int j = 0; j < c->members; j++) most = parts[j] > most ? parts[j] : most;
    return most;
}

/* The member's state, its device current, after checking it may call NCCL. */
static an_status member_use(communicator_nccl *c, int member, nccl_member **out)
{
    if (member < 0 || member >= c->base.members)
        return error_set(AN_ERR_ARG, "member %d of a communicator of %d", member, c->base.members);
    pthread_mutex_lock(&c->lock);
    const int aborted = c->aborted;
    pthread_mutex_unlock(&c->lock);
    if (aborted) return error_set(AN_ERR_INTERRUPTED, "the exchange between replicas was abandoned: another "
                                  "replica failed");
    *out = &c->members[member];
    CUDA_TRY(cudaSetDevice((*out)->ctx->device));
    return AN_OK;
}

/* The member (its device current) and its chunk, rows x the largest part,
 * with scratch for send_chunks chunks to send and recv_chunks to receive;
 * *chunk 0: nothing to move (the same on every member). */
static an_status chunks_open(communicator_nccl *c, int member, size_t rows, const size_t *parts, size_t send_chunks,
                             size_t recv_chunks, nccl_member **m, size_t *chunk)
{
    AN_TRY(member_use(c, member, m));
    *chunk = rows * largest_part(&c->base, parts);
    if (*chunk == 0) return AN_OK;
    AN_TRY(scratch(&(*m)->send, &(*m)->send_floats, *chunk * send_chunks));
    return scratch(&(*m)->recv, &(*m)->recv_floats, *chunk * recv_chunks);
}

/* The member's ncclAllGather (reduce 0) or ncclReduceScatter (reduce 1) of
 * its scratch, `chunk` floats each member, in a group of its own. */
static an_status chunks_collective(nccl_member *m, int reduce, size_t chunk)
{
    NCCL_TRY(ncclGroupStart());
    an_status st = reduce ? cuda_status_nccl(ncclReduceScatter(m->send, m->recv, chunk, ncclFloat, ncclSum, m->comm,
                                                               m->ctx->compute), "ncclReduceScatter", __FILE__, __LINE__)
                          : cuda_status_nccl(ncclAllGather(m->send, m->recv, chunk, ncclFloat, m->comm, m->ctx->compute),
                                             "ncclAllGather", __FILE__, __LINE__);
    an_status end = cuda_status_nccl(ncclGroupEnd(), "ncclGroupEnd", __FILE__, __LINE__);
    return st != AN_OK ? st : end;
}

static an_status nccl_all_gather(communicator *base, int member, float *gathered, const float *part, size_t rows,
                                 const size_t *parts)
{
    nccl_member *m = NULL;
    size_t chunk;
    AN_TRY(chunks_open((communicator_nccl *)base, member, rows, parts, 1, (size_t)base->members, &m, &chunk));
    if (chunk == 0) return AN_OK;
    const size_t total = communicator_parts_total(base, parts);
    cudaStream_t stream = m->ctx->compute;
    if (parts[member] > 0) /* [rows, parts[member]] is contiguous: the chunk's head */
        CUDA_TRY(cudaMemcpyAsync(m->send, part, rows * parts[member] * sizeof(float), cudaMemcpyDeviceToDevice,
                                 stream));
    AN_TRY(chunks_collective(m, 0, chunk));
    for (int j = 0; j < base->members; j++) { /* chunk j's head to member j's columns */
        if (parts[j] == 0) continue;
        CUDA_TRY(cudaMemcpy2DAsync(gathered + communicator_part_offset(parts, j), total * sizeof(float),
                                   m->recv + (size_t)j * chunk, parts[j] * sizeof(float), parts[j] * sizeof(float),
                                   rows, cudaMemcpyDeviceToDevice, stream));
    }
    return AN_OK;
}

static an_status nccl_reduce_scatter(communicator *base, int member, float *part, const float *block, size_t rows,
                                     const size_t *parts)
{
    nccl_member *m = NULL;
    size_t chunk;
    AN_TRY(chunks_open((communicator_nccl *)base, member, rows, parts, (size_t)base->members, 1, &m, &chunk));
    if (chunk == 0) return AN_OK;
    const size_t total = communicator_parts_total(base, parts);
    cudaStream_t stream = m->ctx->compute;
    for (int j = 0; j < base->members; j++) { /* member j's columns to chunk j; the padding is summed and dropped */
        if (parts[j] == 0) continue;
        CUDA_TRY(cudaMemcpy2DAsync(m->send + (size_t)j * chunk, parts[j] * sizeof(float),
                                   block + communicator_part_offset(parts, j), total * sizeof(float),
                                   parts[j] * sizeof(float), rows, cudaMemcpyDeviceToDevice, stream));
    }
    AN_TRY(chunks_collective(m, 1, chunk));
    if (parts[member] > 0)
        CUDA_TRY(cudaMemcpyAsync(part, m->recv, rows * parts[member] * sizeof(float), cudaMemcpyDeviceToDevice,
                                 stream));
    return AN_OK;
}

/* Part `which` of each row of a gathered block to part (take 1), or back (take 0), on the member's stream. */
static an_status nccl_copy_part(communicator *base, int member, int which, float *part, float *gathered,
                                size_t rows, const size_t *parts, int take)
{
    communicator_nccl *c = (communicator_nccl *)base;
    nccl_member *m = NULL;
    AN_TRY(member_use(c, member, &m));
    if (which < 0 || which >= base->members)
        return error_set(AN_ERR_ARG, "part %d of a communicator of %d", which, base->members);
    if (parts[which] == 0 || rows == 0) return AN_OK;
    const size_t total = communicator_parts_total(base, parts), width = parts[which] * sizeof(float);
    float *at = gathered + communicator_part_offset(parts, which);
    if (take)
        CUDA_TRY(cudaMemcpy2DAsync(part, width, at, total * sizeof(float), width, rows, cudaMemcpyDeviceToDevice,
                                   m->ctx->compute));
    else
        CUDA_TRY(cudaMemcpy2DAsync(at, total * sizeof(float), part, width, width, rows, cudaMemcpyDeviceToDevice,
                                   m->ctx->compute));
    return AN_OK;
}

static an_status nccl_take_part(communicator *base, int member, int which, float *part, const float *gathered,
                                size_t rows, const size_t *parts)
{
    return nccl_copy_part(base, member, which, part, (float *)gathered, rows, parts, 1); /* gathered only read */
}

static an_status nccl_put_part(communicator *base, int member, int which, float *gathered, const float *part,
                               size_t rows, const size_t *parts)
{
    return nccl_copy_part(base, member, which, (float *)part, gathered, rows, parts, 0); /* part only read */
}

/* Aborts the members' communicators: a member waiting in a collective for a
 * failed peer returns (ncclCommAbort may be called from another thread). */
static void nccl_abort(communicator *base)
{
    communicator_nccl *c = (communicator_nccl *)base;
    pthread_mutex_lock(&c->lock);
    if (!c->aborted) {
        for (int j = 0; j < base->members; j++) {
            if (!c->members[j].comm) continue;
            (void)cudaSetDevice(c->members[j].ctx->device);
            (void)ncclCommAbort(c->members[j].comm);
            c->members[j].comm = NULL;
        }
        c->aborted = 1;
    }
    pthread_mutex_unlock(&c->lock);
}

static void members_destroy(communicator_nccl *c)
{
    if (!c->members) return;
    for (int j = 0; j < c->base.members; j++) {
        nccl_member *m = &c->members[j];
        if (!m->ctx) continue;
        (void)cudaSetDevice(m->ctx->device);
        if (m->comm) (void)ncclCommDestroy(m->comm);
        if (m->send) (void)cudaFree(m->send);
        if (m->recv) (void)cudaFree(m->recv);
    }
    free(c->members);
    c->members = NULL;
}

static void nccl_destroy(communicator *base)
{
    communicator_nccl *c = (communicator_nccl *)base;
    nccl_replicas_destroy(c->replicas);
    members_destroy(c);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static const communicator_ops nccl_communicator_ops = {.sum = nccl_sum,
                                                       .all_gather = nccl_all_gather,
                                                       .reduce_scatter = nccl_reduce_scatter,
                                                       .take_part = nccl_take_part,
                                                       .put_part = nccl_put_part,
                                                       .abort = nccl_abort,
                                                       .destroy = nccl_destroy};

/* The members' own communicators, one per device. */
static an_status members_create(communicator_nccl *c, cuda_context *const *ctxs, int members)
{
    c->members = calloc((size_t)members, sizeof *c->members);
    int *devices = calloc((size_t)members, sizeof *devices);
    ncclComm_t *comms = calloc((size_t)members, sizeof *comms);
    an_status st = AN_OK;
    if (!c->members || !devices || !comms) {
        st = error_set(AN_ERR_NOMEM, "out of memory for %d NCCL members", members);
    } else {
        for (int j = 0; j < members; j++) devices[j] = ctxs[j]->device;
        st = cuda_status_nccl(ncclCommInitAll(comms, members, devices), "ncclCommInitAll", __FILE__, __LINE__);
        for (int j = 0; st == AN_OK && j < members; j++) {
            c->members[j].ctx = ctxs[j];
            c->members[j].comm = comms[j];
        }
    }
    free(devices);
    free(comms);
    return st;
}

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
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(ctxs);
        free(c);
        return error_set(AN_ERR_INTERNAL, "cannot initialise a communicator's lock");
    }
    an_status st = nccl_replicas_create(&c->replicas, ctxs, members);
    if (st == AN_OK) st = members_create(c, ctxs, members);
    free(ctxs);
    if (st != AN_OK) {
        nccl_replicas_destroy(c->replicas);
        members_destroy(c);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return error_context(st, "setting up NCCL for %d GPUs", members);
    }
    c->base.ops = &nccl_communicator_ops;
    c->base.members = members;
    c->base.kind = "nccl";
    *out = &c->base;
    return AN_OK;
}
