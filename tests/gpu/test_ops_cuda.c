/* test_ops_cuda.c: every op of ops_cuda.h, the sgd and top-k ops
 * included, against its CPU twin (kernels/cpu/ops_cpu.h) on fresh
 * random inputs, outputs poisoned with NaN first. Convolutions in every
 * precision and in both cuDNN modes (normal: timed search; deterministic:
 * the mode train and eval use); batch 0; NaN rules (ReLU, softmax, loss,
 * top-k); the labels contract. Tolerances: gpu_test_rtol per precision
 * (derived in gpu_test_util.c), bitwise where the twins compute the same
 * float operations (docs/cuda.md). Exits 77 (skipped) without a CUDA device.
 * Buffers: each d_<name> is the device twin of the host buffer <name>, with
 * the shape written beside <name>. */
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
#include "backend_cpu.h"

/* The CPU backend the CPU twins run on (the calling thread's thread count). */
static backend *cpu_be(void)
{
    static backend *be;
    if (!be) assert_int_equal(backend_cpu_create(&be, 0), AN_OK);
    return be;
}


/* ---------------------------------------------------------------- conv */

static void check_conv(backend_precision precision, int deterministic, const conv_shape *s, uint32_t stream)
{
    printf(" conv %s %s, %d -> %d channels, %dx%d/%d, groups %d\n", backend_precision_name(precision),
           deterministic ? "deterministic" : "normal", s->in_channels, s->out_channels, s->kernel, s->kernel,
           s->stride, s->groups);
    cuda_context *ctx = gpu_test_context(precision, deterministic);
    const int ho = conv_out_size(s->in_h, s->kernel, s->stride, s->pad);
    const int wo = conv_out_size(s->in_w, s->kernel, s->stride, s->pad);
    const size_t n_in = (size_t)s->batch * s->in_channels * s->in_h * s->in_w;
    const size_t n_w = (size_t)s->out_channels * (s->in_channels / s->groups) * s->kernel * s->kernel;
    const size_t n_out = (size_t)s->batch * s->out_channels * ho * wo;
    const size_t n_b = (size_t)s->out_channels;
    float *in = gpu_test_random(n_in, -1.0f, 1.0f, stream);         /* [B, Cin, H, W] */
    float *weight = gpu_test_random(n_w, -0.1f, 0.1f, stream + 1);  /* [Cout, Cin/G, K, K] */
    float *bias = gpu_test_random(n_b, -1.0f, 1.0f, stream + 2);    /* [Cout] */
    float *dout = gpu_test_random(n_out, -1.0f, 1.0f, stream + 3);  /* [B, Cout, Ho, Wo] */
    float *out = malloc(n_out * sizeof *out), *din = malloc(n_in * sizeof *din); /* as above */
    float *dw = malloc(n_w * sizeof *dw), *db = malloc(n_b * sizeof *db);       /* as above */
    assert_true(out && din && dw && db);
    assert_int_equal(conv_forward_cpu(cpu_be(), out, in, weight, bias, s), AN_OK);
    assert_int_equal(conv_backward_cpu(cpu_be(), din, dw, db, dout, in, weight, s), AN_OK);

    float *d_in = gpu_test_upload(ctx, in, n_in), *d_w = gpu_test_upload(ctx, weight, n_w);
    float *d_b = gpu_test_upload(ctx, bias, n_b), *d_dout = gpu_test_upload(ctx, dout, n_out);
    float *d_out = gpu_test_poisoned(ctx, n_out * sizeof(float)), *d_din = gpu_test_poisoned(ctx, n_in * sizeof(float));
    float *d_dw = gpu_test_poisoned(ctx, n_w * sizeof(float)), *d_db = gpu_test_poisoned(ctx, n_b * sizeof(float));
    assert_int_equal(conv_forward_cuda(gpu_test_backend(ctx), d_out, d_in, d_w, d_b, s), AN_OK);
    assert_int_equal(conv_backward_cuda(gpu_test_backend(ctx), d_din, d_dw, d_db, d_dout, d_in, d_w, s), AN_OK);
    /* The same shape again reuses its plan. */
    assert_int_equal(conv_forward_cuda(gpu_test_backend(ctx), d_out, d_in, d_w, d_b, s), AN_OK);
    assert_int_equal(conv_algo_cache_size(ctx->conv_cache), 1);

    double rtol = gpu_test_rtol(precision);
    gpu_test_expect_close(ctx, "conv forward", d_out, out, n_out, rtol);
    gpu_test_expect_close(ctx, "conv backward data", d_din, din, n_in, rtol);
    gpu_test_expect_close(ctx, "conv backward filter", d_dw, dw, n_w, rtol);
    gpu_test_expect_close(ctx, "conv backward bias", d_db, db, n_b, rtol);

    /* Without dinput (conv1 in the network): dweight and dbias alone, dinput's buffer untouched. */
    assert_int_equal(cuda_poison(ctx, d_dw, n_w * sizeof(float)), AN_OK);
    assert_int_equal(cuda_poison(ctx, d_din, n_in * sizeof(float)), AN_OK);
    assert_int_equal(conv_backward_cuda(gpu_test_backend(ctx), NULL, d_dw, d_db, d_dout, d_in, d_w, s), AN_OK);
    gpu_test_expect_close(ctx, "conv backward filter (no dinput)", d_dw, dw, n_w, rtol);
    float *untouched = gpu_test_download(ctx, d_din, n_in); /* [B, Cin, H, W] */
    for (size_t i = 0; i < n_in; i++) assert_true(isnan(untouched[i]));
    free(untouched);

    void *device[] = {d_in, d_w, d_b, d_dout, d_out, d_din, d_dw, d_db};
    for (size_t i = 0; i < sizeof device / sizeof device[0]; i++) cuda_free(device[i]);
    free(in), free(weight), free(bias), free(dout), free(out), free(din), free(dw), free(db);
    gpu_test_context_destroy(ctx);
}

