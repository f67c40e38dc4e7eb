/* test_thread_counts.c: the CPU ops give the same bits whatever the thread
 * count (docs/RELIABILITY.md, "Thread counts"): each op runs once with 1 and
 * once with 3 threads on the same inputs (batch 32, the shapes of width 0.1)
 * and must agree bit for bit: convolution forward and backward (the weight
 * gradient's partial sums kept per slot of chunks, not per thread), the fully
 * connected layers (single-threaded GEMMs over blocks fixed by the shapes,
 * where OpenBLAS's multi-threaded sgemm gives other bits), LRN, max pooling,
 * and one image alone, whose convolution columns and fc GEMV rows are split
 * into slices and blocks fixed by the shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_cpu.h"
#include "backend_cpu.h"

/* The CPU backend the ops run on (the calling thread's thread count). */
static backend *cpu_be(void)
{
    static backend *be;
    if (!be) assert_int_equal(backend_cpu_create(&be, 0), AN_OK);
    return be;
}


enum { B = 32, THREADS = 3 };

static float *random_floats(size_t n, unsigned seed) /* [n] in [-0.5, 0.5) */
{
    float *p = malloc(n * sizeof *p);
    assert_non_null(p);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        p[i] = (float)(x >> 8) / 16777216.0f - 0.5f;
    }
    return p;
}

static float *floats(size_t n)
{
    float *p = calloc(n, sizeof *p);
    assert_non_null(p);
    return p;
}

static size_t differing(const float *a, const float *b, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) count += memcmp(a + i, b + i, sizeof *a) != 0;
    return count;
}

static void test_conv(void **state)
{
    (void)state;
    const conv_shape s = {B, 10, 27, 27, 26, 5, 1, 2, 2}; /* conv2 at width 0.1 */
    const size_t nin = (size_t)B * 10 * 27 * 27, nout = (size_t)B * 26 * 27 * 27, nw = 26 * 5 * 25;
    float *x = random_floats(nin, 1), *w = random_floats(nw, 2), *bias = random_floats(26, 3);
    float *dy = random_floats(nout, 4);
    float *y[2], *dx[2], *dw[2], *db[2]; /* [0]: 1 thread, [1]: THREADS */
    for (int k = 0; k < 2; k++) {
        y[k] = floats(nout), dx[k] = floats(nin), dw[k] = floats(nw), db[k] = floats(26);
        cpu_threads_set(k ? THREADS : 1);
        assert_int_equal(conv_forward_cpu(cpu_be(), y[k], x, w, bias, &s), AN_OK);
        assert_int_equal(conv_backward_cpu(cpu_be(), dx[k], dw[k], db[k], dy, x, w, &s), AN_OK);
    }
    assert_int_equal(differing(y[0], y[1], nout), 0);
    assert_int_equal(differing(dx[0], dx[1], nin), 0);
    assert_int_equal(differing(db[0], db[1], 26), 0);
    assert_int_equal(differing(dw[0], dw[1], nw), 0);
    for (int k = 0; k < 2; k++) free(y[k]), free(dx[k]), free(dw[k]), free(db[k]);
    free(x), free(w), free(bias), free(dy);
}

static void test_fc(void **state)
{
    (void)state;
    const int in = 936, out = 410; /* fc6 at width 0.1 */
    float *x = random_floats((size_t)B * in, 5), *w = random_floats((size_t)out * in, 6);
    float *bias = random_floats(out, 7), *dy = random_floats((size_t)B * out, 8);
    float *y[2], *dx[2], *dw[2], *db[2];
    for (int k = 0; k < 2; k++) {
        y[k] = floats((size_t)B * out), dx[k] = floats((size_t)B * in), dw[k] = floats((size_t)out * in);
        db[k] = floats(out);
        cpu_threads_set(k ? THREADS : 1);
        fc_forward_cpu(cpu_be(), y[k], x, w, bias, B, in, out);
        fc_backward_cpu(cpu_be(), dx[k], dw[k], db[k], dy, x, w, B, in, out);
    }
    assert_int_equal(differing(y[0], y[1], (size_t)B * out), 0);
    assert_int_equal(differing(dw[0], dw[1], (size_t)out * in), 0);
    assert_int_equal(differing(dx[0], dx[1], (size_t)B * in), 0);
    assert_int_equal(differing(db[0], db[1], (size_t)out), 0);
    for (int k = 0; k < 2; k++) free(y[k]), free(dx[k]), free(dw[k]), free(db[k]);
    free(x), free(w), free(bias), free(dy);
}

