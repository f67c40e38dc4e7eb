/* test_tally.c: hit counts for both schemes, per class, confusion pairs, and
 * "every image counted exactly once". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "tally.h"

/* probs for 7 classes with the given class on top and the label at `rank`. */
static void ranked_probs(float *probs, int label, int top, int rank_of_label)
{
    /* classes other than label/top get small decreasing values; place label
     * so that exactly rank_of_label classes beat it. */
    for (int c = 0; c < 7; c++) probs[c] = 0.01f * (float)(7 - c) / 7.0f;
    probs[top] = 0.9f;
    if (label != top) {
        /* beat by exactly rank_of_label classes: top plus rank_of_label-1 others */
        int beaten = 1;
        for (int c = 0; c < 7 && beaten < rank_of_label; c++)
            if (c != label && c != top) {
                probs[c] = 0.5f - 0.01f * (float)beaten;
                beaten++;
            }
        probs[label] = 0.3f;
        /* every other class below label */
        for (int c = 0; c < 7; c++)
            if (c != label && c != top && probs[c] < 0.3f) probs[c] = 0.001f;
    }
}

static void test_counts(void **state)
{
    (void)state;
    tally t;
    assert_int_equal(tally_init(&t, 7, 10), AN_OK);
    float ten[7], centre[7];
    /* image 0: label 2, ten-crop right, centre wrong but top-5 */
    ranked_probs(ten, 2, 2, 0);
    ranked_probs(centre, 2, 4, 3);
    assert_int_equal(tally_add(&t, 0, 2, ten, centre), AN_OK);
    /* image 1: label 2, ten-crop wrong (predicts 5) outside top-5, centre right */
    ranked_probs(ten, 2, 5, 6);
    ranked_probs(centre, 2, 2, 0);
    assert_int_equal(tally_add(&t, 1, 2, ten, centre), AN_OK);
    /* image 7: label 0, both predict 5, label rank 4 (top-5 hit) */
    ranked_probs(ten, 0, 5, 4);
    ranked_probs(centre, 0, 5, 4);
    assert_int_equal(tally_add(&t, 7, 0, ten, centre), AN_OK);

    assert_int_equal(t.images, 3);
    assert_int_equal(t.top1[TALLY_TEN_CROP], 1);
    assert_int_equal(t.top5[TALLY_TEN_CROP], 2);
    assert_int_equal(t.top1[TALLY_CENTRE_CROP], 1);
    assert_int_equal(t.top5[TALLY_CENTRE_CROP], 3);
    assert_float_equal(tally_top1_error(&t, TALLY_TEN_CROP), 2.0 / 3.0, 1e-12);
    assert_float_equal(tally_top5_error(&t, TALLY_CENTRE_CROP), 0.0, 1e-12);
    assert_int_equal(t.class_images[2], 2);
    assert_int_equal(t.class_images[0], 1);
    assert_int_equal(t.class_top1[TALLY_TEN_CROP][2], 1);
    assert_int_equal(t.class_top5[TALLY_TEN_CROP][0], 1);
    assert_int_equal(t.confusion[2 * 7 + 2], 1);
    assert_int_equal(t.confusion[2 * 7 + 5], 1);
    assert_int_equal(t.confusion[0 * 7 + 5], 1);
    tally_free(&t);
}

static void test_each_image_once(void **state)
{
    (void)state;
    tally t;
    assert_int_equal(tally_init(&t, 3, 4), AN_OK);
    float p[3] = {0.5f, 0.3f, 0.2f};
    assert_int_equal(tally_add(&t, 3, 1, p, p), AN_OK);
    assert_int_equal(tally_add(&t, 3, 1, p, p), AN_ERR_INTERNAL);
    assert_non_null(strstr(error_message(), "scored twice"));
    assert_int_equal(tally_add(&t, 4, 1, p, p), AN_ERR_FORMAT); /* id out of range */
    assert_int_equal(tally_add(&t, 0, 3, p, p), AN_ERR_FORMAT); /* label out of range */
    assert_int_equal(tally_add(&t, 0, -1, p, p), AN_ERR_FORMAT);
    assert_int_equal(t.images, 1);
    /* with 3 classes every label is in the top 5 */
    assert_int_equal(t.top5[TALLY_TEN_CROP], 1);
    assert_int_equal(t.top1[TALLY_TEN_CROP], 0);

    tally part;
    assert_int_equal(tally_init(&part, 3, 4), AN_OK);
    assert_int_equal(tally_add(&part, 0, 0, p, p), AN_OK);
    assert_int_equal(tally_add(&part, 1, 2, p, p), AN_OK);
    assert_int_equal(tally_merge(&t, &part), AN_OK);
    assert_int_equal(t.images, 3);
    assert_int_equal(t.top1[TALLY_TEN_CROP], 1);
    assert_int_equal(t.class_images[2], 1);
    assert_int_equal(t.confusion[2 * 3 + 0], 1);
    assert_int_equal(tally_merge(&t, &part), AN_ERR_INTERNAL); /* same ids again */
    tally_free(&part);
    tally_free(&t);
}

static void test_most_confused_order(void **state)
{
    (void)state;
    tally t;
    assert_int_equal(tally_init(&t, 4, 1), AN_OK);
    /* fill the confusion counts directly: (true, predicted) = count */
    t.confusion[1 * 4 + 2] = 5;
    t.confusion[3 * 4 + 0] = 5;
    t.confusion[0 * 4 + 1] = 7;
    t.confusion[2 * 4 + 2] = 50; /* diagonal: never a confused pair */
    t.confusion[2 * 4 + 3] = 1;
    confused_pair pairs[3];
    assert_int_equal(tally_most_confused(&t, pairs, 3), 3);
    assert_int_equal(pairs[0].true_class, 0);
    assert_int_equal(pairs[0].predicted_class, 1);
    assert_int_equal(pairs[0].count, 7);
    assert_int_equal(pairs[1].true_class, 1); /* tie on 5: lower true class first */
    assert_int_equal(pairs[2].true_class, 3);
    confused_pair all[10];
    assert_int_equal(tally_most_confused(&t, all, 10), 4);
    assert_int_equal(all[3].count, 1);
    assert_int_equal(tally_most_confused(&t, all, 0), 0);
    tally_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts),
        cmocka_unit_test(test_each_image_once),
        cmocka_unit_test(test_most_confused_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
