/* test_json_writer.c: structure, commas, escaping, invalid UTF-8 and non-finite numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "json_writer.h"

static void test_nested_document(void **state)
{
    (void)state;
    json_writer w;
    json_init(&w);
    json_begin_object(&w);
    json_kv_string(&w, "name", "alexnet");
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
    assert_string_equal(w.data,
                        "{\n  \"name\": \"alexnet\",\n  \"classes\": 1000,\n  \"lr\": 0.01,\n"
                        "  \"steps\": [\n    1,\n    2\n  ],\n  \"empty\": {},\n  \"ok\": true\n}\n");
    json_free(&w);
}

static void test_escaping(void **state)
{
    (void)state;
    json_writer w;
    json_init(&w);
    json_begin_array(&w);
    json_string(&w, "a\"b\\c\nd\x01");
    json_string(&w, "caf\xc3\xa9");     /* valid UTF-8 kept */
    json_string(&w, "bad\xff\xfe name"); /* invalid bytes replaced */
    json_double(&w, NAN);
    json_double(&w, 1.0 / 3.0); /* shortest text that reads back exactly */
    json_end_array(&w);
    assert_int_equal(json_finish(&w), AN_OK);
    assert_string_equal(w.data, "[\n  \"a\\\"b\\\\c\\nd\\u0001\",\n  \"caf\xc3\xa9\",\n"
                                "  \"bad\\ufffd\\ufffd name\",\n  null,\n  0.3333333333333333\n]\n");
    json_free(&w);
}

static void test_unclosed_is_an_error(void **state)
{
    (void)state;
    json_writer w;
    json_init(&w);
    json_begin_object(&w);
    assert_int_equal(json_finish(&w), AN_ERR_INTERNAL);
    json_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nested_document),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_unclosed_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
