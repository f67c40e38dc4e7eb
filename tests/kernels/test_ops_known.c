/* test_ops_known.c: each CPU op on a case small enough to compute by hand;
 * the expected numbers are worked out in the comments. Dropout's rate,
 * scaling and keying are checked here too. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ops_cpu.h"
#include "philox.h"
#include "backend_cpu.h"

/* The CPU backend the ops run on (the calling thread's thread count). */
static backend *cpu_be(void)
{
    static backend *be;
    if (!be) assert_int_equal(backend_cpu_create(&be, 0), AN_OK);
    return be;
}


#define ASSERT_NEAR(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol))

static void test_conv_known(void **state)
{
    (void)state;
    /* input 3x3 = 1..9; kernel [[1, 0], [0, -1]]: out[i][j] = x[i][j] - x[i+1][j+1] = -4; bias 0.5 */
    float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 0, 0, -1}, b = 0.5f, y[4];
    conv_shape s = {.batch = 1, .in_channels = 1, .in_h = 3, .in_w = 3, .out_channels = 1,
                    .kernel = 2, .stride = 1, .pad = 0, .groups = 1};
    assert_true(conv_workspace_floats(&s, cpu_threads_get()) <= 512);
    assert_int_equal(conv_forward_cpu(cpu_be(), y, x, w, &b, &s), AN_OK);
    for (int i = 0; i < 4; i++) ASSERT_NEAR(y[i], -3.5, 1e-6);

    /* 3x3 ones, pad 1, stride 2 on 1..9: windows centred on the corners,
     * 1+2+4+5 = 12, 2+3+5+6 = 16, 4+5+7+8 = 24, 5+6+8+9 = 28 */
    float ones[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1}, zero = 0.0f;
    s.kernel = 3; s.pad = 1; s.stride = 2;
    assert_int_equal(conv_out_size(3, 3, 2, 1), 2);
    assert_int_equal(conv_forward_cpu(cpu_be(), y, x, ones, &zero, &s), AN_OK);
    ASSERT_NEAR(y[0], 12, 1e-6); ASSERT_NEAR(y[1], 16, 1e-6);
    ASSERT_NEAR(y[2], 24, 1e-6); ASSERT_NEAR(y[3], 28, 1e-6);
    /* backward with doutput = 1: dbias = 4; dweight[ky][kx] = sum of the inputs each tap saw:
     * centre tap sees 1, 3, 7, 9 -> 20; top-left tap sees only x[1][1] (bottom-right window) -> 5 */
    float dy[4] = {1, 1, 1, 1}, dw[9], db, dx[9];
    assert_int_equal(conv_backward_cpu(cpu_be(), dx, dw, &db, dy, x, ones, &s), AN_OK);
    ASSERT_NEAR(db, 4, 1e-6);
    ASSERT_NEAR(dw[4], 20, 1e-6);
    ASSERT_NEAR(dw[0], 5, 1e-6);
    /* dx: the centre pixel is in all 4 windows, a corner in 1 */
    ASSERT_NEAR(dx[4], 4, 1e-6); ASSERT_NEAR(dx[0], 1, 1e-6); ASSERT_NEAR(dx[1], 2, 1e-6);

    /* groups: 2 channels, 1x1 kernels [2] and [3] in 2 groups: out0 = 2 in0, out1 = 3 in1 */
    float xg[2] = {5, 7}, wg[2] = {2, 3}, bg[2] = {0, 0}, yg[2];
    conv_shape g = {.batch = 1, .in_channels = 2, .in_h = 1, .in_w = 1, .out_channels = 2,
                    .kernel = 1, .stride = 1, .pad = 0, .groups = 2};
    assert_int_equal(conv_forward_cpu(cpu_be(), yg, xg, wg, bg, &g), AN_OK);
    ASSERT_NEAR(yg[0], 10, 1e-6); ASSERT_NEAR(yg[1], 21, 1e-6);
}

/* A batch of 20 (more than one chunk of images per GEMM, the last one
 * partial) gives what 20 batches of one give. */
