/* test_prep_icc.c: image_icc_is_srgb on ICC profiles built here byte by byte
 * (ICC.1 layout): sRGB as sampled and as parametric curves is recognised;
 * another gamma, other primaries, another colour space, and malformed or
 * truncated profiles are not. The real profiles libvips writes are checked
 * in test_prep_decode.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "image_icc.h"

enum { TRC_SRGB_SAMPLED, TRC_SRGB_PARAMETRIC, TRC_GAMMA_ONE_VALUE, TRC_GAMMA_22_SAMPLED };

static const double srgb_primaries[3][3] = {
    {0.4361, 0.2225, 0.0139}, {0.3851, 0.7169, 0.0971}, {0.1431, 0.0606, 0.7141}};
static const double adobe_primaries[3][3] = {
    {0.6097, 0.3111, 0.0195}, {0.2053, 0.6257, 0.0609}, {0.1492, 0.0632, 0.7446}};

static uint8_t profile[4096]; /* the profile being built */

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void put_s15f16(uint8_t *p, double v) { put32(p, (uint32_t)(int32_t)lround(v * 65536.0)); }

/* Header, 6 tags (three XYZ colorants, three tone curves sharing one curve):
 * returns the profile's size. */
static size_t build(const double primaries[3][3], int trc, const char *space)
{
    memset(profile, 0, sizeof profile);
    memcpy(profile + 12, "mntr", 4);
    memcpy(profile + 16, space, 4);
    memcpy(profile + 20, "XYZ ", 4);
    memcpy(profile + 36, "acsp", 4);
    put32(profile + 128, 6);
    const char *xyz_sigs[3] = {"rXYZ", "gXYZ", "bXYZ"}, *trc_sigs[3] = {"rTRC", "gTRC", "bTRC"};
    size_t at = 132 + 6 * 12;
    for (int c = 0; c < 3; c++) {
        uint8_t *entry = profile + 132 + 12 * c;
        memcpy(entry, xyz_sigs[c], 4);
        put32(entry + 4, (uint32_t)at);
        put32(entry + 8, 20);
        memcpy(profile + at, "XYZ ", 4);
        for (int k = 0; k < 3; k++) put_s15f16(profile + at + 8 + 4 * k, primaries[c][k]);
        at += 20;
    }
    size_t trc_size;
    uint8_t *t = profile + at;
    if (trc == TRC_SRGB_PARAMETRIC) {
        memcpy(t, "para", 4);
        t[9] = 3; /* function type 3 */
        const double params[5] = {2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045};
        for (int k = 0; k < 5; k++) put_s15f16(t + 12 + 4 * k, params[k]);
        trc_size = 32;
    } else if (trc == TRC_GAMMA_ONE_VALUE) {
        memcpy(t, "curv", 4);
        put32(t + 8, 1);
        t[12] = 2; t[13] = 0x33; /* u8Fixed8 2.2 */
        trc_size = 14;
    } else {
        memcpy(t, "curv", 4);
        const uint32_t count = 1024;
        put32(t + 8, count);
        for (uint32_t i = 0; i < count; i++) {
            double x = (double)i / (count - 1);
            double y = trc == TRC_SRGB_SAMPLED ? image_icc_srgb_to_linear(x) : pow(x, 2.2);
            uint32_t v = (uint32_t)lround(y * 65535.0);
            t[12 + 2 * i] = (uint8_t)(v >> 8);
            t[13 + 2 * i] = (uint8_t)v;
        }
        trc_size = 12 + 2 * count;
    }
    for (int c = 0; c < 3; c++) {
        uint8_t *entry = profile + 132 + 12 * (3 + c);
        memcpy(entry, trc_sigs[c], 4);
        put32(entry + 4, (uint32_t)at);
        put32(entry + 8, (uint32_t)trc_size);
    }
    at += trc_size;
    put32(profile, (uint32_t)at);
    return at;
}

static void test_srgb_curves(void **state)
{
    (void)state;
    for (int i = 0; i <= 1000; i++) {
        double x = i / 1000.0;
        assert_true(fabs(image_icc_srgb_from_linear(image_icc_srgb_to_linear(x)) - x) < 1e-9);
    }
    /* the breakpoints meet: continuous within the standard's rounding */
    assert_true(fabs(0.04045 / 12.92 - pow((0.04045 + 0.055) / 1.055, 2.4)) < 1e-6);
}

