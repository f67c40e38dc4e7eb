/* test_json.c: the JSON writer (structure, invalid UTF-8, non-finite and
 * shortest numbers, misuse) and the strict reader (what it refuses, typed and
 * ranged lookups), each read back through the other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json_reader.h"
#include "json_writer.h"

static void test_nested_document(void **state)
{
    (void)state;
    json_writer w;
    json_init(&w);
    json_begin_object(&w);
    json_kv_string(&w, "name", "alexnet/dir");
    json_kv_int(&w, "classes", 1000);
    json_kv_double(&w, "lr", 0.01);
    json_key(&w, "steps");
    json_begin_array(&w);
    json_int(&w, 1);
    json_int(&w, 2);
    json_end_array(&w);
    json_key(&w, "empty");
    json_begin_object(&w);
    json_end_object(&w);
    json_kv_bool(&w, "ok", 1);
    json_end_object(&w);
    assert_int_equal(json_finish(&w), AN_OK);
    assert_string_equal(w.data, "{\n  \"name\": \"alexnet/dir\",\n  \"classes\": 1000,\n  \"lr\": 0.01,\n"
                                "  \"steps\": [\n    1,\n    2\n  ],\n  \"empty\": {\n  },\n  \"ok\": true\n}\n");
    json_doc d;
    assert_int_equal(json_doc_parse(&d, w.data, w.length, "doc"), AN_OK);
    int64_t classes;
    double lr;
    const char *name;
    assert_int_equal(json_doc_int(&d, "classes", 0, 1000, &classes), AN_OK);
    assert_int_equal(classes, 1000);
    assert_int_equal(json_doc_double(&d, "lr", &lr), AN_OK);
    assert_true(lr == 0.01);
    assert_int_equal(json_doc_string(&d, "name", &name), AN_OK);
    assert_string_equal(name, "alexnet/dir");
    json_doc_free(&d);
    json_free(&w);
}

static void test_strings_and_numbers(void **state)
{
    (void)state;
    json_writer w;
    json_init(&w);
    json_begin_object(&w);
    json_kv_string(&w, "escaped", "a\"b\\c\nd\x01");
    json_kv_string(&w, "utf8", "caf\xc3\xa9");       /* valid UTF-8 kept */
    json_kv_string(&w, "bad", "bad\xff\xfe name");   /* invalid bytes replaced */
    json_kv_double(&w, "nan", NAN);
    json_kv_double(&w, "third", 1.0 / 3.0);          /* shortest text that reads back exactly */
    json_kv_float(&w, "momentum", 0.9f);             /* a float setting: shortest that reads back to the float */
    json_kv_float(&w, "float_third", 1.0f / 3.0f);
    json_end_object(&w);
    assert_int_equal(json_finish(&w), AN_OK);
    assert_non_null(strstr(w.data, "\"escaped\": \"a\\\"b\\\\c\\nd\\u0001\""));
    assert_non_null(strstr(w.data, "\"utf8\": \"caf\xc3\xa9\""));
    assert_non_null(strstr(w.data, "\"nan\": null"));
    assert_non_null(strstr(w.data, "\"third\": 0.3333333333333333,\n"));
    assert_non_null(strstr(w.data, "\"momentum\": 0.9,\n"));
    assert_non_null(strstr(w.data, "\"float_third\": 0.33333334\n"));
    json_doc d;
    assert_int_equal(json_doc_parse(&d, w.data, w.length, "doc"), AN_OK); /* strict: valid UTF-8 only */
    const char *s;
    double x;
    assert_int_equal(json_doc_string(&d, "escaped", &s), AN_OK);
    assert_string_equal(s, "a\"b\\c\nd\x01");
    assert_int_equal(json_doc_string(&d, "bad", &s), AN_OK);
    assert_string_equal(s, "bad\xef\xbf\xbd\xef\xbf\xbd name");
    assert_int_equal(json_doc_double(&d, "third", &x), AN_OK);
    assert_memory_equal(&x, &(double){1.0 / 3.0}, sizeof x);
    assert_int_equal(json_doc_double(&d, "float_third", &x), AN_OK);
    assert_true((float)x == 1.0f / 3.0f);
    assert_int_equal(json_doc_double(&d, "nan", &x), AN_ERR_FORMAT);
    json_doc_free(&d);
    json_free(&w);
}

