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
void nccl_replicas_destroy(nccl_replicas *r);

/* blocks[i] [n] (device memory of replica i) = Σ_j blocks[j], for every i.
 * Queued on each replica's compute stream; the host does not wait. */
an_status nccl_replicas_sum(nccl_replicas *r, float *const *blocks, size_t n);

#ifdef __cplusplus
}
#endif

#endif
