/* eval_figures.c: inputs of Figures 3 and 4 (§6.1), then the drawing. */
#include "eval_figures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vips/vips.h>

#include "directory.h"
#include "eval_cli.h"
#include "figures.h"
#include "log.h"
#include "neighbours.h"
#include "ten_crop.h"

void eval_figure_options_default(eval_figure_options *o)
{
    o->dir = NULL;
    o->predictions = 8;
    o->queries = 5;
    o->neighbours = 6;
    o->train_sample = 1000;
    o->batch_views = 64;
}

/* Adds "what: " before a failure's message; leaves success alone. */
static an_status in_context(an_status s, const char *what)
{
    return s == AN_OK ? s : error_context(s, "%s", what);
}

static an_status read_at(const eval_split *s, uint64_t position, uint8_t *out)
{
    int shard;
    uint32_t index;
    AN_TRY(eval_split_locate(s, position, &shard, &index));
    return shard_reader_read_image(s->shards[shard], index, out);
}

static an_status draw_predictions(const eval_figure_options *o, const eval_split *val, const eval_image *scored,
                                  uint64_t num_scored, const dataset *d, int *with_text)
{
    an_status st = AN_OK;
    int n = num_scored < (uint64_t)o->predictions ? (int)num_scored : o->predictions;
    uint64_t *picks = malloc((size_t)n * sizeof *picks);
    uint8_t *images = malloc((size_t)n * IMAGE_STORED_BYTES); /* [n,256,256,3] */
    eval_image *info = malloc((size_t)n * sizeof *info);
    char path[4096];
    if (!picks || !images || !info) {
        st = error_set(AN_ERR_NOMEM, "out of memory for the predictions figure");
        goto done;
    }
    evenly_spaced(num_scored, n, picks);
    for (int i = 0; i < n; i++) {
        info[i] = scored[picks[i]];
        AN_TRY_GOTO(st, shard_reader_read_image(val->shards[info[i].shard], info[i].index,
                                                images + (size_t)i * IMAGE_STORED_BYTES), done);
    }
    snprintf(path, sizeof path, "%s/predictions.png", o->dir);
    st = figure_predictions(path, n, images, info, (const char *const *)d->class_names, with_text);
done:
    free(picks);
    free(images);
    free(info);
    return st;
}

static an_status draw_neighbours(const eval_figure_options *o, net *model, const dataset *d,
                                 const eval_split *val, const eval_image *scored, uint64_t num_scored)
{
    an_status st = AN_OK;
    eval_split train = {0};
    AN_TRY(eval_split_open(&train, d, "train"));
    int q = num_scored < (uint64_t)o->queries ? (int)num_scored : o->queries;
    int pool = train.num_images < (uint64_t)o->train_sample ? (int)train.num_images : o->train_sample;
    int k = pool < o->neighbours ? pool : o->neighbours;
    if (q < 1 || k < 1) {
        eval_split_close(&train);
        return error_set(AN_ERR_ARG, "the neighbours figure needs query and training images (%d, %d)", q, pool);
    }
    size_t F = (size_t)net_fc7_features(model);
    uint64_t *query_pos = malloc((size_t)q * sizeof(uint64_t));
    uint64_t *pool_pos = malloc((size_t)pool * sizeof(uint64_t));
    float *query_fc7 = malloc((size_t)q * F * sizeof(float));    /* [q, F7] */
    float *pool_fc7 = malloc((size_t)pool * F * sizeof(float));  /* [pool, F7] */
    int *nearest = malloc((size_t)q * k * sizeof(int));          /* [q, k] */
    float *distance = malloc((size_t)q * k * sizeof(float));     /* [q, k] */
    uint8_t *query_images = malloc((size_t)q * IMAGE_STORED_BYTES);     /* [q,256,256,3] */
    uint8_t *nb_images = malloc((size_t)q * k * IMAGE_STORED_BYTES);    /* [q,k,256,256,3] */
    char path[4096];
    if (!query_pos || !pool_pos || !query_fc7 || !pool_fc7 || !nearest || !distance || !query_images || !nb_images) {
        st = error_set(AN_ERR_NOMEM, "out of memory for the neighbours figure (%d training images)", pool);
        goto done;
    }
    /* queries: evenly spaced among the scored images, located by their place in the split */
    uint64_t *scored_pick = malloc((size_t)q * sizeof(uint64_t));
    if (!scored_pick) {
        st = error_set(AN_ERR_NOMEM, "out of memory for the neighbours figure");
        goto done;
    }
    evenly_spaced(num_scored, q, scored_pick);
    for (int i = 0; i < q; i++) query_pos[i] = scored_pick[i]; /* scoring order = split order */
    free(scored_pick);
    evenly_spaced(train.num_images, pool, pool_pos);
    log_info("figures: fc7 features of %d query and %d training images", q, pool);
    AN_TRY_GOTO(st, fc7_features(model, val, d->mean_image, query_pos, q, o->batch_views, query_fc7), done);
    AN_TRY_GOTO(st, fc7_features(model, &train, d->mean_image, pool_pos, pool, o->batch_views, pool_fc7), done);
    nearest_neighbours(query_fc7, q, pool_fc7, pool, (int)F, k, nearest, distance);
    for (int i = 0; i < q; i++) {
        AN_TRY_GOTO(st, read_at(val, query_pos[i], query_images + (size_t)i * IMAGE_STORED_BYTES), done);
        for (int j = 0; j < k; j++)
            AN_TRY_GOTO(st, read_at(&train, pool_pos[nearest[i * k + j]],
                                    nb_images + ((size_t)i * k + j) * IMAGE_STORED_BYTES), done);
    }
    snprintf(path, sizeof path, "%s/neighbours.png", o->dir);
    st = figure_neighbours(path, q, query_images, k, nb_images);
done:
    free(query_pos);
    free(pool_pos);
    free(query_fc7);
    free(pool_fc7);
    free(nearest);
    free(distance);
    free(query_images);
    free(nb_images);
    eval_split_close(&train);
    return st;
}

