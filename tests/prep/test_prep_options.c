/* test_prep_options.c: alexnet-prep's option table (prep/prep_options.c): the
 * defaults are the decoder's and the JPEG store's own constants, each named
 * setting parses into its field, and malformed values, missing options and
 * unknown subcommands exit 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cli_test.h"
#include "prep_options.h"

static int parse_prep(void *o, int argc, char **argv) { return prep_options_parse(o, argc, argv); }

static int parse(prep_options *o, const char *args)
{
    assert_int_equal(prep_options_default(o, 4), AN_OK);
    return cli_test_parse(parse_prep, o, "alexnet-prep", args);
}

static void test_defaults(void **state)
{
    (void)state;
    prep_options o;
    assert_int_equal(prep_options_default(&o, 4), AN_OK);
    assert_int_equal(o.jobs, 4);
    assert_int_equal(o.shard_size, 1024);
    assert_int_equal(o.seed, 1);
    assert_true(o.max_bad.is_percent && o.max_bad.value == 1.0);
    assert_int_equal(o.decode.resize, IMAGE_RESIZE_CROP);
    assert_int_equal(o.decode.max_pixels, IMAGE_DEFAULT_MAX_PIXELS);
    assert_int_equal(o.decode.max_file_bytes, IMAGE_DEFAULT_MAX_FILE_BYTES);
    assert_int_equal(o.store, SHARD_STORE_RAW);
    assert_int_equal(o.jpeg_quality, SHARD_JPEG_DEFAULT_QUALITY);
    assert_int_equal(o.jpeg_subsampling, SHARD_JPEG_420);
    assert_int_equal(o.range_begin, 0);
    assert_true(o.range_end < 0);
}

static void test_values(void **state)
{
    (void)state;
    prep_options o;
    assert_int_equal(parse(&o, "--source idx --input in --output out --resize squash --max-bad 7 --shard-range 2:5 "
                               "--store jpeg --jpeg-subsampling 444 --jobs 2 --shard-size 8"), 0);
    assert_int_equal(o.command, PREP_COMMAND_RUN);
    assert_int_equal(o.decode.resize, IMAGE_RESIZE_SQUASH);
    assert_true(!o.max_bad.is_percent && o.max_bad.value == 7.0);
    assert_true(o.range_begin == 2 && o.range_end == 5);
    assert_true(o.store == SHARD_STORE_JPEG && o.jpeg_subsampling == SHARD_JPEG_444);
    assert_true(o.jobs == 2 && o.shard_size == 8);
    assert_int_equal(parse(&o, "verify dir"), 0);
    assert_int_equal(o.command, PREP_COMMAND_VERIFY);
    assert_string_equal(o.output, "dir");
}

static void test_refusals(void **state)
{
    (void)state;
    prep_options o;
    const char *bad[] = {
        "--source idx --input in --output out --resize zoom",
        "--source idx --input in --output out --max-bad 101%",
        "--source idx --input in --output out --shard-range 5:5",
        "--source idx --input in --output out --jpeg-quality 0",
        "--source idx --input in --output out --jpeg-subsampling 422",
        "--source idx --input in --output out --store png",
        "--source idx --input in --output out --shard-size 0",
        "--source tar --input in --output out",
        "--source idx --input in",
        "frobnicate dir",
        "verify",
        "--bogus",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse(&o, bad[i]) != EXIT_USAGE) fail_msg("accepted: %s", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
