/* ops_cpu.h: the CPU twin of every op of the backend table
 * (kernels/backend_ops.def), computed with OpenMP and OpenBLAS over host
 * memory: <op>_cpu, with the table's signature, so that backend_cpu.c's table
 * names them directly. The CUDA twins <op>_cuda (ops_cuda.h) take the same
 * arguments.
 *
 * Threading: the batch (in conv: chunks of images) or fixed blocks of output
 * columns (fc) are split over OpenMP threads, each running single-threaded
 * OpenBLAS. cpu_threads_set() sets both thread counts; a CPU backend sets its
 * own count on the calling thread before each op (cpu_use). Results do not depend
 * on the thread count (conv's weight gradient is summed from partials kept
 * per slot of chunks, not per thread; fc's GEMMs are cut into blocks fixed by
 * the shapes), except for one image alone (batch-1 inference), whose conv
 * columns and fc GEMV rows are split over the threads: equal to rounding.
 */
#ifndef ALEXNET_OPS_CPU_H
#define ALEXNET_OPS_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "op_shapes.h"
#include "status.h"

/* Sets the number of OpenMP threads (for the calling host thread's ops) and
 * OpenBLAS threads (n >= 1). */
void cpu_threads_set(int n);
/* The number cpu_threads_set set on the calling host thread (default:
 * omp_get_max_threads()). */
int cpu_threads_get(void);

/* Which kernels OpenBLAS runs (AVX-512, AVX2 or its generic fallback on
 * CPUs it does not recognise) is chosen by blas_runtime_select() at the start
 * of main(); blas_runtime_describe/advice (common/blas_runtime.h) report it. */

/* Makes be's thread count the calling host thread's (cpu_threads_set), if it
 * is not already: the first line of every CPU op. */
void cpu_use(backend *be);

/* *workspace = be's scratch of at least `floats` floats, grown when needed;
 * it stays be's (the conv ops' im2col columns and partial sums). */
an_status cpu_workspace(backend *be, size_t floats, float **workspace);

/* Floats of workspace conv_forward_cpu / conv_backward_cpu take with `threads` threads. */
size_t conv_workspace_floats(const conv_shape *s, int threads);

/* The CPU twins, one per entry of backend_ops.def, with the table's
 * signature (an_status name_cpu(backend *be, ...)) and the contract written
 * there. What is particular to the CPU:
 *   - conv: im2col + one GEMM per group and chunk of images (conv_cpu.c);
 *     scratch from cpu_workspace;
 *   - lrn: scale is kept by the forward pass; lrn_backward_cpu recomputes it
 *     when given NULL (a backend that keeps none, as the twin backend passes);
 *   - lrn's α: either convention of lrn_params (§3.3, op_shapes.h);
 *   - softmax_loss: AN_ERR_ARG for a label outside [0, K);
 *   - dropout: the mask depends only on (seed, purpose, step, image id,
 *     element), the same on any backend, thread count or replica split. */
#define BACKEND_OP(name, params, names, tensors) an_status name##_cpu(backend *be, BACKEND_UNPAREN params);
#include "backend_ops.def"
#undef BACKEND_OP

#endif