an_status eval_figures_draw(const eval_figure_options *o, net *model, const dataset *d,
                            const eval_split *val, const eval_image *scored, uint64_t num_scored,
                            const char **names, int *written, int *with_text)
{
    char path[4096];
    *written = 0;
    *with_text = 0;
    AN_TRY(directory_make(o->dir));
    if (num_scored > 0) {
        AN_TRY(in_context(draw_predictions(o, val, scored, num_scored, d, with_text), "predictions figure"));
        names[(*written)++] = "predictions.png";
        if (!*with_text) log_warn("figures: no font could render text; predictions.png has bars without labels");
        AN_TRY(in_context(draw_neighbours(o, model, d, val, scored, num_scored), "neighbours figure"));
        names[(*written)++] = "neighbours.png";
    }
    const net_param_view *w = net_param_find(model, "conv1.weight");
    if (!w) return error_set(AN_ERR_INTERNAL, "the network has no conv1.weight");
    float *params; /* [net_param_count] host */
    AN_TRY(net_block_to_host(model, NET_BLOCK_PARAMS, &params));
    snprintf(path, sizeof path, "%s/conv1.png", o->dir);
    AN_TRY(in_context(figure_conv1(path, params + w->offset, w->shape[0], w->shape[2]), "conv1 figure"));
    names[(*written)++] = "conv1.png";
    return AN_OK;
}

/* The figures part of alexnet-eval (eval_features.h). */
static an_status figures_start(const char *argv0)
{
    if (VIPS_INIT(argv0) != 0) return error_set(AN_ERR_VIPS, "cannot start libvips: %s", vips_error_buffer());
    return AN_OK;
}

static void figures_stop(void) { vips_shutdown(); }

static an_status figures_draw(const char *out_dir, const eval_cli *a, int views_per_batch, net *model,
                              const dataset *d, const eval_split *val, const eval_image *scored, uint64_t num_scored,
                              eval_figure_list *out)
{
    char dir[4096];
    const char *names[EVAL_MAX_FIGURES];
    eval_figure_options fo;
    eval_figure_options_default(&fo);
    if (snprintf(dir, sizeof dir, "%s/figures", out_dir) >= (int)sizeof dir)
        return error_set(AN_ERR_ARG, "path too long: %s/figures", out_dir);
    fo.dir = dir;
    fo.train_sample = a->train_sample;
    fo.batch_views = views_per_batch;
    int with_text = 0;
    AN_TRY(eval_figures_draw(&fo, model, d, val, scored, num_scored, names, &out->count, &with_text));
    for (int i = 0; i < out->count; i++) {
        snprintf(out->paths[i], sizeof out->paths[i], "figures/%s", names[i]);
        out->list[i] = out->paths[i];
    }
    return AN_OK;
}

const eval_figures_part *eval_figures_feature(void)
{
    static const eval_figures_part part = {figures_start, figures_stop, figures_draw};
    return &part;
}
