/* cuda_precision.h: the arithmetic the CUDA backend computes in.
 *
 *   fp32  the paper's arithmetic: float storage, float multiply-adds, no tensor
 *         cores (cuBLAS default math, cuDNN CUDNN_DEFAULT_MATH). The default.
 *   tf32  float storage; cuBLAS and cuDNN may round matrix inputs to TF32
 *         (10-bit mantissa) on tensor cores (CUBLAS_TF32_TENSOR_OP_MATH,
 *         CUDNN_TENSOR_OP_MATH).
 *   bf16  float storage and float master weights; the fully connected GEMMs
 *         may round inputs to bf16 on tensor cores (CUBLAS_COMPUTE_32F_FAST_16BF);
 *         convolutions run as in tf32 (cuDNN has no bf16 rounding mode for
 *         float tensors). Activations are NOT stored in bf16 yet: the
 *         augmentation kernel and convert_cuda.cu can write bf16, the network
 *         does not read it (docs/cuda.md says what is done and what is not).
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
    CUDA_PRECISION_BF16 = 2
} cuda_precision;

/* "fp32", "tf32" or "bf16". */
const char *cuda_precision_name(cuda_precision p);

/* Parses one of the names above; AN_ERR_ARG naming the valid ones otherwise. */
an_status cuda_precision_parse(const char *name, cuda_precision *out);

#ifdef __cplusplus
}
#endif

#endif