static void test_conv_batch_chunks(void **state)
{
    (void)state;
    enum { B = 20, CIN = 4, HW = 6, COUT = 4, IMG = CIN * HW * HW, OUT = COUT * HW * HW, WN = COUT * 2 * 9 };
    conv_shape s = {.batch = B, .in_channels = CIN, .in_h = HW, .in_w = HW, .out_channels = COUT,
                    .kernel = 3, .stride = 1, .pad = 1, .groups = 2};
    conv_shape one = s;
    one.batch = 1;
    static float x[B * IMG], y[B * OUT], dy[B * OUT], dx[B * IMG], y1[OUT], dx1[IMG];
    float w[WN], b[COUT] = {0.1f, -0.2f, 0.3f, 0.0f}, dw[WN], db[COUT], dw1[WN], db1[COUT];
    double dw_sum[WN] = {0}, db_sum[COUT] = {0};
    for (int i = 0; i < B * IMG; i++) x[i] = (float)((i * 7919) % 23) / 23.0f - 0.5f;
    for (int i = 0; i < B * OUT; i++) dy[i] = (float)((i * 104729) % 19) / 19.0f - 0.5f;
    for (int i = 0; i < WN; i++) w[i] = (float)((i * 31) % 13) / 13.0f - 0.5f;
    assert_true(conv_workspace_floats(&s, cpu_threads_get()) > 0); /* the backend keeps the workspace */
    assert_int_equal(conv_forward_cpu(cpu_be(), y, x, w, b, &s), AN_OK);
    assert_int_equal(conv_backward_cpu(cpu_be(), dx, dw, db, dy, x, w, &s), AN_OK);
    for (int i = 0; i < B; i++) {
        assert_int_equal(conv_forward_cpu(cpu_be(), y1, x + i * IMG, w, b, &one), AN_OK);
        for (int k = 0; k < OUT; k++) ASSERT_NEAR(y1[k], y[i * OUT + k], 1e-5);
        assert_int_equal(conv_backward_cpu(cpu_be(), dx1, dw1, db1, dy + i * OUT, x + i * IMG, w, &one), AN_OK);
        for (int k = 0; k < IMG; k++) ASSERT_NEAR(dx1[k], dx[i * IMG + k], 1e-5);
        for (int k = 0; k < WN; k++) dw_sum[k] += dw1[k];
        for (int k = 0; k < COUT; k++) db_sum[k] += db1[k];
    }
    for (int k = 0; k < WN; k++) ASSERT_NEAR(dw[k], dw_sum[k], 1e-4);
    for (int k = 0; k < COUT; k++) ASSERT_NEAR(db[k], db_sum[k], 1e-4);
}

/* Fewer images than threads: the threads split one image's columns and
 * GEMM (conv_forward_split). With 1, 2 and 3 threads (slices that do not
 * divide the 81 output positions evenly), each image gives what the batched,
 * one-chunk-per-thread path gives with 1 thread. */
static void test_conv_split_threads(void **state)
{
    (void)state;
    enum { B = 2, CIN = 4, HW = 19, COUT = 6, HO = 9, IMG = CIN * HW * HW, OUT = COUT * HO * HO,
           WN = COUT * 2 * 25 };
    conv_shape s = {.batch = B, .in_channels = CIN, .in_h = HW, .in_w = HW, .out_channels = COUT,
                    .kernel = 5, .stride = 2, .pad = 1, .groups = 2};
    assert_int_equal(conv_out_size(HW, 5, 2, 1), HO);
    conv_shape one = s;
    one.batch = 1;
    static float x[B * IMG], y[B * OUT], y1[OUT];
    float w[WN], b[COUT] = {0.1f, -0.2f, 0.3f, 0.0f, 0.5f, -1.0f};
    for (int i = 0; i < B * IMG; i++) x[i] = (float)((i * 7919) % 23) / 23.0f - 0.5f;
    for (int i = 0; i < WN; i++) w[i] = (float)((i * 31) % 13) / 13.0f - 0.5f;
    const int saved = cpu_threads_get();
    cpu_threads_set(1);
    assert_true(conv_workspace_floats(&s, 3) > 0); /* the backend keeps the workspace */
    assert_int_equal(conv_forward_cpu(cpu_be(), y, x, w, b, &s), AN_OK);
    for (int threads = 1; threads <= 3; threads++) {
        cpu_threads_set(threads);
        for (int i = 0; i < B; i++) {
            for (int k = 0; k < OUT; k++) y1[k] = NAN;
            assert_int_equal(conv_forward_cpu(cpu_be(), y1, x + i * IMG, w, b, &one), AN_OK);
            for (int k = 0; k < OUT; k++) ASSERT_NEAR(y1[k], y[i * OUT + k], 1e-5);
        }
    }
    cpu_threads_set(saved);
}

