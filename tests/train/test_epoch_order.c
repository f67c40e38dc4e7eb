/* test_epoch_order.c: the epoch permutation is a permutation, depends only on
 * (seed, epoch), differs between epochs, and the batch slices of R ranks
 * cover every position exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "epoch_order.h"

static void assert_permutation(const uint32_t *order, uint32_t n)
{
    uint8_t *seen = calloc(n, 1);
    assert_non_null(seen);
    for (uint32_t i = 0; i < n; i++) {
        assert_true(order[i] < n);
        assert_int_equal(seen[order[i]], 0);
        seen[order[i]] = 1;
    }
    free(seen);
}

static void test_permutation_and_determinism(void **state)
{
    (void)state;
    const uint32_t sizes[] = { 1, 2, 3, 5, 100, 1001, 60000 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        uint32_t n = sizes[k];
        uint32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        assert_non_null(a);
        assert_non_null(b);
        epoch_order_make(7, 4, n, a);
        assert_permutation(a, n);
        epoch_order_make(7, 4, n, b);
        assert_memory_equal(a, b, n * sizeof *a);
        free(a);
        free(b);
    }
}

static void test_epochs_and_seeds_differ(void **state)
{
    (void)state;
    const uint32_t n = 1000;
    uint32_t e0[1000], e1[1000], s1[1000];
    epoch_order_make(7, 0, n, e0);
    epoch_order_make(7, 1, n, e1);
    epoch_order_make(8, 0, n, s1);
    int same_epoch = 0, same_seed = 0, fixed = 0;
    for (uint32_t i = 0; i < n; i++) {
        same_epoch += e0[i] == e1[i];
        same_seed += e0[i] == s1[i];
        fixed += e0[i] == i;
    }
    /* A random permutation agrees with another in about one place. */
    assert_true(same_epoch < 10);
    assert_true(same_seed < 10);
    assert_true(fixed < 10);
}

static void test_uniform_first_position(void **state)
{
    (void)state;
    /* Which of 4 items lands first, over 4000 epochs: each near 1000. */
    int counts[4] = { 0 };
    for (uint32_t epoch = 0; epoch < 4000; epoch++) {
        uint32_t order[4];
        epoch_order_make(1, epoch, 4, order);
        counts[order[0]]++;
    }
    for (int i = 0; i < 4; i++) assert_true(counts[i] > 850 && counts[i] < 1150);
}

static void test_batch_slices_cover_the_epoch(void **state)
{
    (void)state;
    const uint64_t n = 1003, batch = 128;
    assert_int_equal(epoch_steps(n, batch), 8);
    assert_int_equal(epoch_steps(1024, batch), 8);
    for (int ranks = 1; ranks <= 3; ranks++) {
        uint8_t seen[1003] = { 0 };
        for (uint64_t step = 0; step < epoch_steps(n, batch); step++) {
            uint64_t expected_begin = step * batch;
            uint64_t total = 0;
            for (int r = 0; r < ranks; r++) {
                uint64_t begin, count;
                epoch_batch_slice(n, batch, step, r, ranks, &begin, &count);
                assert_int_equal(begin, expected_begin); /* contiguous, in rank order */
                expected_begin += count;
                total += count;
                for (uint64_t i = begin; i < begin + count; i++) {
                    assert_true(i < n);
                    assert_int_equal(seen[i], 0);
                    seen[i] = 1;
                }
            }
            assert_int_equal(total, step + 1 < epoch_steps(n, batch) ? batch : n - 7 * batch);
        }
        for (uint64_t i = 0; i < n; i++) assert_int_equal(seen[i], 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_permutation_and_determinism),
        cmocka_unit_test(test_epochs_and_seeds_differ),
        cmocka_unit_test(test_uniform_first_position),
        cmocka_unit_test(test_batch_slices_cover_the_epoch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
