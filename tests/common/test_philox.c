/* test_philox.c: Philox4x32-10 against the published known-answer vectors
 * (Random123's kat_vectors, Salmon et al. 2011), and the moments of the
 * uniform, integer and normal draws built on it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "philox.h"

static void check_vector(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1,
                         uint32_t e0, uint32_t e1, uint32_t e2, uint32_t e3)
{
    philox_block ctr = {{c0, c1, c2, c3}};
    philox_block out = philox4x32_10(ctr, k0, k1);
    assert_int_equal(out.v[0], e0);
    assert_int_equal(out.v[1], e1);
    assert_int_equal(out.v[2], e2);
    assert_int_equal(out.v[3], e3);
}

static void test_known_answers(void **state)
{
    (void)state;
    check_vector(0, 0, 0, 0, 0, 0, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u);
    check_vector(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu,
                 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu);
    check_vector(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u,
                 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u);
}

static void test_draw_counter_layout(void **state)
{
    (void)state;
    /* philox_draw must place (element, image, epoch, purpose) in counter words 0..3 and the seed in the key. */
    uint64_t seed = 0x299f31d0a4093822ull;
    philox_block got = philox_draw(seed, 0x03707344u, 0x13198a2eu, 0x85a308d3u, 0x243f6a88u);
    assert_int_equal(got.v[0], 0xd16cfe09u);
    assert_int_equal(got.v[3], 0x24126ea1u);
    /* Changing any one word changes the block. */
    philox_block other = philox_draw(seed, 0x03707344u, 0x13198a2eu, 0x85a308d3u, 0x243f6a89u);
    assert_true(other.v[0] != got.v[0] || other.v[1] != got.v[1]);
}

static void test_uniform_range_and_moments(void **state)
{
    (void)state;
    assert_true(philox_uniform(0) > 0.0f);
    assert_true(philox_uniform(0xffffffffu) < 1.0f);
    const int n = 200000;
    double sum = 0, sum2 = 0;
    for (int i = 0; i < n / 4; i++) {
        philox_block b = philox_draw(42, PHILOX_PURPOSE_TEST, 0, 0, (uint32_t)i);
        for (int j = 0; j < 4; j++) {
            double u = philox_uniform(b.v[j]);
            assert_true(u > 0.0 && u < 1.0);
            sum += u;
            sum2 += u * u;
        }
    }
    double mean = sum / n, var = sum2 / n - mean * mean;
    /* Standard error of the mean of U(0,1) over 2e5 draws is 0.00065; 5 sigma. */
    assert_true(fabs(mean - 0.5) < 0.0033);
    assert_true(fabs(var - 1.0 / 12.0) < 0.002);
}

static void test_below_is_in_range_and_covers(void **state)
{
    (void)state;
    int seen[33] = {0};
    for (int i = 0; i < 10000; i++) {
        philox_block b = philox_draw(7, PHILOX_PURPOSE_TEST, 1, 2, (uint32_t)i);
        uint32_t v = philox_below(b.v[0], 33);
        assert_true(v < 33);
        seen[v]++;
    }
    for (int k = 0; k < 33; k++) assert_true(seen[k] > 200); /* expected about 303 each */
    assert_int_equal(philox_below(0xffffffffu, 33), 32);
    assert_int_equal(philox_below(0, 33), 0);
}

static void test_normal_moments(void **state)
{
    (void)state;
    const int pairs = 200000;
    double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
    for (int i = 0; i < pairs; i++) {
        float z[2];
        philox_normal2(philox_draw(2012, PHILOX_PURPOSE_TEST, 3, 4, (uint32_t)i), &z[0], &z[1]);
        for (int j = 0; j < 2; j++) {
            double x = z[j];
            assert_true(isfinite(x));
            s1 += x; s2 += x * x; s3 += x * x * x; s4 += x * x * x * x;
        }
    }
    double n = 2.0 * pairs;
    double mean = s1 / n, var = s2 / n - mean * mean, skew = s3 / n, kurt = s4 / n;
    /* Standard errors over 4e5 draws: mean 0.0016, variance 0.0022, third moment 0.0039,
     * fourth moment 0.015; bounds are about 5 standard errors. */
    assert_true(fabs(mean) < 0.008);
    assert_true(fabs(var - 1.0) < 0.011);
    assert_true(fabs(skew) < 0.02);
    assert_true(fabs(kurt - 3.0) < 0.08);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_draw_counter_layout),
        cmocka_unit_test(test_uniform_range_and_moments),
        cmocka_unit_test(test_below_is_in_range_and_covers),
        cmocka_unit_test(test_normal_moments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
