/* add_cuda.cu: the element-wise sum of two blocks (ops_cuda.h), the CUDA
 * twin of kernels/cpu/add_cpu.c: the partial sums of --reproducible's
 * gradient tree. __fadd_rn keeps each sum one IEEE addition, as the CPU's. */
#include "cuda_launch.h"
#include "ops_cuda.h"

an_status add_cuda(backend *be, float *out, const float *a, const float *b, size_t n)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    if (!b) {
        if (out == a) return AN_OK;
        return cuda_for_each(ctx, n, "add (copy)", [=] __device__(size_t i) { out[i] = a[i]; });
    }
    return cuda_for_each(ctx, n, "add", [=] __device__(size_t i) { out[i] = __fadd_rn(a[i], b[i]); });
}
