/* test_ops_cuda.c: every op of ops_cuda.h and train_ops_cuda.h against its
 * CPU twin (kernels/cpu) on fresh random inputs, outputs poisoned with NaN
 * first, tolerance per precision. Exits 77 (skipped) without a CUDA device. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conv_cuda_cache.h"
#include "cuda_memory.h"
#include "gpu_test_util.h"
#include "ops_cpu.h"
#include "ops_cuda.h"
#include "philox.h"
#include "sgd.h"
#include "train_ops_cuda.h"

static float *host_random(size_t n, float lo, float hi, uint32_t stream)
{
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    gpu_test_fill_uniform(x, n, lo, hi, stream);
    return x;
}

/* ---------------------------------------------------------------- conv */

static void check_conv(cuda_precision precision, const conv_shape *s, uint32_t stream)
{
    cuda_context *ctx = gpu_test_context(precision, 0);
    const int ho = conv_out_size(s->in_h, s->kernel, s->stride, s->pad);
    const int wo = conv_out_size(s->in_w, s->kernel, s->stride, s->pad);
    const size_t n_in = (size_t)s->batch * s->in_channels * s->in_h * s->in_w;
    const size_t n_w = (size_t)s->out_channels * (s->in_channels / s->groups) * s->kernel * s->kernel;
    const size_t n_out = (size_t)s->batch * s->out_channels * ho * wo;
    float *in = host_random(n_in, -1.0f, 1.0f, stream);         /* [B, Cin, H, W] */
    float *weight = host_random(n_w, -0.1f, 0.1f, stream + 1);  /* [Cout, Cin/G, K, K] */
    float *bias = host_random((size_t)s->out_channels, -1.0f, 1.0f, stream + 2);
    float *dout = host_random(n_out, -1.0f, 1.0f, stream + 3);  /* [B, Cout, Ho, Wo] */
    float *out = malloc(n_out * sizeof *out), *din = malloc(n_in * sizeof *din);
    float *dw = malloc(n_w * sizeof *dw), *db = malloc((size_t)s->out_channels * sizeof *db);
    size_t ws_floats = conv_workspace_floats(s, cpu_threads_get());
    float *ws = malloc(ws_floats * sizeof *ws);
    assert_true(out && din && dw && db && ws);
    assert_int_equal(conv_forward_cpu(out, in, weight, bias, s, ws, ws_floats), AN_OK);
    assert_int_equal(conv_backward_cpu(din, dw, db, dout, in, weight, s, ws, ws_floats), AN_OK);

    float *d_in = gpu_test_upload(in, n_in), *d_w = gpu_test_upload(weight, n_w);
    float *d_b = gpu_test_upload(bias, (size_t)s->out_channels), *d_dout = gpu_test_upload(dout, n_out);
    float *d_out = gpu_test_poisoned(n_out * sizeof(float)), *d_din = gpu_test_poisoned(n_in * sizeof(float));
    float *d_dw = gpu_test_poisoned(n_w * sizeof(float));
    float *d_db = gpu_test_poisoned((size_t)s->out_channels * sizeof(float));
    assert_int_equal(conv_forward_cuda(ctx, d_out, d_in, d_w, d_b, s), AN_OK);
    assert_int_equal(conv_backward_cuda(ctx, d_din, d_dw, d_db, d_dout, d_in, d_w, s), AN_OK);
    /* The same shape again reuses its plan. */
    assert_int_equal(conv_forward_cuda(ctx, d_out, d_in, d_w, d_b, s), AN_OK);
    assert_int_equal(conv_algo_cache_size(ctx->conv_cache), 1);

    double rtol = gpu_test_rtol(precision);
    gpu_test_expect_close("conv forward", d_out, out, n_out, rtol);
    gpu_test_expect_close("conv backward data", d_din, din, n_in, rtol);
    gpu_test_expect_close("conv backward filter", d_dw, dw, n_w, rtol);
    gpu_test_expect_close("conv backward bias", d_db, db, (size_t)s->out_channels, 1e-4);

    void *device[] = {d_in, d_w, d_b, d_dout, d_out, d_din, d_dw, d_db};
    for (size_t i = 0; i < sizeof device / sizeof device[0]; i++) cuda_free(device[i]);
    free(in), free(weight), free(bias), free(dout), free(out), free(din), free(dw), free(db), free(ws);
    cuda_context_destroy(ctx);
}

