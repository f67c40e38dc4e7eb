/* test_tb_events.c: TensorBoard event files (common/tb_events.h): CRC-32C
 * against the published check values, the TFRecord framing of every record,
 * the cut a resume makes (steps after the checkpoint, a torn last record, a
 * record with a wrong CRC), the removal a fresh start makes, and a write
 * that fails because the file may not grow (as on a full disk), which leaves
 * the file ending with a whole record and lets the next row through once
 * there is room. The records' contents are read by TensorBoard's own reader
 * in tests/train/test_train_events.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tb_events.h"

static char dir[] = "/tmp/alexnet-test-tb-events-XXXXXX";

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

/* A fresh, empty directory below dir for one test. */
static void subdir(const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", dir, name);
    assert_int_equal(mkdir(out, 0755), 0);
}

static long file_size(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (long)sb.st_size;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Walks the file's records, checking both CRCs of each; returns how many
 * whole, intact records precede the end (or the first bad one). */
static int count_records(const char *path, long *end_of_last)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    int n = 0;
    long at = 0;
    unsigned char header[12];
    while (fread(header, 1, 12, f) == 12 && le32(header + 8) == tb_masked_crc32c(header, 8)) {
        uint64_t length = le32(header); /* ours are short: the high word is 0 */
        assert_int_equal(le32(header + 4), 0);
        unsigned char *data = malloc(length + 4);
        assert_non_null(data);
        int whole = fread(data, 1, length + 4, f) == length + 4 && le32(data + length) == tb_masked_crc32c(data, length);
        free(data);
        if (!whole) break;
        n++;
        at += (long)(16 + length);
    }
    fclose(f);
    if (end_of_last) *end_of_last = at;
    return n;
}

/* A file with the version record and one row at each of steps 1..rows. */
static tb_events *write_rows(const char *d, int rows)
{
    tb_events *e;
    assert_int_equal(tb_events_create(&e, d), AN_OK);
    for (int s = 1; s <= rows; s++) {
        tb_scalar row[2] = { { "train/loss", 2.5 / s }, { "learning_rate", 0.01 } };
        assert_int_equal(tb_events_scalars(e, s, row, 2), AN_OK);
    }
    return e;
}

static void test_crc32c_check_values(void **state)
{
    (void)state;
    /* The CRC-32C check value and the iSCSI test vectors (RFC 3720, B.4). */
    assert_int_equal(tb_crc32c("123456789", 9), 0xE3069283u);
    unsigned char zeros[32] = {0}, ones[32];
    memset(ones, 0xFF, sizeof ones);
    assert_int_equal(tb_crc32c(zeros, 32), 0x8A9136AAu);
    assert_int_equal(tb_crc32c(ones, 32), 0x62A8AB43u);
    assert_int_equal(tb_crc32c("", 0), 0u);
    /* masked: rotated right by 15 and offset by 0xa282ead8 */
    uint32_t c = 0xE3069283u;
    assert_int_equal(tb_masked_crc32c("123456789", 9), ((c >> 15) | (c << 17)) + 0xA282EAD8u);
}

static void test_framing(void **state)
{
    (void)state;
    char d[512];
    subdir("framing", d, sizeof d);
    tb_events *e = write_rows(d, 10);
    assert_int_equal(tb_events_text(e, 0, "config", "```json\n{}\n```"), AN_OK);
    const char *path = tb_events_path(e);
    assert_non_null(strstr(path, "/" TB_EVENTS_PREFIX));
    long end;
    assert_int_equal(count_records(path, &end), 12);
    assert_int_equal(end, file_size(path)); /* nothing after the last whole record */
    /* the first record is the version event: wall_time (tag 0x09, 8 bytes), then file_version (0x1a) */
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char first[12 + 9 + 2 + 13];
    assert_int_equal(fread(first, 1, sizeof first, f), sizeof first);
    fclose(f);
    assert_int_equal(first[12], 0x09);
    assert_int_equal(first[21], 0x1a);
    assert_int_equal(first[22], 13);
    assert_memory_equal(first + 23, "brain.Event:2", 13);
    /* a second file in the same directory gets a name of its own */
    tb_events *e2;
    assert_int_equal(tb_events_create(&e2, d), AN_OK);
    assert_string_not_equal(tb_events_path(e2), path);
    tb_events_close(e2);
    tb_events_close(e);
}

