/* gpu_test_util.c: helpers of the GPU tests. See gpu_test_util.h. */
#include "gpu_test_util.h"

#include "backend_cuda.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conv_cuda_cache.h"
#include "cuda_context.h"
#include "cuda_memory.h"
#include "philox.h"

int gpu_test_have_device(const char *test_name)
{
    if (cuda_device_available()) return 1;
    fprintf(stderr, "%s: no CUDA device, skipped\n", test_name);
    return 0;
}

/* The backends gpu_test_context made, by their context. */
#define GPU_TEST_BACKENDS 16
static struct {
    cuda_context *ctx;
    backend *be;
} made[GPU_TEST_BACKENDS];

cuda_context *gpu_test_context(backend_precision precision, int deterministic)
{
    backend_cuda_options o = backend_cuda_options_default();
    o.precision = precision;
    o.deterministic = deterministic;
    backend *be = NULL;
    an_status st = backend_cuda_create(&be, &o);
    if (st != AN_OK) fail_msg("backend_cuda_create: %s", error_message());
    for (int i = 0; i < GPU_TEST_BACKENDS; i++)
        if (!made[i].be) {
            made[i].be = be;
            made[i].ctx = backend_cuda_context(be);
            return made[i].ctx;
        }
    fail_msg("more than %d CUDA backends open in one test", GPU_TEST_BACKENDS);
    return NULL;
}

backend *gpu_test_backend(cuda_context *ctx)
{
    for (int i = 0; i < GPU_TEST_BACKENDS; i++)
        if (made[i].be && made[i].ctx == ctx) return made[i].be;
    fail_msg("no CUDA backend of gpu_test_context owns this context");
    return NULL;
}

void gpu_test_context_destroy(cuda_context *ctx)
{
    for (int i = 0; i < GPU_TEST_BACKENDS; i++)
        if (made[i].be && made[i].ctx == ctx) {
            backend_destroy(made[i].be);
            made[i].be = NULL;
            made[i].ctx = NULL;
        }
}

void gpu_test_fill_uniform(float *x, size_t n, float lo, float hi, uint32_t stream)
{
    for (size_t i = 0; i < n; i += 4) {
        philox_block b = philox_draw(12345, PHILOX_PURPOSE_TEST, 0, stream, (uint32_t)(i / 4));
        for (size_t j = 0; j < 4 && i + j < n; j++) x[i + j] = lo + (hi - lo) * philox_uniform(b.v[j]);
    }
}

float *gpu_test_random(size_t n, float lo, float hi, uint32_t stream)
{
    float *x = malloc((n ? n : 1) * sizeof *x); /* [n] */
    assert_non_null(x);
    gpu_test_fill_uniform(x, n, lo, hi, stream);
    return x;
}

void *gpu_test_upload_bytes(cuda_context *ctx, const void *host, size_t bytes)
{
    void *d = NULL; /* [bytes] device */
    if (cuda_malloc(&d, bytes ? bytes : 1, "a test input") != AN_OK ||
        cuda_copy_to_device(ctx, d, host, bytes) != AN_OK)
        fail_msg("upload: %s", error_message());
    return d;
}

float *gpu_test_upload(cuda_context *ctx, const float *host, size_t n)
{
    return gpu_test_upload_bytes(ctx, host, n * sizeof(float));
}

void *gpu_test_poisoned(cuda_context *ctx, size_t bytes)
{
    void *d = NULL; /* [bytes] device, 0xFF */
    if (cuda_malloc(&d, bytes ? bytes : 1, "a test output") != AN_OK || cuda_poison(ctx, d, bytes) != AN_OK)
        fail_msg("poisoned buffer: %s", error_message());
    return d;
}

void *gpu_test_download_bytes(cuda_context *ctx, const void *device, size_t bytes)
{
    void *h = malloc(bytes ? bytes : 1); /* [bytes] host */
    assert_non_null(h);
    /* cuda_copy_to_host queues the copy after the work on ctx->compute and
     * waits for it; the sync first reports an error a kernel raised. */
    if (cuda_context_sync(ctx) != AN_OK || cuda_copy_to_host(ctx, h, device, bytes) != AN_OK)
        fail_msg("download: %s", error_message());
    return h;
}

