/* fuzz_dataset_json.c: libFuzzer target: a dataset directory's dataset.json
 * as every reader checks it against dataset.h5 (dataset_check_complete). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dataset_json.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4096];
    fuzz_write_file("dataset.json", data, size, path);
    dataset d; /* what dataset.h5 would have said */
    memset(&d, 0, sizeof d);
    snprintf(d.dir, sizeof d.dir, "%s", fuzz_dir());
    snprintf(d.dataset_id, sizeof d.dataset_id, "0123456789abcdef");
    d.num_classes = 10;
    d.train.num_images = 6000;
    d.val.num_images = 1000;
    d.train.num_shards = 6;
    d.val.num_shards = 1;
    (void)dataset_check_complete(&d);
    return 0;
}
