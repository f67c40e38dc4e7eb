/* nccl_replicas.h: data-parallel replicas on the GPUs of one process
 * (docs/cuda.md): one NCCL communicator per local device, and the sum of
 * every replica's gradient block, in place, on each replica's compute
 * stream. Compiled only when NCCL was found (ALEXNET_HAVE_NCCL).
 *
 * One replica per GPU: NCCL refuses two ranks of a communicator on the same
 * device (ncclCommInitAll fails with ncclInvalidUsage, "Duplicate GPU
 * detected"), so replicas cannot share a GPU, not even in a test; on a
 * one-GPU machine the only possible count is 1 (NCCL's single-rank path).
 */
#ifndef ALEXNET_NCCL_REPLICAS_H
#define ALEXNET_NCCL_REPLICAS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "cuda_context.h"
#include "status.h"

typedef struct nccl_replicas nccl_replicas;

/* Communicators for `count` replicas whose contexts are ctxs[0..count-1],
 * each on a DIFFERENT device (NCCL refuses two ranks on one GPU); AN_ERR_ARG
 * naming the device when two share one. */
an_status nccl_replicas_create(nccl_replicas **out, cuda_context *const *ctxs, int count);
/* Waits for the last sum (if any), then finalizes every communicator in one
 * group and destroys them; after a failure, aborts them instead. */
void nccl_replicas_destroy(nccl_replicas *r);

/* The default limit of nccl_replicas_wait, in seconds: far above any sum
 * of the network's gradient block, so reaching it means a peer is gone. */
#define NCCL_REPLICAS_WAIT_LIMIT_S 300.0

/* Waits until the last sum has finished on every replica, polling
 * ncclCommGetAsyncError; AN_ERR_CUDA naming the replica when NCCL reports an
 * error or the sum has not finished within the limit, after aborting every
 * communicator (no later sum is possible then). */
an_status nccl_replicas_wait(nccl_replicas *r);
/* The limit of nccl_replicas_wait (NCCL_REPLICAS_WAIT_LIMIT_S until set). */
void nccl_replicas_set_wait_limit(nccl_replicas *r, double seconds);

/* blocks[i] [n] (device memory of replica i) = Σ_j blocks[j], for every i.
 * Queued on each replica's compute stream; the host waits only for the
 * previous sum (nccl_replicas_wait), so it stays at most one sum ahead. */
an_status nccl_replicas_sum(nccl_replicas *r, float *const *blocks, size_t n);

#ifdef __cplusplus
}
#endif

#endif
