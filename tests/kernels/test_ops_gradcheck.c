/* test_ops_gradcheck.c: every op's backward against finite differences of
 * its forward (gradcheck.h explains the method and the error budget), on
 * small shapes that reach the edge cases: grouped, strided and padded
 * convolutions, LRN windows clipped at the first and last channels (odd and
 * even n, both α conventions), pooling windows that overhang the input. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gradcheck.h"
#include "ops_cpu.h"
#include "backend_cpu.h"

/* The CPU backend the ops run on (the calling thread's thread count). */
static backend *cpu_be(void)
{
    static backend *be;
    if (!be) assert_int_equal(backend_cpu_create(&be, 0), AN_OK);
    return be;
}


/* Tolerances justified in gradcheck.h: worst measured errors 1e-4 (linear)
 * and 1e-5 (smooth), both far below 5e-4. */
#define TOL_LINEAR 5e-4
#define TOL_SMOOTH 5e-4
#define H_STEP 1e-2f

static float *alloc_or_fail(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    assert_non_null(p);
    return p;
}

/* ------------------------------------------------------------ conv */

typedef struct conv_ctx {
    conv_shape s;
    float *in, *w, *b, *out;
} conv_ctx;

static void conv_fwd(void *p)
{
    conv_ctx *c = p;
    assert_int_equal(conv_forward_cpu(cpu_be(), c->out, c->in, c->w, c->b, &c->s), AN_OK);
}

static void check_conv(conv_shape s)
{
    conv_ctx c = {.s = s};
    int ho = conv_out_size(s.in_h, s.kernel, s.stride, s.pad);
    int wo = conv_out_size(s.in_w, s.kernel, s.stride, s.pad);
    size_t n_in = (size_t)s.batch * s.in_channels * s.in_h * s.in_w;
    size_t n_w = (size_t)s.out_channels * (s.in_channels / s.groups) * s.kernel * s.kernel;
    size_t n_out = (size_t)s.batch * s.out_channels * ho * wo;
    c.in = alloc_or_fail(n_in);
    c.w = alloc_or_fail(n_w);
    c.b = alloc_or_fail((size_t)s.out_channels);
    c.out = alloc_or_fail(n_out);
    float *probe = alloc_or_fail(n_out), *din = alloc_or_fail(n_in), *dw = alloc_or_fail(n_w);
    float *db = alloc_or_fail((size_t)s.out_channels);
    gradcheck_fill(c.in, n_in, 1, 1.0f);
    gradcheck_fill(c.w, n_w, 2, 0.5f);
    gradcheck_fill(c.b, (size_t)s.out_channels, 3, 1.0f);
    gradcheck_fill(probe, n_out, 4, 1.0f);
    conv_fwd(&c);
    assert_int_equal(conv_backward_cpu(cpu_be(), din, dw, db, probe, c.in, c.w, &s), AN_OK);
    gradcheck_run("conv dinput", c.in, n_in, din, conv_fwd, &c, c.out, probe, n_out, H_STEP, TOL_LINEAR);
    gradcheck_run("conv dweight", c.w, n_w, dw, conv_fwd, &c, c.out, probe, n_out, H_STEP, TOL_LINEAR);
    gradcheck_run("conv dbias", c.b, (size_t)s.out_channels, db, conv_fwd, &c, c.out, probe, n_out,
                  H_STEP, TOL_LINEAR);
    /* dinput = NULL leaves the other gradients as they were */
    float *dw2 = alloc_or_fail(n_w);
    assert_int_equal(conv_backward_cpu(cpu_be(), NULL, dw2, db, probe, c.in, c.w, &s), AN_OK);
    assert_memory_equal(dw, dw2, n_w * sizeof(float));
    free(dw2); free(probe); free(din); free(dw); free(db);
    free(c.in); free(c.w); free(c.b); free(c.out);
}

static void test_conv_grouped_strided_padded(void **state)
{
    (void)state;
    conv_shape s = {.batch = 3, .in_channels = 4, .in_h = 7, .in_w = 6, .out_channels = 6,
                    .kernel = 3, .stride = 2, .pad = 1, .groups = 2};
    check_conv(s);
}

static void test_conv_large_kernel_stride4(void **state)
{
    (void)state;
    /* conv1's geometry in small: 11x11 stride 4 pad 2 */
    conv_shape s = {.batch = 2, .in_channels = 3, .in_h = 15, .in_w = 15, .out_channels = 2,
                    .kernel = 11, .stride = 4, .pad = 2, .groups = 1};
    check_conv(s);
}

