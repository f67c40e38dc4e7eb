/* test_atomic_file.c: an interrupted write (kill -9 in the middle, or a write
 * that fails because the file may not grow) leaves the previous file intact
 * and complete; a finished write replaces it whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomic_file.h"

static char dir[] = "/tmp/alexnet-test-atomic-XXXXXX";

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)size + 1);
    *n = fread(buf, 1, (size_t)size, f);
    buf[*n] = '\0';
    fclose(f);
    return buf;
}

static int count_temp_files(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) n += strstr(e->d_name, ".tmp.") != NULL;
    closedir(d);
    return n;
}

static void test_write_replaces_whole(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/config.json", dir);
    assert_int_equal(atomic_write_file(path, "old", 3), AN_OK);
    assert_int_equal(atomic_write_file(path, "newer", 5), AN_OK);
    size_t n = 0;
    char *text = slurp(path, &n);
    assert_string_equal(text, "newer");
    free(text);
    assert_int_equal(count_temp_files(), 0);
}

static void test_kill_9_mid_write_keeps_old_file(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
    assert_int_equal(atomic_write_file(path, "previous complete file", 22), AN_OK);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        atomic_file f;
        if (atomic_file_open(&f, path) != AN_OK) _exit(3);
        char block[65536];
        memset(block, 'N', sizeof block);
        for (int i = 0; i < 16; i++)
            if (atomic_file_write(&f, block, sizeof block) != AN_OK) _exit(4);
        raise(SIGKILL); /* dies before commit, as kill -9 would */
        _exit(5);
    }
    int status = 0;
    waitpid(child, &status, 0);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    size_t n = 0;
    char *text = slurp(path, &n);
    assert_int_equal(n, 22);
    assert_string_equal(text, "previous complete file");
    free(text);
    /* The dead writer's temporary file is there, under a name no reader opens. */
    assert_int_equal(count_temp_files(), 1);
}

static void test_failed_write_keeps_old_file(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    assert_int_equal(atomic_write_file(path, "a,b\n1,2\n", 8), AN_OK);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* Files may not grow past 1000 bytes: write() fails with EFBIG, as on a full disk. */
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit lim = {1000, 1000};
        setrlimit(RLIMIT_FSIZE, &lim);
        char big[4096];
        memset(big, 'z', sizeof big);
        an_status s = atomic_write_file(path, big, sizeof big);
        _exit(s == AN_ERR_IO ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    size_t n = 0;
    char *text = slurp(path, &n);
    assert_string_equal(text, "a,b\n1,2\n");
    free(text);
}

static void test_unwritable_directory_is_a_clear_error(void **state)
{
    (void)state;
    assert_int_equal(atomic_write_file("/nonexistent-dir/x.json", "x", 1), AN_ERR_IO);
    assert_non_null(strstr(error_message(), "/nonexistent-dir/"));
}

static void test_rename_durable(void **state)
{
    (void)state;
    char final_path[512], tmp[ATOMIC_PATH_MAX];
    snprintf(final_path, sizeof final_path, "%s/shard.h5", dir);
    assert_int_equal(atomic_temp_name(final_path, tmp, sizeof tmp), AN_OK);
    assert_non_null(strstr(tmp, "/.shard.h5.tmp."));
    FILE *f = fopen(tmp, "w");
    fputs("shard", f);
    fclose(f);
    assert_int_equal(atomic_rename_durable(tmp, final_path), AN_OK);
    assert_int_equal(access(tmp, F_OK), -1);
    size_t n = 0;
    char *text = slurp(final_path, &n);
    assert_string_equal(text, "shard");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_replaces_whole),
        cmocka_unit_test(test_kill_9_mid_write_keeps_old_file),
        cmocka_unit_test(test_failed_write_keeps_old_file),
        cmocka_unit_test(test_unwritable_directory_is_a_clear_error),
        cmocka_unit_test(test_rename_durable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
