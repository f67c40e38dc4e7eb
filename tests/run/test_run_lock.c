/* test_run_lock.c: RUN/lock, one writer per run directory (train/run_lock.h):
 * a second holder refused with a message naming the first; the lock removed
 * on release; a lock of a dead process on this host taken over at once; a
 * lock from another host refused while its heartbeat is fresh and taken over
 * when stale; a holder whose lock was replaced finds out, and does not remove
 * the new holder's lock. (tests/train/test_train_lock.sh drives the same
 * through alexnet-train.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "run_lock.h"
#include "train_fixture.h"

static void write_lock(const char *path, const char *text, int age_seconds)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    struct timeval times[2];
    gettimeofday(&times[0], NULL);
    times[0].tv_sec -= age_seconds;
    times[1] = times[0];
    assert_int_equal(utimes(path, times), 0);
}

static void test_second_holder_refused(void **state)
{
    (void)state;
    char dir[4096], run[4200], lock_path[4300], text[256];
    assert_int_equal(fixture_temp_dir("runlock", dir), AN_OK);
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(lock_path, sizeof lock_path, "%s/lock", run);
    run_lock *first = NULL, *second = NULL;
    assert_int_equal(run_lock_acquire(run, &first), AN_OK); /* creates RUN */
    assert_int_equal(access(lock_path, F_OK), 0);
    FILE *f = fopen(lock_path, "r");
    assert_non_null(f);
    assert_non_null(fgets(text, sizeof text, f));
    fclose(f);
    char expected[64];
    snprintf(expected, sizeof expected, "pid %ld\n", (long)getpid());
    assert_string_equal(text, expected);

    assert_int_equal(run_lock_acquire(run, &second), AN_ERR_ARG); /* the same process: still alive */
    assert_null(second);
    snprintf(expected, sizeof expected, "in use by another alexnet-train: PID %ld on host ", (long)getpid());
    assert_non_null(strstr(error_message(), expected));
    assert_non_null(strstr(error_message(), "train into another --run"));
    assert_int_equal(run_lock_check(first), AN_OK);
    run_lock_release(first);
    assert_int_not_equal(access(lock_path, F_OK), 0);
    assert_int_equal(run_lock_acquire(run, &second), AN_OK);
    run_lock_release(second);
    run_lock_release(NULL);
    fixture_remove_dir(dir);
}

static void test_dead_holder_taken_over(void **state)
{
    (void)state;
    char dir[4096], run[4200], lock_path[4300], host[256], text[512];
    assert_int_equal(fixture_temp_dir("runlock", dir), AN_OK);
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(lock_path, sizeof lock_path, "%s/lock", run);
    assert_int_equal(mkdir(run, 0755), 0);
    assert_int_equal(gethostname(host, sizeof host), 0);
    pid_t child = fork(); /* a process that is gone by the time its lock is read */
    if (child == 0) _exit(0);
    assert_true(child > 0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    snprintf(text, sizeof text, "pid %ld\nhost %s\nstarted 2026-01-01T00:00:00Z\n", (long)child, host);
    write_lock(lock_path, text, 0);
    run_lock *l = NULL;
    assert_int_equal(run_lock_acquire(run, &l), AN_OK);
    run_lock_release(l);
    fixture_remove_dir(dir);
}

static void test_other_host(void **state)
{
    (void)state;
    char dir[4096], run[4200], lock_path[4300];
    assert_int_equal(fixture_temp_dir("runlock", dir), AN_OK);
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(lock_path, sizeof lock_path, "%s/lock", run);
    assert_int_equal(mkdir(run, 0755), 0);
    const char *text = "pid 1\nhost elsewhere.example\nstarted 2026-01-01T00:00:00Z\n";
    run_lock *l = NULL;
    write_lock(lock_path, text, RUN_LOCK_STALE_S - 20); /* fresh enough */
    assert_int_equal(run_lock_acquire(run, &l), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "PID 1 on host elsewhere.example, started 2026-01-01T00:00:00Z"));
    write_lock(lock_path, "", 0); /* names no holder, just written */
    assert_int_equal(run_lock_acquire(run, &l), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "names no holder"));
    write_lock(lock_path, text, RUN_LOCK_STALE_S + 20); /* stale */
    assert_int_equal(run_lock_acquire(run, &l), AN_OK);

    /* Replaced behind its back: the holder finds out and leaves the new lock alone. */
    assert_int_equal(unlink(lock_path), 0);
    write_lock(lock_path, text, 0);
    assert_int_equal(run_lock_check(l), AN_ERR_IO);
    assert_non_null(strstr(error_message(), "no longer holds the lock"));
    assert_non_null(strstr(error_message(), "PID 1 on host elsewhere.example"));
    run_lock_release(l);
    assert_int_equal(access(lock_path, F_OK), 0);
    fixture_remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_holder_refused),
        cmocka_unit_test(test_dead_holder_taken_over),
        cmocka_unit_test(test_other_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
