/* prep_plan.h: what goes into which shard, and the dataset's identity.
 *
 * Image ids are the positions in the sorted (and subset) source listing,
 * 0..count-1 per split. The shard order is a Fisher-Yates permutation of the
 * ids drawn once from Philox (purpose PREP_ORDER, epoch word = split), so
 * every shard mixes classes; shard s holds permuted positions
 * [s * shard_size, (s + 1) * shard_size). The dataset id hashes the sorted
 * listing (paths, labels, classes) and every parameter that changes pixels or
 * order, so a rerun into the same directory recognises its own shards.
 *
 * The plan is also stored as DIR/prep-plan.h5 so that `alexnet-prep merge`
 * can finish a dataset whose shards several processes wrote (--shard-range).
 */
#ifndef ALEXNET_PREP_PLAN_H
#define ALEXNET_PREP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "prep_listing.h"
#include "prep_options.h"
#include "shard_format.h"

typedef struct prep_plan {
    char dataset_id[AN_DATASET_ID_LEN + 1];
    char source[16];
    char input[4096];
    char params[512];                 /* "key=value ..." of the pixel- and order-changing parameters */
    char max_bad[32];                 /* as given, e.g. "1%" */
    size_t shard_size;
    image_resize_mode resize;         /* --resize (in params too, so in the id) */
    shard_store store;                /* how the shards store images (in params too, so in the id) */
    int jpeg_quality;                 /* jpeg store: 1..100; 0 for raw */
    shard_jpeg_subsampling jpeg_subsampling;
    size_t count[PREP_SPLITS];        /* images listed (after limits) */
    size_t skipped[PREP_SPLITS];      /* files skipped by the source (hidden, other extensions) */
    int shards[PREP_SPLITS];
    uint32_t *order[PREP_SPLITS];     /* [count] image ids in shard order (NULL when read from disk) */
    int num_classes;
    char **class_ids, **class_names;  /* [num_classes] */
} prep_plan;

an_status prep_plan_make(prep_plan *p, const prep_listing *l, const prep_options *o);
/* Shard s of a split covers order[*begin .. *end). */
void prep_plan_shard_span(const prep_plan *p, int split, int shard, size_t *begin, size_t *end);
/* Global shard numbering for --shard-range: train shards first, then val. */
int prep_plan_total_shards(const prep_plan *p);

/* Writes DIR/prep-plan.h5, or checks that an existing one has the same
 * dataset id (AN_ERR_ARG naming both ids if the directory holds another dataset). */
an_status prep_plan_store(const prep_plan *p, const char *dir);
/* Reads DIR/prep-plan.h5 (order left NULL). */
an_status prep_plan_load(prep_plan *p, const char *dir);
void prep_plan_free(prep_plan *p);

#endif
