/* prep_run.h: the conversion itself: for every shard in range, keep it if a
 * previous run already wrote and verified it, else decode its images in
 * parallel, compute checksums and statistics sums, and write it atomically.
 * Then (for a full range) prep_finalize() writes the dataset metadata. */
#ifndef ALEXNET_PREP_RUN_H
#define ALEXNET_PREP_RUN_H

#include "prep_listing.h"
#include "prep_options.h"
#include "prep_plan.h"
#include "status.h"

typedef struct prep_run_summary {
    uint64_t decoded, refused, kept_shards, written_shards, kept_images;
    double seconds;
} prep_run_summary;

an_status prep_run(const prep_listing *l, const prep_plan *plan, const prep_options *o, prep_run_summary *summary);

#endif
