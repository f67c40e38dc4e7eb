/* fuzz_compare.c: libFuzzer target: the files of two runs as `alexnet-eval
 * compare` reads them (eval/compare.c): each run's config.json,
 * eval/report.json and metrics.csv, the input's six parts in that order
 * (separated by FUZZ_SEPARATOR). The page and JSON are written into the
 * scratch directory, as the program would write them. */
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "compare.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[6];
    size_t part_size[6];
    fuzz_split(data, size, 6, part, part_size);
    static const char *const names[3] = {"config.json", "eval/report.json", "metrics.csv"};
    char dirs[2][64], path[4096];
    for (int run = 0; run < 2; run++) {
        snprintf(dirs[run], sizeof dirs[run], "run%c", 'a' + run);
        snprintf(path, sizeof path, "%s/%s/eval", fuzz_dir(), dirs[run]);
        char run_dir[4096];
        snprintf(run_dir, sizeof run_dir, "%s/%s", fuzz_dir(), dirs[run]);
        mkdir(run_dir, 0755);
        mkdir(path, 0755);
        for (int f = 0; f < 3; f++) {
            char name[128];
            snprintf(name, sizeof name, "%s/%s", dirs[run], names[f]);
            fuzz_write_file(name, part[3 * run + f], part_size[3 * run + f], path);
        }
    }
    char run_a[4096], run_b[4096];
    snprintf(run_a, sizeof run_a, "%s/%s", fuzz_dir(), dirs[0]);
    snprintf(run_b, sizeof run_b, "%s/%s", fuzz_dir(), dirs[1]);
    const char *runs[2] = {run_a, run_b};
    (void)compare_runs(runs, 2, fuzz_dir());
    return 0;
}
