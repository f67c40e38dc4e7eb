/* test_status.c: error messages, context chaining and the per-thread buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>

#include "status.h"

static an_status open_thing(const char *path)
{
    return error_set(AN_ERR_IO, "cannot open %s: No such file", path);
}

static void test_set_and_context(void **state)
{
    (void)state;
    an_status s = open_thing("a.h5");
    assert_int_equal(s, AN_ERR_IO);
    assert_string_equal(error_message(), "cannot open a.h5: No such file");
    s = error_context(s, "reading shard %d", 3);
    assert_int_equal(s, AN_ERR_IO);
    assert_string_equal(error_message(), "reading shard 3: cannot open a.h5: No such file");
    error_clear();
    assert_string_equal(error_message(), "");
    assert_string_equal(status_name(AN_ERR_CHECKSUM), "checksum mismatch");
}

static an_status try_chain(int fail)
{
    AN_TRY(fail ? open_thing("x") : AN_OK);
    return AN_OK;
}

static void test_try_macro(void **state)
{
    (void)state;
    assert_int_equal(try_chain(0), AN_OK);
    assert_int_equal(try_chain(1), AN_ERR_IO);
}

static void *other_thread(void *arg)
{
    (void)arg;
    error_set(AN_ERR_ARG, "other thread");
    return NULL;
}

static void test_messages_are_per_thread(void **state)
{
    (void)state;
    error_set(AN_ERR_IO, "main thread");
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, NULL);
    assert_string_equal(error_message(), "main thread");
}

static void test_long_message_is_truncated_not_overflowed(void **state)
{
    (void)state;
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    error_set(AN_ERR_IO, "%s", big);
    assert_true(strlen(error_message()) < 2048);
    error_context(AN_ERR_IO, "%s", big);
    assert_true(strlen(error_message()) < 2048);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_and_context),
        cmocka_unit_test(test_try_macro),
        cmocka_unit_test(test_messages_are_per_thread),
        cmocka_unit_test(test_long_message_is_truncated_not_overflowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