float *gpu_test_download(cuda_context *ctx, const void *device, size_t n)
{
    return (float *)gpu_test_download_bytes(ctx, device, n * sizeof(float));
}

double gpu_test_worst_ratio(const float *gpu, const float *cpu, size_t n, double rtol, double floor_fraction,
                            size_t *worst_index)
{
    double max_abs = 0.0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(cpu[i])) max_abs = fmax(max_abs, fabs((double)cpu[i]));
    const double floor_abs = floor_fraction * max_abs;
    double worst = 0.0;
    size_t worst_i = 0;
    for (size_t i = 0; i < n; i++) {
        double ratio;
        if (isnan(gpu[i]) || isnan(cpu[i]))
            ratio = isnan(gpu[i]) && isnan(cpu[i]) ? 0.0 : INFINITY;
        else if (gpu[i] == cpu[i]) /* equal infinities included */
            ratio = 0.0;
        else
            ratio = fabs((double)gpu[i] - (double)cpu[i]) / (rtol * (fabs((double)cpu[i]) + floor_abs) + 1e-300);
        if (ratio > worst) {
            worst = ratio;
            worst_i = i;
        }
    }
    if (worst_index) *worst_index = worst_i;
    return worst;
}

void gpu_test_assert_close_floor(const char *what, const float *gpu, const float *cpu, size_t n, double rtol,
                                 double floor_fraction)
{
    size_t i = 0;
    double worst = gpu_test_worst_ratio(gpu, cpu, n, rtol, floor_fraction, &i);
    printf("  %-40s n=%-9zu worst error/tolerance %.3g at %zu (gpu %.9g cpu %.9g)\n", what, n, worst, i,
           n ? (double)gpu[i] : 0.0, n ? (double)cpu[i] : 0.0);
    if (!(worst <= 1.0))
        fail_msg("%s: element %zu differs beyond rtol %g (gpu %.9g, cpu %.9g)", what, i, rtol, (double)gpu[i],
                 (double)cpu[i]);
}

void gpu_test_assert_close(const char *what, const float *gpu, const float *cpu, size_t n, double rtol)
{
    gpu_test_assert_close_floor(what, gpu, cpu, n, rtol, 0.1);
}

void gpu_test_assert_bitwise(const char *what, const void *a, const void *b, size_t bytes)
{
    const unsigned char *x = a, *y = b;
    for (size_t i = 0; i < bytes; i++)
        if (x[i] != y[i]) fail_msg("%s: byte %zu differs (%u vs %u)", what, i, x[i], y[i]);
}

void gpu_test_print_conv_algorithms(backend *be)
{
    cuda_context *ctx = NULL;
    if (!be || backend_cuda_use(be, &ctx) != AN_OK || conv_algo_cache_size(ctx->conv_cache) == 0) {
        error_clear();
        return;
    }
    char text[1024];
    conv_algo_cache_describe(ctx->conv_cache, text, sizeof text);
    printf("    conv algorithms: %s\n", text);
}

void gpu_test_expect_close(cuda_context *ctx, const char *what, const void *device, const float *cpu, size_t n,
                           double rtol)
{
    float *g = gpu_test_download(ctx, device, n);
    gpu_test_print_conv_algorithms(gpu_test_backend(ctx));
    gpu_test_assert_close(what, g, cpu, n, rtol);
    free(g);
}

void gpu_test_expect_bitwise(cuda_context *ctx, const char *what, const void *device, const void *host,
                             size_t bytes)
{
    void *g = gpu_test_download_bytes(ctx, device, bytes);
    gpu_test_assert_bitwise(what, g, host, bytes);
    free(g);
}

int gpu_test_setup_context(void **state)
{
    *state = gpu_test_context(BACKEND_PRECISION_FP32, 0);
    return *state ? 0 : -1;
}

int gpu_test_teardown_context(void **state)
{
    gpu_test_context_destroy(*state);
    return 0;
}

