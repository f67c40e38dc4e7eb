/* cuda_launch.h: grid sizes for the element-wise kernels of kernels/cuda.
 * Included by .cu files only.
 */
#ifndef ALEXNET_CUDA_LAUNCH_H
#define ALEXNET_CUDA_LAUNCH_H

#include <stddef.h>

#define CUDA_BLOCK 256

/* Blocks of CUDA_BLOCK threads for n items, capped so a grid-stride loop covers the rest. */
static inline unsigned cuda_blocks_for(size_t n)
{
    size_t blocks = (n + CUDA_BLOCK - 1) / CUDA_BLOCK;
    if (blocks > 65535u * 16u) blocks = 65535u * 16u;
    return blocks == 0 ? 1u : (unsigned)blocks;
}

#endif
