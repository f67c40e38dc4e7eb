/* cuda_launch.h: the one grid-stride loop of kernels/cuda. An element-wise
 * op is a __device__ lambda over an index, run by cuda_for_each:
 *
 *   return cuda_for_each(ctx, n, "relu_forward",
 *                        [=] __device__(size_t i) { out[i] = in[i] > 0.0f ? in[i] : 0.0f; });
 *
 * Included by .cu files only (nvcc's --extended-lambda, kernels/cuda/CMakeLists.txt).
 */
#ifndef ALEXNET_CUDA_LAUNCH_H
#define ALEXNET_CUDA_LAUNCH_H

#include <stddef.h>

#include "cuda_check.h"
#include "cuda_context.h"
#include "status.h"

#define CUDA_BLOCK 256

/* Blocks of CUDA_BLOCK threads for n items, capped so a grid-stride loop covers the rest. */
static inline unsigned cuda_blocks_for(size_t n)
{
    size_t blocks = (n + CUDA_BLOCK - 1) / CUDA_BLOCK;
    if (blocks > 65535u * 16u) blocks = 65535u * 16u;
    return blocks == 0 ? 1u : (unsigned)blocks;
}

/* f(i) for every i in [0, n), each by one thread of a grid-stride loop. */
template <class F> __global__ static void for_each_kernel(size_t n, F f)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        f(i);
}

/* Queues f(i) for i in [0, n) on ctx->compute; `what` names the kernel in a
 * launch error. n 0 queues nothing. */
template <class F> static an_status cuda_for_each(cuda_context *ctx, size_t n, const char *what, F f)
{
    if (n == 0) return AN_OK;
    for_each_kernel<<<cuda_blocks_for(n), CUDA_BLOCK, 0, ctx->compute>>>(n, f);
    CUDA_TRY_LAUNCH(what);
    return AN_OK;
}

#endif
