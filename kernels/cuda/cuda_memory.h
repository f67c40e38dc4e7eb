/* cuda_memory.h: device and pinned host allocations whose failures say how
 * many bytes were asked for, what they were for, and what to do (a smaller
 * --batch); copies and poisoning for tests.
 */
#ifndef ALEXNET_CUDA_MEMORY_H
#define ALEXNET_CUDA_MEMORY_H

#include <stddef.h>

#include <cuda_runtime.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "status.h"

/* cudaMalloc of `bytes` for `what` (e.g. "conv1 activations"); *out = NULL on failure. */
an_status cuda_malloc(void **out, size_t bytes, const char *what);
/* cudaFree; NULL is fine. */
void cuda_free(void *p);

/* Page-locked host memory (cudaMallocHost) for buffers that copies stream from. */
an_status cuda_malloc_host(void **out, size_t bytes, const char *what);
void cuda_free_host(void *p);

/* Synchronous copies on the default stream. */
an_status cuda_copy_to_device(void *dst, const void *src, size_t bytes);
an_status cuda_copy_to_host(void *dst, const void *src, size_t bytes);

/* Fills device memory with 0xFF bytes: every float becomes a NaN, so an
 * element a kernel forgot to write fails a comparison. */
an_status cuda_poison(void *p, size_t bytes);

/* Device memory in use (total - free, all processes) from cudaMemGetInfo.
 * The backend allocates up front and never frees during training, so this
 * after a step is the step's peak. */
an_status cuda_memory_used_bytes(size_t *used, size_t *total);

#ifdef __cplusplus
}
#endif

#endif
