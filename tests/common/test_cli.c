/* test_cli.c: usage errors (exit code 2, one-line reason then the usage) and
 * strict option-value parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const cli_program demo = {.name = "alexnet-demo", .usage = "Usage: alexnet-demo [--jobs N]\n"};

/* Runs fn with stderr sent to a temporary file; returns what was written (caller frees). */
static char *capture_stderr(int (*fn)(void), int *result)
{
    char path[] = "/tmp/alexnet-test-cli-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    *result = fn();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *text = calloc(1, 4096);
    size_t n = fread(text, 1, 4095, f);
    text[n] = '\0';
    fclose(f);
    close(fd);
    unlink(path);
    return text;
}

static int call_usage_error(void) { return cli_usage_error(&demo, "unknown option '%s'", "--frobnicate"); }

static void test_usage_error_exit_code_and_message(void **state)
{
    (void)state;
    int rc = 0;
    char *text = capture_stderr(call_usage_error, &rc);
    assert_int_equal(rc, 2);
    assert_int_equal(rc, EXIT_USAGE);
    /* First line: program name and reason; then the usage. */
    assert_true(strncmp(text, "alexnet-demo: unknown option '--frobnicate'\n", 44) == 0);
    assert_non_null(strstr(text, "Usage: alexnet-demo"));
    free(text);
    /* brief (the other ranks of an mpirun): the reason line alone */
    cli_usage_brief(1);
    text = capture_stderr(call_usage_error, &rc);
    cli_usage_brief(0);
    assert_int_equal(rc, EXIT_USAGE);
    assert_string_equal(text, "alexnet-demo: unknown option '--frobnicate'\n");
    free(text);
}

static void test_parse_long(void **state)
{
    (void)state;
    long v = 0;
    assert_int_equal(cli_parse_long("jobs", "8", 1, 64, &v), AN_OK);
    assert_int_equal(v, 8);
    assert_int_equal(cli_parse_long("jobs", "8x", 1, 64, &v), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "--jobs"));
    assert_non_null(strstr(error_message(), "8x"));
    assert_int_equal(cli_parse_long("jobs", "", 1, 64, &v), AN_ERR_ARG);
    assert_int_equal(cli_parse_long("jobs", "0", 1, 64, &v), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "between 1 and 64"));
    assert_int_equal(cli_parse_long("jobs", "99999999999999999999999", 1, 64, &v), AN_ERR_ARG);
}

static void test_parse_u64_and_double(void **state)
{
    (void)state;
    uint64_t u = 0;
    assert_int_equal(cli_parse_u64("seed", "18446744073709551615", &u), AN_OK);
    assert_true(u == UINT64_MAX);
    assert_int_equal(cli_parse_u64("seed", "-1", &u), AN_ERR_ARG);
    double d = 0;
    assert_int_equal(cli_parse_double("lr", "0.01", 0, 10, &d), AN_OK);
    assert_true(d == 0.01);
    assert_int_equal(cli_parse_double("lr", "nan", 0, 10, &d), AN_ERR_ARG);
    assert_int_equal(cli_parse_double("lr", "11", 0, 10, &d), AN_ERR_ARG);
    assert_int_equal(cli_parse_double("lr", "0.01abc", 0, 10, &d), AN_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_error_exit_code_and_message),
        cmocka_unit_test(test_parse_long),
        cmocka_unit_test(test_parse_u64_and_double),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