/* Fully connected at batch 1 (matrix-vector, rows split over threads) gives
 * what the batched GEMM gives, for 1 to 3 threads and 37 outputs. */
static void test_fc_batch1_threads(void **state)
{
    (void)state;
    enum { B = 2, I = 50, O = 37 };
    float x[B * I], w[O * I], b[O], y[B * O], y1[O];
    for (int i = 0; i < B * I; i++) x[i] = (float)((i * 7919) % 23) / 23.0f - 0.5f;
    for (int i = 0; i < O * I; i++) w[i] = (float)((i * 31) % 13) / 13.0f - 0.5f;
    for (int i = 0; i < O; i++) b[i] = 0.01f * (float)i;
    const int saved = cpu_threads_get();
    fc_forward_cpu(cpu_be(), y, x, w, b, B, I, O);
    for (int threads = 1; threads <= 3; threads++) {
        cpu_threads_set(threads);
        for (int i = 0; i < B; i++) {
            for (int k = 0; k < O; k++) y1[k] = NAN;
            fc_forward_cpu(cpu_be(), y1, x + i * I, w, b, 1, I, O);
            for (int k = 0; k < O; k++) ASSERT_NEAR(y1[k], y[i * O + k], 1e-5);
        }
    }
    cpu_threads_set(saved);
}

static void test_relu_known(void **state)
{
    (void)state;
    float x[4] = {-1, 0, 2, -0.5f}, y[4], dy[4] = {1, 1, 1, 1}, dx[4];
    relu_forward_cpu(cpu_be(), y, x, 4);
    assert_true(y[0] == 0 && y[1] == 0 && y[2] == 2 && y[3] == 0);
    relu_backward_cpu(cpu_be(), dx, dy, y, 4);
    assert_true(dx[0] == 0 && dx[1] == 0 && dx[2] == 1 && dx[3] == 0);
}

static void test_lrn_known(void **state)
{
    (void)state;
    /* one pixel, channels a = 1, 2, 3; n = 3, k = 1, β = 1 and α' = 1:
     * scale = 1 + (1+4), 1 + (1+4+9), 1 + (4+9) = 6, 15, 14 -> b = 1/6, 2/15, 3/14 */
    float a[3] = {1, 2, 3}, b[3], sc[3];
    lrn_params divided = {.k = 1, .n = 3, .alpha = 3, .beta = 1, .convention = LRN_ALPHA_DIVIDED_BY_N};
    lrn_params literal = {.k = 1, .n = 3, .alpha = 1, .beta = 1, .convention = LRN_ALPHA_LITERAL};
    lrn_forward_cpu(cpu_be(), b, sc, a, 1, 3, 1, 1, &divided);
    ASSERT_NEAR(sc[0], 6, 1e-5); ASSERT_NEAR(sc[1], 15, 1e-5); ASSERT_NEAR(sc[2], 14, 1e-5);
    ASSERT_NEAR(b[0], 1.0 / 6, 1e-6); ASSERT_NEAR(b[1], 2.0 / 15, 1e-6); ASSERT_NEAR(b[2], 3.0 / 14, 1e-6);
    lrn_forward_cpu(cpu_be(), b, sc, a, 1, 3, 1, 1, &literal);
    ASSERT_NEAR(b[1], 2.0 / 15, 1e-6);
    /* the paper's values on one channel of value 10: α/n · 100 = 2e-3, (2.002)^-0.75 */
    lrn_params paper = lrn_params_paper(LRN_ALPHA_DIVIDED_BY_N);
    assert_true(paper.k == 2.0f && paper.n == 5 && paper.beta == 0.75f);
    float ten = 10, out;
    lrn_forward_cpu(cpu_be(), &out, NULL, &ten, 1, 1, 1, 1, &paper);
    ASSERT_NEAR(out, 10 * pow(2.002, -0.75), 1e-5);
    paper = lrn_params_paper(LRN_ALPHA_LITERAL);
    lrn_forward_cpu(cpu_be(), &out, NULL, &ten, 1, 1, 1, 1, &paper);
    ASSERT_NEAR(out, 10 * pow(2.01, -0.75), 1e-5);
}