/* conv2-like: 5x5, pad 2, two groups (§3.2). */
static const conv_shape grouped = {2, 8, 13, 13, 12, 5, 1, 2, 2};
/* conv1-like: 11x11, stride 4, pad 2. */
static const conv_shape strided = {2, 3, 39, 39, 8, 11, 4, 2, 1};
/* conv3-like: 3x3, pad 1, wide enough that cuDNN's algorithms differ. */
static const conv_shape wide = {2, 64, 13, 13, 96, 3, 1, 1, 1};

/* fp32 in both modes: deterministic mode restricts cuDNN to other
 * algorithms, and those are what training and scoring run. */
static void test_conv_fp32_both_modes(void **state)
{
    (void)state;
    for (int det = 0; det <= 1; det++) {
        check_conv(BACKEND_PRECISION_FP32, det, &grouped, 10);
        check_conv(BACKEND_PRECISION_FP32, det, &strided, 20);
        check_conv(BACKEND_PRECISION_FP32, det, &wide, 30);
    }
    check_conv(BACKEND_PRECISION_FP32_PEDANTIC, 1, &grouped, 40);
}

static void test_conv_tf32_bf16(void **state)
{
    (void)state;
    for (int det = 0; det <= 1; det++) {
        check_conv(BACKEND_PRECISION_TF32, det, &grouped, 50);
        check_conv(BACKEND_PRECISION_TF32, det, &strided, 60);
        /* bf16 convolutions: bf16 copies of the tensors, float accumulation (conv_cuda.c) */
        check_conv(BACKEND_PRECISION_BF16, det, &grouped, 70);
        check_conv(BACKEND_PRECISION_BF16, det, &strided, 80);
    }
}

/* Batch 0 (which conv_shape_check accepts): forward writes nothing, backward
 * zeroes dweight and dbias (the gradient of an empty batch). */
static void test_conv_batch_zero(void **state)
{
    cuda_context *ctx = *state;
    conv_shape s = grouped;
    s.batch = 0;
    const size_t n_w = (size_t)s.out_channels * (s.in_channels / s.groups) * s.kernel * s.kernel;
    float *d_w = gpu_test_poisoned(ctx, n_w * sizeof(float)), *d_dw = gpu_test_poisoned(ctx, n_w * sizeof(float));
    float *d_db = gpu_test_poisoned(ctx, (size_t)s.out_channels * sizeof(float));
    float *d_any = gpu_test_poisoned(ctx, sizeof(float)); /* [1] stands for the empty tensors */
    assert_int_equal(conv_forward_cuda(gpu_test_backend(ctx), d_any, d_any, d_w, d_db, &s), AN_OK);
    assert_int_equal(conv_backward_cuda(gpu_test_backend(ctx), NULL, d_dw, d_db, d_any, d_any, d_w, &s), AN_OK);
    /* [Cout, Cin/G, K, K], [Cout] */
    float *dw = gpu_test_download(ctx, d_dw, n_w), *db = gpu_test_download(ctx, d_db, (size_t)s.out_channels);
    for (size_t i = 0; i < n_w; i++) assert_true(dw[i] == 0.0f);
    for (int i = 0; i < s.out_channels; i++) assert_true(db[i] == 0.0f);
    free(dw), free(db);
    cuda_free(d_w), cuda_free(d_dw), cuda_free(d_db), cuda_free(d_any);
}

/* ---------------------------------------------------------------- fc */