static void test_cut_after_step(void **state)
{
    (void)state;
    char d[512], path[1024];
    subdir("cut", d, sizeof d);
    tb_events *e = write_rows(d, 10);
    snprintf(path, sizeof path, "%s", tb_events_path(e));
    tb_events_close(e);
    assert_int_equal(tb_events_cut(d, 6), AN_OK);
    long end;
    assert_int_equal(count_records(path, &end), 1 + 6); /* the version record and steps 1..6 */
    assert_int_equal(end, file_size(path));
    assert_int_equal(tb_events_cut(d, 6), AN_OK); /* a second cut changes nothing */
    assert_int_equal(file_size(path), end);
    /* a fresh start removes the event files, and only those */
    char other[1100];
    snprintf(other, sizeof other, "%s/metrics.csv", d);
    FILE *f = fopen(other, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(tb_events_remove(d), AN_OK);
    assert_int_not_equal(access(path, F_OK), 0);
    assert_int_equal(access(other, F_OK), 0);
}

static void test_cut_torn_and_corrupt(void **state)
{
    (void)state;
    char d[512], path[1024];
    subdir("torn", d, sizeof d);
    tb_events *e = write_rows(d, 5);
    snprintf(path, sizeof path, "%s", tb_events_path(e));
    tb_events_close(e);
    long whole = file_size(path);
    /* a torn record: the first 20 bytes of a copy of the file's last record */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    unsigned char tail[20];
    assert_int_equal(fseek(f, whole - 60, SEEK_SET), 0); /* inside the records, any bytes will do */
    assert_int_equal(fread(tail, 1, sizeof tail, f), sizeof tail);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    assert_int_equal(fwrite(tail, 1, sizeof tail, f), sizeof tail);
    fclose(f);
    assert_int_equal(tb_events_cut(d, UINT64_MAX), AN_OK);
    assert_int_equal(file_size(path), whole);
    /* a wrong CRC in the third row: the file ends before it (readers stop there too) */
    long before_third;
    assert_int_equal(count_records(path, NULL), 6);
    f = fopen(path, "rb");
    unsigned char header[12];
    long at = 0;
    for (int r = 0; r < 3; r++) { /* the version record and rows 1, 2 */
        assert_int_equal(fseek(f, at, SEEK_SET), 0);
        assert_int_equal(fread(header, 1, 12, f), 12);
        at += 16 + (long)le32(header);
    }
    fclose(f);
    before_third = at;
    f = fopen(path, "r+b");
    assert_int_equal(fseek(f, before_third + 14, SEEK_SET), 0); /* a byte of the third row's Event */
    int byte = fgetc(f);
    assert_int_equal(fseek(f, before_third + 14, SEEK_SET), 0);
    fputc(byte ^ 0x40, f);
    fclose(f);
    assert_int_equal(tb_events_cut(d, UINT64_MAX), AN_OK);
    assert_int_equal(file_size(path), before_third);
    assert_int_equal(count_records(path, NULL), 3);
}

static void test_write_that_cannot_grow(void **state)
{
    (void)state;
    char d[512];
    subdir("full", d, sizeof d);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        tb_events *e = write_rows(d, 3);
        const char *path = tb_events_path(e);
        long whole = file_size(path);
        /* The file may grow by 10 more bytes only: write() stops short, then fails with EFBIG. */
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit lim;
        getrlimit(RLIMIT_FSIZE, &lim);
        rlim_t old = lim.rlim_cur;
        lim.rlim_cur = (rlim_t)whole + 10;
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0) _exit(2);
        tb_scalar row[1] = { { "train/loss", 1.0 } };
        if (tb_events_scalars(e, 4, row, 1) != AN_ERR_IO) _exit(3);
        if (file_size(path) != whole || count_records(path, NULL) != 4) _exit(4);
        lim.rlim_cur = old; /* room again: the next row is appended whole */
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0) _exit(2);
        if (tb_events_scalars(e, 5, row, 1) != AN_OK) _exit(5);
        if (count_records(path, NULL) != 5) _exit(6);
        tb_events_close(e);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_check_values),
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_cut_after_step),
        cmocka_unit_test(test_cut_torn_and_corrupt),
        cmocka_unit_test(test_write_that_cannot_grow),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