static void test_misuse_is_an_error(void **state)
{
    (void)state;
    json_writer w;
    json_init(&w);
    json_begin_object(&w);
    assert_int_equal(json_finish(&w), AN_ERR_INTERNAL); /* not closed */
    json_free(&w);
    json_init(&w);
    json_begin_object(&w);
    json_int(&w, 1); /* no key */
    json_end_object(&w);
    assert_int_equal(json_finish(&w), AN_ERR_INTERNAL);
    json_free(&w);
    json_init(&w);
    json_begin_array(&w);
    json_end_object(&w); /* the wrong bracket */
    assert_int_equal(json_finish(&w), AN_ERR_INTERNAL);
    json_free(&w);
}

static an_status parse(const char *text)
{
    json_doc d;
    an_status st = json_doc_parse(&d, text, strlen(text), "t.json");
    json_doc_free(&d);
    return st;
}

static void test_reader_refuses_what_is_not_strict_json(void **state)
{
    (void)state;
    assert_int_equal(parse("{\"a\": 1}"), AN_OK);
    assert_int_equal(parse(" {\"a\": 1}\n "), AN_OK);
    assert_int_equal(parse(""), AN_ERR_FORMAT);
    assert_int_equal(parse("{\"a\": 1"), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "t.json is not valid JSON"));
    assert_int_equal(parse("{\"a\": 1} x"), AN_ERR_FORMAT);     /* text after the value */
    assert_int_equal(parse("{\"a\": 1,}"), AN_ERR_FORMAT);      /* trailing comma */
    assert_int_equal(parse("{\"a\": \"\xff\"}"), AN_ERR_FORMAT); /* invalid UTF-8 */
    assert_int_equal(parse("[1, 2]"), AN_ERR_FORMAT);           /* not an object */
    assert_non_null(strstr(error_message(), "not a JSON object"));
    char deep[200] = "{\"a\": ";
    for (int i = 0; i < 40; i++) strcat(deep, "[");
    assert_int_equal(parse(deep), AN_ERR_FORMAT);               /* nesting beyond the limit */
    /* The length is respected: the object ends where the length says. */
    json_doc d;
    assert_int_equal(json_doc_parse(&d, "{\"a\": 1}garbage", 8, "t.json"), AN_OK);
    json_doc_free(&d);
}

static void test_lookups_check_type_and_range(void **state)
{
    (void)state;
    const char *text = "{\"i\": 7, \"big\": 18446744073709551615, \"neg\": -3, \"d\": 2.5, \"s\": \"x\","
                       " \"nul\": \"a\\u0000b\", \"n\": null}";
    json_doc d;
    assert_int_equal(json_doc_parse(&d, text, strlen(text), "t.json"), AN_OK);
    int64_t i;
    double x;
    const char *s;
    assert_int_equal(json_doc_int(&d, "i", 0, 10, &i), AN_OK);
    assert_int_equal(i, 7);
    assert_int_equal(json_doc_int(&d, "i", 0, 6, &i), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "t.json: \"i\" is 7, outside 0..6"));
    assert_int_equal(json_doc_int(&d, "big", 0, INT64_MAX, &i), AN_ERR_FORMAT);
    assert_int_equal(json_doc_int(&d, "neg", 0, 10, &i), AN_ERR_FORMAT);
    assert_int_equal(json_doc_int(&d, "d", 0, 10, &i), AN_ERR_FORMAT);   /* not an integer */
    assert_int_equal(json_doc_int(&d, "s", 0, 10, &i), AN_ERR_FORMAT);   /* a string, even a numeric one */
    assert_int_equal(json_doc_double(&d, "i", &x), AN_OK);              /* an integer is a number */
    assert_true(x == 7.0);
    assert_int_equal(json_doc_double(&d, "n", &x), AN_ERR_FORMAT);
    assert_int_equal(json_doc_string(&d, "nul", &s), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "NUL"));
    assert_int_equal(json_doc_string(&d, "missing", &s), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "\"missing\" is missing"));
    json_doc_free(&d);
}

static void test_read_file(void **state)
{
    (void)state;
    char path[] = "/tmp/alexnet-test-json-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "{\"k\": \"v\"}\n";
    assert_int_equal(write(fd, text, strlen(text)), (int)strlen(text));
    close(fd);
    json_doc d;
    assert_int_equal(json_doc_read_file(&d, path, 1024), AN_OK);
    json_doc_free(&d);
    assert_int_equal(json_doc_read_file(&d, path, 4), AN_ERR_FORMAT); /* larger than allowed */
    unlink(path);
    assert_int_equal(json_doc_read_file(&d, path, 1024), AN_ERR_IO);
    assert_non_null(strstr(error_message(), path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_document),
        cmocka_unit_test(test_strings_and_numbers),
        cmocka_unit_test(test_misuse_is_an_error),
        cmocka_unit_test(test_reader_refuses_what_is_not_strict_json),
        cmocka_unit_test(test_lookups_check_type_and_range),
        cmocka_unit_test(test_read_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
