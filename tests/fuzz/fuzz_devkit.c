/* fuzz_devkit.c: libFuzzer target: ILSVRC2012's devkit files as alexnet-prep
 * reads them for a flat validation folder (prep_source_imagenet): the
 * ground truth (one devkit id per validation image) and the devkit id table
 * ("WNID id" per line). Input: GROUND-TRUTH "\n--\n" ID-TABLE. The tree
 * around them is fixed: classes n01 and n02, three validation files. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"
#include "prep_source.h"

static void make_tree(char *root, char *classes)
{
    static const char *const dirs[] = {"ilsvrc", "ilsvrc/train", "ilsvrc/train/n01", "ilsvrc/train/n02",
                                       "ilsvrc/val"};
    char path[4096];
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", fuzz_dir(), dirs[i]);
        mkdir(path, 0700);
    }
    for (int i = 1; i <= 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "ilsvrc/val/ILSVRC2012_val_%08d.JPEG", i);
        fuzz_write_file(name, (const uint8_t *)"", 0, path);
    }
    static const char list[] = "n01 first class\nn02 second class\n";
    fuzz_write_file("synsets.txt", (const uint8_t *)list, sizeof list - 1, classes);
    snprintf(root, 4096, "%s/ilsvrc", fuzz_dir());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char root[4096], classes[4096];
    if (!root[0]) make_tree(root, classes);
    const uint8_t *part[2];
    size_t part_size[2];
    fuzz_split(data, size, 2, part, part_size);
    char truth[4096], table[4096];
    fuzz_write_file("ilsvrc/ILSVRC2012_validation_ground_truth.txt", part[0], part_size[0], truth);
    fuzz_write_file("devkit_ids.txt", part[1], part_size[1], table);
    prep_listing l;
    memset(&l, 0, sizeof l);
    (void)prep_source_imagenet(&l, root, classes, table);
    prep_listing_free(&l);
    return 0;
}
