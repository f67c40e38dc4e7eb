/* precision.h: the arithmetic a backend computes the convolutions and fully
 * connected layers in (docs/cuda.md, "Precision"). One enum for the registry
 * (backend_select.h: --precision), the trainer's state and the CUDA backend
 * (kernels/cuda); every other op computes in fp32 under all of them, and the
 * master weights, momentum and the update stay fp32.
 *
 *   fp32           the paper's arithmetic: float storage, float multiply-adds,
 *                  no tensor cores (cuBLAS CUBLAS_COMPUTE_32F in its default
 *                  math mode, cuDNN CUDNN_FMA_MATH kernels only). The CPU's
 *                  only one. The default.
 *   tf32           float storage; cuBLAS and cuDNN may round the matrix
 *                  inputs to TF32 (10-bit mantissa) on tensor cores, float
 *                  accumulation (CUBLAS_COMPUTE_32F_FAST_TF32,
 *                  CUDNN_TENSOR_OP_MATH).
 *   bf16           the convolutions and the fc GEMMs take bf16 inputs (8-bit
 *                  mantissa, rounded to nearest even from the float tensors)
 *                  and accumulate in float (cuDNN bf16 tensors with a
 *                  CUDNN_DATA_FLOAT convolution; CUBLAS_COMPUTE_32F_FAST_16BF);
 *                  a convolution's outputs (activations, input and weight
 *                  gradients) are rounded to bf16 and widened back to the
 *                  float tensors the other ops read. Float master weights.
 *   fp32-pedantic  fp32 with cuBLAS in CUBLAS_PEDANTIC_MATH and
 *                  CUBLAS_COMPUTE_32F_PEDANTIC, a mode cuBLAS documents for
 *                  numerical studies and debugging: for chasing a CPU/GPU
 *                  difference (the GPU tests, bench_train_gpu), not offered by
 *                  alexnet-train.
 */
#ifndef ALEXNET_PRECISION_H
#define ALEXNET_PRECISION_H

#include <string.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum backend_precision {
    BACKEND_PRECISION_FP32 = 0,
    BACKEND_PRECISION_TF32 = 1,
    BACKEND_PRECISION_BF16 = 2,
    BACKEND_PRECISION_FP32_PEDANTIC = 3
} backend_precision;

#define BACKEND_PRECISION_COUNT 4

/* "fp32", "tf32", "bf16", "fp32-pedantic"; "?" outside the enum. */
static inline const char *backend_precision_name(backend_precision p)
{
    static const char *const names[BACKEND_PRECISION_COUNT] = {"fp32", "tf32", "bf16", "fp32-pedantic"};
    return (int)p >= 0 && (int)p < BACKEND_PRECISION_COUNT ? names[p] : "?";
}

/* One of the names above into *out; AN_ERR_ARG naming the valid ones otherwise. */
static inline an_status backend_precision_parse(const char *name, backend_precision *out)
{
    for (int i = 0; i < BACKEND_PRECISION_COUNT; i++) {
        if (name && strcmp(name, backend_precision_name((backend_precision)i)) == 0) {
            *out = (backend_precision)i;
            return AN_OK;
        }
    }
    return error_set(AN_ERR_ARG, "precision '%s': use fp32, tf32, bf16 or fp32-pedantic", name ? name : "");
}

/* What runs under p, in one word, for benchmark rows and logs:
 * "fp32-conv+fp32-fc", "tf32-conv+tf32-fc", "bf16-conv+bf16-fc",
 * "fp32-conv+fp32-pedantic-fc"; "?" outside the enum. */
static inline const char *backend_precision_computes(backend_precision p)
{
    switch (p) {
    case BACKEND_PRECISION_FP32: return "fp32-conv+fp32-fc";
    case BACKEND_PRECISION_TF32: return "tf32-conv+tf32-fc";
    case BACKEND_PRECISION_BF16: return "bf16-conv+bf16-fc";
    case BACKEND_PRECISION_FP32_PEDANTIC: return "fp32-conv+fp32-pedantic-fc";
    }
    return "?";
}

#ifdef __cplusplus
}
#endif

#endif
