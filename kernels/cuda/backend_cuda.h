/* backend_cuda.h: the CUDA instance of kernels/backend.h: one GPU behind the
 * table of ops that the network (net/) calls. Each entry wraps the CUDA twin
 * of the op (ops_cuda.h) with the backend's cuda_context;
 * backend memory is device memory (cudaMalloc), and every op, copy and memset
 * is queued on the context's compute stream, so ops see each other's results
 * in call order (cuda_context.h, "Streams and ordering"); the DMA of an
 * upload_view from host_alloc's page-locked memory alone goes on the copy
 * stream, which the compute stream waits for by an event.
 *
 *   backend_cuda_options o = backend_cuda_options_default();   (device 0, fp32, deterministic)
 *   backend *be; AN_TRY(backend_cuda_create(&be, &o));
 *   ... net_create_on(&n, &cfg, 128, be) ...
 *   backend_destroy(be);
 *
 * Host data. upload and upload_view copy the caller's bytes into page-locked
 * memory the backend owns and queue the DMA from there, so the caller may
 * reuse its buffer at once and, normally, nothing waits for the GPU (an
 * upload_view from host_alloc's memory instead reads it in place, on the
 * copy stream, after the point where the staging buffer was last discarded;
 * that memory stays unchanged until the ops reading it are done): an
 * upload_view waits only for the previous DMA through the same staging
 * buffer, an upload only when it is larger than 8 MiB (backend_cuda.c says
 * how much page-locked memory that takes, and what happens without it).
 * download and download_view wait for the queued work and the copy.
 *
 * Declares no CUDA type: including it needs no CUDA headers.
 */
#ifndef ALEXNET_BACKEND_CUDA_H
#define ALEXNET_BACKEND_CUDA_H

#include <stddef.h>

#include "backend.h"
#include "precision.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

struct cuda_context; /* cuda_context.h */

typedef struct backend_cuda_options {
    int device;                   /* CUDA device ordinal; 0 */
    backend_precision precision;     /* BACKEND_PRECISION_FP32, the paper's arithmetic (precision.h) */
    int deterministic;            /* 1: only bitwise-repeatable cuDNN algorithms (conv_cuda.c); 1 */
    size_t workspace_limit_bytes; /* the most scratch memory convolutions may use; 0: 512 MiB */
} backend_cuda_options;

/* Device 0, fp32, deterministic, the default workspace limit. */
backend_cuda_options backend_cuda_options_default(void);

/* A CUDA backend on o->device (o NULL: the defaults) that owns its
 * cuda_context. be->kind is "cuda"; be->description reads like
 * "NVIDIA H200 (CUDA device 0, fp32, deterministic)". AN_ERR_CUDA when there
 * is no usable device or a CUDA call fails, AN_ERR_ARG for a bad option. */
an_status backend_cuda_create(backend **out, const backend_cuda_options *o);

/* The number of usable CUDA devices; 0 without a driver or device (never
 * fails, never prints). */
int backend_cuda_device_count(void);

/* Makes be's device the calling thread's current one (cudaSetDevice is a
 * thread-local store when it already is) and *ctx its context: the first
 * line of every CUDA twin (ops_cuda.h). AN_ERR_ARG when be is not a CUDA
 * backend. */
an_status backend_cuda_use(backend *be, struct cuda_context **ctx);

/* The context a CUDA backend computes with (for what stands beside the table:
 * NCCL replicas, the bf16 crop); NULL when be is not a CUDA backend. */
struct cuda_context *backend_cuda_context(backend *be);

#ifdef __cplusplus
}
#endif

#endif
