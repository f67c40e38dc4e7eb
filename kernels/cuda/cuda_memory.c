/* cuda_memory.c: checked device and pinned allocations. See cuda_memory.h. */
#include "cuda_memory.h"

#include "cuda_check.h"

static an_status allocation_failed(cudaError_t e, const char *call, size_t bytes, const char *what)
{
    cudaGetLastError();
    if (e == cudaErrorMemoryAllocation) {
        size_t free_bytes = 0, total_bytes = 0;
        cudaMemGetInfo(&free_bytes, &total_bytes);
        cudaGetLastError();
        return error_set(AN_ERR_CUDA,
                         "%s of %zu bytes (%.1f MiB) for %s failed: out of memory, %.1f of %.1f MiB free "
                         "(try a smaller --batch)",
                         call, bytes, (double)bytes / 1048576.0, what, (double)free_bytes / 1048576.0,
                         (double)total_bytes / 1048576.0);
    }
    return error_set(AN_ERR_CUDA, "%s of %zu bytes for %s failed: %s", call, bytes, what,
                     cudaGetErrorString(e));
}

/* The highest device use seen (cuda_memory_note_use), bytes; updated from
 * any thread (one per replica). */
static size_t peak_used_bytes;

void cuda_memory_note_use(void)
{
    size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) != cudaSuccess) {
        cudaGetLastError(); /* a sample missed; the allocation itself succeeded */
        return;
    }
    const size_t used = total_bytes - free_bytes;
    size_t seen = __atomic_load_n(&peak_used_bytes, __ATOMIC_RELAXED);
    while (used > seen &&
           !__atomic_compare_exchange_n(&peak_used_bytes, &seen, used, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

size_t cuda_memory_peak_bytes(void) { return __atomic_load_n(&peak_used_bytes, __ATOMIC_RELAXED); }

void cuda_memory_peak_reset(void) { __atomic_store_n(&peak_used_bytes, 0, __ATOMIC_RELAXED); }

an_status cuda_malloc(void **out, size_t bytes, const char *what)
{
    *out = NULL;
    cudaError_t e = cudaMalloc(out, bytes == 0 ? 1 : bytes);
    if (e != cudaSuccess) {
        *out = NULL;
        return allocation_failed(e, "cudaMalloc", bytes, what);
    }
    cuda_memory_note_use(); /* use grows only at allocations: the peak is among these samples */
    return AN_OK;
}

void cuda_free(void *p)
{
    if (p) cudaFree(p);
}

an_status cuda_malloc_host(void **out, size_t bytes, const char *what)
{
    *out = NULL;
    cudaError_t e = cudaMallocHost(out, bytes == 0 ? 1 : bytes);
    if (e != cudaSuccess) {
        *out = NULL;
        return allocation_failed(e, "cudaMallocHost", bytes, what);
    }
    return AN_OK;
}

void cuda_free_host(void *p)
{
    if (p) cudaFreeHost(p);
}

/* Every copy and memset below is queued on ctx->compute: the streams are
 * non-blocking, so the synchronous cudaMemcpy / cudaMemset on the NULL stream
 * that were here ordered nothing with the ops (cuda_context.h). */

an_status cuda_copy_to_device(cuda_context *ctx, void *dst, const void *src, size_t bytes)
{
    if (bytes == 0) return AN_OK;
    CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx->compute));
    /* The runtime may read src after returning (page-locked src): wait. */
    CUDA_TRY(cudaStreamSynchronize(ctx->compute));
    return AN_OK;
}

an_status cuda_copy_to_host(cuda_context *ctx, void *dst, const void *src, size_t bytes)
{
    if (bytes == 0) return AN_OK;
    CUDA_TRY(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx->compute));
    CUDA_TRY(cudaStreamSynchronize(ctx->compute));
    return AN_OK;
}

an_status cuda_zero(cuda_context *ctx, void *p, size_t bytes)
{
    if (bytes == 0) return AN_OK;
    CUDA_TRY(cudaMemsetAsync(p, 0, bytes, ctx->compute));
    return AN_OK;
}

an_status cuda_poison(cuda_context *ctx, void *p, size_t bytes)
{
    if (bytes == 0) return AN_OK;
    CUDA_TRY(cudaMemsetAsync(p, 0xFF, bytes, ctx->compute));
    return AN_OK;
}
