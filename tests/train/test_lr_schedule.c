/* test_lr_schedule.c: plateau drops after `patience` epochs without
 * improvement, at most three (§5); fixed milestones; option parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lr_schedule.h"

static void test_plateau(void **state)
{
    (void)state;
    lr_schedule s;
    lr_schedule_init(&s, 0.01, 2);
    int best = -1;
    assert_int_equal(lr_schedule_end_epoch(&s, 1, 0.9, &best), 0);
    assert_int_equal(best, 1);
    assert_int_equal(lr_schedule_end_epoch(&s, 2, 0.8, &best), 0);
    assert_int_equal(best, 1);
    /* one epoch without improvement: patience 2 not reached */
    assert_int_equal(lr_schedule_end_epoch(&s, 3, 0.8, &best), 0);
    assert_int_equal(best, 0);
    assert_true(s.lr == 0.01);
    /* second: drop */
    assert_int_equal(lr_schedule_end_epoch(&s, 4, 0.85, &best), 1);
    assert_true(s.lr == 0.01 / 10.0);
    assert_int_equal(s.drops, 1);
    /* an improvement resets the count */
    assert_int_equal(lr_schedule_end_epoch(&s, 5, 0.85, NULL), 0);
    assert_int_equal(lr_schedule_end_epoch(&s, 6, 0.7, &best), 0);
    assert_int_equal(best, 1);
    assert_int_equal(lr_schedule_end_epoch(&s, 7, 0.7, NULL), 0);
    assert_int_equal(lr_schedule_end_epoch(&s, 8, 0.7, NULL), 1);
    assert_int_equal(s.drops, 2);
    /* third drop, then never again */
    assert_int_equal(lr_schedule_end_epoch(&s, 9, 0.7, NULL), 0);
    assert_int_equal(lr_schedule_end_epoch(&s, 10, 0.7, NULL), 1);
    assert_int_equal(s.drops, 3);
    double final_lr = s.lr;
    assert_true(final_lr < 0.01 / 999.0 && final_lr > 0.01 / 1001.0);
    for (int e = 11; e < 30; e++) assert_int_equal(lr_schedule_end_epoch(&s, e, 0.9, NULL), 0);
    assert_true(s.lr == final_lr);
    assert_true(s.best_val_error == 0.7);
}

static void test_milestones(void **state)
{
    (void)state;
    lr_schedule s;
    lr_schedule_init(&s, 0.01, 2);
    assert_int_equal(lr_schedule_set_milestones(&s, "3,5"), AN_OK);
    int changes = 0;
    for (int e = 1; e <= 8; e++) {
        /* improving error: plateau logic must not matter */
        int changed = lr_schedule_end_epoch(&s, e, 1.0 - 0.1 * e, NULL);
        changes += changed;
        assert_int_equal(changed, e == 3 || e == 5);
    }
    assert_int_equal(changes, 2);
    assert_true(s.lr == 0.01 / 10.0 / 10.0);
    /* milestones fire even without any improvement */
    lr_schedule_init(&s, 0.1, 1);
    assert_int_equal(lr_schedule_set_milestones(&s, "2"), AN_OK);
    assert_int_equal(lr_schedule_end_epoch(&s, 1, 0.5, NULL), 0);
    assert_int_equal(lr_schedule_end_epoch(&s, 2, 0.5, NULL), 1);
    assert_int_equal(lr_schedule_end_epoch(&s, 3, 0.5, NULL), 0);
}

static void test_milestone_parsing(void **state)
{
    (void)state;
    lr_schedule s;
    lr_schedule_init(&s, 0.01, 2);
    const char *bad[] = { "", "a", "3,2", "3,3", "0", "-1", "3,", ",3", "3;4", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(lr_schedule_set_milestones(&s, bad[i]), AN_ERR_ARG);
    assert_int_equal(lr_schedule_set_milestones(&s, "30,60,80"), AN_OK);
    assert_int_equal(s.milestone_count, 3);
    assert_int_equal(s.milestones[2], 80);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plateau),
        cmocka_unit_test(test_milestones),
        cmocka_unit_test(test_milestone_parsing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