static void test_conv_5x5_pad2_groups(void **state)
{
    (void)state;
    conv_shape s = {.batch = 2, .in_channels = 6, .in_h = 5, .in_w = 5, .out_channels = 4,
                    .kernel = 5, .stride = 1, .pad = 2, .groups = 2};
    check_conv(s);
}

static void test_conv_bad_shapes(void **state)
{
    (void)state;
    conv_shape s = {.batch = 1, .in_channels = 3, .in_h = 5, .in_w = 5, .out_channels = 4,
                    .kernel = 3, .stride = 1, .pad = 0, .groups = 2};
    assert_int_equal(conv_shape_check(&s), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "groups"));
    s.groups = 1;
    s.kernel = 9;
    assert_int_equal(conv_shape_check(&s), AN_ERR_ARG);
    s.kernel = 3;
    s.groups = 2; /* the op itself refuses the shape, before it touches a buffer */
    float dummy[4] = {0};
    assert_int_equal(conv_forward_cpu(cpu_be(), dummy, dummy, dummy, dummy, &s), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "groups"));
}

/* ------------------------------------------------------------ fc */

typedef struct fc_ctx {
    int b, i, o;
    float *in, *w, *bias, *out;
} fc_ctx;

static void fc_fwd(void *p)
{
    fc_ctx *c = p;
    fc_forward_cpu(cpu_be(), c->out, c->in, c->w, c->bias, c->b, c->i, c->o);
}

static void test_fc(void **state)
{
    (void)state;
    fc_ctx c = {.b = 3, .i = 7, .o = 5};
    size_t n_in = 21, n_w = 35, n_out = 15;
    c.in = alloc_or_fail(n_in); c.w = alloc_or_fail(n_w); c.bias = alloc_or_fail(5);
    c.out = alloc_or_fail(n_out);
    float *probe = alloc_or_fail(n_out), *din = alloc_or_fail(n_in), *dw = alloc_or_fail(n_w);
    float *db = alloc_or_fail(5);
    gradcheck_fill(c.in, n_in, 11, 1.0f);
    gradcheck_fill(c.w, n_w, 12, 1.0f);
    gradcheck_fill(c.bias, 5, 13, 1.0f);
    gradcheck_fill(probe, n_out, 14, 1.0f);
    fc_fwd(&c);
    fc_backward_cpu(cpu_be(), din, dw, db, probe, c.in, c.w, c.b, c.i, c.o);
    gradcheck_run("fc dinput", c.in, n_in, din, fc_fwd, &c, c.out, probe, n_out, H_STEP, TOL_LINEAR);
    gradcheck_run("fc dweight", c.w, n_w, dw, fc_fwd, &c, c.out, probe, n_out, H_STEP, TOL_LINEAR);
    gradcheck_run("fc dbias", c.bias, 5, db, fc_fwd, &c, c.out, probe, n_out, H_STEP, TOL_LINEAR);
    free(probe); free(din); free(dw); free(db);
    free(c.in); free(c.w); free(c.bias); free(c.out);
}

/* ------------------------------------------------------------ relu */

typedef struct relu_ctx { float *in, *out; size_t n; } relu_ctx;

static void relu_fwd(void *p)
{
    relu_ctx *c = p;
    relu_forward_cpu(cpu_be(), c->out, c->in, c->n);
}

static void test_relu(void **state)
{
    (void)state;
    relu_ctx c = {.n = 40};
    c.in = alloc_or_fail(c.n); c.out = alloc_or_fail(c.n);
    float *probe = alloc_or_fail(c.n), *din = alloc_or_fail(c.n);
    /* values at least 0.05 away from the kink, so ±h never crosses it */
    for (size_t i = 0; i < c.n; i++) {
        float v = gradcheck_value(21, (uint32_t)i);
        c.in[i] = v >= 0 ? v + 0.05f : v - 0.05f;
    }
    gradcheck_fill(probe, c.n, 22, 1.0f);
    relu_fwd(&c);
    relu_backward_cpu(cpu_be(), din, probe, c.out, c.n);
    gradcheck_run("relu dinput", c.in, c.n, din, relu_fwd, &c, c.out, probe, c.n, H_STEP, TOL_LINEAR);
    free(probe); free(din); free(c.in); free(c.out);
}

/* ------------------------------------------------------------ tanh (§3.1) */

