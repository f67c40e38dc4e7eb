/* cuda_memory.h: device and pinned host allocations whose failures say how
 * many bytes were asked for, what they were for, and what to do (a smaller
 * --batch); copies, zeroing and poisoning on the context's compute stream
 * (never the NULL stream: cuda_context.h, "Streams and ordering").
 */
#ifndef ALEXNET_CUDA_MEMORY_H
#define ALEXNET_CUDA_MEMORY_H

#include <stddef.h>

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "cuda_context.h"
#include "status.h"

/* cudaMalloc of `bytes` for `what` (e.g. "conv1 activations"); *out = NULL on failure. */
an_status cuda_malloc(void **out, size_t bytes, const char *what);
/* cudaFree; NULL is fine. */
void cuda_free(void *p);

/* Page-locked host memory (cudaMallocHost) for buffers that copies stream from. */
an_status cuda_malloc_host(void **out, size_t bytes, const char *what);
void cuda_free_host(void *p);

/* dst [bytes] (device) = src [bytes] (host), queued on ctx->compute after
 * the work already queued there; waits for the copy, so src may change on
 * return (tests and one-off copies; the backend's upload paths do not wait:
 * backend_cuda.c). */
an_status cuda_copy_to_device(cuda_context *ctx, void *dst, const void *src, size_t bytes);
/* dst [bytes] (host) = src [bytes] (device) once the work queued on
 * ctx->compute is done; waits for the copy. */
an_status cuda_copy_to_host(cuda_context *ctx, void *dst, const void *src, size_t bytes);

/* p [bytes] (device) = 0, queued on ctx->compute. */
an_status cuda_zero(cuda_context *ctx, void *p, size_t bytes);

/* Fills device memory with 0xFF bytes, queued on ctx->compute: every float
 * becomes a NaN, so an element a kernel forgot to write fails a comparison. */
an_status cuda_poison(cuda_context *ctx, void *p, size_t bytes);


/* The peak: the highest device use (total - free from cudaMemGetInfo, all
 * processes) sampled after every
 * cuda_malloc and at every cuda_memory_note_use (a caller adds samples, e.g.
 * after each step), since the start or cuda_memory_peak_reset. Our use grows
 * only at our allocations, so this is our peak; memory that cuDNN or cuBLAS
 * take and give back inside one call (cudnnFind*'s trial workspaces) is
 * not seen. */
void cuda_memory_note_use(void);
size_t cuda_memory_peak_bytes(void);
void cuda_memory_peak_reset(void);

#ifdef __cplusplus
}
#endif

#endif
