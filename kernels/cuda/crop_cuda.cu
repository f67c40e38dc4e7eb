/* crop_cuda.cu: the network's input for a batch in one pass (§4.1, §2):
 * crop, mean subtraction at the source pixel, PCA lighting shift, flip,
 * HWC uint8 -> CHW float. The twin of crop_batch_cpu
 * (kernels/cpu/crop_cpu.h); both compute op_shapes.h's crop_choice formula
 * in the same float operations, with no contraction:
 *   out[c, y, x] = ((float)image[y0 + y, x0 + sx, c] - mean[y0 + y, x0 + sx, c]) + shift[c],
 *   sx = flip ? 223 - x : x
 * The mean image is subtracted at the source pixel, before the flip (§2).
 * See ops_cuda.h. */
#include <math.h>

#include "cuda_check.h"
#include "cuda_launch.h"
#include "image_geometry.h"
#include "ops_cuda.h"

#define SOURCE IMAGE_STORED_SIZE /* 256 */
#define CROP IMAGE_CROP_SIZE     /* 224 */

/* Output pixel i = (b, y, x), its 3 channels.
 *   out [B, 3, 224, 224], images [B, 256, 256, 3] uint8 HWC, mean_image [256, 256, 3],
 *   choices [B] */
__device__ static void crop_one(size_t i, float *out, const uint8_t *images, const float *mean_image,
                                const crop_choice *choices, int views_per_image)
{
    int x = (int)(i % CROP), y = (int)((i / CROP) % CROP), b = (int)(i / ((size_t)CROP * CROP));
    crop_choice c = choices[b];
    float *dst = out + (size_t)b * 3 * CROP * CROP + (size_t)y * CROP + x;
    if (c.x < 0 || c.x > IMAGE_MAX_OFFSET || c.y < 0 || c.y > IMAGE_MAX_OFFSET) {
        /* A corner outside [0, 32] is the caller's error: NaN, never a read outside the image. */
        for (int ch = 0; ch < 3; ch++) dst[(size_t)ch * CROP * CROP] = NAN;
        return;
    }
    int sx = (c.flip ? CROP - 1 - x : x) + c.x, sy = y + c.y;
    size_t src = ((size_t)sy * SOURCE + sx) * 3;
    const uint8_t *pixel = images + (size_t)(b / views_per_image) * SOURCE * SOURCE * 3 + src; /* [3] */
    const float *mean = mean_image + src;                                  /* [3] */
    for (int ch = 0; ch < 3; ch++)
        dst[(size_t)ch * CROP * CROP] = __fadd_rn(__fsub_rn((float)pixel[ch], mean[ch]), c.shift[ch]);
}

an_status crop_input_cuda(backend *be, float *out, const uint8_t *images, const float *mean_image,
                          const crop_choice *choices, int batch, int views_per_image)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    if (batch < 0 || views_per_image < 1)
        return error_set(AN_ERR_ARG, "cropping %d views of %d per image", batch, views_per_image);
    return cuda_for_each(ctx, (size_t)batch * CROP * CROP, "crop", [=] __device__(size_t i) {
        crop_one(i, out, images, mean_image, choices, views_per_image);
    });
}
