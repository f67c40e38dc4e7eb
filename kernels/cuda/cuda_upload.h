/* cuda_upload.h: a batch copied host -> device on the context's copy stream
 * while the compute stream works on the previous one (double buffering by
 * the caller: two device buffers, two pinned host buffers).
 *
 *   cuda_upload_async(ctx, &up, dev[i], pinned[i], bytes);   queue the copy
 *   ... compute on dev[1 - i] ...
 *   cuda_upload_wait(ctx, &up);      compute stream waits for the copy, not the host
 *   ... compute on dev[i] ...
 */
#ifndef ALEXNET_CUDA_UPLOAD_H
#define ALEXNET_CUDA_UPLOAD_H

#include <stddef.h>

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "cuda_context.h"
#include "status.h"

typedef struct cuda_upload {
    cudaEvent_t copied;     /* recorded on ctx->copy after the copy */
    cudaEvent_t consumed;   /* recorded on ctx->compute when the buffer may be overwritten */
} cuda_upload;

an_status cuda_upload_create(cuda_upload *up);
void cuda_upload_destroy(cuda_upload *up);

/* Queues dst [bytes] <- src [bytes] (src page-locked: cuda_malloc_host) on
 * ctx->copy, after the compute work that read dst last (cuda_upload_release). */
an_status cuda_upload_async(cuda_context *ctx, cuda_upload *up, void *dst, const void *src, size_t bytes);

/* Makes ctx->compute wait for the copy (the host does not block). */
an_status cuda_upload_wait(cuda_context *ctx, cuda_upload *up);

/* Marks the point in ctx->compute after which dst may be overwritten. */
an_status cuda_upload_release(cuda_context *ctx, cuda_upload *up);

/* Blocks the host until the copy is done, so that src may be refilled. */
an_status cuda_upload_sync_host(cuda_upload *up);

#ifdef __cplusplus
}
#endif

#endif
