/* tally.c: hit counters, per-class accuracy and confusion counts. */
#include "tally.h"

#include <stdlib.h>
#include <string.h>

#include "scores.h"

an_status tally_init(tally *t, int num_classes, uint32_t max_image_id)
{
    memset(t, 0, sizeof *t);
    if (num_classes < 1) return error_set(AN_ERR_ARG, "a tally needs at least one class, got %d", num_classes);
    t->num_classes = num_classes;
    t->max_image_id = max_image_id;
    size_t c = (size_t)num_classes;
    t->seen = calloc(max_image_id ? max_image_id : 1, 1);
    t->class_images = calloc(c, sizeof(int64_t));
    t->confusion = calloc(c * c, sizeof(int64_t));
    int ok = t->seen && t->class_images && t->confusion;
    for (int s = 0; s < TALLY_SCHEMES; s++) {
        t->class_top1[s] = calloc(c, sizeof(int64_t));
        t->class_top5[s] = calloc(c, sizeof(int64_t));
        ok = ok && t->class_top1[s] && t->class_top5[s];
    }
    if (!ok) {
        tally_free(t);
        return error_set(AN_ERR_NOMEM, "out of memory allocating the counters for %d classes", num_classes);
    }
    return AN_OK;
}

void tally_free(tally *t)
{
    free(t->seen);
    free(t->class_images);
    free(t->confusion);
    for (int s = 0; s < TALLY_SCHEMES; s++) {
        free(t->class_top1[s]);
        free(t->class_top5[s]);
    }
    memset(t, 0, sizeof *t);
}

an_status tally_add(tally *t, uint32_t image_id, int label, const float *ten_crop_probs, const float *centre_probs)
{
    if (label < 0 || label >= t->num_classes)
        return error_set(AN_ERR_FORMAT, "image %u has label %d outside [0, %d)", image_id, label, t->num_classes);
    if (image_id >= t->max_image_id)
        return error_set(AN_ERR_FORMAT, "image id %u outside [0, %u)", image_id, t->max_image_id);
    if (t->seen[image_id])
        return error_set(AN_ERR_INTERNAL, "image %u was scored twice (each image must count exactly once)", image_id);
    t->seen[image_id] = 1;
    t->images++;
    t->class_images[label]++;
    const float *probs[TALLY_SCHEMES] = {ten_crop_probs, centre_probs};
    for (int s = 0; s < TALLY_SCHEMES; s++) {
        int rank = class_rank(probs[s], t->num_classes, label);
        if (rank < 1) { t->top1[s]++; t->class_top1[s][label]++; }
        if (rank < 5) { t->top5[s]++; t->class_top5[s][label]++; }
    }
    int predicted;
    top_k(ten_crop_probs, t->num_classes, 1, &predicted, NULL);
    t->confusion[(size_t)label * t->num_classes + predicted]++;
    return AN_OK;
}

an_status tally_merge(tally *t, const tally *part)
{
    if (part->num_classes != t->num_classes || part->max_image_id != t->max_image_id)
        return error_set(AN_ERR_INTERNAL, "merging tallies of different shapes");
    for (uint32_t i = 0; i < t->max_image_id; i++) {
        if (part->seen[i] && t->seen[i])
            return error_set(AN_ERR_INTERNAL, "image %u was scored twice (each image must count exactly once)", i);
        t->seen[i] |= part->seen[i];
    }
    size_t c = (size_t)t->num_classes;
    t->images += part->images;
    for (size_t j = 0; j < c; j++) t->class_images[j] += part->class_images[j];
    for (size_t j = 0; j < c * c; j++) t->confusion[j] += part->confusion[j];
    for (int s = 0; s < TALLY_SCHEMES; s++) {
        t->top1[s] += part->top1[s];
        t->top5[s] += part->top5[s];
        for (size_t j = 0; j < c; j++) {
            t->class_top1[s][j] += part->class_top1[s][j];
            t->class_top5[s][j] += part->class_top5[s][j];
        }
    }
    return AN_OK;
}

double tally_top1_error(const tally *t, enum tally_scheme s)
{
    return t->images ? 1.0 - (double)t->top1[s] / (double)t->images : 0.0;
}

double tally_top5_error(const tally *t, enum tally_scheme s)
{
    return t->images ? 1.0 - (double)t->top5[s] / (double)t->images : 0.0;
}

/* Does pair a come before pair b in the report's order? */
static int pair_before(confused_pair a, confused_pair b)
{
    if (a.count != b.count) return a.count > b.count;
    if (a.true_class != b.true_class) return a.true_class < b.true_class;
    return a.predicted_class < b.predicted_class;
}

int tally_most_confused(const tally *t, confused_pair *pairs, int max_pairs)
{
    int filled = 0;
    for (int a = 0; a < t->num_classes; a++) {
        for (int b = 0; b < t->num_classes; b++) {
            int64_t n = t->confusion[(size_t)a * t->num_classes + b];
            if (a == b || n == 0) continue;
            confused_pair p = {a, b, n};
            if (filled == max_pairs && (max_pairs == 0 || !pair_before(p, pairs[max_pairs - 1]))) continue;
            int pos = filled < max_pairs ? filled++ : max_pairs - 1;
            while (pos > 0 && pair_before(p, pairs[pos - 1])) {
                pairs[pos] = pairs[pos - 1];
                pos--;
            }
            pairs[pos] = p;
        }
    }
    return filled;
}
