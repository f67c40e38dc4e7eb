/* fuzz_class_list.c: libFuzzer target: a class list file (--classes: "id[
 * words]" per line), as alexnet-prep reads it (prep_listing_read_classes). */
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"
#include "prep_listing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[4096];
    fuzz_write_file("classes.txt", data, size, path);
    prep_listing l;
    memset(&l, 0, sizeof l);
    (void)prep_listing_read_classes(&l, path);
    prep_listing_free(&l);
    return 0;
}
