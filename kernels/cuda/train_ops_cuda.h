/* train_ops_cuda.h: the GPU kernels beside the backend table's ops
 * (ops_cuda.h): the crop of a batch (§4.1, §2) and bf16 conversion.
 * crop_batch_cuda's twin is crop_batch_cpu (kernels/cpu/crop_cpu.h), same
 * arguments after the leading cuda_context. All pointers are device pointers
 * unless the name ends in _host.
 */
#ifndef ALEXNET_TRAIN_OPS_CUDA_H
#define ALEXNET_TRAIN_OPS_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "cuda_context.h"
#include "op_shapes.h"
#include "status.h"

/* out [B, 3, 224, 224] = the views of op_shapes.h's crop_choice, in one pass:
 *   out[c, y, x] = ((float)images[b][y0 + y, x0 + sx, c] - mean_image[y0 + y, x0 + sx, c]) + shift[c],
 *   sx = flip ? 223 - x : x
 * the mean subtracted at the SOURCE pixel, before the flip (§2), then the
 * lighting shift (§4.1), in that float order, no contraction: the CPU twin
 * crop_batch_cpu (kernels/cpu/crop_cpu.h) gives the same bits. A choice whose
 * corner is outside [0, IMAGE_MAX_OFFSET] gives a NaN view (not a read outside
 * the image; nothing is read back to report it).
 *   images     [B, 256, 256, 3] uint8 HWC
 *   mean_image [256, 256, 3] float, byte units
 *   choices    [B] (device)
 * crop_batch_bf16_cuda writes bf16 (uint16 bit patterns, round to nearest even). */
an_status crop_batch_cuda(cuda_context *ctx, float *out, const uint8_t *images, const float *mean_image,
                          const crop_choice *choices, int batch);
an_status crop_batch_bf16_cuda(cuda_context *ctx, uint16_t *out, const uint8_t *images,
                               const float *mean_image, const crop_choice *choices, int batch);

/* out [n] bf16 (round to nearest even) from in [n] float, and back. */
an_status convert_f32_to_bf16_cuda(cuda_context *ctx, uint16_t *out, const float *in, size_t n);
an_status convert_bf16_to_f32_cuda(cuda_context *ctx, float *out, const uint16_t *in, size_t n);

#ifdef __cplusplus
}
#endif

#endif
