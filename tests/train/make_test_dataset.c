/* make_test_dataset.c: writes a small synthetic dataset directory for the
 * shell-driven training tests (train_fixture.h):
 *   make_test_dataset DIR NUM_TRAIN TRAIN_SHARDS NUM_VAL CLASSES [DATASET_ID]
 * DATASET_ID (16 lowercase hex digits) makes it another dataset than the default's. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "status.h"
#include "train_fixture.h"

int main(int argc, char **argv)
{
    if (argc != 6 && argc != 7) {
        fprintf(stderr, "usage: %s DIR NUM_TRAIN TRAIN_SHARDS NUM_VAL CLASSES [DATASET_ID]\n", argv[0]);
        return 2;
    }
    mkdir(argv[1], 0755);
    an_status st = fixture_write_dataset_id(argv[1], (uint32_t)atol(argv[2]), atoi(argv[3]), (uint32_t)atol(argv[4]),
                                            atoi(argv[5]), NULL, 0, argc == 7 ? argv[6] : FIXTURE_DEFAULT_DATASET_ID);
    if (st != AN_OK) {
        fprintf(stderr, "%s\n", error_message());
        return 1;
    }
    return 0;
}
