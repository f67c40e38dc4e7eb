/* parts_cpu.c: parts of rows joined side by side and split apart again
 * (backend_ops.def: join_parts, split_parts), the CPU twins of
 * parts_cuda.c: the conv halves and fc parts of a network in the fixed
 * order of --reproducible (net.h, net_set_fixed_order). Plain copies. */
#include <string.h>

#include "ops_cpu.h"

/* join 1: whole [rows, W] from parts (one after another); join 0: the reverse. */
static an_status parts_copy(backend *be, float *whole, float *parted, size_t rows, int parts, const size_t *widths,
                            int join)
{
    cpu_use(be);
    if (parts < 1 || parts > OP_MAX_PARTS)
        return error_set(AN_ERR_ARG, "%d parts of rows, not 1 to %d", parts, OP_MAX_PARTS);
    const size_t total = op_parts_width(parts, widths);
    size_t column = 0; /* part p's first column in a whole row */
    for (int p = 0; p < parts; p++) {
        const size_t w = widths[p];
        float *part = parted + rows * column; /* [rows, w] */
        if (w > 0) {
#pragma omp parallel for schedule(static) if (rows * w > 65536)
            for (size_t r = 0; r < rows; r++) {
                if (join)
                    memcpy(whole + r * total + column, part + r * w, w * sizeof(float));
                else
                    memcpy(part + r * w, whole + r * total + column, w * sizeof(float));
            }
        }
        column += w;
    }
    return AN_OK;
}

an_status join_parts_cpu(backend *be, float *out, const float *in, size_t rows, int parts, const size_t *widths)
{
    return parts_copy(be, out, (float *)in, rows, parts, widths, 1); /* in only read */
}

an_status split_parts_cpu(backend *be, float *out, const float *in, size_t rows, int parts, const size_t *widths)
{
    return parts_copy(be, (float *)in, out, rows, parts, widths, 0); /* in only read */
}