/* conv2-like: 5x5, pad 2, two groups (§3.2). */
static const conv_shape grouped = {2, 8, 13, 13, 12, 5, 1, 2, 2};
/* conv1-like: 11x11, stride 4, pad 2. */
static const conv_shape strided = {2, 3, 39, 39, 8, 11, 4, 2, 1};

static void test_conv_fp32(void **state)
{
    (void)state;
    check_conv(CUDA_PRECISION_FP32, &grouped, 10);
    check_conv(CUDA_PRECISION_FP32, &strided, 20);
}

static void test_conv_tf32(void **state)
{
    (void)state;
    check_conv(CUDA_PRECISION_TF32, &grouped, 30);
    check_conv(CUDA_PRECISION_TF32, &strided, 40);
}

static void test_conv_bf16(void **state)
{
    (void)state;
    check_conv(CUDA_PRECISION_BF16, &grouped, 50);
}

/* ---------------------------------------------------------------- fc */

static void check_fc(cuda_precision precision, uint32_t stream)
{
    enum { B = 5, I = 300, O = 70 };
    cuda_context *ctx = gpu_test_context(precision, 0);
    float *in = host_random(B * I, -1.0f, 1.0f, stream), *w = host_random(O * I, -0.1f, 0.1f, stream + 1);
    float *b = host_random(O, -1.0f, 1.0f, stream + 2), *dout = host_random(B * O, -1.0f, 1.0f, stream + 3);
    float out[B * O], din[B * I], dw[O * I], db[O];
    fc_forward_cpu(out, in, w, b, B, I, O);
    fc_backward_cpu(din, dw, db, dout, in, w, B, I, O);
    float *d_in = gpu_test_upload(in, B * I), *d_w = gpu_test_upload(w, O * I), *d_b = gpu_test_upload(b, O);
    float *d_dout = gpu_test_upload(dout, B * O);
    float *d_out = gpu_test_poisoned(sizeof out), *d_din = gpu_test_poisoned(sizeof din);
    float *d_dw = gpu_test_poisoned(sizeof dw), *d_db = gpu_test_poisoned(sizeof db);
    assert_int_equal(fc_forward_cuda(ctx, d_out, d_in, d_w, d_b, B, I, O), AN_OK);
    assert_int_equal(fc_backward_cuda(ctx, d_din, d_dw, d_db, d_dout, d_in, d_w, B, I, O), AN_OK);
    double rtol = gpu_test_rtol(precision);
    gpu_test_expect_close("fc forward", d_out, out, B * O, rtol);
    gpu_test_expect_close("fc backward input", d_din, din, B * I, rtol);
    gpu_test_expect_close("fc backward weight", d_dw, dw, O * I, rtol);
    gpu_test_expect_close("fc backward bias", d_db, db, O, 1e-5);
    void *device[] = {d_in, d_w, d_b, d_dout, d_out, d_din, d_dw, d_db};
    for (size_t i = 0; i < sizeof device / sizeof device[0]; i++) cuda_free(device[i]);
    free(in), free(w), free(b), free(dout);
    cuda_context_destroy(ctx);
}

static void test_fc(void **state)
{
    (void)state;
    check_fc(CUDA_PRECISION_FP32, 100);
    check_fc(CUDA_PRECISION_TF32, 110);
    check_fc(CUDA_PRECISION_BF16, 120);
}

/* ---------------------------------------------------------------- relu, lrn */