static void tanh_fwd(void *p)
{
    relu_ctx *c = p;
    tanh_forward_cpu(cpu_be(), c->out, c->in, c->n);
}

/* tanh is smooth: inputs over [-3, 3), through the saturated tails. */
static void test_tanh(void **state)
{
    (void)state;
    relu_ctx c = {.n = 40};
    c.in = alloc_or_fail(c.n); c.out = alloc_or_fail(c.n);
    float *probe = alloc_or_fail(c.n), *din = alloc_or_fail(c.n);
    gradcheck_fill(c.in, c.n, 23, 3.0f);
    gradcheck_fill(probe, c.n, 24, 1.0f);
    tanh_fwd(&c);
    tanh_backward_cpu(cpu_be(), din, probe, c.out, c.n);
    gradcheck_run("tanh dinput", c.in, c.n, din, tanh_fwd, &c, c.out, probe, c.n, H_STEP, TOL_SMOOTH);
    /* in place, as the network calls it */
    float *inplace = alloc_or_fail(c.n);
    memcpy(inplace, probe, c.n * sizeof(float));
    tanh_backward_cpu(cpu_be(), inplace, inplace, c.out, c.n);
    assert_memory_equal(inplace, din, c.n * sizeof(float));
    free(inplace); free(probe); free(din); free(c.in); free(c.out);
}

/* ------------------------------------------------------------ lrn */

typedef struct lrn_ctx {
    int b, ch, h, w;
    lrn_params p;
    float *in, *out, *scale;
} lrn_ctx;

static void lrn_fwd(void *p)
{
    lrn_ctx *c = p;
    lrn_forward_cpu(cpu_be(), c->out, c->scale, c->in, c->b, c->ch, c->h, c->w, &c->p);
}

static void check_lrn(int n, lrn_alpha_convention conv, float alpha)
{
    /* α large enough that the normaliser is far from constant: otherwise the
     * second term of the gradient would be too small to be checked */
    lrn_ctx c = {.b = 2, .ch = 7, .h = 2, .w = 3,
                 .p = {.k = 2.0f, .n = n, .alpha = alpha, .beta = 0.75f, .convention = conv}};
    size_t total = (size_t)c.b * c.ch * c.h * c.w;
    c.in = alloc_or_fail(total); c.out = alloc_or_fail(total); c.scale = alloc_or_fail(total);
    float *probe = alloc_or_fail(total), *din = alloc_or_fail(total);
    gradcheck_fill(c.in, total, 31, 2.0f);
    gradcheck_fill(probe, total, 32, 1.0f);
    lrn_fwd(&c);
    lrn_backward_cpu(cpu_be(), din, probe, c.in, c.out, c.scale, c.b, c.ch, c.h, c.w, &c.p);
    gradcheck_run("lrn dinput", c.in, total, din, lrn_fwd, &c, c.out, probe, total, H_STEP, TOL_SMOOTH);
    free(probe); free(din); free(c.in); free(c.out); free(c.scale);
}

static void test_lrn_edges(void **state)
{
    (void)state;
    check_lrn(5, LRN_ALPHA_DIVIDED_BY_N, 2.5f);
    check_lrn(5, LRN_ALPHA_LITERAL, 0.5f);
    check_lrn(3, LRN_ALPHA_DIVIDED_BY_N, 1.5f);
    check_lrn(4, LRN_ALPHA_LITERAL, 0.5f); /* even n: asymmetric window */
    check_lrn(9, LRN_ALPHA_DIVIDED_BY_N, 3.0f); /* window wider than the channels */
}

/* ------------------------------------------------------------ maxpool */

typedef struct pool_ctx { pool_shape s; float *in, *out; int32_t *am; } pool_ctx;

static void pool_fwd(void *p)
{
    pool_ctx *c = p;
    assert_int_equal(maxpool_forward_cpu(cpu_be(), c->out, c->am, c->in, &c->s), AN_OK);
}