static void check_fc(backend_precision precision, uint32_t stream)
{
    enum { B = 5, I = 300, O = 70 };
    printf(" fc %s\n", backend_precision_name(precision));
    cuda_context *ctx = gpu_test_context(precision, 0);
    /* [B, I], [O, I] */
    float *in = gpu_test_random(B * I, -1.0f, 1.0f, stream), *w = gpu_test_random(O * I, -0.1f, 0.1f, stream + 1);
    /* [O], [B, O] */
    float *b = gpu_test_random(O, -1.0f, 1.0f, stream + 2), *dout = gpu_test_random(B * O, -1.0f, 1.0f, stream + 3);
    static float out[B * O], din[B * I], dw[O * I], db[O]; /* [B, O], [B, I], [O, I], [O] */
    fc_forward_cpu(cpu_be(), out, in, w, b, B, I, O);
    fc_backward_cpu(cpu_be(), din, dw, db, dout, in, w, B, I, O);
    float *d_in = gpu_test_upload(ctx, in, B * I), *d_w = gpu_test_upload(ctx, w, O * I);
    float *d_b = gpu_test_upload(ctx, b, O), *d_dout = gpu_test_upload(ctx, dout, B * O);
    float *d_out = gpu_test_poisoned(ctx, sizeof out), *d_din = gpu_test_poisoned(ctx, sizeof din);
    float *d_dw = gpu_test_poisoned(ctx, sizeof dw), *d_db = gpu_test_poisoned(ctx, sizeof db);
    assert_int_equal(fc_forward_cuda(gpu_test_backend(ctx), d_out, d_in, d_w, d_b, B, I, O), AN_OK);
    assert_int_equal(fc_backward_cuda(gpu_test_backend(ctx), d_din, d_dw, d_db, d_dout, d_in, d_w, B, I, O), AN_OK);
    double rtol = gpu_test_rtol(precision);
    gpu_test_expect_close(ctx, "fc forward", d_out, out, B * O, rtol);
    gpu_test_expect_close(ctx, "fc backward input", d_din, din, B * I, rtol);
    gpu_test_expect_close(ctx, "fc backward weight", d_dw, dw, O * I, rtol);
    /* the bias gradient: 5 rows in [-1, 1] summed in float, at most 4 roundings of partial sums
     * <= 5 on each side, 2 x 4 x 2^-24 x 5 = 2.4e-6 apart at worst, against 1e-5 x 0.1 max|db|
     * (max|db| about 3 for 70 sums of 5 uniform terms) */
    gpu_test_expect_close(ctx, "fc backward bias", d_db, db, O, 1e-5);
    /* batch 0: nothing to sum, dweight and dbias are zero */
    assert_int_equal(fc_backward_cuda(gpu_test_backend(ctx), NULL, d_dw, d_db, d_dout, d_in, d_w, 0, I, O), AN_OK);
    float *dw0 = gpu_test_download(ctx, d_dw, O * I); /* [O, I] */
    for (int i = 0; i < O * I; i++) assert_true(dw0[i] == 0.0f);
    free(dw0);
    void *device[] = {d_in, d_w, d_b, d_dout, d_out, d_din, d_dw, d_db};
    for (size_t i = 0; i < sizeof device / sizeof device[0]; i++) cuda_free(device[i]);
    free(in), free(w), free(b), free(dout);
    gpu_test_context_destroy(ctx);
}

static void test_fc(void **state)
{
    (void)state;
    check_fc(BACKEND_PRECISION_FP32, 100);
    check_fc(BACKEND_PRECISION_FP32_PEDANTIC, 105);
    check_fc(BACKEND_PRECISION_TF32, 110);
    check_fc(BACKEND_PRECISION_BF16, 120);
}

/* ---------------------------------------------------------------- relu, lrn */

static void test_relu(void **state)
{
    cuda_context *ctx = *state;
    enum { N = 10007 };
    float *in = gpu_test_random(N, -1.0f, 1.0f, 200), *dout = gpu_test_random(N, -1.0f, 1.0f, 201); /* [N] each */
    float *out = malloc(N * sizeof *out), *din = malloc(N * sizeof *din); /* [N] each */
    in[5] = NAN; /* the CPU maps it to 0; so must the GPU */
    in[6] = 0.0f;
    in[7] = -0.0f;
    relu_forward_cpu(cpu_be(), out, in, N);
    relu_backward_cpu(cpu_be(), din, dout, out, N);
    float *d_in = gpu_test_upload(ctx, in, N), *d_dout = gpu_test_upload(ctx, dout, N);
    float *d_out = gpu_test_poisoned(ctx, N * sizeof(float)), *d_din = gpu_test_poisoned(ctx, N * sizeof(float));
    assert_int_equal(relu_forward_cuda(gpu_test_backend(ctx), d_out, d_in, N), AN_OK);
    assert_int_equal(relu_backward_cuda(gpu_test_backend(ctx), d_din, d_dout, d_out, N), AN_OK);
    gpu_test_expect_bitwise(ctx, "relu forward", d_out, out, N * sizeof(float));
    gpu_test_expect_bitwise(ctx, "relu backward", d_din, din, N * sizeof(float));
    /* in place, as the network calls it */
    assert_int_equal(relu_forward_cuda(gpu_test_backend(ctx), d_in, d_in, N), AN_OK);
    gpu_test_expect_bitwise(ctx, "relu forward in place", d_in, out, N * sizeof(float));
    cuda_free(d_in), cuda_free(d_dout), cuda_free(d_out), cuda_free(d_din);
    free(in), free(dout), free(out), free(din);
}

