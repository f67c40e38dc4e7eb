/* train_ops_cuda.h: the GPU kernels beside the backend table's ops
 * (ops_cuda.h): the crop of a batch into bf16 (§4.1, §2) and bf16
 * conversion. All pointers are device pointers
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

/* out [B, 3, 224, 224] bf16 (uint16 bit patterns, round to nearest even) =
 * the views of crop_input_cuda (ops_cuda.h), one per image.
 *   images [B, 256, 256, 3] uint8 HWC, mean_image [256, 256, 3], choices [B] (device) */
an_status crop_batch_bf16_cuda(cuda_context *ctx, uint16_t *out, const uint8_t *images,
                               const float *mean_image, const crop_choice *choices, int batch);

/* out [n] bf16 (round to nearest even) from in [n] float, and back. */
an_status convert_f32_to_bf16_cuda(cuda_context *ctx, uint16_t *out, const float *in, size_t n);
an_status convert_bf16_to_f32_cuda(cuda_context *ctx, float *out, const uint16_t *in, size_t n);

#ifdef __cplusplus
}
#endif

#endif
