/* augment_cuda.cu: the training input of a batch in one pass (§4.1, §2):
 * crop, mean subtraction at the source pixel, PCA lighting shift, flip,
 * HWC uint8 -> CHW float or bf16. Computes exactly what the CPU's
 * per-image augmentation computes, operation for operation:
 *   out[c, y, x] = ((float)pixel - mean) + shift[c], pixel at the source
 *   (y + oy, (flip ? 223 - x : x) + ox). See train_ops_cuda.h. */
#include <cuda_bf16.h>

#include "cuda_check.h"
#include "cuda_launch.h"
#include "train_ops_cuda.h"

#define SOURCE 256
#define CROP 224

template <typename T> __device__ static T store_as(float v);
template <> __device__ float store_as<float>(float v) { return v; }
template <> __device__ uint16_t store_as<uint16_t>(float v)
{
    return __bfloat16_as_ushort(__float2bfloat16_rn(v));
}

/* One thread per output pixel (b, y, x), writing its 3 channels. */
template <typename T>
__global__ static void augment_kernel(T *out, const uint8_t *images, const float *mean_image,
                                      const augment_choice *choices, int batch)
{
    size_t total = (size_t)batch * CROP * CROP;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x) {
        int x = (int)(i % CROP), y = (int)((i / CROP) % CROP), b = (int)(i / ((size_t)CROP * CROP));
        augment_choice c = choices[b];
        int sx = (c.flip ? CROP - 1 - x : x) + c.x, sy = y + c.y;
        size_t src = ((size_t)sy * SOURCE + sx) * 3;
        const uint8_t *pixel = images + (size_t)b * SOURCE * SOURCE * 3 + src;
        const float *mean = mean_image + src;
        T *dst = out + (size_t)b * 3 * CROP * CROP + (size_t)y * CROP + x;
        for (int ch = 0; ch < 3; ch++)
            dst[(size_t)ch * CROP * CROP] = store_as<T>(__fadd_rn(__fsub_rn((float)pixel[ch], mean[ch]), c.shift[ch]));
    }
}

template <typename T>
static an_status augment_launch(cuda_context *ctx, T *out, const uint8_t *images, const float *mean_image,
                                const augment_choice *choices, int batch)
{
    if (batch <= 0) return error_set(AN_ERR_ARG, "augmenting a batch of %d images", batch);
    augment_kernel<T><<<cuda_blocks_for((size_t)batch * CROP * CROP), CUDA_BLOCK, 0, ctx->compute>>>(
        out, images, mean_image, choices, batch);
    CUDA_TRY_LAUNCH("augment_kernel");
    return AN_OK;
}

an_status augment_batch_cuda(cuda_context *ctx, float *out, const uint8_t *images, const float *mean_image,
                             const augment_choice *choices, int batch)
{
    return augment_launch<float>(ctx, out, images, mean_image, choices, batch);
}

an_status augment_batch_bf16_cuda(cuda_context *ctx, uint16_t *out, const uint8_t *images,
                                  const float *mean_image, const augment_choice *choices, int batch)
{
    return augment_launch<uint16_t>(ctx, out, images, mean_image, choices, batch);
}