static void test_lrn_and_pool(void **state)
{
    (void)state;
    const int c = 10, h = 55, wd = 55; /* conv1's output at width 0.1 */
    const size_t n = (size_t)B * c * h * wd;
    const lrn_params p = lrn_params_paper(LRN_ALPHA_DIVIDED_BY_N);
    const pool_shape ps = {B, c, h, wd, 3, 2, 0};
    const size_t np = (size_t)B * c * 27 * 27;
    float *x = random_floats(n, 9), *dy = random_floats(n, 10), *dpy = random_floats(np, 11);
    float *out[2], *scale[2], *dx[2], *py[2], *pdx[2];
    int32_t *arg[2];
    for (int k = 0; k < 2; k++) {
        out[k] = floats(n), scale[k] = floats(n), dx[k] = floats(n), py[k] = floats(np), pdx[k] = floats(n);
        arg[k] = calloc(np, sizeof(int32_t));
        assert_non_null(arg[k]);
        cpu_threads_set(k ? THREADS : 1);
        lrn_forward_cpu(cpu_be(), out[k], scale[k], x, B, c, h, wd, &p);
        lrn_backward_cpu(cpu_be(), dx[k], dy, x, out[k], scale[k], B, c, h, wd, &p);
        assert_int_equal(maxpool_forward_cpu(cpu_be(), py[k], arg[k], x, &ps), AN_OK);
        assert_int_equal(maxpool_backward_cpu(cpu_be(), pdx[k], dpy, arg[k], &ps), AN_OK);
    }
    assert_int_equal(differing(out[0], out[1], n), 0);
    assert_int_equal(differing(dx[0], dx[1], n), 0);
    assert_int_equal(differing(py[0], py[1], np), 0);
    assert_int_equal(differing(pdx[0], pdx[1], n), 0);
    for (int k = 0; k < 2; k++) free(out[k]), free(scale[k]), free(dx[k]), free(py[k]), free(pdx[k]), free(arg[k]);
    free(x), free(dy), free(dpy);
}

/* One image: the paths that split one GEMM (conv) or GEMV (fc) over the threads. */
static void test_batch_one(void **state)
{
    (void)state;
    const conv_shape s = {1, 10, 27, 27, 26, 5, 1, 2, 2};
    const size_t nin = 10 * 27 * 27, nout = 26 * 27 * 27, nw = 26 * 5 * 25;
    const int in = 936, out = 410;
    float *x = random_floats(nin, 12), *w = random_floats(nw, 13), *bias = random_floats(26, 14);
    float *fx = random_floats((size_t)in, 15), *fw = random_floats((size_t)out * in, 16), *fb = random_floats(out, 17);
    float *y[2], *fy[2];
    for (int k = 0; k < 2; k++) {
        y[k] = floats(nout), fy[k] = floats((size_t)out);
        cpu_threads_set(k ? THREADS : 1);
        assert_int_equal(conv_forward_cpu(cpu_be(), y[k], x, w, bias, &s), AN_OK);
        fc_forward_cpu(cpu_be(), fy[k], fx, fw, fb, 1, in, out);
    }
    printf("one image: conv outputs %zu of %zu, fc outputs %zu of %d differ between 1 and %d threads\n",
           differing(y[0], y[1], nout), nout, differing(fy[0], fy[1], (size_t)out), out, THREADS);
    assert_int_equal(differing(y[0], y[1], nout), 0);
    assert_int_equal(differing(fy[0], fy[1], (size_t)out), 0);
    for (int k = 0; k < 2; k++) free(y[k]), free(fy[k]);
    free(x), free(w), free(bias), free(fx), free(fw), free(fb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv),
        cmocka_unit_test(test_fc),
        cmocka_unit_test(test_lrn_and_pool),
        cmocka_unit_test(test_batch_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
