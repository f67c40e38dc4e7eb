/* eval_score.c: ten-crop and centre-crop scoring of a split (§4.1, §6). */
#include "eval_score.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault_point.h"
#include "scores.h"
#include "ten_crop.h"

an_status eval_split_open(eval_split *s, const dataset *d, const char *split_name)
{
    memset(s, 0, sizeof *s);
    s->split = dataset_get_split(d, split_name);
    if (!s->split)
        return error_set(AN_ERR_ARG, "unknown split '%s' (use train or val)", split_name);
    if (s->split->num_shards <= 0)
        return error_set(AN_ERR_FORMAT, "dataset %s has no %s shards", d->dir, split_name);
    if (s->split->id_count < s->split->num_images || s->split->id_count > UINT32_MAX)
        return error_set(AN_ERR_FORMAT, "dataset %s: %s image ids below %llu for %llu images (re-run alexnet-prep)",
                         d->dir, split_name, (unsigned long long)s->split->id_count,
                         (unsigned long long)s->split->num_images);
    s->id_count = (uint32_t)s->split->id_count;
    s->shards = calloc((size_t)s->split->num_shards, sizeof *s->shards);
    AN_CHECK_ALLOC(s->shards, (size_t)s->split->num_shards * sizeof *s->shards);
    for (int i = 0; i < s->split->num_shards; i++) {
        an_status st = shard_reader_open(&s->shards[i], s->split->shard_paths[i]);
        if (st != AN_OK) {
            eval_split_close(s);
            return st;
        }
        s->num_shards++;
        st = dataset_check_shard(d, s->shards[i]);
        if (st != AN_OK) {
            eval_split_close(s);
            return st;
        }
        s->num_images += s->shards[i]->count;
    }
    if (s->num_images != s->split->num_images) {
        an_status st = error_set(AN_ERR_FORMAT, "the %s shards of %s hold %llu images but dataset.h5 says %llu",
                                 split_name, d->dir, (unsigned long long)s->num_images,
                                 (unsigned long long)s->split->num_images);
        eval_split_close(s);
        return st;
    }
    return AN_OK;
}

void eval_split_close(eval_split *s)
{
    for (int i = 0; i < s->num_shards; i++) shard_reader_close(s->shards[i]);
    free(s->shards);
    memset(s, 0, sizeof *s);
}

an_status eval_split_locate(const eval_split *s, uint64_t position, int *shard, uint32_t *index)
{
    uint64_t k = position;
    for (int i = 0; i < s->num_shards; i++) {
        if (k < s->shards[i]->count) {
            *shard = i;
            *index = (uint32_t)k;
            return AN_OK;
        }
        k -= s->shards[i]->count;
    }
    return error_set(AN_ERR_ARG, "image %llu is past the end of the split (%llu images)",
                     (unsigned long long)position, (unsigned long long)s->num_images);
}

/* Reads images [first, first + n) of the split (shard order) into
 * raw [n, 256, 256, 3] and fills their ids, labels and places in info. */
