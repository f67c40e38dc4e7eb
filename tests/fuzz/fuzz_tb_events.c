/* fuzz_tb_events.c: libFuzzer target: a TensorBoard event file in a run
 * directory as a resume cuts it (common/tb_events.h, tb_events_cut). The
 * first byte is the step to keep through (255: all), the rest the file. The
 * cut never grows the file, and a second cut leaves it as it is. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fuzz_util.h"
#include "tb_events.h"

static long long size_of(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint64_t keep = data[0] == 255 ? UINT64_MAX : data[0];
    char path[4096];
    fuzz_write_file(TB_EVENTS_PREFIX "fuzz", data + 1, size - 1, path);
    if (tb_events_cut(fuzz_dir(), keep) != AN_OK) return 0;
    long long once = size_of(path);
    if (once < 0 || once > (long long)(size - 1)) abort();
    if (tb_events_cut(fuzz_dir(), keep) != AN_OK || size_of(path) != once) abort();
    return 0;
}