static void test_relu(void **state)
{
    cuda_context *ctx = *state;
    enum { N = 10007 };
    float *in = host_random(N, -1.0f, 1.0f, 200), *dout = host_random(N, -1.0f, 1.0f, 201);
    float *out = malloc(N * sizeof *out), *din = malloc(N * sizeof *din);
    in[5] = NAN; /* the CPU maps it to 0; so must the GPU */
    relu_forward_cpu(out, in, N);
    relu_backward_cpu(din, dout, out, N);
    float *d_in = gpu_test_upload(in, N), *d_dout = gpu_test_upload(dout, N);
    float *d_out = gpu_test_poisoned(N * sizeof(float)), *d_din = gpu_test_poisoned(N * sizeof(float));
    assert_int_equal(relu_forward_cuda(ctx, d_out, d_in, N), AN_OK);
    assert_int_equal(relu_backward_cuda(ctx, d_din, d_dout, d_out, N), AN_OK);
    gpu_test_expect_bitwise("relu forward", d_out, out, N * sizeof(float));
    gpu_test_expect_bitwise("relu backward", d_din, din, N * sizeof(float));
    cuda_free(d_in), cuda_free(d_dout), cuda_free(d_out), cuda_free(d_din);
    free(in), free(dout), free(out), free(din);
}

/* tanh (§3.1, --activation tanh): CUDA's tanhf within 2 ulp of glibc's; the
 * backward, given the same forward output, bitwise the CPU's. */
static void test_tanh(void **state)
{
    cuda_context *ctx = *state;
    enum { N = 10007 };
    float *in = host_random(N, -4.0f, 4.0f, 210), *dout = host_random(N, -1.0f, 1.0f, 211);
    float *out = malloc(N * sizeof *out), *din = malloc(N * sizeof *din);
    tanh_forward_cpu(out, in, N);
    tanh_backward_cpu(din, dout, out, N);
    float *d_in = gpu_test_upload(in, N), *d_dout = gpu_test_upload(dout, N), *d_y = gpu_test_upload(out, N);
    float *d_out = gpu_test_poisoned(N * sizeof(float)), *d_din = gpu_test_poisoned(N * sizeof(float));
    assert_int_equal(tanh_forward_cuda(ctx, d_out, d_in, N), AN_OK);
    assert_int_equal(tanh_backward_cuda(ctx, d_din, d_dout, d_y, N), AN_OK);
    gpu_test_expect_close("tanh forward", d_out, out, N, 2.5e-7);
    gpu_test_expect_bitwise("tanh backward", d_din, din, N * sizeof(float));
    cuda_free(d_in), cuda_free(d_dout), cuda_free(d_y), cuda_free(d_out), cuda_free(d_din);
    free(in), free(dout), free(out), free(din);
}

static void check_lrn(cuda_context *ctx, lrn_alpha_convention convention, uint32_t stream)
{
    enum { B = 2, C = 7, H = 5, W = 6, N = B * C * H * W };
    lrn_params p = lrn_params_paper(convention);
    /* Large activations (as after conv1 + ReLU) so the normaliser matters. */
    float *in = host_random(N, 0.0f, 100.0f, stream), *dout = host_random(N, -1.0f, 1.0f, stream + 1);
    float out[N], scale[N], din[N];
    lrn_forward_cpu(out, scale, in, B, C, H, W, &p);
    lrn_backward_cpu(din, dout, in, out, scale, B, C, H, W, &p);
    float *d_in = gpu_test_upload(in, N), *d_dout = gpu_test_upload(dout, N);
    float *d_out = gpu_test_poisoned(sizeof out), *d_din = gpu_test_poisoned(sizeof din);
    assert_int_equal(lrn_forward_cuda(ctx, d_out, NULL, d_in, B, C, H, W, &p), AN_OK);
    assert_int_equal(lrn_backward_cuda(ctx, d_din, d_dout, d_in, d_out, NULL, B, C, H, W, &p), AN_OK);
    const int literal = convention == LRN_ALPHA_LITERAL;
    gpu_test_expect_close(literal ? "lrn forward (literal)" : "lrn forward (/n)", d_out, out, N, 1e-5);
    gpu_test_expect_close(literal ? "lrn backward (literal)" : "lrn backward (/n)", d_din, din, N, 1e-4);
    cuda_free(d_in), cuda_free(d_dout), cuda_free(d_out), cuda_free(d_din);
    free(in), free(dout);
}

