/* tally.h: the counts behind every number in an evaluation report: top-1 and
 * top-5 hits for the ten-crop and the centre-crop scores, per class, and the
 * ten-crop confusion counts (true class -> top-1 prediction) from which the
 * most confused pairs are read.
 *
 * Each scored image is added exactly once (tally_add); the tally refuses a
 * second addition of the same image id, so a loader bug that repeats or a
 * split that is scored twice shows up as an error, not as a quiet bias.
 */
#ifndef ALEXNET_EVAL_TALLY_H
#define ALEXNET_EVAL_TALLY_H

#include <stdint.h>

#include "status.h"

enum tally_scheme { TALLY_TEN_CROP = 0, TALLY_CENTRE_CROP = 1, TALLY_SCHEMES = 2 };

typedef struct tally {
    int num_classes;
    uint32_t max_image_id;    /* ids must be < this */
    uint8_t *seen;            /* [max_image_id] 1 once an id was added */
    int64_t images;
    int64_t top1[TALLY_SCHEMES], top5[TALLY_SCHEMES];  /* hits over all images */
    int64_t *class_images;                             /* [C] images whose label is c */
    int64_t *class_top1[TALLY_SCHEMES];                /* [C] top-1 hits per true class */
    int64_t *class_top5[TALLY_SCHEMES];                /* [C] */
    int64_t *confusion;                                /* [C, C] true x ten-crop top-1 */
} tally;

typedef struct confused_pair {
    int true_class, predicted_class;
    int64_t count;
} confused_pair;

/* Allocates counters for num_classes classes and image ids in [0, max_image_id). */
an_status tally_init(tally *t, int num_classes, uint32_t max_image_id);
void tally_free(tally *t);

/* Adds one image: its label, its id, and the probabilities of each scheme
 * (ten_crop_probs, centre_probs: [C]). Fails on a label out of range, an id
 * out of range or an id already added. */
an_status tally_add(tally *t, uint32_t image_id, int label, const float *ten_crop_probs, const float *centre_probs);

/* Adds everything counted in `part` (same classes and id range, disjoint ids)
 * into t: the merge of per-thread tallies. Fails on an id counted in both. */
an_status tally_merge(tally *t, const tally *part);

/* Error rates in [0, 1] (0 when no image). */
double tally_top1_error(const tally *t, enum tally_scheme s);
double tally_top5_error(const tally *t, enum tally_scheme s);

/* The `max_pairs` largest off-diagonal confusion counts (count > 0), largest
 * first; ties by true class, then predicted class, ascending. Returns how
 * many were written into pairs. */
int tally_most_confused(const tally *t, confused_pair *pairs, int max_pairs);

#endif
