/* test_ten_crop.c: the ten views' geometry (§4.1), the cut into CHW floats,
 * and the mean subtracted at the source pixel before the mirror. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "backend_cpu.h"
#include "net_cpu.h"
#include "ops_cpu.h"
#include "ten_crop.h"

/* All ten views of one image into out [10, 3, 224, 224] at once, by the
 * input op's CPU twin (ten views per image), as scoring cuts them. */
static void ten_crop_cut(const uint8_t *image, const float *mean, float *out)
{
    static backend *be;
    if (!be) assert_int_equal(backend_cpu_create(&be, 0), AN_OK);
    crop_choice views[TEN_CROP_VIEWS];
    for (int v = 0; v < TEN_CROP_VIEWS; v++) views[v] = ten_crop_view(v);
    assert_int_equal(crop_input_cpu(be, out, image, mean, views, TEN_CROP_VIEWS, TEN_CROP_VIEWS), AN_OK);
}

enum { S = IMAGE_STORED_SIZE, K = IMAGE_CROP_SIZE };

/* A test image whose every byte differs from its neighbours: [256,256,3]. */
static uint8_t pixel_value(int y, int x, int c) { return (uint8_t)((y * 7 + x * 13 + c * 101) & 255); }
/* A mean image that is not symmetric under a mirror: [256,256,3]. */
static float mean_value(int y, int x, int c) { return 0.25f * (float)x + 0.125f * (float)y + (float)c; }

static uint8_t *make_image(void)
{
    uint8_t *img = malloc((size_t)IMAGE_STORED_BYTES);
    assert_non_null(img);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            for (int c = 0; c < 3; c++) img[((size_t)y * S + x) * 3 + c] = pixel_value(y, x, c);
    return img;
}

static float *make_mean(void)
{
    float *mean = malloc((size_t)IMAGE_STORED_BYTES * sizeof(float));
    assert_non_null(mean);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            for (int c = 0; c < 3; c++) mean[((size_t)y * S + x) * 3 + c] = mean_value(y, x, c);
    return mean;
}

static void test_view_geometry(void **state)
{
    (void)state;
    const int expect[10][3] = {{0, 0, 0},  {0, 32, 0},  {32, 0, 0}, {32, 32, 0}, {16, 16, 0},
                               {0, 0, 1},  {0, 32, 1},  {32, 0, 1}, {32, 32, 1}, {16, 16, 1}};
    for (int v = 0; v < TEN_CROP_VIEWS; v++) {
        crop_choice view = ten_crop_view(v);
        assert_int_equal(view.y, expect[v][0]);
        assert_int_equal(view.x, expect[v][1]);
        assert_int_equal(view.flip, expect[v][2]);
    }
    crop_choice centre = ten_crop_view(TEN_CROP_CENTRE_VIEW);
    assert_int_equal(centre.y, 16);
    assert_int_equal(centre.x, 16);
    assert_int_equal(centre.flip, 0);
}

/* Every output value against the formula, for every view. */
static void test_cut_matches_formula(void **state)
{
    (void)state;
    uint8_t *img = make_image();
    float *mean = make_mean();
    float *out = malloc((size_t)IMAGE_CROP_FLOATS * sizeof(float)); /* [3,224,224] */
    assert_non_null(out);
    for (int v = 0; v < TEN_CROP_VIEWS; v++) {
        crop_choice view = ten_crop_view(v);
        crop_cut(img, mean, view, out);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < K; y++)
                for (int x = 0; x < K; x++) {
                    int sy = view.y + y, sx = view.x + (view.flip ? K - 1 - x : x);
                    float want = (float)pixel_value(sy, sx, c) - mean_value(sy, sx, c);
                    float got = out[((size_t)c * K + y) * K + x];
                    if (got != want) fail_msg("view %d c %d y %d x %d: got %g want %g", v, c, y, x, got, want);
                }
    }
    free(out);
    free(mean);
    free(img);
}

/* Concrete corners: the top-right view's first pixel is source (0, 32); the
 * mirrored top-left view's first pixel is source (0, 223); the bottom-right
 * view's last pixel is source (255, 255). */
static void test_cut_corners(void **state)
{
    (void)state;
    uint8_t *img = make_image();
    float *mean = make_mean();
    float *out = malloc((size_t)IMAGE_CROP_FLOATS * sizeof(float));
    assert_non_null(out);
    crop_cut(img, mean, ten_crop_view(1), out);
    assert_true(out[0] == (float)pixel_value(0, 32, 0) - mean_value(0, 32, 0));
    crop_cut(img, mean, ten_crop_view(5), out);
    assert_true(out[0] == (float)pixel_value(0, 223, 0) - mean_value(0, 223, 0));
    crop_cut(img, mean, ten_crop_view(3), out);
    size_t last = (size_t)IMAGE_CROP_FLOATS - 1; /* c 2, y 223, x 223 */
    assert_true(out[last] == (float)pixel_value(255, 255, 2) - mean_value(255, 255, 2));
    free(out);
    free(mean);
    free(img);
}

/* Mean at the source pixel: a mirrored view is exactly the unmirrored view
 * read right to left (subtracting the mean at the output position instead
 * would break this, because the mean image is not symmetric). */
static void test_mirror_is_reflection_of_unmirrored(void **state)
{
    (void)state;
    uint8_t *img = make_image();
    float *mean = make_mean();
    float *all = malloc((size_t)TEN_CROP_VIEWS * IMAGE_CROP_FLOATS * sizeof(float)); /* [10,3,224,224] */
    assert_non_null(all);
    ten_crop_cut(img, mean, all);
    for (int v = 0; v < 5; v++) {
        const float *plain = all + (size_t)v * IMAGE_CROP_FLOATS;
        const float *mirrored = all + (size_t)(v + 5) * IMAGE_CROP_FLOATS;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < K; y++)
                for (int x = 0; x < K; x++)
                    assert_true(mirrored[((size_t)c * K + y) * K + x] == plain[((size_t)c * K + y) * K + (K - 1 - x)]);
    }
    /* and the ten cut at once are crop_cut's views one by one */
    float *one = malloc((size_t)IMAGE_CROP_FLOATS * sizeof(float));
    assert_non_null(one);
    for (int v = 0; v < TEN_CROP_VIEWS; v++) {
        crop_cut(img, mean, ten_crop_view(v), one);
        assert_memory_equal(one, all + (size_t)v * IMAGE_CROP_FLOATS, (size_t)IMAGE_CROP_FLOATS * sizeof(float));
    }
    free(one);
    free(all);
    free(mean);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_geometry),
        cmocka_unit_test(test_cut_matches_formula),
        cmocka_unit_test(test_cut_corners),
        cmocka_unit_test(test_mirror_is_reflection_of_unmirrored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
