/* classify.h: `alexnet-eval classify`: a trained network on the user's own
 * image files. Each file goes through exactly alexnet-prep's decoding and
 * resizing (image/image_decode.h, with the resize mode the dataset was
 * prepared with), then the same ten crops, mean image and network pass as
 * scoring (eval_score.h's eval_forward_views); the softmax outputs of the ten
 * views are averaged (§4.1) and the five most probable classes reported. A
 * file that cannot be decoded gets its reason; the others are classified. */
#ifndef ALEXNET_EVAL_CLASSIFY_H
#define ALEXNET_EVAL_CLASSIFY_H

#include <stddef.h>
#include <stdio.h>

#include "dataset.h"
#include "eval_score.h"
#include "net.h"
#include "image_decode.h"
#include "status.h"

#define CLASSIFY_TOP_K 5

typedef struct classify_result {
    const char *path;
    int ok;                           /* 0: refused, see reason */
    char reason[512];
    int count;                        /* classes reported: min(5, K) */
    int classes[CLASSIFY_TOP_K];      /* best first (scores.h tie rule) */
    float probs[CLASSIFY_TOP_K];      /* ten-crop averaged probabilities */
} classify_result;

/* The decode options of the dataset in data_dir: its resize mode, read from
 * DATA/dataset.json's "resize" (docs/FORMAT.md 1.3; datasets written before
 * that member: from the text of "params"), the default limits. */
an_status classify_decode_options(const char *data_dir, image_decode_options *o);

/* One file. A refused image is not an error: r->ok = 0 with the reason;
 * AN_OK is returned unless the network itself fails.
 *   scratch: from eval_score_scratch_alloc(1 image, K); raw [256, 256, 3] */
an_status classify_file(net *n, const dataset *d, const image_decode_options *o, const char *path,
                        eval_score_scratch *scratch, uint8_t *raw, classify_result *r);

/* Prints one result: the path, then "  1. name (id)  87.31 %" lines, or "  cannot classify: reason". */
void classify_print_text(const classify_result *r, const dataset *d, FILE *out);

/* Writes all results as one JSON array:
 * [{"file": ..., "top5": [{"class": i, "id": ..., "name": ..., "probability": p}, ...]},
 *  {"file": ..., "error": reason}, ...] */
an_status classify_print_json(const classify_result *results, int count, const dataset *d, FILE *out);

#endif