/* tanh (§3.1, --activation tanh): CUDA's tanhf within 2 ulp of glibc's; the
 * backward, given the same forward output, bitwise the CPU's. */
static void test_tanh(void **state)
{
    cuda_context *ctx = *state;
    enum { N = 10007 };
    float *in = gpu_test_random(N, -4.0f, 4.0f, 210), *dout = gpu_test_random(N, -1.0f, 1.0f, 211); /* [N] each */
    float *out = malloc(N * sizeof *out), *din = malloc(N * sizeof *din); /* [N] each */
    tanh_forward_cpu(cpu_be(), out, in, N);
    tanh_backward_cpu(cpu_be(), din, dout, out, N);
    float *d_in = gpu_test_upload(ctx, in, N), *d_dout = gpu_test_upload(ctx, dout, N);
    float *d_y = gpu_test_upload(ctx, out, N); /* the CPU's forward output, so the backward is compared alone */
    float *d_out = gpu_test_poisoned(ctx, N * sizeof(float)), *d_din = gpu_test_poisoned(ctx, N * sizeof(float));
    assert_int_equal(tanh_forward_cuda(gpu_test_backend(ctx), d_out, d_in, N), AN_OK);
    assert_int_equal(tanh_backward_cuda(gpu_test_backend(ctx), d_din, d_dout, d_y, N), AN_OK);
    gpu_test_expect_close(ctx, "tanh forward", d_out, out, N, 2.5e-7);
    gpu_test_expect_bitwise(ctx, "tanh backward", d_din, din, N * sizeof(float));
    /* in place, as the network calls it */
    assert_int_equal(tanh_backward_cuda(gpu_test_backend(ctx), d_dout, d_dout, d_y, N), AN_OK);
    gpu_test_expect_bitwise(ctx, "tanh backward in place", d_dout, din, N * sizeof(float));
    cuda_free(d_in), cuda_free(d_dout), cuda_free(d_y), cuda_free(d_out), cuda_free(d_din);
    free(in), free(dout), free(out), free(din);
}