static void test_lrn(void **state)
{
    check_lrn(*state, LRN_ALPHA_DIVIDED_BY_N, 300);
    check_lrn(*state, LRN_ALPHA_LITERAL, 310);
}

/* ---------------------------------------------------------------- maxpool */

static void check_pool(cuda_context *ctx, const pool_shape *s, uint32_t stream)
{
    const int ho = pool_out_size(s->in_h, s->size, s->stride, s->ceil_mode);
    const int wo = pool_out_size(s->in_w, s->size, s->stride, s->ceil_mode);
    const size_t n_in = (size_t)s->batch * s->channels * s->in_h * s->in_w;
    const size_t n_out = (size_t)s->batch * s->channels * ho * wo;
    float *in = host_random(n_in, -1.0f, 1.0f, stream), *dout = host_random(n_out, -1.0f, 1.0f, stream + 1);
    /* Ties after ReLU: zero a third of the inputs so the tie rule is exercised. */
    for (size_t i = 0; i < n_in; i += 3) in[i] = 0.0f;
    for (size_t i = 1; i < n_in; i += 3) in[i] = in[i] > 0.0f ? in[i] : 0.0f;
    float *out = malloc(n_out * sizeof *out), *din = malloc(n_in * sizeof *din);
    int32_t *arg = malloc(n_out * sizeof *arg);
    assert_int_equal(maxpool_forward_cpu(out, arg, in, s), AN_OK);
    assert_int_equal(maxpool_backward_cpu(din, dout, arg, s), AN_OK);
    float *d_in = gpu_test_upload(in, n_in), *d_dout = gpu_test_upload(dout, n_out);
    float *d_out = gpu_test_poisoned(n_out * sizeof(float)), *d_din = gpu_test_poisoned(n_in * sizeof(float));
    int32_t *d_arg = gpu_test_poisoned(n_out * sizeof(int32_t));
    assert_int_equal(maxpool_forward_cuda(ctx, d_out, d_arg, d_in, s), AN_OK);
    assert_int_equal(maxpool_backward_cuda(ctx, d_din, d_dout, d_arg, s), AN_OK);
    gpu_test_expect_bitwise("maxpool forward", d_out, out, n_out * sizeof(float));
    gpu_test_expect_bitwise("maxpool argmax", d_arg, arg, n_out * sizeof(int32_t));
    gpu_test_expect_bitwise("maxpool backward", d_din, din, n_in * sizeof(float));
    cuda_free(d_in), cuda_free(d_dout), cuda_free(d_out), cuda_free(d_din), cuda_free(d_arg);
    free(in), free(dout), free(out), free(din), free(arg);
}

static void test_maxpool(void **state)
{
    const pool_shape floor_mode = {2, 3, 13, 13, 3, 2, 0};
    const pool_shape ceil_mode = {2, 3, 14, 12, 3, 2, 1}; /* overhanging last windows */
    check_pool(*state, &floor_mode, 400);
    check_pool(*state, &ceil_mode, 410);
}

/* ---------------------------------------------------------------- dropout */

