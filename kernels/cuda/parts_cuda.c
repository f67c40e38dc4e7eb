/* parts_cuda.c: parts of rows joined side by side and split apart again
 * (backend_ops.def: join_parts, split_parts), the CUDA twins of
 * kernels/cpu/parts_cpu.c: one cudaMemcpy2DAsync per part on the compute
 * stream, in order with the ops. Plain copies. */
#include <cuda_runtime.h>

#include "cuda_check.h"
#include "ops_cuda.h"

/* join 1: whole [rows, W] from parts (one after another); join 0: the reverse. */
static an_status parts_copy(backend *be, float *whole, float *parted, size_t rows, int parts, const size_t *widths,
                            int join)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    if (parts < 1 || parts > OP_MAX_PARTS)
        return error_set(AN_ERR_ARG, "%d parts of rows, not 1 to %d", parts, OP_MAX_PARTS);
    const size_t total = op_parts_width(parts, widths);
    size_t column = 0; /* part p's first column in a whole row */
    for (int p = 0; p < parts; p++) {
        const size_t w = widths[p];
        float *part = parted + rows * column; /* [rows, w] */
        if (w > 0 && rows > 0) {
            if (join)
                CUDA_TRY(cudaMemcpy2DAsync(whole + column, total * sizeof(float), part, w * sizeof(float),
                                           w * sizeof(float), rows, cudaMemcpyDeviceToDevice, ctx->compute));
            else
                CUDA_TRY(cudaMemcpy2DAsync(part, w * sizeof(float), whole + column, total * sizeof(float),
                                           w * sizeof(float), rows, cudaMemcpyDeviceToDevice, ctx->compute));
        }
        column += w;
    }
    return AN_OK;
}

an_status join_parts_cuda(backend *be, float *out, const float *in, size_t rows, int parts, const size_t *widths)
{
    return parts_copy(be, out, (float *)in, rows, parts, widths, 1); /* in only read */
}

an_status split_parts_cuda(backend *be, float *out, const float *in, size_t rows, int parts, const size_t *widths)
{
    return parts_copy(be, (float *)in, out, rows, parts, widths, 0); /* in only read */
}
