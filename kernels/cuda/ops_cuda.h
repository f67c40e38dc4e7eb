/* ops_cuda.h: the CUDA twin of every op of the backend table
 * (kernels/backend_ops.def): <op>_cuda, with the table's signature and the
 * name of its CPU twin <op>_cpu, so that backend_cuda.c's table names them
 * directly. All tensor pointers are DEVICE pointers. The CUDA library does
 * not link the CPU one: shapes and parameters come from op_shapes.h, the
 * contract from backend_ops.def. Every function returns an_status (kernel
 * launches and library calls are checked). Work is queued on the backend
 * context's compute stream; functions that return a host value synchronise.
 */
#ifndef ALEXNET_OPS_CUDA_H
#define ALEXNET_OPS_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "backend.h"
#include "backend_cuda.h"
#include "cuda_context.h"
#include "op_shapes.h"
#include "status.h"

/* The CUDA twins, one per entry of backend_ops.def, with the table's
 * signature (an_status name_cuda(backend *be, ...)). Each first makes be's
 * device current and takes its context (backend_cuda_use). Where the GPU
 * meets the contract in its own way:
 *   - conv (cuDNN, conv_cuda.c): groups through cudnnSetConvolutionGroupCount
 *     (§3.2); each direction's algorithm (forward, backward-data,
 *     backward-filter) is chosen at that direction's first use for a shape
 *     (within the workspace limit, deterministic ones only in deterministic
 *     mode) and cached in the context, so inference never searches a
 *     backward algorithm; no workspace arguments, the context owns a bounded
 *     workspace;
 *   - relu, tanh, dropout, sgd: one element-wise launcher
 *     (elementwise_cuda.cuh); tanhf and glibc's tanhf may differ in the last
 *     bit: equal to the CPU within 2 ulp;
 *   - lrn (cuDNN): keeps no `scale` (leaves it unwritten); backward
 *     recomputes what it needs from in and out;
 *   - maxpool: the CPU's tie rule and NaN propagation, identical results; the
 *     backward pass a gather over the windows covering each input, so no
 *     atomics: deterministic;
 *   - softmax: the row max is row[0] compared forward with `>`, the sum of
 *     exponentials kept in double and its inverse rounded to float once, as
 *     on the CPU; a NaN anywhere in a row makes the whole row NaN;
 *   - softmax_loss and topk_errors: summed in batch order (deterministic),
 *     read back to the host; a label outside [0, K) is not read through (the
 *     loss is NaN, topk returns AN_ERR_ARG, softmax_loss_backward's row NaN);
 *   - sgd_update: no fused multiply-add, so it matches the CPU's loop. */
#define BACKEND_OP(name, params, names, tensors) an_status name##_cuda(backend *be, BACKEND_UNPAREN params);
#include "backend_ops.def"
#undef BACKEND_OP

#ifdef __cplusplus
}
#endif

#endif
