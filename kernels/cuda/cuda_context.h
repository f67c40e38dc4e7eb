/* cuda_context.h: one GPU as the CUDA backend uses it: the device, a compute
 * stream and a copy stream, the cuDNN and cuBLAS handles bound to the compute
 * stream, a workspace bounded in size, the precision, deterministic mode and
 * the cache of convolution plans (one algorithm per shape and direction,
 * conv_cuda.c).
 *
 * Every op in ops_cuda.h takes the context first and runs on ctx->compute.
 *
 * Streams and ordering. Both streams are created cudaStreamNonBlocking: they
 * never wait for, and are never waited for by, the legacy NULL stream. So
 * nothing in kernels/cuda may use the NULL stream: every copy and memset is
 * cudaMemcpyAsync / cudaMemsetAsync on ctx->compute (cuda_memory.h, the
 * backend's upload/download/zero), which orders it with the ops around it as
 * any kernel is ordered. The one exception is the copy stream, which only
 * cuda_upload.h uses and which it orders with ctx->compute by events.
 * Code outside kernels/cuda that still calls cudaMemcpy / cudaMemset on the
 * NULL stream is NOT ordered with anything here.
 */
#ifndef ALEXNET_CUDA_CONTEXT_H
#define ALEXNET_CUDA_CONTEXT_H

#include <stddef.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "precision.h"
#include "status.h"

/* The number of usable CUDA devices; 0 when there is no driver, no device or
 * any other error (never fails, never prints). */
int cuda_device_count(void);

/* 1 when at least one device is usable. Programs print "no GPU found, using
 * the CPU" once when this is 0 and --device was not forced to cuda. */
int cuda_device_available(void);

typedef struct cuda_context_options {
    int device;                   /* CUDA device ordinal; 0 */
    backend_precision precision;     /* BACKEND_PRECISION_FP32 (precision.h) */
    int deterministic;            /* 1: only algorithms that give bitwise repeatable results */
    size_t workspace_limit_bytes; /* the most scratch memory convolutions may use; 0: 512 MiB */
} cuda_context_options;

/* fp32, not deterministic, device 0, the default workspace limit. */
cuda_context_options cuda_context_options_default(void);

struct conv_algo_cache; /* conv_cuda.c */

typedef struct cuda_context {
    int device;
    cudaStream_t compute;     /* every kernel, library call, copy and memset (non-blocking) */
    cudaStream_t copy;        /* cuda_upload.h only, ordered with `compute` by events (non-blocking) */
    cudnnHandle_t cudnn;      /* bound to `compute` */
    cublasHandle_t cublas;    /* bound to `compute`, math mode from `precision` */
    backend_precision precision;
    int deterministic;
    void *workspace;          /* [workspace_bytes] scratch, grown on demand up to the limit */
    size_t workspace_bytes;
    size_t workspace_limit_bytes;
    void *bf16_scratch;       /* [bf16_scratch_bytes] bf16 copies of a convolution's tensors (precision bf16) */
    size_t bf16_scratch_bytes;
    struct conv_algo_cache *conv_cache;
    char device_name[256];
    int sm_count;
    size_t total_memory_bytes;
} cuda_context;

/* Selects the device (cudaSetDevice: it stays the calling thread's current
 * device), creates streams and handles. AN_ERR_CUDA when there is no device
 * or a call fails (the message names it). */
an_status cuda_context_create(cuda_context **out, const cuda_context_options *options);

/* Frees everything; NULL is fine. */
void cuda_context_destroy(cuda_context *ctx);

/* A scratch buffer of at least `bytes` (grown if needed, contents undefined,
 * valid until the next call; work queued on ctx->compute may use it, since
 * growing first waits for that stream). AN_ERR_CUDA when `bytes` exceeds the
 * limit. */
an_status cuda_workspace_get(cuda_context *ctx, size_t bytes, void **out);

/* A scratch buffer of at least `bytes` for the bf16 copies of one
 * convolution's input, weights and output (conv_cuda.c under precision
 * bf16): grown if needed, as the workspace, but not bounded by its limit
 * (its size is the layer's tensors'); contents undefined. */
an_status cuda_bf16_scratch_get(cuda_context *ctx, size_t bytes, void **out);

/* Waits for the compute stream; returns an error a kernel raised asynchronously. */
an_status cuda_context_sync(cuda_context *ctx);

#ifdef __cplusplus
}
#endif

#endif
