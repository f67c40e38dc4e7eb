/* test_conv_algo_pick.c: the order in which the CUDA backend tries cuDNN's
 * convolution candidates (kernels/cuda/conv_algo_pick.h), on every machine:
 * failed candidates never, tensor-op math and FFT/Winograd never under fp32,
 * FMA-listed before default-listed under fp32, only deterministic ones in
 * deterministic mode, the search's order kept within a group. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "conv_algo_pick.h"

/* Six candidates as a search might list them, fastest first. */
static const conv_candidate listed[] = {
    {1, 1, 0, CONV_MATH_TENSOR_OP}, /* 0: tensor cores */
    {1, 1, 1, CONV_MATH_DEFAULT},   /* 1: Winograd */
    {1, 0, 0, CONV_MATH_DEFAULT},   /* 2: nondeterministic, default math */
    {0, 1, 0, CONV_MATH_FMA},       /* 3: the search reported a failure */
    {1, 1, 0, CONV_MATH_DEFAULT},   /* 4: deterministic, default math */
    {1, 1, 0, CONV_MATH_FMA},       /* 5: deterministic, FMA math */
};
enum { N = sizeof listed / sizeof listed[0] };

static void test_fp32_normal(void **state)
{
    (void)state;
    const conv_pick_rules rules = {1, 0};
    int order[N];
    assert_int_equal(conv_candidates_order(listed, N, &rules, order), 3);
    assert_int_equal(order[0], 5); /* FMA-listed first */
    assert_int_equal(order[1], 2); /* then default-listed, in the search's order */
    assert_int_equal(order[2], 4);
}

static void test_fp32_deterministic(void **state)
{
    (void)state;
    const conv_pick_rules rules = {1, 1};
    int order[N];
    assert_int_equal(conv_candidates_order(listed, N, &rules, order), 2);
    assert_int_equal(order[0], 5);
    assert_int_equal(order[1], 4);
}

/* tf32 and bf16: tensor cores and fast transforms allowed, the search's order kept. */
static void test_tensor_op_precisions(void **state)
{
    (void)state;
    const conv_pick_rules rules = {0, 0};
    int order[N];
    assert_int_equal(conv_candidates_order(listed, N, &rules, order), 5);
    const int expect[] = {0, 1, 2, 4, 5};
    for (int i = 0; i < 5; i++) assert_int_equal(order[i], expect[i]);
    const conv_pick_rules det = {0, 1};
    assert_int_equal(conv_candidates_order(listed, N, &det, order), 4);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 1);
}

/* Nothing usable: an empty order, which conv_cuda.c reports as an error. */
static void test_none(void **state)
{
    (void)state;
    const conv_candidate only_bad[] = {{0, 1, 0, CONV_MATH_FMA}, {1, 1, 1, CONV_MATH_FMA},
                                       {1, 1, 0, CONV_MATH_TENSOR_OP}};
    const conv_pick_rules rules = {1, 0};
    int order[3];
    assert_int_equal(conv_candidates_order(only_bad, 3, &rules, order), 0);
    assert_int_equal(conv_candidates_order(listed, 0, &rules, order), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fp32_normal),
        cmocka_unit_test(test_fp32_deterministic),
        cmocka_unit_test(test_tensor_op_precisions),
        cmocka_unit_test(test_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