static void test_maxpool_known(void **state)
{
    (void)state;
    /* 5x5 input 0..24 row-major, 3x3/2 -> 2x2: maxima at the windows' bottom-right
     * corners 12, 14, 22, 24 */
    float x[25], y[4];
    int32_t am[4];
    for (int i = 0; i < 25; i++) x[i] = (float)i;
    pool_shape s = {.batch = 1, .channels = 1, .in_h = 5, .in_w = 5, .size = 3, .stride = 2};
    assert_int_equal(maxpool_forward_cpu(cpu_be(), y, am, x, &s), AN_OK);
    assert_true(y[0] == 12 && y[1] == 14 && y[2] == 22 && y[3] == 24);
    assert_true(am[0] == 12 && am[3] == 24);
    /* ties: all equal -> the first in row-major window order, the top-left */
    for (int i = 0; i < 25; i++) x[i] = 1.0f;
    assert_int_equal(maxpool_forward_cpu(cpu_be(), y, am, x, &s), AN_OK);
    assert_true(am[0] == 0 && am[1] == 2 && am[2] == 10 && am[3] == 12);
    /* the shared pixel 12 (in all four windows) collects all four gradients */
    float dy[4] = {1, 2, 3, 4}, dx[25];
    x[12] = 5.0f;
    assert_int_equal(maxpool_forward_cpu(cpu_be(), y, am, x, &s), AN_OK);
    assert_int_equal(maxpool_backward_cpu(cpu_be(), dx, dy, am, &s), AN_OK);
    ASSERT_NEAR(dx[12], 10, 0);
    ASSERT_NEAR(dx[0], 0, 0);
    /* a NaN propagates */
    x[0] = NAN;
    assert_int_equal(maxpool_forward_cpu(cpu_be(), y, am, x, &s), AN_OK);
    assert_true(isnan(y[0]));
}

static void test_fc_known(void **state)
{
    (void)state;
    /* in [1, 2], W = [[1, 0], [1, 1], [0, -1]], b = [0, 1, 2] -> [1, 4, 0] */
    float x[2] = {1, 2}, w[6] = {1, 0, 1, 1, 0, -1}, b[3] = {0, 1, 2}, y[3];
    fc_forward_cpu(cpu_be(), y, x, w, b, 1, 2, 3);
    assert_true(y[0] == 1 && y[1] == 4 && y[2] == 0);
    /* doutput [1, 1, 1]: dx = column sums of W = [2, 0]; dW = rows of x; db = 1 */
    float dy[3] = {1, 1, 1}, dx[2], dw[6], db[3];
    fc_backward_cpu(cpu_be(), dx, dw, db, dy, x, w, 1, 2, 3);
    assert_true(dx[0] == 2 && dx[1] == 0);
    assert_true(dw[0] == 1 && dw[1] == 2 && dw[4] == 1 && dw[5] == 2);
    assert_true(db[0] == 1 && db[2] == 1);
}

static void test_softmax_known(void **state)
{
    (void)state;
    /* logits [0, ln 3] -> [1/4, 3/4]; loss of label 0 = ln 4 */
    float z[2] = {0, (float)log(3.0)}, p[2], d[2];
    int32_t label = 0;
    double loss;
    softmax_forward_cpu(cpu_be(), p, z, 1, 2);
    ASSERT_NEAR(p[0], 0.25, 1e-7); ASSERT_NEAR(p[1], 0.75, 1e-7);
    assert_int_equal(softmax_loss_cpu(cpu_be(), &loss, p, &label, 1, 2), AN_OK);
    ASSERT_NEAR(loss, log(4.0), 1e-6);
    /* normalizer 2 (a replica holding half of a global batch of 2) */
    assert_int_equal(softmax_loss_backward_cpu(cpu_be(), d, p, &label, 1, 2, 2.0f), AN_OK);
    ASSERT_NEAR(d[0], -0.375, 1e-7); ASSERT_NEAR(d[1], 0.375, 1e-7);
    /* huge logits stay finite */
    float big[2] = {1000, -1000};
    label = 1;
    softmax_forward_cpu(cpu_be(), p, big, 1, 2);
    assert_int_equal(softmax_loss_cpu(cpu_be(), &loss, p, &label, 1, 2), AN_OK);
    assert_true(isfinite(loss) && loss > 80);
}