/* One op's tolerance, against |cpu| + 0.1 max|cpu| (gpu_test_worst_ratio),
 * for sums of n products of random-signed terms (the tests' inputs, and
 * activations times weights in the network) with n up to about 10^4 (fc6
 * forward: 9216; conv1's weight gradient at batch 2: 2 x 55 x 55 = 6050).
 * Such a sum is about sqrt(n) rms(term), and the largest of a tensor's sums
 * about 4 sqrt(n) rms, so the floor 0.1 max|cpu| is about 0.4 sqrt(n) rms.
 *   fp32: float sums in another order than the CPU's. Even plain recursive
 *     summation (the worst order either side could use) errs by about
 *     0.41 u n rms (u = 2^-24: rounding errors of rms u |s_k| / sqrt 3 on
 *     partial sums |s_k| ~ sqrt(k) rms), 2.4e-4 rms at n = 10^4, 1.1e-3 rms
 *     at 4.5 standard deviations, against 1e-4 x 0.4 x 100 rms = 4e-3 rms
 *     allowed: a margin of 4 at n = 10^4, more for blocked GEMM sums. The
 *     same for fp32-pedantic (only cuBLAS's mode differs).
 *   tf32: inputs rounded to 10 mantissa bits (unit 2^-11) on both operands:
 *     a product errs by about 0.82 x 2^-11 rms, the sum by 4e-4 sqrt(n) rms,
 *     1.8e-3 sqrt(n) rms at 4.5 standard deviations, against
 *     5e-3 x 0.4 sqrt(n) rms = 2e-3 sqrt(n) rms allowed (a thin margin;
 *     docs/cuda.md lists it as unmeasured).
 *   bf16: inputs rounded to 8 mantissa bits (unit 2^-8) on both operands, in
 *     the fc GEMMs and the convolutions alike: 3.2e-3 sqrt(n) rms, 1.4e-2
 *     sqrt(n) rms at 4.5 standard deviations, against 4e-2 x 0.4 sqrt(n) rms
 *     = 1.6e-2 sqrt(n) rms allowed. A convolution's results (output,
 *     dinput, dweight) are also rounded to bf16 once before they are widened
 *     (conv_cuda.c): at most 2^-9 |cpu| more, inside the |cpu| part of the
 *     allowance (4e-2 |cpu|). */
double gpu_test_rtol(backend_precision p)
{
    switch (p) {
    case BACKEND_PRECISION_TF32: return 5e-3;
    case BACKEND_PRECISION_BF16: return 4e-2;
    case BACKEND_PRECISION_FP32:
    case BACKEND_PRECISION_FP32_PEDANTIC: break;
    }
    return 1e-4;
}

/* GPU_TEST_NET_RTOL (gpu_test_util.h), for results of the whole network in
 * fp32: each layer with sums adds its op's error, whose bound above (1e-4 of
 * the tensor's scale) is 4 times the 4.5-standard-deviation error of the
 * worst summation order, so about 2.5e-5 of the scale; a layer passes its
 * input's relative error on about unchanged (the initialisations of net.h
 * keep every layer's gain near one). conv1's weight gradient goes through
 * the most: eight layers forward and eight back, 16 x 2.5e-5 = 4e-4 added
 * linearly, against 1e-3 allowed. Unmeasured on a device (docs/cuda.md). */

/* GPU_TEST_NET_RTOL_BF16, for logits of the whole network under bf16 against
 * fp32 (precision.h: every convolution and fc layer takes bf16 inputs and
 * accumulates in float; a convolution's output is rounded to bf16 once).
 * Per layer with sums: each operand rounded to 8 mantissa bits errs by a
 * uniform relative amount of rms 2^-9 / sqrt 3 = 1.1e-3, a product of two by
 * 1.6e-3 rms, a sum of random-signed products by 1.6e-3 of its own rms
 * scale; the output's rounding adds 1.1e-3 rms: about 2e-3 of the scale per
 * layer. Eight layers with sums (five conv, three fc) before the logits:
 * 5.7e-3 rms if the layers' errors are independent, 2.6e-2 rms at 4.5
 * standard deviations, 1.6e-2 rms if all eight add linearly. Allowed:
 * 1e-1 (|z| + 0.1 max|z|), at least 1e-2 max|z|, about 4e-2 rms (the
 * largest of a tensor's sums is about 4 rms): a margin of 1.5 at 4.5
 * standard deviations. Loose on purpose: it catches a wrong convolution, a
 * missing conversion or a bf16 tensor read as float, not bf16's rounding.
 * Unmeasured on a device (docs/cuda.md). */
