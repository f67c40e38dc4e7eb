/* test_scores.c: softmax, averaging of the ten views' softmax outputs, and
 * top-k with the tie rule (higher probability first, then lower class). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "ops_cpu.h"
#include "scores.h"
#include "backend_cpu.h"

/* The CPU backend the ops run on (the calling thread's thread count). */
static backend *cpu_be(void)
{
    static backend *be;
    if (!be) assert_int_equal(backend_cpu_create(&be, 0), AN_OK);
    return be;
}


static void test_softmax_values(void **state)
{
    (void)state;
    float logits[3] = {0.0f, logf(2.0f), logf(3.0f)};
    float probs[3];
    softmax_forward_cpu(cpu_be(), probs, logits, 1, 3);
    assert_float_equal(probs[0], 1.0 / 6.0, 1e-6);
    assert_float_equal(probs[1], 2.0 / 6.0, 1e-6);
    assert_float_equal(probs[2], 3.0 / 6.0, 1e-6);
    /* large logits must not overflow */
    float big[2] = {1000.0f, 1000.0f};
    softmax_forward_cpu(cpu_be(), probs, big, 1, 2);
    assert_float_equal(probs[0], 0.5, 1e-6);
    assert_float_equal(probs[1], 0.5, 1e-6);
    float spread[2] = {-1000.0f, 1000.0f};
    softmax_forward_cpu(cpu_be(), probs, spread, 1, 2);
    assert_true(isfinite(probs[0]) && isfinite(probs[1]));
    assert_float_equal(probs[1], 1.0, 1e-6);
}

/* The average is of the softmax outputs, not the softmax of averaged logits:
 * view A is sure of class 0, view B mildly prefers class 1. Averaging
 * probabilities gives class 0 about 0.5 + 0.5*0.269 = 0.634; averaging
 * logits first would give softmax(5, 0.5) = 0.989 for class 0. */
static void test_average_of_softmax(void **state)
{
    (void)state;
    float logits[2][2] = {{10.0f, 0.0f}, {0.0f, 1.0f}}; /* [views, C] */
    float probs[2];
    softmax_average(&logits[0][0], 2, 2, probs);
    double a0 = 1.0 / (1.0 + exp(-10.0)), b0 = 1.0 / (1.0 + exp(1.0));
    assert_float_equal(probs[0], (a0 + b0) / 2.0, 1e-6);
    assert_float_equal(probs[1], ((1.0 - a0) + (1.0 - b0)) / 2.0, 1e-6);
    assert_float_equal(probs[0] + probs[1], 1.0, 1e-6);

    /* ten identical views average to the single view's softmax */
    float ten[10][4];
    for (int v = 0; v < 10; v++)
        for (int c = 0; c < 4; c++) ten[v][c] = (float)(c * 0.7 - v * 0.1 * (c == 2));
    float avg[4], expect[4] = {0};
    softmax_average(&ten[0][0], 10, 4, avg);
    for (int v = 0; v < 10; v++) {
        float one[4];
        softmax_forward_cpu(cpu_be(), one, ten[v], 1, 4);
        for (int c = 0; c < 4; c++) expect[c] += one[c] / 10.0f;
    }
    for (int c = 0; c < 4; c++) assert_float_equal(avg[c], expect[c], 1e-6);
}

static void test_top_k_ties(void **state)
{
    (void)state;
    float probs[5] = {0.2f, 0.3f, 0.3f, 0.1f, 0.1f};
    int classes[5];
    float top[5];
    assert_int_equal(top_k(probs, 5, 2, classes, top), 2);
    assert_int_equal(classes[0], 1); /* tie 1 vs 2: lower index first */
    assert_int_equal(classes[1], 2);
    assert_true(top[0] == 0.3f && top[1] == 0.3f);
    assert_int_equal(top_k(probs, 5, 5, classes, NULL), 5);
    const int order[5] = {1, 2, 0, 3, 4};
    for (int i = 0; i < 5; i++) assert_int_equal(classes[i], order[i]);
    /* k larger than C is clamped */
    assert_int_equal(top_k(probs, 5, 9, classes, NULL), 5);
    /* ranks agree with the top-k order */
    for (int i = 0; i < 5; i++) assert_int_equal(class_rank(probs, 5, order[i]), i);
    /* all equal: class c has rank c, so a dead network "predicts" class 0 */
    float flat[7] = {1, 1, 1, 1, 1, 1, 1};
    for (int c = 0; c < 7; c++) assert_int_equal(class_rank(flat, 7, c), c);
    top_k(flat, 7, 5, classes, NULL);
    for (int i = 0; i < 5; i++) assert_int_equal(classes[i], i);
}

/* top-5 on many classes: the five largest, in order, whatever their position. */
static void test_top_k_order_many(void **state)
{
    (void)state;
    float probs[1000];
    for (int c = 0; c < 1000; c++) probs[c] = (float)((c * 37) % 1000) / 1000.0f;
    /* (c*37) mod 1000 reaches 999, 998, ... at distinct c: find them by brute force */
    int classes[5];
    top_k(probs, 1000, 5, classes, NULL);
    for (int i = 0; i < 5; i++) {
        int want = -1;
        for (int c = 0; c < 1000; c++)
            if ((c * 37) % 1000 == 999 - i) want = c;
        assert_int_equal(classes[i], want);
        assert_int_equal(class_rank(probs, 1000, want), i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax_values),
        cmocka_unit_test(test_average_of_softmax),
        cmocka_unit_test(test_top_k_ties),
        cmocka_unit_test(test_top_k_order_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
