/* prep_finalize.h: the last step of a prep (and `alexnet-prep merge DIR`):
 * read prep-plan.h5 and every shard's header, add the training shards'
 * statistics sums in shard order (exact integers, so the result does not
 * depend on how the shards were produced), count classes, collect refused
 * files, then write bad-files.tsv, dataset.h5 and, last, dataset.json. */
#ifndef ALEXNET_PREP_FINALIZE_H
#define ALEXNET_PREP_FINALIZE_H

#include <stdint.h>

#include "status.h"

typedef struct prep_final_summary {
    uint64_t images[2];   /* train, val */
    uint64_t stored_bytes[2]; /* train, val: bytes of image data in the shards (pixels or JPEG streams) */
    uint64_t refused;
    uint64_t skipped;
} prep_final_summary;

an_status prep_finalize(const char *dir, prep_final_summary *summary);

#endif