static an_status load_batch(const eval_split *s, uint64_t first, int n, uint8_t *raw, eval_image *info)
{
    an_status st = AN_OK;
    char message[1024] = ""; /* a worker's error text: messages are per thread */
    for (int b = 0; b < n; b++) {
        AN_TRY(eval_split_locate(s, first + (uint64_t)b, &info[b].shard, &info[b].index));
        const shard_reader *r = s->shards[info[b].shard];
        info[b].image_id = r->image_ids[info[b].index];
        info[b].label = r->labels[info[b].index];
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (int b = 0; b < n; b++) {
        an_status read_st = shard_reader_read_image(s->shards[info[b].shard], info[b].index,
                                                    raw + (size_t)b * IMAGE_STORED_BYTES);
        if (read_st != AN_OK) {
#pragma omp critical(eval_load_error)
            if (st == AN_OK) {
                st = read_st;
                snprintf(message, sizeof message, "scoring image %u: %s", info[b].image_id, error_message());
            }
        }
    }
    if (st != AN_OK) return error_set(st, "%s", message);
    return AN_OK;
}

an_status eval_forward_views(net *model, const uint8_t *raw, int n, const float *mean_image,
                             eval_score_scratch *scratch, const float **logits, const float **probs)
{
    if (n * TEN_CROP_VIEWS > net_max_batch(model))
        return error_set(AN_ERR_ARG, "a batch of %d images needs %d views; the network holds %d", n,
                         n * TEN_CROP_VIEWS, net_max_batch(model));
    for (int v = 0; v < n * TEN_CROP_VIEWS; v++) scratch->choices[v] = ten_crop_view(v % TEN_CROP_VIEWS);
    /* inference: no dropout (§4.2's test-time scaling is implied by inverted dropout) */
    AN_TRY(net_forward_crops(model, raw, TEN_CROP_VIEWS, mean_image, scratch->choices, n * TEN_CROP_VIEWS));
    AN_TRY(net_read_logits(model, logits));
    return net_read_probs(model, probs); /* the network's softmax of each view */
}

an_status eval_score_images(net *model, const uint8_t *raw, int n, const float *mean_image,
                            eval_score_scratch *scratch, tally *t, eval_image *info, float *probs_out)
{
    const int K = net_get_config(model)->num_classes;
    if (K != t->num_classes) return error_set(AN_ERR_INTERNAL, "network has %d classes, tally %d", K, t->num_classes);
    const float *logits = NULL, *probs = NULL; /* [n*10, K] each */
    AN_TRY(eval_forward_views(model, raw, n, mean_image, scratch, &logits, &probs));
    for (int b = 0; b < n; b++) {
        const float *image_logits = logits + (size_t)b * TEN_CROP_VIEWS * K; /* [10, K] */
        softmax_average(image_logits, TEN_CROP_VIEWS, K, scratch->ten);
        memcpy(scratch->centre, probs + ((size_t)b * TEN_CROP_VIEWS + TEN_CROP_CENTRE_VIEW) * K, (size_t)K * sizeof(float));
        AN_TRY(tally_add(t, info[b].image_id, info[b].label, scratch->ten, scratch->centre));
        int k = top_k(scratch->ten, K, EVAL_TOP_K, info[b].top, info[b].top_probs);
        for (; k < EVAL_TOP_K; k++) {
            info[b].top[k] = -1;
            info[b].top_probs[k] = 0.0f;
        }
        if (probs_out) memcpy(probs_out + (size_t)b * K, scratch->ten, (size_t)K * sizeof(float));
    }
    return AN_OK;
}

an_status eval_score_scratch_alloc(eval_score_scratch *s, int batch_images, int num_classes)
{
    s->choices = malloc((size_t)batch_images * TEN_CROP_VIEWS * sizeof(crop_choice));
    s->ten = malloc((size_t)num_classes * sizeof(float));
    s->centre = malloc((size_t)num_classes * sizeof(float));
    if (!s->choices || !s->ten || !s->centre) {
        eval_score_scratch_free(s);
        return error_set(AN_ERR_NOMEM, "out of memory for the views of %d images", batch_images);
    }
    return AN_OK;
}

void eval_score_scratch_free(eval_score_scratch *s)
{
    free(s->choices);
    free(s->ten);
    free(s->centre);
    s->choices = NULL;
    s->ten = s->centre = NULL;
}

an_status eval_score_split(net *model, const eval_split *s, const float *mean_image,
                           const eval_score_options *o, tally *t, eval_image *images, uint64_t *scored)
{
    an_status st = AN_OK;
    const int K = net_get_config(model)->num_classes;
    uint64_t total = o->limit && o->limit < s->num_images ? o->limit : s->num_images;
    int batch = o->batch_images;
    eval_score_scratch scratch = {0};
    uint8_t *raw = NULL;
    *scored = 0;
    if (batch < 1 || batch * TEN_CROP_VIEWS > net_max_batch(model))
        return error_set(AN_ERR_ARG, "batch of %d images needs %d views; the network holds %d", batch,
                         batch * TEN_CROP_VIEWS, net_max_batch(model));
    AN_TRY(eval_score_scratch_alloc(&scratch, batch, K));
    raw = malloc((size_t)batch * IMAGE_STORED_BYTES); /* [B,256,256,3] */
    if (!raw) {
        st = error_set(AN_ERR_NOMEM, "out of memory for a batch of %d images", batch);
        goto done;
    }
    for (uint64_t first = 0; first < total; first += (uint64_t)batch) {
        int n = total - first < (uint64_t)batch ? (int)(total - first) : batch;
        AN_TRY_GOTO(st, load_batch(s, first, n, raw, images + first), done);
        AN_TRY_GOTO(st, eval_score_images(model, raw, n, mean_image, &scratch, t, images + first,
                                          o->probs_out ? o->probs_out + first * (uint64_t)K : NULL), done);
        *scored += (uint64_t)n;
        if (o->bar) progress_add(o->bar, (uint64_t)n);
        fault_point("eval batch");
    }
done:
    free(raw);
    eval_score_scratch_free(&scratch);
    return st;
}
