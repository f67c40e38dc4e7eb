/* cudnn_tensor.c: cuDNN tensor descriptors. See cudnn_tensor.h. */
#include "cudnn_tensor.h"

#include <limits.h>

#include "cuda_check.h"

an_status cudnn_tensor_nchw(cudnnTensorDescriptor_t *out, size_t n, size_t c, size_t h, size_t w)
{
    *out = NULL;
    if (n > INT_MAX || c > INT_MAX || h > INT_MAX || w > INT_MAX || n * c * h * w > (size_t)INT_MAX)
        return error_set(AN_ERR_ARG, "tensor [%zu, %zu, %zu, %zu] is too large for cuDNN (use a smaller --batch)",
                         n, c, h, w);
    cudnnTensorDescriptor_t d = NULL;
    CUDNN_TRY(cudnnCreateTensorDescriptor(&d));
    an_status st = cuda_status_cudnn(cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                                                (int)n, (int)c, (int)h, (int)w),
                                     "cudnnSetTensor4dDescriptor", __FILE__, __LINE__);
    if (st != AN_OK) {
        cudnnDestroyTensorDescriptor(d);
        return st;
    }
    *out = d;
    return AN_OK;
}
