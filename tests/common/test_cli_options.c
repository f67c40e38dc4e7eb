/* test_cli_options.c: a program's options from one table (common/cli_options.h):
 * defaults parsed by the rows' own parsers, each type and range on the
 * command line, the `given` bits, scopes, aliases, the --help lines and what
 * config.json records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli_options.h"
#include "cli_test.h"

typedef struct demo {
    const char *name;
    int flag, count;
    uint32_t size;
    uint64_t seed;
    double rate;
    float decay;
    int colour; /* 0 red, 1 blue */
    unsigned given;
} demo;

static an_status colour_parse(const char *text, void *field)
{
    if (strcmp(text, "red") == 0) *(int *)field = 0;
    else if (strcmp(text, "blue") == 0) *(int *)field = 1;
    else return error_set(AN_ERR_ARG, "--colour must be red or blue, got '%s'", text);
    return AN_OK;
}
static const char *colour_name(const void *field) { return *(const int *)field ? "blue" : "red"; }

#define AT(f) offsetof(demo, f)
static const cli_option rows[] = {
    CLI_OPTION("name", "a.name", CLI_STRING, AT(name), 0, 0, "x", "S", "a name (default %D)"),
    CLI_OPTION("flag", "a.flag", CLI_FLAG, AT(flag), 0, 0, NULL, NULL, "a flag"),
    CLI_OPTION("count", "a.count", CLI_INT, AT(count), 1, 10, "3", "N", "between 1 and 10\nsecond line",
               .given = 1, .scope = 1),
    CLI_OPTION("size", "b.size", CLI_U32, AT(size), 0, 100, NULL, "N", "a size", .alias = "sz"),
    CLI_OPTION("seed", "b.seed", CLI_U64, AT(seed), 0, 0, "7", "S", "any", .given = 2),
    CLI_OPTION("rate", "b.rate", CLI_DOUBLE, AT(rate), 0.5, 2.0, "1.5", "R", "a rate"),
    CLI_OPTION("decay", "b.decay", CLI_FLOAT, AT(decay), 0.0, 1.0, "0.9", "D", "a float"),
    CLI_OPTION("colour", "a.colour", CLI_CUSTOM, AT(colour), 0, 0, "blue", "red|blue", "a colour",
               .parse = colour_parse, .name = colour_name),
    CLI_OPTION("help", NULL, CLI_HELP, 0, 0, 0, NULL, NULL, "--help"),
};
static const cli_table table = {rows, sizeof rows / sizeof rows[0], AT(given), 20};
static const cli_program program = {.name = "demo", .usage = "Usage: demo\n", .options = &table};

static unsigned parse_scope;
static int parse_demo(void *d, int argc, char **argv)
{
    return cli_options_parse(&program, &table, parse_scope, "", d, argc, argv);
}

static int parse(demo *d, unsigned scope, const char *args)
{
    parse_scope = scope;
    return cli_test_parse(parse_demo, d, "demo", args);
}

static void test_defaults_and_values(void **state)
{
    (void)state;
    demo d;
    memset(&d, 0, sizeof d);
    assert_int_equal(cli_options_defaults(&table, &d), AN_OK);
    assert_string_equal(d.name, "x");
    assert_int_equal(d.count, 3);
    assert_int_equal(d.seed, 7);
    assert_true(d.rate == 1.5 && d.decay == 0.9f && d.colour == 1 && d.given == 0);
    assert_int_equal(parse(&d, 0, "--name y --flag --count 10 --sz 100 --seed 18446744073709551615 --rate 0.5 "
                                  "--decay 0 --colour red"), 0);
    assert_string_equal(d.name, "y");
    assert_true(d.flag == 1 && d.count == 10 && d.size == 100 && d.seed == UINT64_MAX);
    assert_true(d.rate == 0.5 && d.decay == 0.0f && d.colour == 0);
    assert_int_equal(d.given, 3); /* --count and --seed */
}

static void test_refusals(void **state)
{
    (void)state;
    demo d;
    memset(&d, 0, sizeof d);
    assert_int_equal(cli_options_defaults(&table, &d), AN_OK);
    assert_int_equal(parse(&d, 0, "--count 11"), EXIT_USAGE);
    assert_int_equal(parse(&d, 0, "--count 0"), EXIT_USAGE);
    assert_int_equal(parse(&d, 0, "--size 101"), EXIT_USAGE);
    assert_int_equal(parse(&d, 0, "--rate 2.5"), EXIT_USAGE);
    assert_int_equal(parse(&d, 0, "--decay -0.1"), EXIT_USAGE);
    assert_int_equal(parse(&d, 0, "--seed -1"), EXIT_USAGE);
    assert_int_equal(parse(&d, 0, "--colour green"), EXIT_USAGE);
    assert_non_null(strstr(error_message(), "--colour must be red or blue"));
    assert_int_equal(parse(&d, 0, "--bogus"), EXIT_USAGE);
    assert_int_equal(parse(&d, 0, "--count"), EXIT_USAGE); /* missing value */
    assert_int_equal(parse(&d, 2, "--count 4"), EXIT_USAGE); /* not in scope 2 */
    assert_int_equal(parse(&d, 1, "--count 4"), 0);
    assert_int_equal(d.count, 4);
}

/* Reads what `print` writes into buf. */
static void capture(void (*print)(void), char *buf, size_t size)
{
    fflush(stdout);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(fileno(stdout));
    dup2(fileno(tmp), fileno(stdout));
    print();
    fflush(stdout);
    dup2(saved, fileno(stdout));
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, size - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
}

static void print_help(void) { cli_print_help(&program); }

static void test_help_lines(void **state)
{
    (void)state;
    char text[2048];
    capture(print_help, text, sizeof text);
    assert_non_null(strstr(text, "Usage: demo\n"));
    assert_non_null(strstr(text, "  --name S          a name (default x)\n"));
    assert_non_null(strstr(text, "  --count N         between 1 and 10\n                    second line\n"));
    assert_non_null(strstr(text, "  --colour red|blue a colour\n"));
    assert_non_null(strstr(text, "  --help\n"));
}

static void test_record(void **state)
{
    (void)state;
    demo d;
    memset(&d, 0, sizeof d);
    assert_int_equal(cli_options_defaults(&table, &d), AN_OK);
    json_writer w;
    json_init(&w);
    json_begin_object(&w);
    cli_options_record(&table, "b", &d, &w);
    json_key(&w, "a");
    json_begin_object(&w);
    cli_options_record(&table, "a", &d, &w);
    json_end_object(&w);
    json_end_object(&w);
    assert_int_equal(json_finish(&w), AN_OK);
    assert_non_null(strstr(w.data, "\"size\": 0"));
    assert_non_null(strstr(w.data, "\"seed\": 7"));
    assert_non_null(strstr(w.data, "\"rate\": 1.5"));
    assert_non_null(strstr(w.data, "\"decay\": 0.9"));
    assert_null(strstr(w.data, "0.899"));
    assert_non_null(strstr(w.data, "\"a\": {"));
    assert_non_null(strstr(w.data, "\"name\": \"x\""));
    assert_non_null(strstr(w.data, "\"flag\": false"));
    assert_non_null(strstr(w.data, "\"colour\": \"blue\""));
    json_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_values),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_help_lines),
        cmocka_unit_test(test_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
