/* fuzz_util.c: scratch files for the fuzz targets (fuzz_util.h). */
#define _XOPEN_SOURCE 700 /* nftw */
#include "fuzz_util.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char scratch[256];

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

static void remove_scratch(void)
{
    if (scratch[0]) nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_dir(void)
{
    if (!scratch[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(scratch, sizeof scratch, "%s/alexnet-fuzz-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(scratch)) { perror("mkdtemp"); abort(); }
        atexit(remove_scratch);
    }
    return scratch;
}

void fuzz_write_file(const char *name, const uint8_t *data, size_t size, char *out)
{
    snprintf(out, 4096, "%s/%s", fuzz_dir(), name);
    FILE *f = fopen(out, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) { perror(out); abort(); }
}

void fuzz_split(const uint8_t *data, size_t size, int parts, const uint8_t **part, size_t *part_size)
{
    const size_t sep = strlen(FUZZ_SEPARATOR);
    size_t start = 0;
    for (int i = 0; i < parts; i++) {
        size_t end = size;
        if (i < parts - 1)
            for (size_t k = start; k + sep <= size; k++)
                if (memcmp(data + k, FUZZ_SEPARATOR, sep) == 0) { end = k; break; }
        part[i] = data + (start < size ? start : size);
        part_size[i] = end > start ? end - start : 0;
        start = end + sep;
        if (start > size) start = size;
    }
}

unsigned fuzz_byte(fuzz_bytes *b)
{
    return b->used < b->size ? b->data[b->used++] : 0;
}

long long fuzz_near(fuzz_bytes *b, long long valid)
{
    static const long long extremes[6] = {0, -1, 2147483647LL, 9223372036854775807LL, 2147483648LL, 4294967296LL};
    unsigned c = fuzz_byte(b);
    if (c >= 250) return extremes[c - 250];
    if (c >= 1 && c <= 16) return valid + (long long)c - 9; /* valid - 8 .. valid + 7 */
    return valid;
}

uint8_t *fuzz_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0) { perror(path); abort(); }
    long n = ftell(f);
    uint8_t *bytes = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!bytes || fseek(f, 0, SEEK_SET) != 0 || fread(bytes, 1, (size_t)n, f) != (size_t)n) { perror(path); abort(); }
    fclose(f);
    *size = (size_t)n;
    return bytes;
}

int fuzz_args(const uint8_t *data, size_t size, const char *program, char **text, char **argv)
{
    *text = malloc(size + 1);
    if (!*text) return 0;
    memcpy(*text, data, size);
    (*text)[size] = '\0';
    int argc = 0;
    argv[argc++] = (char *)program;
    for (size_t i = 0; i <= size && argc < FUZZ_MAX_ARGS + 1;) {
        argv[argc++] = *text + i;
        i += strlen(*text + i) + 1;
    }
    argv[argc] = NULL;
    return argc;
}

int fuzz_quiet(int on)
{
    static FILE *saved_out, *saved_err;
    if (on) {
        FILE *null_out = fopen("/dev/null", "w"), *null_err = fopen("/dev/null", "w");
        if (!null_out || !null_err) {
            if (null_out) fclose(null_out);
            if (null_err) fclose(null_err);
            return -1;
        }
        saved_out = stdout;
        saved_err = stderr;
        stdout = null_out;
        stderr = null_err;
    } else if (saved_out) {
        fclose(stdout);
        fclose(stderr);
        stdout = saved_out;
        stderr = saved_err;
        saved_out = saved_err = NULL;
    }
    return 0;
}
