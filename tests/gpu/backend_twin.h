/* backend_twin.h: a cross-checking backend for the GPU tests. It wraps a
 * backend (the CUDA one) and, for every op of the table (kernels/backend.h),
 * downloads the op's inputs as the inner backend holds them, lets the inner
 * backend compute, downloads its outputs, recomputes them with the CPU twin
 * of the op (kernels/cpu/ops_cpu.h) from the SAME inputs, and compares.
 *
 * Because the CPU recomputes each op from the GPU's own inputs, a backward
 * op is compared with the GPU's ReLU outputs, max-pool argmax, dropout masks
 * and activations: near-ties that the two forward passes could resolve
 * differently (an activation within rounding of 0, two window values within
 * rounding of each other) cannot make the comparison fail. That is the
 * whole-network gradient comparison that is robust by construction
 * (docs/cuda.md, "Tests"). Errors do not accumulate across layers either:
 * every op gets its own op's tolerance.
 *
 * Tolerances (gpu_test_util.c derives the sums' one):
 *   conv, fc         sum_rtol against |cpu| + 0.1 max|cpu| (gpu_test_rtol)
 *   lrn              1e-5 forward, 1e-4 backward, same floor (test_ops_cuda.c)
 *   softmax          1e-6 element-wise (backend_twin.c derives it)
 *   loss             1e-12 relative (backend_twin.c)
 *   relu, maxpool (values and argmax), dropout (values and mask), the loss
 *   gradient, sgd    bitwise: the twins compute the same float operations
 *   topk_errors      equal counts
 * A mismatch fails the op with AN_ERR_INTERNAL and a message naming the op,
 * the output, the element and both values, so the network's error names the
 * layer ("conv3 backward: ..."). With an inner backend on the CPU every
 * comparison is exact, which checks this file itself.
 */
#ifndef ALEXNET_BACKEND_TWIN_H
#define ALEXNET_BACKEND_TWIN_H

#include <stdio.h>

#include "backend.h"

/* A cross-checking backend around inner (which it does not own). sum_rtol:
 * the tolerance of conv and fc outputs (gpu_test_rtol of the inner's precision). */
an_status backend_twin_create(backend **out, backend *inner, double sum_rtol);

/* Outputs compared so far. */
long backend_twin_comparisons(const backend *be);

/* Writes one line per op output compared since the last call (op, output,
 * elements, worst error/tolerance) to out, and forgets them. */
void backend_twin_report(backend *be, FILE *out);

#endif