static void check_lrn(cuda_context *ctx, lrn_alpha_convention convention, uint32_t stream)
{
    enum { B = 2, C = 7, H = 5, W = 6, N = B * C * H * W };
    lrn_params p = lrn_params_paper(convention);
    /* Large activations (as after conv1 + ReLU) so the normaliser matters. */
    /* [B, C, H, W] */
    float *in = gpu_test_random(N, 0.0f, 100.0f, stream), *dout = gpu_test_random(N, -1.0f, 1.0f, stream + 1);
    float out[N], scale[N], din[N]; /* [B, C, H, W] each */
    lrn_forward_cpu(cpu_be(), out, scale, in, B, C, H, W, &p);
    lrn_backward_cpu(cpu_be(), din, dout, in, out, scale, B, C, H, W, &p);
    float *d_in = gpu_test_upload(ctx, in, N), *d_dout = gpu_test_upload(ctx, dout, N);
    float *d_out = gpu_test_poisoned(ctx, sizeof out), *d_din = gpu_test_poisoned(ctx, sizeof din);
    assert_int_equal(lrn_forward_cuda(gpu_test_backend(ctx), d_out, NULL, d_in, B, C, H, W, &p), AN_OK);
    assert_int_equal(lrn_backward_cuda(gpu_test_backend(ctx), d_din, d_dout, d_in, d_out, NULL, B, C, H, W, &p), AN_OK);
    const int literal = convention == LRN_ALPHA_LITERAL;
    gpu_test_expect_close(ctx, literal ? "lrn forward (literal)" : "lrn forward (/n)", d_out, out, N, 1e-5);
    gpu_test_expect_close(ctx, literal ? "lrn backward (literal)" : "lrn backward (/n)", d_din, din, N, 1e-4);
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
    /* [B, C, H, W], [B, C, Ho, Wo] */
    float *in = gpu_test_random(n_in, -1.0f, 1.0f, stream), *dout = gpu_test_random(n_out, -1.0f, 1.0f, stream + 1);
    /* Ties after ReLU: zero a third of the inputs so the tie rule is exercised; one NaN propagates. */
    for (size_t i = 0; i < n_in; i += 3) in[i] = 0.0f;
    for (size_t i = 1; i < n_in; i += 3) in[i] = in[i] > 0.0f ? in[i] : 0.0f;
    in[n_in / 2] = NAN;
    float *out = malloc(n_out * sizeof *out), *din = malloc(n_in * sizeof *din); /* [B, C, Ho, Wo], [B, C, H, W] */
    int32_t *arg = malloc(n_out * sizeof *arg);                                   /* [B, C, Ho, Wo] */
    assert_int_equal(maxpool_forward_cpu(cpu_be(), out, arg, in, s), AN_OK);
    assert_int_equal(maxpool_backward_cpu(cpu_be(), din, dout, arg, s), AN_OK);
    float *d_in = gpu_test_upload(ctx, in, n_in), *d_dout = gpu_test_upload(ctx, dout, n_out);
    float *d_out = gpu_test_poisoned(ctx, n_out * sizeof(float)), *d_din = gpu_test_poisoned(ctx, n_in * sizeof(float));
    int32_t *d_arg = gpu_test_poisoned(ctx, n_out * sizeof(int32_t));
    assert_int_equal(maxpool_forward_cuda(gpu_test_backend(ctx), d_out, d_arg, d_in, s), AN_OK);
    assert_int_equal(maxpool_backward_cuda(gpu_test_backend(ctx), d_din, d_dout, d_arg, s), AN_OK);
    gpu_test_expect_bitwise(ctx, "maxpool forward", d_out, out, n_out * sizeof(float));
    gpu_test_expect_bitwise(ctx, "maxpool argmax", d_arg, arg, n_out * sizeof(int32_t));
    gpu_test_expect_bitwise(ctx, "maxpool backward", d_din, din, n_in * sizeof(float));
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
    /* [B, N] each */
    float *in = gpu_test_random(B * N, -1.0f, 1.0f, 500), *dout = gpu_test_random(B * N, -1.0f, 1.0f, 501);
    float *out = malloc(sizeof(float) * B * N), *din = malloc(sizeof(float) * B * N); /* [B, N] each */
    uint8_t *mask = malloc(B * N);                                                     /* [B, N] */
    dropout_forward_cpu(cpu_be(), out, mask, in, B, N, 0.5f, 99, PHILOX_PURPOSE_DROPOUT6, 17, ids);
    dropout_backward_cpu(cpu_be(), din, dout, mask, B, N, 0.5f);
    float *d_in = gpu_test_upload(ctx, in, B * N), *d_dout = gpu_test_upload(ctx, dout, B * N);
    float *d_out = gpu_test_poisoned(ctx, sizeof(float) * B * N);
    float *d_din = gpu_test_poisoned(ctx, sizeof(float) * B * N);
    uint8_t *d_mask = gpu_test_poisoned(ctx, B * N);
    uint32_t *d_ids = gpu_test_upload_bytes(ctx, ids, sizeof ids);
    assert_int_equal(dropout_forward_cuda(gpu_test_backend(ctx), d_out, d_mask, d_in, B, N, 0.5f, 99, PHILOX_PURPOSE_DROPOUT6, 17,
                                          d_ids), AN_OK);
    assert_int_equal(dropout_backward_cuda(gpu_test_backend(ctx), d_din, d_dout, d_mask, B, N, 0.5f), AN_OK);
    gpu_test_expect_bitwise(ctx, "dropout mask", d_mask, mask, B * N);
    gpu_test_expect_bitwise(ctx, "dropout forward", d_out, out, sizeof(float) * B * N);
    gpu_test_expect_bitwise(ctx, "dropout backward", d_din, din, sizeof(float) * B * N);
    assert_int_equal(dropout_forward_cuda(gpu_test_backend(ctx), d_out, d_mask, d_in, B, N, 1.0f, 99, PHILOX_PURPOSE_DROPOUT6, 17,
                                          d_ids), AN_ERR_ARG);
    cuda_free(d_in), cuda_free(d_dout), cuda_free(d_out), cuda_free(d_din), cuda_free(d_mask), cuda_free(d_ids);
    free(in), free(dout), free(out), free(din), free(mask);
}

/* ---------------------------------------------------------------- softmax + loss */

/* Tolerances (derived in backend_twin.c): probabilities 1e-6 element-wise,
 * the loss 1e-12 relative, its gradient bitwise (the same float operations). */
