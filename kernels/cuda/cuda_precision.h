/* cuda_precision.h: the arithmetic the CUDA backend computes in.
 *
 *   fp32           the paper's arithmetic: float storage, float multiply-adds,
 *                  no tensor cores. cuBLAS runs in its default math mode with
 *                  CUBLAS_COMPUTE_32F, which keeps at least float's mantissa and
 *                  exponent in every phase (so never TF32) but may pick its
 *                  fastest float kernels, split-K reductions included; cuDNN
 *                  runs CUDNN_FMA_MATH kernels only. The default.
 *   fp32-pedantic  fp32 with cuBLAS in CUBLAS_PEDANTIC_MATH and
 *                  CUBLAS_COMPUTE_32F_PEDANTIC: "the prescribed precision and
 *                  standardized arithmetic for all phases", which cuBLAS
 *                  documents as a mode for numerical studies, testing and
 *                  debugging, possibly slower. For chasing a CPU/GPU
 *                  difference, not for training. cuDNN as in fp32.
 *   tf32           float storage; cuBLAS and cuDNN may round matrix inputs to
 *                  TF32 (10-bit mantissa) on tensor cores
 *                  (CUBLAS_COMPUTE_32F_FAST_TF32, CUDNN_TENSOR_OP_MATH).
 *   bf16           float storage and float master weights; the fully connected
 *                  GEMMs may round inputs to bf16 on tensor cores
 *                  (CUBLAS_COMPUTE_32F_FAST_16BF); convolutions run as in tf32
 *                  (cuDNN has no bf16 rounding mode for float tensors).
 *                  Activations are NOT stored in bf16: crop_batch_bf16_cuda and
 *                  convert_cuda.cu can write bf16, nothing reads it yet
 *                  (docs/cuda.md, "Precision").
 */
#ifndef ALEXNET_CUDA_PRECISION_H
#define ALEXNET_CUDA_PRECISION_H

#ifdef __cplusplus
extern "C" {
#endif

#include "status.h"

typedef enum cuda_precision {
    CUDA_PRECISION_FP32 = 0,
    CUDA_PRECISION_TF32 = 1,
    CUDA_PRECISION_BF16 = 2,
    CUDA_PRECISION_FP32_PEDANTIC = 3
} cuda_precision;

/* "fp32", "tf32", "bf16" or "fp32-pedantic"; "?" for a value outside the enum. */
const char *cuda_precision_name(cuda_precision p);

/* Parses one of the names above; AN_ERR_ARG naming the valid ones otherwise. */
an_status cuda_precision_parse(const char *name, cuda_precision *out);

/* What actually runs under p, for benchmark rows and logs, one word:
 * "fp32-conv+fp32-fc", "tf32-conv+tf32-fc", "tf32-conv+bf16-fc" (bf16 is not
 * bf16 convolutions yet), "fp32-conv+fp32-pedantic-fc"; "?" outside the enum. */
const char *cuda_precision_computes(cuda_precision p);

#ifdef __cplusplus
}
#endif

#endif
