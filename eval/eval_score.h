/* eval_score.h: scores a split of a dataset directory with a network the way
 * the paper reports it (§4.1, §6): the ten views of every image through the
 * network, their softmax outputs averaged (ten-crop), and the centre view
 * alone (centre crop); top-1 and top-5 counted in a tally.
 *
 * Images are taken in shard order, each exactly once (the tally refuses a
 * repeated image id); --limit takes the first N.
 */
#ifndef ALEXNET_EVAL_SCORE_H
#define ALEXNET_EVAL_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "net.h"
#include "progress.h"
#include "shard_reader.h"
#include "status.h"
#include "tally.h"

#define EVAL_TOP_K 5

/* One scored image: where it lives and its ten-crop top-5. */
typedef struct eval_image {
    uint32_t image_id;
    int32_t label;
    int shard;                  /* index into the split's shards */
    uint32_t index;             /* image index within that shard */
    int top[EVAL_TOP_K];        /* ten-crop classes, best first (scores.h tie rule) */
    float top_probs[EVAL_TOP_K];/* their averaged probabilities */
} eval_image;

/* The open shards of one split. */
typedef struct eval_split {
    const dataset_split *split;
    int num_shards;
    shard_reader **shards; /* [num_shards] */
    uint64_t num_images;   /* sum of the shards' counts */
    uint32_t id_count;     /* every image id is < id_count (dataset_split.id_count): above num_images when
                            * alexnet-prep refused inputs, whose ids stay unused. Size per-id tables with it. */
} eval_split;

an_status eval_split_open(eval_split *s, const dataset *d, const char *split_name);
void eval_split_close(eval_split *s);
/* The k-th image of the split in shard order -> (shard, index). */
an_status eval_split_locate(const eval_split *s, uint64_t k, int *shard, uint32_t *index);

/* Working memory of one batch: the views' crop choices [B*10], ten and centre [K]. */
typedef struct eval_score_scratch {
    crop_choice *choices;
    float *ten, *centre;
} eval_score_scratch;

an_status eval_score_scratch_alloc(eval_score_scratch *s, int batch_images, int num_classes);
void eval_score_scratch_free(eval_score_scratch *s);

/* The ten views of n images raw [n, 256, 256, 3] (ten_crop.h) through the
 * network at inference, cut by the backend's input op (net_forward_crops):
 * *logits and *probs [n*10, K], host views valid until the next forward pass
 * (view v of image b at row b*10 + v). The one path
 * from stored pixels to the network's outputs that scoring and
 * `alexnet-eval classify` share. */
an_status eval_forward_views(net *model, const uint8_t *raw, int n, const float *mean_image,
                             eval_score_scratch *scratch, const float **logits, const float **probs);

/* Scores n images already in memory, raw [n, 256, 256, 3], whose info[n]
 * has image_id and label set: cuts their ten views, runs the network, adds
 * them to t and fills info's top 5; probs_out [n, K] (optional) receives the
 * ten-crop probabilities. The step of eval_score_split after reading. */
an_status eval_score_images(net *model, const uint8_t *raw, int n, const float *mean_image,
                            eval_score_scratch *scratch, tally *t, eval_image *info, float *probs_out);

typedef struct eval_score_options {
    int batch_images; /* images per forward (x10 views); <= net_max_batch / 10 */
    uint64_t limit;   /* score the first `limit` images; 0 = all */
    float *probs_out; /* optional [scored, K]: the ten-crop probabilities, in scoring order */
    progress *bar;    /* optional */
} eval_score_options;

/* Scores the split into t (initialised for the dataset's classes and the
 * split's id_count ids) and images [min(limit, N)]; *scored receives the count.
 * mean_image [256, 256, 3] is the dataset's mean (byte units). */
an_status eval_score_split(net *model, const eval_split *s, const float *mean_image,
                           const eval_score_options *o, tally *t, eval_image *images, uint64_t *scored);

#endif
