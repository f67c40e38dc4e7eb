/* cuda_check.c: status conversion for CUDA runtime, cuDNN and cuBLAS calls.
 * See cuda_check.h. */
#include "cuda_check.h"

/* Where the message says what to do next. */
static const char *oom_advice =
    "the GPU is out of memory: try a smaller --batch, or free the GPU from other processes";

an_status cuda_status_runtime(cudaError_t e, const char *call, const char *file, int line)
{
    if (e == cudaSuccess) return AN_OK;
    cudaGetLastError(); /* clear a sticky non-fatal error so that later calls start clean */
    if (e == cudaErrorMemoryAllocation)
        return error_set(AN_ERR_CUDA, "%s failed at %s:%d: %s (%s)", call, file, line,
                         cudaGetErrorString(e), oom_advice);
    if (e == cudaErrorNoDevice || e == cudaErrorInsufficientDriver)
        return error_set(AN_ERR_CUDA, "%s failed at %s:%d: %s (use --device cpu on a machine "
                         "without a usable NVIDIA GPU)", call, file, line, cudaGetErrorString(e));
    return error_set(AN_ERR_CUDA, "%s failed at %s:%d: %s (%s)", call, file, line,
                     cudaGetErrorName(e), cudaGetErrorString(e));
}

an_status cuda_status_cudnn(cudnnStatus_t e, const char *call, const char *file, int line)
{
    if (e == CUDNN_STATUS_SUCCESS) return AN_OK;
    if (e == CUDNN_STATUS_ALLOC_FAILED)
        return error_set(AN_ERR_CUDA, "%s failed at %s:%d: %s (%s)", call, file, line,
                         cudnnGetErrorString(e), oom_advice);
    return error_set(AN_ERR_CUDA, "%s failed at %s:%d: %s", call, file, line,
                     cudnnGetErrorString(e));
}

const char *cuda_cublas_status_name(cublasStatus_t e)
{
    switch (e) {
    case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
    }
    return "unknown cuBLAS status";
}

an_status cuda_status_cublas(cublasStatus_t e, const char *call, const char *file, int line)
{
    if (e == CUBLAS_STATUS_SUCCESS) return AN_OK;
    if (e == CUBLAS_STATUS_ALLOC_FAILED)
        return error_set(AN_ERR_CUDA, "%s failed at %s:%d: %s (%s)", call, file, line,
                         cuda_cublas_status_name(e), oom_advice);
    return error_set(AN_ERR_CUDA, "%s failed at %s:%d: %s (code %d)", call, file, line,
                     cuda_cublas_status_name(e), (int)e);
}

an_status cuda_status_launch(const char *kernel, const char *file, int line)
{
    cudaError_t e = cudaGetLastError();
    if (e == cudaSuccess) return AN_OK;
    return error_set(AN_ERR_CUDA, "launching %s failed at %s:%d: %s (%s)", kernel, file, line,
                     cudaGetErrorName(e), cudaGetErrorString(e));
}
