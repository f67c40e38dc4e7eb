/* test_h5_error.c: HDF5 failures become our messages, with context, and HDF5
 * itself prints nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
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

/* A real lock conflict: an exclusive flock() on another open file description
 * of the file (as an HDF5 program holding it open read-write has) makes
 * HDF5's shared lock fail; the message says so and what to do. */
static void test_locked_by_another(void **state)
{
    (void)state;
    h5_error_init();
    char path[] = "/tmp/alexnet-test-h5-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    H5Fclose(f);
    int holder = open(path, O_RDWR);
    assert_true(holder >= 0);
    assert_int_equal(flock(holder, LOCK_EX | LOCK_NB), 0);
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f >= 0) { /* this HDF5 does not lock files (built without, or HDF5_USE_FILE_LOCKING=FALSE) */
        H5Fclose(f);
        close(holder);
        unlink(path);
        skip();
    }
    assert_int_equal(h5_error_capture("opening %s", path), AN_ERR_IO);
    assert_non_null(strstr(error_message(), path));
    assert_non_null(strstr(error_message(), "another process holds the file locked"));
    close(holder); /* the lock goes with it: the same open now succeeds */
    f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    H5Fclose(f);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_not_hdf5),
        cmocka_unit_test(test_locked_by_another),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
