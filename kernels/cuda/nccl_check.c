/* nccl_check.c: status conversion for NCCL calls, apart from cuda_check.c so
 * that programs which never call NCCL do not need libnccl at run time.
 * See cuda_check.h. */
#include "cuda_check.h"

#ifdef ALEXNET_HAVE_NCCL
an_status cuda_status_nccl(ncclResult_t e, const char *call, const char *file, int line)
{
    if (e == ncclSuccess) return AN_OK;
    return error_set(AN_ERR_CUDA, "%s failed at %s:%d: %s%s", call, file, line,
                     ncclGetErrorString(e),
                     e == ncclSystemError ? " (check the network between the GPUs and NCCL_DEBUG=INFO)" : "");
}
#endif
