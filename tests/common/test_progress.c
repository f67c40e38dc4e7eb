/* test_progress.c: the progress bar's plain periodic lines when the output is
 * not a terminal (no carriage returns, no escape codes), and the final line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "progress.h"

static char *read_all(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    rewind(f);
    char *text = calloc(1, (size_t)n + 1);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    return text;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (; *text; text++) n += *text == '\n';
    return n;
}

static void test_plain_lines_when_not_a_terminal(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    progress p;
    /* interval 0: every update prints a line. */
    progress_start_on(&p, f, 0, 0.0, "prep train", 4);
    for (int i = 0; i < 4; i++) progress_add(&p, 1);
    progress_set_extra(&p, "bad 0");
    progress_finish(&p);
    char *text = read_all(f);
    assert_null(strchr(text, '\r'));
    assert_null(strchr(text, '\033'));
    assert_int_equal(count_lines(text), 5);
    assert_non_null(strstr(text, "prep train: 1/4 (25.0%)"));
    assert_non_null(strstr(text, "prep train: 4/4 (100.0%)"));
    assert_non_null(strstr(text, "prep train: done 4/4 in "));
    assert_non_null(strstr(text, "bad 0"));
    free(text);
    fclose(f);
}

static void test_interval_limits_lines(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    progress p;
    progress_start_on(&p, f, 0, 3600.0, "slow", 1000);
    for (int i = 0; i < 1000; i++) progress_add(&p, 1);
    progress_finish(&p);
    char *text = read_all(f);
    assert_int_equal(count_lines(text), 1); /* only the final line */
    assert_non_null(strstr(text, "slow: done 1000/1000"));
    free(text);
    fclose(f);
}

static void test_terminal_redraws_in_place(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    progress p;
    progress_start_on(&p, f, 1, 0.0, "bar", 2);
    progress_add(&p, 1);
    progress_add(&p, 1);
    progress_finish(&p);
    char *text = read_all(f);
    assert_non_null(strchr(text, '\r'));
    assert_int_equal(count_lines(text), 1);
    free(text);
    fclose(f);
}

static void test_quiet_prints_nothing(void **state)
{
    (void)state;
    log_set_level(LOG_WARN);
    FILE *f = tmpfile();
    progress p;
    progress_start_on(&p, f, 0, 0.0, "quiet", 3);
    progress_add(&p, 3);
    progress_finish(&p);
    char *text = read_all(f);
    assert_string_equal(text, "");
    free(text);
    fclose(f);
    log_set_level(LOG_INFO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_lines_when_not_a_terminal),
        cmocka_unit_test(test_interval_limits_lines),
        cmocka_unit_test(test_terminal_redraws_in_place),
        cmocka_unit_test(test_quiet_prints_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
