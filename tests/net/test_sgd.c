/* test_sgd.c: the update of §5 on hand-computed values; a step with a
 * gradient that is not finite is not applied. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "net.h"
#include "ops_cpu.h"
#include "backend_cpu.h"

/* The CPU backend the ops run on (the calling thread's thread count). */
static backend *cpu_be(void)
{
    static backend *be;
    if (!be) assert_int_equal(backend_cpu_create(&be, 0), AN_OK);
    return be;
}


static void test_sgd_known(void **state)
{
    (void)state;
    /* w = 1, v = 0.5, g = 2, ε = 0.1:
     * v = 0.9·0.5 - 0.0005·0.1·1 - 0.1·2 = 0.45 - 0.00005 - 0.2 = 0.24995; w = 1.24995 */
    float w[2] = {1.0f, -2.0f}, v[2] = {0.5f, 0.0f}, g[2] = {2.0f, 0.0f};
    int32_t applied = -1;
    sgd_update_cpu(cpu_be(), w, v, &applied, g, 2, 0.1f, SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY);
    assert_int_equal(applied, 1);
    assert_true(fabs(v[0] - 0.24995) < 1e-7);
    assert_true(fabs(w[0] - 1.24995) < 1e-7);
    /* no gradient, no momentum: weight decay alone shrinks w by 0.0005·ε·w */
    assert_true(fabs(v[1] - 0.0001) < 1e-9);
    assert_true(fabs(w[1] - -1.9999) < 1e-7);
    /* a second step uses the stored velocity */
    sgd_update_cpu(cpu_be(), w, v, &applied, g, 1, 0.1f, 0.9f, 0.0f);
    assert_true(fabs(v[0] - (0.9 * 0.24995 - 0.2)) < 1e-7);
}

/* A gradient that is not finite (NaN, or an infinity) anywhere: nothing is
 * written, and the flag says the update was skipped. */
static void test_sgd_skips_non_finite(void **state)
{
    (void)state;
    const float bad[2] = {NAN, INFINITY};
    for (int k = 0; k < 2; k++) {
        float w[3] = {1.0f, -2.0f, 3.0f}, v[3] = {0.5f, 0.25f, 0.0f}, g[3] = {2.0f, 1.0f, -1.0f};
        g[2] = bad[k];
        int32_t applied = -1;
        sgd_update_cpu(cpu_be(), w, v, &applied, g, 3, 0.1f, SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY);
        assert_int_equal(applied, 0);
        assert_true(w[0] == 1.0f && w[1] == -2.0f && w[2] == 3.0f);
        assert_true(v[0] == 0.5f && v[1] == 0.25f && v[2] == 0.0f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_sgd_known), cmocka_unit_test(test_sgd_skips_non_finite)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
