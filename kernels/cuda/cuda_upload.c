/* cuda_upload.c: overlapped host -> device batch copies. See cuda_upload.h. */
#include "cuda_upload.h"

#include <string.h>

#include "cuda_check.h"

an_status cuda_upload_create(cuda_upload *up)
{
    memset(up, 0, sizeof *up);
    CUDA_TRY(cudaEventCreateWithFlags(&up->copied, cudaEventDisableTiming));
    CUDA_TRY(cudaEventCreateWithFlags(&up->consumed, cudaEventDisableTiming));
    return AN_OK;
}

void cuda_upload_destroy(cuda_upload *up)
{
    if (up->copied) cudaEventDestroy(up->copied);
    if (up->consumed) cudaEventDestroy(up->consumed);
    memset(up, 0, sizeof *up);
}

an_status cuda_upload_async(cuda_context *ctx, cuda_upload *up, void *dst, const void *src, size_t bytes)
{
    /* An event never recorded counts as complete: the first copy does not wait. */
    CUDA_TRY(cudaStreamWaitEvent(ctx->copy, up->consumed, 0));
    CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx->copy));
    CUDA_TRY(cudaEventRecord(up->copied, ctx->copy));
    return AN_OK;
}

an_status cuda_upload_wait(cuda_context *ctx, cuda_upload *up)
{
    CUDA_TRY(cudaStreamWaitEvent(ctx->compute, up->copied, 0));
    return AN_OK;
}

an_status cuda_upload_release(cuda_context *ctx, cuda_upload *up)
{
    CUDA_TRY(cudaEventRecord(up->consumed, ctx->compute));
    return AN_OK;
}

an_status cuda_upload_sync_host(cuda_upload *up)
{
    CUDA_TRY(cudaEventSynchronize(up->copied));
    return AN_OK;
}
