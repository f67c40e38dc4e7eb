/* fuzz_util.h: what the libFuzzer targets of tests/fuzz share: a private
 * scratch directory per process, writing an input's bytes to a file there,
 * cutting one input into several parts (several files of one format), and
 * turning an input into a command line. */
#ifndef ALEXNET_FUZZ_UTIL_H
#define ALEXNET_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The process's scratch directory (created on first use, removed at exit). */
const char *fuzz_dir(void);
/* Writes data[0..size) to fuzz_dir()/name (replacing it); the path into out[4096]. Aborts on failure. */
void fuzz_write_file(const char *name, const uint8_t *data, size_t size, char *out);
/* Reads the whole file at path into a malloc'd buffer (*size bytes). Aborts on failure. */
uint8_t *fuzz_read_file(const char *path, size_t *size);
/* Splits data at the first `parts - 1` occurrences of the 4-byte separator
 * "\n--\n"; missing parts are empty. part[i] points into data. */
#define FUZZ_SEPARATOR "\n--\n"
void fuzz_split(const uint8_t *data, size_t size, int parts, const uint8_t **part, size_t *part_size);

/* Structure-aware targets draw their choices from the input, a byte at a
 * time; past the end every draw is 0 (the unmodified, valid choice). */
typedef struct fuzz_bytes {
    const uint8_t *data;
    size_t size, used;
} fuzz_bytes;
unsigned fuzz_byte(fuzz_bytes *b);
/* A value that is usually `valid`: bytes 1..16 nudge it by -8..+7, 250..255
 * give the extremes (0, -1, INT32_MAX, INT64_MAX, 2^31, 2^32), others keep it. */
long long fuzz_near(fuzz_bytes *b, long long valid);

/* Command-line targets: the input's NUL-separated pieces become the
 * arguments after `program`, at most FUZZ_MAX_ARGS of them. argv must have
 * FUZZ_MAX_ARGS + 2 entries; they point into *text, a copy the caller frees.
 * Returns argc (at least 1), or 0 when out of memory. */
#define FUZZ_MAX_ARGS 64
int fuzz_args(const uint8_t *data, size_t size, const char *program, char **text, char **argv);

/* fuzz_quiet(1) sends stdout and stderr to /dev/null (usage errors and --help
 * are printed), fuzz_quiet(0) brings them back. Returns 0, or -1 when
 * /dev/null cannot be opened (nothing changed then). */
int fuzz_quiet(int on);

#endif