static void test_dropout(void **state)
{
    cuda_context *ctx = *state;
    enum { B = 3, N = 1027 }; /* N not a multiple of 4: the last Philox block is partial */
    const uint32_t ids[B] = {7, 123456, 42};
    float *in = host_random(B * N, -1.0f, 1.0f, 500), *dout = host_random(B * N, -1.0f, 1.0f, 501);
    float *out = malloc(sizeof(float) * B * N), *din = malloc(sizeof(float) * B * N);
    uint8_t *mask = malloc(B * N);
    dropout_forward_cpu(out, mask, in, B, N, 0.5f, 99, PHILOX_PURPOSE_DROPOUT6, 17, ids);
    dropout_backward_cpu(din, dout, mask, B, N, 0.5f);
    float *d_in = gpu_test_upload(in, B * N), *d_dout = gpu_test_upload(dout, B * N);
    float *d_out = gpu_test_poisoned(sizeof(float) * B * N), *d_din = gpu_test_poisoned(sizeof(float) * B * N);
    uint8_t *d_mask = gpu_test_poisoned(B * N);
    uint32_t *d_ids = NULL;
    assert_int_equal(cuda_malloc((void **)&d_ids, sizeof ids, "ids"), AN_OK);
    assert_int_equal(cuda_copy_to_device(d_ids, ids, sizeof ids), AN_OK);
    assert_int_equal(dropout_forward_cuda(ctx, d_out, d_mask, d_in, B, N, 0.5f, 99, PHILOX_PURPOSE_DROPOUT6, 17,
                                          d_ids), AN_OK);
    assert_int_equal(dropout_backward_cuda(ctx, d_din, d_dout, d_mask, B, N, 0.5f), AN_OK);
    gpu_test_expect_bitwise("dropout mask", d_mask, mask, B * N);
    gpu_test_expect_bitwise("dropout forward", d_out, out, sizeof(float) * B * N);
    gpu_test_expect_bitwise("dropout backward", d_din, din, sizeof(float) * B * N);
    assert_int_equal(dropout_forward_cuda(ctx, d_out, d_mask, d_in, B, N, 1.0f, 99, PHILOX_PURPOSE_DROPOUT6, 17,
                                          d_ids), AN_ERR_ARG);
    cuda_free(d_in), cuda_free(d_dout), cuda_free(d_out), cuda_free(d_din), cuda_free(d_mask), cuda_free(d_ids);
    free(in), free(dout), free(out), free(din), free(mask);
}

/* ---------------------------------------------------------------- softmax + loss */

static void test_softmax_loss(void **state)
{
    cuda_context *ctx = *state;
    enum { B = 4, K = 1000 };
    const int32_t labels[B] = {0, 999, 500, 3};
    float *logits = host_random(B * K, -20.0f, 20.0f, 600);
    float *probs = malloc(sizeof(float) * B * K), *dlogits = malloc(sizeof(float) * B * K);
    double loss = 0.0, gpu_loss = 0.0;
    softmax_forward_cpu(probs, logits, B, K);
    assert_int_equal(softmax_loss_cpu(&loss, probs, labels, B, K), AN_OK);
    assert_int_equal(softmax_loss_backward_cpu(dlogits, probs, labels, B, K, 128.0f), AN_OK);
    float *d_logits = gpu_test_upload(logits, B * K);
    float *d_probs = gpu_test_poisoned(sizeof(float) * B * K), *d_dl = gpu_test_poisoned(sizeof(float) * B * K);
    int32_t *d_labels = NULL;
    assert_int_equal(cuda_malloc((void **)&d_labels, sizeof labels, "labels"), AN_OK);
    assert_int_equal(cuda_copy_to_device(d_labels, labels, sizeof labels), AN_OK);
    assert_int_equal(softmax_forward_cuda(ctx, d_probs, d_logits, B, K), AN_OK);
    assert_int_equal(softmax_loss_cuda(ctx, &gpu_loss, d_probs, d_labels, B, K), AN_OK);
    assert_int_equal(softmax_loss_backward_cuda(ctx, d_dl, d_probs, d_labels, B, K, 128.0f), AN_OK);
    gpu_test_expect_close("softmax", d_probs, probs, B * K, 1e-5);
    gpu_test_expect_close("softmax loss backward", d_dl, dlogits, B * K, 1e-5);
    printf("  loss gpu %.9f cpu %.9f\n", gpu_loss, loss);
    assert_true(fabs(gpu_loss - loss) <= 1e-5 * fabs(loss) + 1e-6);

    /* A label outside [0, K) is refused with a message. */
    const int32_t bad[B] = {0, 1000, 2, 3};
    assert_int_equal(cuda_copy_to_device(d_labels, bad, sizeof bad), AN_OK);
    assert_int_equal(softmax_loss_cuda(ctx, &gpu_loss, d_probs, d_labels, B, K), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "outside [0, 1000)"));
    assert_int_equal(softmax_loss_backward_cuda(ctx, d_dl, d_probs, d_labels, B, K, 128.0f), AN_ERR_ARG);
    cuda_free(d_logits), cuda_free(d_probs), cuda_free(d_dl), cuda_free(d_labels);
    free(logits), free(probs), free(dlogits);
}