static void test_softmax_loss(void **state)
{
    cuda_context *ctx = *state;
    enum { B = 4, K = 1000 };
    const int32_t labels[B] = {0, 999, 500, 3};
    float *logits = gpu_test_random(B * K, -20.0f, 20.0f, 600); /* [B, K] */
    float *probs = malloc(sizeof(float) * B * K), *dlogits = malloc(sizeof(float) * B * K); /* [B, K] each */
    double loss = 0.0, gpu_loss = 0.0;
    softmax_forward_cpu(cpu_be(), probs, logits, B, K);
    assert_int_equal(softmax_loss_cpu(cpu_be(), &loss, probs, labels, B, K), AN_OK);
    assert_int_equal(softmax_loss_backward_cpu(cpu_be(), dlogits, probs, labels, B, K, 128.0f), AN_OK);
    float *d_logits = gpu_test_upload(ctx, logits, B * K);
    float *d_probs = gpu_test_poisoned(ctx, sizeof(float) * B * K);
    float *d_dl = gpu_test_poisoned(ctx, sizeof(float) * B * K);
    int32_t *d_labels = gpu_test_upload_bytes(ctx, labels, sizeof labels);
    assert_int_equal(softmax_forward_cuda(gpu_test_backend(ctx), d_probs, d_logits, B, K), AN_OK);
    assert_int_equal(softmax_loss_cuda(gpu_test_backend(ctx), &gpu_loss, d_probs, d_labels, B, K), AN_OK);
    assert_int_equal(softmax_loss_backward_cuda(gpu_test_backend(ctx), d_dl, d_probs, d_labels, B, K, 128.0f), AN_OK);
    float *g_probs = gpu_test_download(ctx, d_probs, B * K); /* [B, K] */
    gpu_test_assert_close_floor("softmax", g_probs, probs, B * K, 1e-6, 0.0);
    printf("  loss gpu %.17g cpu %.17g\n", gpu_loss, loss);
    /* from probabilities 1e-6 apart (relative): |log p_gpu - log p_cpu| <= 1e-6 (1 + 1e-6) per image */
    assert_true(fabs(gpu_loss - loss) <= 1e-6 * (1.0 + 1e-6));
    /* From the GPU's own probabilities, the loss and its gradient are the CPU's. */
    double twin_loss = 0.0;
    assert_int_equal(softmax_loss_cpu(cpu_be(), &twin_loss, g_probs, labels, B, K), AN_OK);
    assert_true(fabs(gpu_loss - twin_loss) <= 1e-12 * fabs(twin_loss));
    assert_int_equal(softmax_loss_backward_cpu(cpu_be(), dlogits, g_probs, labels, B, K, 128.0f), AN_OK);
    gpu_test_expect_bitwise(ctx, "softmax loss backward", d_dl, dlogits, sizeof(float) * B * K);
    /* in place, as backend.h allows */
    assert_int_equal(softmax_forward_cuda(gpu_test_backend(ctx), d_logits, d_logits, B, K), AN_OK);
    gpu_test_expect_bitwise(ctx, "softmax in place", d_logits, g_probs, sizeof(float) * B * K);

    /* Labels outside [0, K) are the caller's error (backend.h): never read
     * through, they make the loss NaN and the gradient row NaN. */
    const int32_t bad[B] = {0, 1000, 2, -1};
    assert_int_equal(cuda_copy_to_device(ctx, d_labels, bad, sizeof bad), AN_OK);
    assert_int_equal(softmax_loss_cuda(gpu_test_backend(ctx), &gpu_loss, d_probs, d_labels, B, K), AN_OK);
    assert_true(isnan(gpu_loss));
    assert_int_equal(softmax_loss_backward_cuda(gpu_test_backend(ctx), d_dl, d_probs, d_labels, B, K, 128.0f), AN_OK);
    float *dl = gpu_test_download(ctx, d_dl, B * K); /* [B, K] */
    for (int k = 0; k < K; k++) {
        assert_false(isnan(dl[k]));
        assert_true(isnan(dl[K + k]) && isnan(dl[3 * K + k]));
    }
    free(dl), free(g_probs);
    cuda_free(d_logits), cuda_free(d_probs), cuda_free(d_dl), cuda_free(d_labels);
    free(logits), free(probs), free(dlogits);
}

/* A diverged network: NaN logits give NaN probabilities, which give a NaN
 * loss, on both twins (kernels/cpu/softmax_cpu.c keeps NaN; so must the
 * GPU: a clamp to FLT_MIN would report a finite 87.3). Row 0 has a NaN at
 * class 0 (the row max's seed), row 1 elsewhere, row 2 none. */
