/* fuzz_idx.c: libFuzzer target: IDX files (MNIST, Fashion-MNIST) as
 * alexnet-prep lists them (prep_source_idx). Input: TRAIN-IMAGES "\n--\n"
 * TRAIN-LABELS "\n--\n" T10K-IMAGES "\n--\n" T10K-LABELS, written as the
 * four files of an IDX directory. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"
#include "prep_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[4] = {"idx/train-images-idx3-ubyte", "idx/train-labels-idx1-ubyte",
                                         "idx/t10k-images-idx3-ubyte", "idx/t10k-labels-idx1-ubyte"};
    char dir[4096], path[4096];
    snprintf(dir, sizeof dir, "%s/idx", fuzz_dir());
    mkdir(dir, 0700);
    const uint8_t *part[4];
    size_t part_size[4];
    fuzz_split(data, size, 4, part, part_size);
    for (int i = 0; i < 4; i++) fuzz_write_file(names[i], part[i], part_size[i], path);
    prep_listing l;
    memset(&l, 0, sizeof l);
    (void)prep_source_idx(&l, dir, NULL);
    prep_listing_free(&l);
    return 0;
}