static void test_srgb_profiles_are_recognised(void **state)
{
    (void)state;
    size_t n = build(srgb_primaries, TRC_SRGB_SAMPLED, "RGB ");
    assert_int_equal(image_icc_is_srgb(profile, n), 1);
    n = build(srgb_primaries, TRC_SRGB_PARAMETRIC, "RGB ");
    assert_int_equal(image_icc_is_srgb(profile, n), 1);
    /* primaries rounded differently, within the tolerance */
    double rounded[3][3];
    memcpy(rounded, srgb_primaries, sizeof rounded);
    rounded[0][0] += 0.0015;
    n = build(rounded, TRC_SRGB_SAMPLED, "RGB ");
    assert_int_equal(image_icc_is_srgb(profile, n), 1);
}

static void test_other_profiles_are_not(void **state)
{
    (void)state;
    size_t n = build(srgb_primaries, TRC_GAMMA_ONE_VALUE, "RGB ");
    assert_int_equal(image_icc_is_srgb(profile, n), 0);
    n = build(srgb_primaries, TRC_GAMMA_22_SAMPLED, "RGB ");
    assert_int_equal(image_icc_is_srgb(profile, n), 0);
    n = build(adobe_primaries, TRC_SRGB_SAMPLED, "RGB ");
    assert_int_equal(image_icc_is_srgb(profile, n), 0);
    double off[3][3];
    memcpy(off, srgb_primaries, sizeof off);
    off[2][2] += 0.003;
    n = build(off, TRC_SRGB_SAMPLED, "RGB ");
    assert_int_equal(image_icc_is_srgb(profile, n), 0);
    n = build(srgb_primaries, TRC_SRGB_SAMPLED, "CMYK");
    assert_int_equal(image_icc_is_srgb(profile, n), 0);
    /* one curve off by a level near black */
    n = build(srgb_primaries, TRC_SRGB_SAMPLED, "RGB ");
    uint8_t *t = profile + 132 + 6 * 12 + 3 * 20;
    t[12 + 2 * 10 + 1] += 40;
    assert_int_equal(image_icc_is_srgb(profile, n), 0);
}

static void test_malformed_profiles_are_not(void **state)
{
    (void)state;
    size_t n = build(srgb_primaries, TRC_SRGB_SAMPLED, "RGB ");
    assert_int_equal(image_icc_is_srgb(NULL, n), 0);
    assert_int_equal(image_icc_is_srgb(profile, 100), 0);   /* shorter than a header */
    assert_int_equal(image_icc_is_srgb(profile, n - 1), 0); /* shorter than it declares */
    put32(profile + 128, 0x7fffffff);                      /* a tag count past the end */
    assert_int_equal(image_icc_is_srgb(profile, n), 0);
    n = build(srgb_primaries, TRC_SRGB_SAMPLED, "RGB ");
    put32(profile + 132 + 12 * 4 + 4, 0xffffff00u); /* gTRC's offset past the end */
    assert_int_equal(image_icc_is_srgb(profile, n), 0);
    n = build(srgb_primaries, TRC_SRGB_SAMPLED, "RGB ");
    put32(profile + 132 + 12 * 5 + 8, 0xffffffffu); /* bTRC's size past the end */
    assert_int_equal(image_icc_is_srgb(profile, n), 0);
    n = build(srgb_primaries, TRC_SRGB_SAMPLED, "RGB ");
    put32(profile + 132 + 6 * 12 + 3 * 20 + 8, 100000); /* more samples than the tag holds */
    assert_int_equal(image_icc_is_srgb(profile, n), 0);
    n = build(srgb_primaries, TRC_SRGB_SAMPLED, "RGB ");
    memcpy(profile + 36, "xxxx", 4); /* no 'acsp' signature */
    assert_int_equal(image_icc_is_srgb(profile, n), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_srgb_curves),
        cmocka_unit_test(test_srgb_profiles_are_recognised),
        cmocka_unit_test(test_other_profiles_are_not),
        cmocka_unit_test(test_malformed_profiles_are_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