/* ---------------------------------------------------------------- sgd, top-k */

static void test_sgd_matches_cpu_bitwise(void **state)
{
    cuda_context *ctx = *state;
    enum { N = 4099 };
    float *w = host_random(N, -0.1f, 0.1f, 700), *v = host_random(N, -0.01f, 0.01f, 701);
    float *grad = host_random(N, -1.0f, 1.0f, 702);
    float *d_w = gpu_test_upload(w, N), *d_v = gpu_test_upload(v, N), *d_g = gpu_test_upload(grad, N);
    for (int step = 0; step < 3; step++) {
        sgd_update(w, v, grad, N, 0.01f, SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY);
        assert_int_equal(sgd_update_cuda(ctx, d_w, d_v, d_g, N, 0.01f, SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY),
                         AN_OK);
    }
    gpu_test_expect_bitwise("sgd weights", d_w, w, N * sizeof(float));
    gpu_test_expect_bitwise("sgd momentum", d_v, v, N * sizeof(float));
    cuda_free(d_w), cuda_free(d_v), cuda_free(d_g);
    free(w), free(v), free(grad);
}

static void test_topk(void **state)
{
    cuda_context *ctx = *state;
    enum { B = 6, K = 1000 };
    float *scores = host_random(B * K, 0.0f, 1.0f, 800);
    int32_t labels[B];
    int expect1 = 0, expect5 = 0;
    for (int b = 0; b < B; b++) {
        labels[b] = (int32_t)((b * 397) % K);
        /* rows 0, 1: the label scores highest; 2, 3: seventh; 4, 5: tied at the top with class 0,
         * which comes first (labels 588 and 985) */
        float *row = scores + (size_t)b * K;
        if (b < 2) row[labels[b]] = 2.0f;
        if (b == 2 || b == 3) {
            row[labels[b]] = 1.5f;
            for (int j = 1; j <= 6; j++) row[(labels[b] + j) % K] = 1.5f + 0.1f * (float)j;
        }
        if (b >= 4) {
            row[labels[b]] = 3.0f;
            row[0] = 3.0f;
        }
        int above = 0;
        for (int k = 0; k < K; k++) above += row[k] > row[labels[b]] || (row[k] == row[labels[b]] && k < labels[b]);
        expect1 += above < 1;
        expect5 += above < 5;
    }
    float *d_scores = gpu_test_upload(scores, B * K);
    int32_t *d_labels = NULL;
    assert_int_equal(cuda_malloc((void **)&d_labels, sizeof labels, "labels"), AN_OK);
    assert_int_equal(cuda_copy_to_device(d_labels, labels, sizeof labels), AN_OK);
    int c1 = -1, c5 = -1;
    assert_int_equal(topk_count_cuda(ctx, &c1, &c5, d_scores, d_labels, B, K), AN_OK);
    assert_int_equal(expect1, 2);
    assert_int_equal(expect5, 4);
    assert_int_equal(c1, expect1);
    assert_int_equal(c5, expect5);
    cuda_free(d_scores), cuda_free(d_labels);
    free(scores);
}

int main(void)
{
    if (!gpu_test_have_device("test_ops_cuda")) return GPU_TEST_SKIP;
    cpu_threads_set(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_fp32),
        cmocka_unit_test(test_conv_tf32),
        cmocka_unit_test(test_conv_bf16),
        cmocka_unit_test(test_fc),
        cmocka_unit_test(test_relu),
        cmocka_unit_test(test_tanh),
        cmocka_unit_test(test_lrn),
        cmocka_unit_test(test_maxpool),
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_softmax_loss),
        cmocka_unit_test(test_sgd_matches_cpu_bitwise),
        cmocka_unit_test(test_topk),
    };
    return cmocka_run_group_tests(tests, gpu_test_setup_context, gpu_test_teardown_context);
}
