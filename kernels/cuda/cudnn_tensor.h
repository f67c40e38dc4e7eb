/* cudnn_tensor.h: short-lived cuDNN tensor descriptors for the ops that
 * build one per call (LRN). Internal to kernels/cuda.
 */
#ifndef ALEXNET_CUDNN_TENSOR_H
#define ALEXNET_CUDNN_TENSOR_H

#include <stddef.h>

#include <cudnn.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "status.h"

/* A float NCHW descriptor [n, c, h, w]; AN_ERR_ARG when a size does not fit an int. */
an_status cudnn_tensor_nchw(cudnnTensorDescriptor_t *out, size_t n, size_t c, size_t h, size_t w);

#ifdef __cplusplus
}
#endif

#endif
