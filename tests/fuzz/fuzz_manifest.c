/* fuzz_manifest.c: libFuzzer target: a manifest and its class list
 * (--source manifest), as alexnet-prep lists them (prep_source_manifest).
 * Input: CLASSES "\n--\n" MANIFEST. */
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "prep_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *part[2];
    size_t part_size[2];
    fuzz_split(data, size, 2, part, part_size);
    char classes[4096], manifest[4096];
    fuzz_write_file("classes.txt", part[0], part_size[0], classes);
    fuzz_write_file("manifest.tsv", part[1], part_size[1], manifest);
    prep_listing l;
    memset(&l, 0, sizeof l);
    (void)prep_source_manifest(&l, manifest, classes);
    prep_listing_free(&l);
    return 0;
}
