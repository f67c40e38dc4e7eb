/* test_prep_stats.c: the paper's statistics from exact sums, on generated
 * images whose mean image, RGB mean, covariance and eigen decomposition are
 * known in closed form (§2, §4.1), and the class-balanced subset rule. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dataset.h"
#include "prep_listing.h"
#include "prep_stats.h"
#include "shard_format.h"

/* Four colours m +- a*(1,-1,0) and m +- b*(1,1,-2), equally frequent: mean m,
 * covariance (a^2/2) w1 w1^T + (b^2/2) w2 w2^T with eigenvalues 3b^2 (along
 * w2), a^2 (along w1) and 0 (along (1,1,1)). */
static const int A = 40, B = 30;
static const uint8_t colours[4][3] = {{168, 88, 128}, {88, 168, 128}, {158, 158, 68}, {98, 98, 188}};

static void fill(uint8_t *image /* [256,256,3] */, int shift)
{
    for (size_t p = 0; p < (size_t)IMAGE_STORED_SIZE * IMAGE_STORED_SIZE; p++)
        memcpy(image + 3 * p, colours[(p + (size_t)shift) % 4], 3);
}

static void test_known_statistics(void **state)
{
    (void)state;
    uint8_t *image = malloc(IMAGE_STORED_BYTES);
    shard_stats one, two, total;
    assert_int_equal(shard_stats_init(&one), AN_OK);
    assert_int_equal(shard_stats_init(&two), AN_OK);
    assert_int_equal(shard_stats_init(&total), AN_OK);
    /* Two "shards": image shift 0 in the first, shift 1 in the second. */
    fill(image, 0);
    shard_stats_add_image(&one, image);
    fill(image, 1);
    shard_stats_add_image(&two, image);
    shard_stats_merge(&total, &one);
    shard_stats_merge(&total, &two);
    assert_int_equal(total.num_images, 2);

    dataset *d = NULL;
    assert_int_equal(dataset_alloc(&d, 1), AN_OK);
    assert_int_equal(prep_stats_finish(&total, d), AN_OK);

    /* Mean image: pixel p is the average of colours p%4 and (p+1)%4 (§2). */
    for (size_t p = 0; p < (size_t)IMAGE_STORED_SIZE * IMAGE_STORED_SIZE; p += 997)
        for (int c = 0; c < 3; c++) {
            float expect = (colours[p % 4][c] + colours[(p + 1) % 4][c]) / 2.0f;
            assert_float_equal(d->mean_image[3 * p + c], expect, 0.0);
        }
    for (int c = 0; c < 3; c++) assert_float_equal(d->rgb_mean[c], 128.0, 1e-9);
    /* Variances in byte units: r,g: a^2/2 + b^2/2; b: 2 b^2. */
    assert_float_equal(d->rgb_std[0], sqrt(A * A / 2.0 + B * B / 2.0), 1e-9);
    assert_float_equal(d->rgb_std[1], sqrt(A * A / 2.0 + B * B / 2.0), 1e-9);
    assert_float_equal(d->rgb_std[2], sqrt(2.0 * B * B), 1e-9);
    const double w1[3] = {1, -1, 0}, w2[3] = {1, 1, -2};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double cov = (A * A / 2.0 * w1[i] * w1[j] + B * B / 2.0 * w2[i] * w2[j]) / (255.0 * 255.0);
            assert_float_equal(d->rgb_covariance[i][j], cov, 1e-12);
        }
    /* Eigenvalues descending ([0,1] units), eigenvectors as columns (§4.1). */
    assert_float_equal(d->eigenvalues[0], 3.0 * B * B / 65025.0, 1e-12);
    assert_float_equal(d->eigenvalues[1], (double)A * A / 65025.0, 1e-12);
    assert_float_equal(d->eigenvalues[2], 0.0, 1e-12);
    const double u[3][3] = {{-1 / sqrt(6), -1 / sqrt(6), 2 / sqrt(6)},  /* w2, sign: largest component positive */
                            {1 / sqrt(2), -1 / sqrt(2), 0},             /* w1 (tie: compared up to sign) */
                            {1 / sqrt(3), 1 / sqrt(3), 1 / sqrt(3)}};
    for (int i = 0; i < 3; i++) {
        double dot = 0, norm = 0;
        for (int r = 0; r < 3; r++) {
            dot += d->eigenvectors[r][i] * u[i][r];
            norm += d->eigenvectors[r][i] * d->eigenvectors[r][i];
        }
        assert_float_equal(norm, 1.0, 1e-12);
        assert_float_equal(fabs(dot), 1.0, 1e-9);
        if (i != 1) assert_float_equal(dot, 1.0, 1e-9);
    }
    dataset_close(d);
    shard_stats_free(&one);
    shard_stats_free(&two);
    shard_stats_free(&total);
    free(image);
}

