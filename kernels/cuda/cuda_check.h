/* cuda_check.h: turn a failing CUDA runtime, cuDNN, cuBLAS or NCCL call into
 * an an_status with a message that names the call, the file and the line.
 *
 * Library code in kernels/cuda never prints: every call is wrapped in one of
 * the CUDA_TRY* macros below, which set AN_ERR_CUDA with error_set() and
 * return (or jump to a cleanup label). An out-of-memory error from the
 * runtime says so and suggests a smaller --batch; cuda_malloc() (cuda_memory.h)
 * also names the number of bytes that were asked for.
 *
 * Compiles as C (gcc) and as CUDA C++ (nvcc).
 */
#ifndef ALEXNET_CUDA_CHECK_H
#define ALEXNET_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>
#ifdef ALEXNET_HAVE_NCCL
#include <nccl.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

#include "status.h"

/* Each returns AN_OK for success, else sets AN_ERR_CUDA naming `call`,
 * `file` and `line` with the library's own description of the error. */
an_status cuda_status_runtime(cudaError_t e, const char *call, const char *file, int line);
an_status cuda_status_cudnn(cudnnStatus_t e, const char *call, const char *file, int line);
an_status cuda_status_cublas(cublasStatus_t e, const char *call, const char *file, int line);

#ifdef ALEXNET_HAVE_NCCL
an_status cuda_status_nccl(ncclResult_t e, const char *call, const char *file, int line);
#endif

/* The last kernel launch's error (cudaGetLastError), naming the kernel. */
an_status cuda_status_launch(const char *kernel, const char *file, int line);

/* cuBLAS has no function that names its status codes before 11.4; this one does. */
const char *cuda_cublas_status_name(cublasStatus_t e);

#ifdef __cplusplus
}
#endif

/* Return the failing status from the enclosing function. */
#define CUDA_TRY(call) AN_TRY(cuda_status_runtime((call), #call, __FILE__, __LINE__))
#define CUDNN_TRY(call) AN_TRY(cuda_status_cudnn((call), #call, __FILE__, __LINE__))
#define CUBLAS_TRY(call) AN_TRY(cuda_status_cublas((call), #call, __FILE__, __LINE__))
#define CUDA_TRY_LAUNCH(kernel_name) AN_TRY(cuda_status_launch((kernel_name), __FILE__, __LINE__))

#ifdef ALEXNET_HAVE_NCCL
#define NCCL_TRY(call) AN_TRY(cuda_status_nccl((call), #call, __FILE__, __LINE__))
#endif

/* Set `st` and jump to `label` (one cleanup exit per function). */
#define CUDA_TRY_GOTO(st, call, label) \
    AN_TRY_GOTO(st, cuda_status_runtime((call), #call, __FILE__, __LINE__), label)
#define CUDNN_TRY_GOTO(st, call, label) \
    AN_TRY_GOTO(st, cuda_status_cudnn((call), #call, __FILE__, __LINE__), label)
#define CUBLAS_TRY_GOTO(st, call, label) \
    AN_TRY_GOTO(st, cuda_status_cublas((call), #call, __FILE__, __LINE__), label)

#endif
