/* test_h5_error.c: HDF5 failures become our messages, with context, and HDF5
 * itself prints nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <hdf5.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdlib.h>

#include "h5_error.h"

static void test_missing_file(void **state)
{
    (void)state;
    h5_error_init();
    hid_t f = H5Fopen("/nonexistent/shard.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f < 0);
    an_status s = h5_error_capture("opening %s", "/nonexistent/shard.h5");
    assert_int_equal(s, AN_ERR_HDF5);
    const char *m = error_message();
    assert_true(strncmp(m, "opening /nonexistent/shard.h5: HDF5: ", 37) == 0);
    assert_true(strlen(m) > 40);
}

static void test_not_hdf5(void **state)
{
    (void)state;
    h5_error_init();
    char path[] = "/tmp/alexnet-test-h5-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "not an hdf5 file", 16), 16);
    close(fd);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f < 0);
    assert_int_equal(h5_error_capture("reading %s", path), AN_ERR_HDF5);
    assert_non_null(strstr(error_message(), path));
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_not_hdf5),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