static void test_softmax_nan(void **state)
{
    cuda_context *ctx = *state;
    enum { B = 3, K = 10 };
    float logits[B * K]; /* [B, K] */
    gpu_test_fill_uniform(logits, B * K, -3.0f, 3.0f, 610);
    logits[0] = NAN;
    logits[K + 7] = NAN;
    float probs[B * K]; /* [B, K] */
    softmax_forward_cpu(cpu_be(), probs, logits, B, K);
    float *d_logits = gpu_test_upload(ctx, logits, B * K), *d_probs = gpu_test_poisoned(ctx, sizeof probs);
    assert_int_equal(softmax_forward_cuda(gpu_test_backend(ctx), d_probs, d_logits, B, K), AN_OK);
    float *g = gpu_test_download(ctx, d_probs, B * K); /* [B, K] */
    for (int k = 0; k < 2 * K; k++) assert_true(isnan(g[k]) && isnan(probs[k]));
    gpu_test_assert_close_floor("softmax (finite row)", g + 2 * K, probs + 2 * K, K, 1e-6, 0.0);
    for (int which = 0; which < 2; which++) {
        const int32_t labels[B] = {2, 2, which ? 0 : 2}; /* images 0 and 1 read NaN probabilities */
        int32_t *d_labels = gpu_test_upload_bytes(ctx, labels, sizeof labels);
        double cpu_loss = 0.0, gpu_loss = 0.0;
        assert_int_equal(softmax_loss_cpu(cpu_be(), &cpu_loss, probs, labels, B, K), AN_OK);
        assert_int_equal(softmax_loss_cuda(gpu_test_backend(ctx), &gpu_loss, d_probs, d_labels, B, K), AN_OK);
        printf("  loss with NaN probabilities: gpu %g cpu %g\n", gpu_loss, cpu_loss);
        assert_true(isnan(cpu_loss));
        assert_true(isnan(gpu_loss));
        cuda_free(d_labels);
    }
    /* A zero probability is clamped at FLT_MIN on both: -log(FLT_MIN) = 87.3, finite. */
    float zero_row[K] = {0.0f, 1.0f}; /* [1, K] */
    const int32_t label0[1] = {0};
    float *d_zero = gpu_test_upload(ctx, zero_row, K);
    int32_t *d_label0 = gpu_test_upload_bytes(ctx, label0, sizeof label0);
    double cpu_loss = 0.0, gpu_loss = 0.0;
    assert_int_equal(softmax_loss_cpu(cpu_be(), &cpu_loss, zero_row, label0, 1, K), AN_OK);
    assert_int_equal(softmax_loss_cuda(gpu_test_backend(ctx), &gpu_loss, d_zero, d_label0, 1, K), AN_OK);
    assert_true(cpu_loss == -log((double)FLT_MIN));
    assert_true(gpu_loss == cpu_loss);
    /* batch 0: the mean of nothing is 0 on both */
    assert_int_equal(softmax_loss_cuda(gpu_test_backend(ctx), &gpu_loss, d_zero, d_label0, 0, K), AN_OK);
    assert_true(gpu_loss == 0.0);
    free(g);
    cuda_free(d_logits), cuda_free(d_probs), cuda_free(d_zero), cuda_free(d_label0);
}

/* ---------------------------------------------------------------- sgd, top-k */

static void test_sgd_matches_cpu_bitwise(void **state)
{
    cuda_context *ctx = *state;
    enum { N = 4099 };
    float *w = gpu_test_random(N, -0.1f, 0.1f, 700), *v = gpu_test_random(N, -0.01f, 0.01f, 701); /* [N] each */
    float *grad = gpu_test_random(N, -1.0f, 1.0f, 702);                                           /* [N] */
    float *d_w = gpu_test_upload(ctx, w, N), *d_v = gpu_test_upload(ctx, v, N), *d_g = gpu_test_upload(ctx, grad, N);
    int32_t applied = -1, *d_applied = NULL; /* [1] */
    assert_int_equal(cuda_malloc((void **)&d_applied, sizeof *d_applied, "the flag"), AN_OK);
    for (int step = 0; step < 4; step++) {
        if (step == 3) { /* a non-finite gradient: neither twin writes anything */
            grad[N / 2] = NAN;
            float *g = gpu_test_upload(ctx, grad, N);
            cuda_free(d_g);
            d_g = g;
        }
        sgd_update_cpu(cpu_be(), w, v, &applied, grad, N, 0.01f, 0.9f, 0.0005f); /* §5 */
        assert_int_equal(applied, step < 3);
        assert_int_equal(sgd_update_cuda(gpu_test_backend(ctx), d_w, d_v, d_applied, d_g, N, 0.01f, 0.9f, 0.0005f),
                         AN_OK);
        gpu_test_expect_bitwise(ctx, "sgd flag", d_applied, &applied, sizeof applied);
    }
    gpu_test_expect_bitwise(ctx, "sgd weights", d_w, w, N * sizeof(float));
    gpu_test_expect_bitwise(ctx, "sgd momentum", d_v, v, N * sizeof(float));
    cuda_free(d_w), cuda_free(d_v), cuda_free(d_g), cuda_free(d_applied);
    free(w), free(v), free(grad);
}

/* topk_errors_cuda against topk_errors_cpu (the same rule: a class other
 * than the label scoring >= the label's counts as above it; a NaN label
 * score is an error in both; a NaN elsewhere is never above), row by row
 * and as a batch, on exact ties at both boundaries and on NaN. */
