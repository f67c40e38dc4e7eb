/* convert_cuda.h: the GPU kernels beside the backend table's ops
 * (ops_cuda.h): float <-> bf16 conversion, which the convolutions use under
 * --precision bf16 (conv_cuda.c, precision.h). All pointers are device
 * pointers.
 */
#ifndef ALEXNET_CONVERT_CUDA_H
#define ALEXNET_CONVERT_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "cuda_context.h"
#include "status.h"

/* out [n] bf16 (round to nearest even) from in [n] float, and back. */
an_status convert_f32_to_bf16_cuda(cuda_context *ctx, uint16_t *out, const float *in, size_t n);
an_status convert_bf16_to_f32_cuda(cuda_context *ctx, float *out, const uint16_t *in, size_t n);

#ifdef __cplusplus
}
#endif

#endif