static void check_pool(pool_shape s)
{
    pool_ctx c = {.s = s};
    int ho = pool_out_size(s.in_h, s.size, s.stride, s.ceil_mode);
    int wo = pool_out_size(s.in_w, s.size, s.stride, s.ceil_mode);
    size_t n_in = (size_t)s.batch * s.channels * s.in_h * s.in_w;
    size_t n_out = (size_t)s.batch * s.channels * ho * wo;
    c.in = alloc_or_fail(n_in); c.out = alloc_or_fail(n_out);
    c.am = calloc(n_out, sizeof(int32_t));
    assert_non_null(c.am);
    float *probe = alloc_or_fail(n_out), *din = alloc_or_fail(n_in);
    /* distinct values 0.1 apart (a permutation), so ±h never changes a winner */
    for (size_t i = 0; i < n_in; i++) c.in[i] = 0.1f * (float)((i * 37) % n_in);
    gradcheck_fill(probe, n_out, 41, 1.0f);
    pool_fwd(&c);
    assert_int_equal(maxpool_backward_cpu(cpu_be(), din, probe, c.am, &s), AN_OK);
    gradcheck_run("maxpool dinput", c.in, n_in, din, pool_fwd, &c, c.out, probe, n_out, H_STEP,
                  TOL_LINEAR);
    free(probe); free(din); free(c.in); free(c.out); free(c.am);
}

static void test_maxpool_overhang(void **state)
{
    (void)state;
    pool_shape floor_mode = {.batch = 2, .channels = 3, .in_h = 7, .in_w = 8, .size = 3,
                             .stride = 2, .ceil_mode = 0};
    check_pool(floor_mode);
    pool_shape overhang = floor_mode;
    overhang.ceil_mode = 1; /* 8 wide: the last window hangs one column over the edge */
    assert_int_equal(pool_out_size(8, 3, 2, 1), 4);
    assert_int_equal(pool_out_size(8, 3, 2, 0), 3);
    check_pool(overhang);
}

/* §3.4's "traditional" pooling, --pool plain: 2x2 windows, stride 2, on odd
 * sizes as in the network (55 -> 27: the last row and column are not read). */
static void test_maxpool_plain(void **state)
{
    (void)state;
    assert_int_equal(pool_out_size(55, 2, 2, 0), 27);
    assert_int_equal(pool_out_size(27, 2, 2, 0), 13);
    assert_int_equal(pool_out_size(13, 2, 2, 0), 6);
    pool_shape plain = {.batch = 2, .channels = 3, .in_h = 7, .in_w = 9, .size = 2, .stride = 2, .ceil_mode = 0};
    check_pool(plain);
}

/* ------------------------------------------------------------ softmax + loss */

typedef struct softmax_ctx { int b, k; float *logits, *probs; int32_t *labels; float loss; } softmax_ctx;

static void softmax_fwd(void *p)
{
    softmax_ctx *c = p;
    double loss;
    softmax_forward_cpu(cpu_be(), c->probs, c->logits, c->b, c->k);
    assert_int_equal(softmax_loss_cpu(cpu_be(), &loss, c->probs, c->labels, c->b, c->k), AN_OK);
    c->loss = (float)loss;
}

static void test_softmax_loss(void **state)
{
    (void)state;
    softmax_ctx c = {.b = 4, .k = 6};
    int32_t labels[4] = {0, 5, 2, 2};
    c.labels = labels;
    size_t n = 24;
    c.logits = alloc_or_fail(n); c.probs = alloc_or_fail(n);
    float *dlogits = alloc_or_fail(n), one = 1.0f;
    gradcheck_fill(c.logits, n, 51, 3.0f);
    softmax_fwd(&c);
    /* normalizer = batch: the gradient of the batch-mean loss */
    assert_int_equal(softmax_loss_backward_cpu(cpu_be(), dlogits, c.probs, labels, c.b, c.k, (float)c.b), AN_OK);
    gradcheck_run("softmax loss dlogits", c.logits, n, dlogits, softmax_fwd, &c, &c.loss, &one, 1,
                  H_STEP, TOL_SMOOTH);
    labels[1] = 6;
    double loss;
    assert_int_equal(softmax_loss_cpu(cpu_be(), &loss, c.probs, labels, c.b, c.k), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "label 6"));
    free(dlogits); free(c.logits); free(c.probs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_grouped_strided_padded),
        cmocka_unit_test(test_conv_large_kernel_stride4),
        cmocka_unit_test(test_conv_5x5_pad2_groups),
        cmocka_unit_test(test_conv_bad_shapes),
        cmocka_unit_test(test_fc),
        cmocka_unit_test(test_relu),
        cmocka_unit_test(test_tanh),
        cmocka_unit_test(test_lrn_edges),
        cmocka_unit_test(test_maxpool_overhang),
        cmocka_unit_test(test_maxpool_plain),
        cmocka_unit_test(test_softmax_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