static void test_dropout(void **state)
{
    (void)state;
    enum { B = 2, N = 4096 };
    static float x[B * N], y[B * N], y2[B * N], dy[B * N], dx[B * N];
    static uint8_t m[B * N], m2[B * N];
    uint32_t ids[B] = {7, 8}, ids_swapped[B] = {8, 7};
    for (int i = 0; i < B * N; i++) { x[i] = 1.0f; dy[i] = 3.0f; }
    dropout_forward_cpu(cpu_be(), y, m, x, B, N, 0.5f, 42, PHILOX_PURPOSE_DROPOUT6, 5, ids);
    int kept = 0;
    for (int i = 0; i < B * N; i++) {
        kept += m[i];
        assert_true(y[i] == (m[i] ? 2.0f : 0.0f)); /* inverted: kept values × 1/(1-0.5) */
    }
    /* rate 0.5 over 8192 draws: kept ~ Binomial(8192, 0.5), sd 45; 6 sd bounds */
    assert_true(abs(kept - B * N / 2) < 270);
    /* element 4e+j of image b is word j of block e of (seed, DROPOUT6, step, id) */
    philox_block blk = philox_draw(42, PHILOX_PURPOSE_DROPOUT6, 5, 8, 3);
    assert_int_equal(m[N + 14], philox_uniform(blk.v[2]) >= 0.5f);
    /* the same key gives the same mask; the mask follows the image id, not the slot */
    dropout_forward_cpu(cpu_be(), y2, m2, x, B, N, 0.5f, 42, PHILOX_PURPOSE_DROPOUT6, 5, ids_swapped);
    assert_memory_equal(m, m2 + N, N);
    assert_memory_equal(m + N, m2, N);
    /* another purpose, step or seed gives another mask */
    dropout_forward_cpu(cpu_be(), y2, m2, x, B, N, 0.5f, 42, PHILOX_PURPOSE_DROPOUT7, 5, ids);
    assert_memory_not_equal(m, m2, N);
    dropout_forward_cpu(cpu_be(), y2, m2, x, B, N, 0.5f, 42, PHILOX_PURPOSE_DROPOUT6, 6, ids);
    assert_memory_not_equal(m, m2, N);
    /* backward: the same mask and scale */
    dropout_backward_cpu(cpu_be(), dx, dy, m, B, N, 0.5f);
    for (int i = 0; i < B * N; i++) assert_true(dx[i] == (m[i] ? 6.0f : 0.0f));
    /* rate 0.2: kept ~ 80%, scale 1.25 */
    dropout_forward_cpu(cpu_be(), y, m, x, B, N, 0.2f, 42, PHILOX_PURPOSE_DROPOUT6, 5, ids);
    kept = 0;
    for (int i = 0; i < B * N; i++) kept += m[i];
    assert_true(abs(kept - (int)(0.8 * B * N)) < 220);
    for (int i = 0; i < B * N; i++) ASSERT_NEAR(y[i], m[i] ? 1.25 : 0.0, 1e-6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_known),    cmocka_unit_test(test_conv_batch_chunks),
        cmocka_unit_test(test_conv_split_threads), cmocka_unit_test(test_fc_batch1_threads),
        cmocka_unit_test(test_relu_known),
        cmocka_unit_test(test_lrn_known),     cmocka_unit_test(test_maxpool_known),
        cmocka_unit_test(test_fc_known),      cmocka_unit_test(test_softmax_known),
        cmocka_unit_test(test_dropout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
