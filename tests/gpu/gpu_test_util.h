/* gpu_test_util.h: what the GPU-against-CPU tests share: the skip rule (exit
 * 77 without a device), random inputs from Philox, device buffers poisoned
 * with NaN before an op writes them, and comparisons that report the worst
 * element. Every copy goes through a cuda_context's compute stream
 * (cuda_memory.h), so it is ordered with the ops the test queued before it.
 */
#ifndef ALEXNET_GPU_TEST_UTIL_H
#define ALEXNET_GPU_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "cuda_context.h"

/* The exit code CTest reads as "skipped". */
#define GPU_TEST_SKIP 77

/* 1 when a CUDA device is usable; otherwise prints why the test is skipped. */
int gpu_test_have_device(const char *test_name);

/* A context for the tests (device 0) with the given precision and mode;
 * fails the test when it cannot be created. */
cuda_context *gpu_test_context(backend_precision precision, int deterministic);
/* The CUDA backend whose context gpu_test_context returned: the ops
 * (ops_cuda.h) take the backend. */
backend *gpu_test_backend(cuda_context *ctx);
/* Prints "  conv algorithms: ..." (conv_algo_cache_describe) for a CUDA
 * backend's context; nothing for any other backend (--self-check). Every
 * check line of a comparison that ran convolutions is followed by it. */
void gpu_test_print_conv_algorithms(backend *be);
/* Destroys the backend of a context from gpu_test_context, and the context. */
void gpu_test_context_destroy(cuda_context *ctx);

/* x [n] uniform in [lo, hi) from Philox (purpose TEST, `stream` as image id). */
void gpu_test_fill_uniform(float *x, size_t n, float lo, float hi, uint32_t stream);
/* A malloc'ed host array [n] filled as above (free it). */
float *gpu_test_random(size_t n, float lo, float hi, uint32_t stream);

/* A device copy of host [n] floats / [bytes] bytes (fails the test on error). */
float *gpu_test_upload(cuda_context *ctx, const float *host, size_t n);
void *gpu_test_upload_bytes(cuda_context *ctx, const void *host, size_t bytes);
/* A device buffer of `bytes`, every byte 0xFF (floats read as NaN). */
void *gpu_test_poisoned(cuda_context *ctx, size_t bytes);
/* A host copy of device [n] floats / [bytes] bytes once the queued work is
 * done (malloc'ed; free it). */
float *gpu_test_download(cuda_context *ctx, const void *device, size_t n);
void *gpu_test_download_bytes(cuda_context *ctx, const void *device, size_t bytes);

/* The worst ratio |gpu - cpu| / (rtol * (|cpu| + floor_fraction * max|cpu|))
 * over n elements, its index in *worst_index (may be NULL). A NaN on one side
 * only is an infinite ratio; NaN on both sides matches. The floor: a sum with
 * cancellation has errors relative to its terms, not to its result, and the
 * tensor's scale stands for the terms (floor_fraction 0.1 in the tests; 0 for
 * a purely element-wise relative comparison). */
double gpu_test_worst_ratio(const float *gpu, const float *cpu, size_t n, double rtol, double floor_fraction,
                            size_t *worst_index);

/* Asserts gpu_test_worst_ratio(.., rtol, 0.1, ..) <= 1 and prints the worst
 * element and ratio either way. */
void gpu_test_assert_close(const char *what, const float *gpu, const float *cpu, size_t n, double rtol);
/* The same with a chosen floor fraction. */
void gpu_test_assert_close_floor(const char *what, const float *gpu, const float *cpu, size_t n, double rtol,
                                 double floor_fraction);

/* Asserts the arrays are equal bit for bit. */
void gpu_test_assert_bitwise(const char *what, const void *a, const void *b, size_t bytes);

/* Downloads device [n] floats (or bytes) and asserts as above. */
void gpu_test_expect_close(cuda_context *ctx, const char *what, const void *device, const float *cpu, size_t n,
                           double rtol);
void gpu_test_expect_bitwise(cuda_context *ctx, const char *what, const void *device, const void *host,
                             size_t bytes);

/* cmocka group setup/teardown: *state = an fp32, non-deterministic context. */
int gpu_test_setup_context(void **state);
int gpu_test_teardown_context(void **state);

/* Relative tolerance (against |cpu| + 0.1 max|cpu|) of one op's sums of
 * products on the GPU against the CPU's, per precision; derived in
 * gpu_test_util.c. */
double gpu_test_rtol(backend_precision p);

/* Relative tolerance of whole-network results (logits, gradients, updates)
 * against the same floor; derived in gpu_test_util.c. */
#define GPU_TEST_NET_RTOL 1e-3
/* The same for a whole network under --precision bf16 against fp32; derived
 * in gpu_test_util.c. */
#define GPU_TEST_NET_RTOL_BF16 1e-1

#endif
