/* gpu_test_util.c: helpers of the GPU tests. See gpu_test_util.h. */
#include "gpu_test_util.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cuda_memory.h"
#include "philox.h"

int gpu_test_have_device(const char *test_name)
{
    if (cuda_device_available()) return 1;
    fprintf(stderr, "%s: no CUDA device, skipped\n", test_name);
    return 0;
}

cuda_context *gpu_test_context(cuda_precision precision, int deterministic)
{
    cuda_context_options o = cuda_context_options_default();
    o.precision = precision;
    o.deterministic = deterministic;
    cuda_context *ctx = NULL;
    an_status st = cuda_context_create(&ctx, &o);
    if (st != AN_OK) fail_msg("cuda_context_create: %s", error_message());
    return ctx;
}

void gpu_test_fill_uniform(float *x, size_t n, float lo, float hi, uint32_t stream)
{
    for (size_t i = 0; i < n; i += 4) {
        philox_block b = philox_draw(12345, PHILOX_PURPOSE_TEST, 0, stream, (uint32_t)(i / 4));
        for (size_t j = 0; j < 4 && i + j < n; j++) x[i + j] = lo + (hi - lo) * philox_uniform(b.v[j]);
    }
}

float *gpu_test_upload(const float *host, size_t n)
{
    void *d = NULL;
    if (cuda_malloc(&d, n * sizeof(float), "a test input") != AN_OK ||
        cuda_copy_to_device(d, host, n * sizeof(float)) != AN_OK)
        fail_msg("upload: %s", error_message());
    return (float *)d;
}

void *gpu_test_poisoned(size_t bytes)
{
    void *d = NULL;
    if (cuda_malloc(&d, bytes, "a test output") != AN_OK || cuda_poison(d, bytes) != AN_OK)
        fail_msg("poisoned buffer: %s", error_message());
    return d;
}

void *gpu_test_download_bytes(const void *device, size_t bytes)
{
    void *h = malloc(bytes ? bytes : 1);
    assert_non_null(h);
    if (cudaDeviceSynchronize() != cudaSuccess || cuda_copy_to_host(h, device, bytes) != AN_OK)
        fail_msg("download: %s", error_message());
    return h;
}

float *gpu_test_download(const void *device, size_t n)
{
    return (float *)gpu_test_download_bytes(device, n * sizeof(float));
}

void gpu_test_assert_close(const char *what, const float *gpu, const float *cpu, size_t n, double rtol)
{
    double max_abs = 0.0;
    for (size_t i = 0; i < n; i++) max_abs = fmax(max_abs, fabs((double)cpu[i]));
    double floor_abs = 0.1 * max_abs;
    double worst = 0.0;
    size_t worst_i = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(gpu[i]) && !isnan(cpu[i])) fail_msg("%s: element %zu is NaN (not written?)", what, i);
        double err = fabs((double)gpu[i] - (double)cpu[i]);
        double ratio = err / (rtol * (fabs((double)cpu[i]) + floor_abs) + 1e-30);
        if (ratio > worst) {
            worst = ratio;
            worst_i = i;
        }
    }
    printf("  %-34s n=%-8zu worst error/tolerance %.3f at %zu (gpu %.9g cpu %.9g)\n", what, n, worst,
           worst_i, n ? (double)gpu[worst_i] : 0.0, n ? (double)cpu[worst_i] : 0.0);
    if (worst > 1.0) fail_msg("%s: element %zu differs beyond rtol %g", what, worst_i, rtol);
}

void gpu_test_assert_bitwise(const char *what, const void *a, const void *b, size_t bytes)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < bytes; i++)
        if (x[i] != y[i]) fail_msg("%s: byte %zu differs (%u vs %u)", what, i, x[i], y[i]);
}

void gpu_test_expect_close(const char *what, const void *device, const float *cpu, size_t n, double rtol)
{
    float *g = gpu_test_download(device, n);
    gpu_test_assert_close(what, g, cpu, n, rtol);
    free(g);
}

void gpu_test_expect_bitwise(const char *what, const void *device, const void *host, size_t bytes)
{
    void *g = gpu_test_download_bytes(device, bytes);
    gpu_test_assert_bitwise(what, g, host, bytes);
    free(g);
}

int gpu_test_setup_context(void **state)
{
    *state = gpu_test_context(CUDA_PRECISION_FP32, 0);
    return *state ? 0 : -1;
}

int gpu_test_teardown_context(void **state)
{
    cuda_context_destroy(*state);
    return 0;
}

double gpu_test_rtol(cuda_precision p)
{
    switch (p) {
    case CUDA_PRECISION_TF32: return 5e-3; /* 2^-11 input rounding, summed over the reduction */
    case CUDA_PRECISION_BF16: return 4e-2; /* 2^-8 input rounding */
    case CUDA_PRECISION_FP32: break;
    }
    return 1e-4; /* float accumulation in a different order than the CPU's */
}
