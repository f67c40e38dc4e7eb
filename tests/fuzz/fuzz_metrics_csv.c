/* fuzz_metrics_csv.c: libFuzzer target: a run's metrics.csv as
 * `alexnet-eval report` reads it for the training curves. */
#include <stdint.h>

#include "fuzz_util.h"
#include "metrics_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4096];
    fuzz_write_file("metrics.csv", data, size, path);
    metrics_table t;
    if (metrics_table_read(&t, path) == AN_OK) {
        for (size_t r = 0; r < t.num_rows; r++)
            for (int c = 0; c < t.num_columns; c++) (void)metrics_table_at(&t, r, c);
        (void)metrics_table_column(&t, "loss");
        metrics_table_free(&t);
    }
    return 0;
}