static void test_topk_errors_ties_and_nan(void **state)
{
    cuda_context *ctx = *state;
    enum { B = 10, K = 1000 };
    float *scores = gpu_test_random(B * K, 0.0f, 1.0f, 800); /* [B, K] */
    int32_t labels[B];
    for (int b = 0; b < B; b++) {
        labels[b] = (int32_t)((b * 397 + 11) % K);
        float *row = scores + (size_t)b * K; /* [K] */
        const int l = labels[b];
        switch (b) {
        case 0: row[l] = 2.0f; break;                          /* the top: right in both */
        case 1: row[l] = 2.0f, row[(l + 1) % K] = 2.0f; break; /* tied at the top with a later class: wrong */
        case 2: row[l] = 2.0f, row[0] = 2.0f; break;           /* tied with an earlier class: wrong too */
        case 3: /* fifth: 4 above, top-5 right */
            row[l] = 1.5f;
            for (int j = 1; j <= 4; j++) row[(l + j) % K] = 1.5f + 0.1f * (float)j;
            break;
        case 4: /* fifth, tied with a sixth: 5 at or above, top-5 wrong */
            row[l] = 1.5f;
            for (int j = 1; j <= 4; j++) row[(l + j) % K] = 1.5f + 0.1f * (float)j;
            row[(l + 5) % K] = 1.5f;
            break;
        case 5: row[l] = NAN; break;                           /* no score: wrong in both */
        case 6: row[l] = 2.0f, row[(l + 3) % K] = NAN; break;  /* a NaN elsewhere is not above */
        case 7: /* every score equal: all K - 1 others tie: wrong in both */
            for (int k = 0; k < K; k++) row[k] = 0.25f;
            break;
        case 8: row[l] = -INFINITY; break;                     /* the bottom */
        case 9: row[l] = INFINITY, row[(l + 2) % K] = INFINITY; break; /* tied infinities */
        }
    }
    float *d_scores = gpu_test_upload(ctx, scores, B * K);
    int32_t *d_labels = gpu_test_upload_bytes(ctx, labels, sizeof labels);
    for (int b = 0; b < B; b++) {
        int64_t c1 = -1, c5 = -1, g1 = -1, g5 = -1;
        topk_errors_cpu(cpu_be(), &c1, &c5, scores + (size_t)b * K, labels + b, 1, K);
        assert_int_equal(topk_errors_cuda(gpu_test_backend(ctx), &g1, &g5, d_scores + (size_t)b * K, d_labels + b, 1, K), AN_OK);
        printf("  row %d: cpu %lld/%lld gpu %lld/%lld\n", b, (long long)c1, (long long)c5, (long long)g1,
               (long long)g5);
        assert_int_equal(g1, c1);
        assert_int_equal(g5, c5);
    }
    int64_t c1 = -1, c5 = -1, g1 = -1, g5 = -1;
    topk_errors_cpu(cpu_be(), &c1, &c5, scores, labels, B, K);
    assert_int_equal(topk_errors_cuda(gpu_test_backend(ctx), &g1, &g5, d_scores, d_labels, B, K), AN_OK);
    /* rows 1, 2, 3, 4, 5, 7, 8, 9 are top-1 errors; 4, 5, 7, 8 top-5 errors */
    assert_int_equal(c1, 8);
    assert_int_equal(c5, 4);
    assert_int_equal(g1, c1);
    assert_int_equal(g5, c5);
    /* a label outside [0, K) is refused, not read through */
    const int32_t bad = K;
    assert_int_equal(cuda_copy_to_device(ctx, d_labels, &bad, sizeof bad), AN_OK);
    assert_int_equal(topk_errors_cuda(gpu_test_backend(ctx), &g1, &g5, d_scores, d_labels, 1, K), AN_ERR_ARG);
    cuda_free(d_scores), cuda_free(d_labels);
    free(scores);
}

/* ---------------------------------------------------------------- the memory peak */

/* cuda_memory_peak_bytes is a peak, not the current use: after 256 MiB are
 * allocated and freed again it still counts them. */
static void test_memory_peak(void **state)
{
    (void)state;
    const size_t bytes = (size_t)256 << 20;
    void *p = NULL;
    size_t free_before = 0, total = 0;
    cuda_memory_peak_reset();
    assert_int_equal(cudaMemGetInfo(&free_before, &total), cudaSuccess);
    assert_int_equal(cuda_malloc(&p, bytes, "the peak test"), AN_OK);
    const size_t peak = cuda_memory_peak_bytes();
    printf("  peak %.0f MiB with 256 MiB held, %.0f MiB used before\n", (double)peak / 1048576.0,
           (double)(total - free_before) / 1048576.0);
    assert_true(peak >= total - free_before + bytes);
    cuda_free(p);
    size_t free_after = 0;
    assert_int_equal(cudaMemGetInfo(&free_after, &total), cudaSuccess);
    cuda_memory_note_use();
    assert_int_equal(cuda_memory_peak_bytes(), peak); /* freeing does not lower it */
    assert_true(peak >= total - free_after + bytes);
}

int main(void)
{
    if (!gpu_test_have_device("test_ops_cuda")) return GPU_TEST_SKIP;
    cpu_threads_set(2);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_memory_peak),
        cmocka_unit_test(test_conv_fp32_both_modes),
        cmocka_unit_test(test_conv_tf32_bf16),
        cmocka_unit_test(test_conv_batch_zero),
        cmocka_unit_test(test_fc),
        cmocka_unit_test(test_relu),
        cmocka_unit_test(test_tanh),
        cmocka_unit_test(test_lrn),
        cmocka_unit_test(test_maxpool),
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_softmax_loss),
        cmocka_unit_test(test_softmax_nan),
        cmocka_unit_test(test_sgd_matches_cpu_bitwise),
        cmocka_unit_test(test_topk_errors_ties_and_nan),
    };
    return cmocka_run_group_tests(tests, gpu_test_setup_context, gpu_test_teardown_context);
}
