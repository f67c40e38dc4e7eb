/* gpu_test_util.h: what the GPU-against-CPU tests share: the skip rule (exit
 * 77 without a device), random inputs from Philox, device buffers poisoned
 * with NaN before an op writes them, and comparisons that report the worst
 * element.
 */
#ifndef ALEXNET_GPU_TEST_UTIL_H
#define ALEXNET_GPU_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "cuda_context.h"

/* The exit code CTest reads as "skipped". */
#define GPU_TEST_SKIP 77

/* 1 when a CUDA device is usable; otherwise prints why the test is skipped. */
int gpu_test_have_device(const char *test_name);

/* A context for the tests (device 0) with the given precision and mode;
 * fails the test when it cannot be created. */
cuda_context *gpu_test_context(cuda_precision precision, int deterministic);

/* x [n] uniform in [lo, hi) from Philox (purpose TEST, `stream` as image id). */
void gpu_test_fill_uniform(float *x, size_t n, float lo, float hi, uint32_t stream);

/* A device copy of host [n] floats (fails the test on error). */
float *gpu_test_upload(const float *host, size_t n);
/* A device buffer of `bytes`, every byte 0xFF (floats read as NaN). */
void *gpu_test_poisoned(size_t bytes);
/* A host copy of device [n] floats (malloc'ed; free it). */
float *gpu_test_download(const void *device, size_t n);
void *gpu_test_download_bytes(const void *device, size_t bytes);

/* Asserts |gpu - cpu| <= rtol * (|cpu| + floor) everywhere, with floor =
 * 0.1 * max|cpu| (sums with cancellation have errors relative to the terms,
 * not the result); a NaN in gpu (an unwritten, poisoned element) always fails.
 * Prints the worst element and the largest ratio either way. */
void gpu_test_assert_close(const char *what, const float *gpu, const float *cpu, size_t n, double rtol);

/* Asserts the arrays are equal bit for bit. */
void gpu_test_assert_bitwise(const char *what, const void *a, const void *b, size_t bytes);

/* Downloads device [n] floats (or bytes) and asserts as above. */
void gpu_test_expect_close(const char *what, const void *device, const float *cpu, size_t n, double rtol);
void gpu_test_expect_bitwise(const char *what, const void *device, const void *host, size_t bytes);

/* cmocka group setup/teardown: *state = an fp32, non-deterministic context. */
int gpu_test_setup_context(void **state);
int gpu_test_teardown_context(void **state);

/* Relative tolerances per precision for sums of products of K terms: fp32
 * (float rounding), tf32 (10-bit mantissa inputs), bf16 (7-bit mantissa inputs). */
double gpu_test_rtol(cuda_precision p);

#endif