static void test_split_sums_equal_direct_sums(void **state)
{
    (void)state;
    uint8_t *image = malloc(IMAGE_STORED_BYTES);
    uint32_t *acc = calloc(IMAGE_STORED_BYTES, sizeof *acc);
    shard_stats direct, split;
    assert_int_equal(shard_stats_init(&direct), AN_OK);
    assert_int_equal(shard_stats_init(&split), AN_OK);
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < IMAGE_STORED_BYTES; i++) image[i] = (uint8_t)(i * 7 + (size_t)k * 31 + i / 1000);
        shard_stats_add_image(&direct, image);
        shard_stats_add_image_split(&split, acc, image);
    }
    shard_stats_fold_pixels(&split, acc);
    assert_int_equal(split.num_images, 3);
    assert_memory_equal(split.pixel_sum, direct.pixel_sum, IMAGE_STORED_BYTES * sizeof(double));
    assert_memory_equal(split.rgb_sum, direct.rgb_sum, sizeof split.rgb_sum);
    assert_memory_equal(split.rgb_outer_sum, direct.rgb_outer_sum, sizeof split.rgb_outer_sum);
    for (size_t i = 0; i < IMAGE_STORED_BYTES; i += 4099) assert_int_equal(acc[i], 0); /* cleared by the fold */
    shard_stats_free(&direct);
    shard_stats_free(&split);
    free(acc);
    free(image);
}

static void test_eigen_of_a_general_matrix(void **state)
{
    (void)state;
    /* A rotation of diag(5, 2, 0.5): eigen pairs must satisfy C v = lambda v. */
    const double c[9] = {3.5, 1.0, 0.5, 1.0, 2.5, 0.25, 0.5, 0.25, 1.5};
    double values[3], vectors[9];
    assert_int_equal(prep_stats_eigen3(c, values, vectors), AN_OK);
    assert_true(values[0] >= values[1] && values[1] >= values[2]);
    assert_float_equal(values[0] + values[1] + values[2], 3.5 + 2.5 + 1.5, 1e-12); /* trace */
    for (int i = 0; i < 3; i++)
        for (int r = 0; r < 3; r++) {
            double cv = 0;
            for (int k = 0; k < 3; k++) cv += c[3 * r + k] * vectors[3 * k + i];
            assert_float_equal(cv, values[i] * vectors[3 * r + i], 1e-12);
        }
}

static void test_no_images_is_an_error(void **state)
{
    (void)state;
    shard_stats empty;
    assert_int_equal(shard_stats_init(&empty), AN_OK);
    dataset *d = NULL;
    assert_int_equal(dataset_alloc(&d, 2), AN_OK);
    assert_int_equal(prep_stats_finish(&empty, d), AN_ERR_ARG);
    dataset_close(d);
    shard_stats_free(&empty);
}

static void test_class_balanced_limit(void **state)
{
    (void)state;
    prep_item_list list;
    memset(&list, 0, sizeof list);
    /* Class 0: 6 items, class 1: 1 item, class 2: 3 items, in path order. */
    const int labels[10] = {0, 0, 2, 0, 1, 0, 2, 0, 0, 2};
    char path[32];
    for (int i = 0; i < 10; i++) {
        snprintf(path, sizeof path, "p%02d", i);
        assert_int_equal(prep_listing_add(&list, path, labels[i], 0), AN_OK);
    }
    assert_int_equal(prep_listing_limit(&list, 6, 3), AN_OK);
    /* Rounds: {0,1,2}, {0,2}, {0} -> class 0: 3, class 1: 1, class 2: 2; first ones of each class kept. */
    const char *expect[6] = {"p00", "p01", "p02", "p03", "p04", "p06"};
    assert_int_equal(list.count, 6);
    for (int i = 0; i < 6; i++) assert_string_equal(list.items[i].path, expect[i]);
    for (size_t i = 0; i < list.count; i++) free(list.items[i].path);
    free(list.items);
}

static void test_paths_become_utf8(void **state)
{
    (void)state;
    char *a = prep_path_utf8("train/caf\xe9.JPEG");
    assert_string_equal(a, "train/caf\\xe9.JPEG");
    char *b = prep_path_utf8("train/caf\xc3\xa9\\x.JPEG");
    assert_string_equal(b, "train/caf\xc3\xa9\\\\x.JPEG");
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_statistics),
        cmocka_unit_test(test_split_sums_equal_direct_sums),
        cmocka_unit_test(test_eigen_of_a_general_matrix),
        cmocka_unit_test(test_no_images_is_an_error),
        cmocka_unit_test(test_class_balanced_limit),
        cmocka_unit_test(test_paths_become_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
