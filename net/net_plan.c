/* net_plan.c: from the layer table (net_layers.c) and a configuration to the
 * plan: every layer's input and output shape, its convolution or pooling
 * shape, its parameter views in the flat block, its multiply-adds, and the
 * sizes the buffers need (llm.c's fill_in_parameter_sizes and
 * fill_in_activation_sizes, for a table instead of a fixed list). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

void net_config_default(net_config *cfg)
{
    cfg->width = 1.0;
    cfg->num_classes = 1000;
    cfg->lrn = 1;                                /* §3.3 */
    cfg->lrn_convention = LRN_ALPHA_DIVIDED_BY_N;
    cfg->init = NET_INIT_PAPER;
    cfg->dropout_rate = 0.5f;                    /* §4.2 */
    cfg->pooling = NET_POOL_OVERLAP;             /* §3.4 */
    cfg->towers = 2;                             /* §3.2 */
    cfg->activation = NET_ACTIVATION_RELU;       /* §3.1 */
}

/* A conv channel count times the width, a multiple of 2 (the groups), >= 2. */
static int scaled_conv(int channels, double width)
{
    long c = 2 * lround(channels * width / 2.0);
    return c < 2 ? 2 : (int)c;
}

static int scaled_fc(int features, double width)
{
    long f = lround(features * width);
    return f < 1 ? 1 : (int)f;
}

/* Adds a view "<layer>.<what>" of the given shape at the end of the block. */
static an_status view_add(net_plan *p, const char *layer, const char *what, int ndim, const int shape[4],
                          int *index)
{
    if (p->view_count >= NET_MAX_VIEWS) return error_set(AN_ERR_INTERNAL, "more than %d parameter views", NET_MAX_VIEWS);
    int v = p->view_count++;
    net_param_view *view = &p->views[v];
    snprintf(p->view_names[v], sizeof p->view_names[v], "%s.%s", layer, what);
    view->name = p->view_names[v];
    view->ndim = ndim;
    view->count = 1;
    for (int d = 0; d < 4; d++) {
        view->shape[d] = d < ndim ? shape[d] : 0;
        if (d < ndim) view->count *= (size_t)shape[d];
    }
    /* Every view starts on a multiple of NET_PARAM_ALIGN_FLOATS (net.h); the
     * padding before it is zero in every block and belongs to no tensor. */
    view->offset = (p->param_count + NET_PARAM_ALIGN_FLOATS - 1) / NET_PARAM_ALIGN_FLOATS * NET_PARAM_ALIGN_FLOATS;
    p->param_count = view->offset + view->count;
    p->parameters += view->count;
    *index = v;
    return AN_OK;
}

static an_status weights_add(net_plan *p, net_layer_info *l, int ndim, const int shape[4])
{
    int bias_shape[4] = {shape[0], 0, 0, 0};
    AN_TRY(view_add(p, l->name, "weight", ndim, shape, &l->weight_view));
    AN_TRY(view_add(p, l->name, "bias", 1, bias_shape, &l->bias_view));
    l->params = p->views[l->weight_view].count + p->views[l->bias_view].count;
    return AN_OK;
}

/* Fills l's output shape, shapes and views from its row and its input shape.
 * A member of a split network (p->split_kind) computes outputs [*begin,
 * *begin + its count) of the whole layer's: *begin is set for conv and fc
 * layers (0 for a whole network). */
static an_status layer_plan(net_plan *p, const net_layer_spec *s, net_layer_info *l, int is_first, int is_last,
                            int *begin)
{
    const int B = p->max_batch;
    l->out_c = l->in_c;
    l->out_h = l->in_h;
    l->out_w = l->in_w;
    *begin = 0;
    switch (s->kind) {
    case NET_LAYER_CONV: {
        int outputs = scaled_conv(s->outputs, p->cfg.width), groups = s->groups;
        if (p->split_kind == NET_SPLIT_TOWERS) { /* §3.2: the tower's half of the kernels, on its own maps */
            *begin = net_slice_begin(outputs, p->split_index, 2);
            outputs = net_slice_length(outputs, p->split_index, 2);
            groups = 1;
        }
        conv_shape c = {.batch = B, .in_channels = l->in_c, .in_h = l->in_h, .in_w = l->in_w,
                        .out_channels = outputs, .kernel = s->kernel,
                        .stride = s->stride, .pad = s->pad, .groups = groups};
        AN_TRY(conv_shape_check(&c));
        l->conv = c;
        l->out_c = c.out_channels;
        l->out_h = conv_out_size(c.in_h, c.kernel, c.stride, c.pad);
        l->out_w = conv_out_size(c.in_w, c.kernel, c.stride, c.pad);
        int shape[4] = {c.out_channels, c.in_channels / c.groups, c.kernel, c.kernel};
        AN_TRY(weights_add(p, l, 4, shape));
        l->macs = p->views[l->weight_view].count * (size_t)l->out_h * (size_t)l->out_w;
        return AN_OK;
    }
    case NET_LAYER_MAXPOOL: {
        pool_shape q = {.batch = B, .channels = l->in_c, .in_h = l->in_h, .in_w = l->in_w,
                        .size = s->kernel, .stride = s->stride, .ceil_mode = 0};
        l->pool = q;
        l->out_h = pool_out_size(q.in_h, q.size, q.stride, q.ceil_mode);
        l->out_w = pool_out_size(q.in_w, q.size, q.stride, q.ceil_mode);
        if (l->out_h < 1 || l->out_w < 1)
            return error_set(AN_ERR_ARG, "a %dx%d pooling window does not fit a %dx%d input", q.size, q.size,
                             q.in_h, q.in_w);
        return AN_OK;
    }
    case NET_LAYER_FC: {
        int in = l->in_c * l->in_h * l->in_w;
        l->in_c = in;
        l->in_h = l->in_w = 1;
        l->out_c = s->outputs > 0 ? scaled_fc(s->outputs, p->cfg.width) : p->cfg.num_classes;
        p->whole_out_c[l - p->layers] = l->out_c;
        if (p->split_kind != NET_SPLIT_NONE) { /* outputs [s F / N, (s+1) F / N) */
            const int whole = l->out_c;
            *begin = net_slice_begin(whole, p->split_index, p->split_count);
            l->out_c = net_slice_length(whole, p->split_index, p->split_count);
            if (l->out_c < 1)
                return error_set(AN_ERR_ARG, "%d outputs cannot be split over %d devices (each needs at least "
                                 "one)", whole, p->split_count);
        }
        l->out_h = l->out_w = 1;
        int shape[4] = {l->out_c, in, 0, 0};
        AN_TRY(weights_add(p, l, 2, shape));
        l->macs = p->views[l->weight_view].count;
        return AN_OK;
    }
    case NET_LAYER_RELU:
    case NET_LAYER_TANH:
        /* in place on its input, which must be a buffer of the net's own */
        if (is_first) return error_set(AN_ERR_INTERNAL, "an activation cannot be the first layer (it works in place)");
        return AN_OK;
    case NET_LAYER_DROPOUT:
        if (s->dropout_purpose == 0) return error_set(AN_ERR_INTERNAL, "dropout layer without a Philox purpose");
        return AN_OK;
    case NET_LAYER_LRN:
        return AN_OK;
    case NET_LAYER_SOFTMAX:
        if (!is_last) return error_set(AN_ERR_INTERNAL, "the softmax must be the last layer");
        return AN_OK;
    case NET_LAYER_EXCHANGE:
        return error_set(AN_ERR_INTERNAL, "an exchange is planned by exchange_add");
    }
    return error_set(AN_ERR_INTERNAL, "unknown layer kind %d", (int)s->kind);
}

static an_status plan_check_config(const net_config *cfg, int max_batch)
{
    if (!(cfg->width >= NET_WIDTH_MIN && cfg->width <= NET_WIDTH_MAX))
        return error_set(AN_ERR_ARG, "width multiplier %g is outside [%g, %g]", cfg->width, NET_WIDTH_MIN,
                         NET_WIDTH_MAX);
    if (cfg->num_classes < 2)
        return error_set(AN_ERR_ARG, "the network needs at least 2 classes, got %d", cfg->num_classes);
    if (!(cfg->dropout_rate >= 0.0f && cfg->dropout_rate < 1.0f))
        return error_set(AN_ERR_ARG, "dropout rate %g is outside [0, 1)", cfg->dropout_rate);
    if (max_batch < 1) return error_set(AN_ERR_ARG, "max batch must be >= 1, got %d", max_batch);
    return AN_OK;
}

static an_status split_check(const net_config *cfg, const net_split *split)
{
    if (split->kind == NET_SPLIT_NONE) return AN_OK;
    if (split->count < 2 || split->count > NET_SPLIT_MAX_MEMBERS)
        return error_set(AN_ERR_ARG, "a network is split over 2 to %d devices, not %d", NET_SPLIT_MAX_MEMBERS,
                         split->count);
    if (split->index < 0 || split->index >= split->count)
        return error_set(AN_ERR_ARG, "member %d of a split over %d devices", split->index, split->count);
    if (split->kind == NET_SPLIT_TOWERS) {
        if (split->count != 2) return error_set(AN_ERR_ARG, "the towers are 2 devices, not %d", split->count);
        if (cfg->towers != 2)
            return error_set(AN_ERR_ARG, "the towers split needs the network of two towers (--towers 2), not %d",
                             cfg->towers);
    } else if (split->kind != NET_SPLIT_FC_SLICES) {
        return error_set(AN_ERR_ARG, "unknown split kind %d", (int)split->kind);
    }
    return AN_OK;
}

/* Appends an exchange step "<after>.gather" of the current tensor (c, h, w
 * per image): over the images, or over the features, where the whole
 * tensor has whole_c channels of which member j holds slice j. */
static an_status exchange_add(net_plan *p, int *count, const char *after, int over_images, int whole_c, int *c,
                              int h, int w)
{
    const int i = *count;
    if (i >= NET_MAX_LAYERS) return error_set(AN_ERR_INTERNAL, "more than %d layers", NET_MAX_LAYERS);
    net_layer_spec *spec = &p->specs[i];
    memset(spec, 0, sizeof *spec);
    snprintf(p->layer_names[i], NET_LAYER_NAME_MAX, "%.8s.gather", after);
    spec->name = p->layer_names[i];
    spec->kind = NET_LAYER_EXCHANGE;
    net_layer_info *l = &p->layers[i];
    memset(l, 0, sizeof *l);
    l->name = spec->name;
    l->kind = NET_LAYER_EXCHANGE;
    l->in_c = *c;
    l->in_h = l->out_h = h;
    l->in_w = l->out_w = w;
    l->weight_view = l->bias_view = -1;
    net_exchange *x = &p->exchanges[i];
    x->over_images = over_images;
    l->out_c = over_images ? *c : whole_c;
    if (!over_images) {
        for (int j = 0; j < p->split_count; j++)
            x->part_floats[j] = (size_t)net_slice_length(whole_c, j, p->split_count) * (size_t)h * (size_t)w;
        if (x->part_floats[p->split_index] != (size_t)*c * (size_t)h * (size_t)w)
            return error_set(AN_ERR_INTERNAL, "%s: this member holds %d of %d channels, not its slice", l->name, *c,
                             whole_c);
    }
    *c = l->out_c;
    (*count)++;
    return AN_OK;
}

an_status net_plan_build(net_plan *p, const net_config *cfg, int max_batch)
{
    const net_split whole = {.kind = NET_SPLIT_NONE, .index = 0, .count = 1, .comm = NULL};
    return net_plan_build_split(p, cfg, max_batch, &whole);
}

/* The member's views' places in the whole network's block: view v of the
 * member is rows [begin, ...) of the whole network's view v (the views come
 * in the same order: the same layers, each with a weight and a bias). */
static an_status whole_offsets(net_plan *p, const int *begins)
{
    if (p->split_kind == NET_SPLIT_NONE) {
        for (int v = 0; v < p->view_count; v++) p->whole_offset[v] = p->views[v].offset;
        p->whole_param_count = p->param_count;
        p->whole_parameters = p->parameters;
        for (int i = 0; i < p->layer_count; i++) p->whole_macs += p->layers[i].macs;
        return AN_OK;
    }
    net_plan *whole = malloc(sizeof *whole);
    AN_CHECK_ALLOC(whole, sizeof *whole);
    an_status st = net_plan_build(whole, &p->cfg, 1);
    if (st == AN_OK && whole->view_count != p->view_count)
        st = error_set(AN_ERR_INTERNAL, "a member has %d views, the whole network %d", p->view_count,
                       whole->view_count);
    for (int i = 0; st == AN_OK && i < p->layer_count; i++) {
        const int views[2] = {p->layers[i].weight_view, p->layers[i].bias_view};
        for (int k = 0; k < 2 && st == AN_OK; k++) {
            const int v = views[k];
            if (v < 0) continue;
            const net_param_view *w = &whole->views[v];
            const size_t row = w->count / (size_t)w->shape[0];
            p->whole_offset[v] = w->offset + (size_t)begins[i] * row;
            if (strcmp(w->name, p->views[v].name) != 0 || p->views[v].count % row != 0 ||
                (size_t)begins[i] * row + p->views[v].count > w->count)
                st = error_set(AN_ERR_INTERNAL, "view %s of a member is not a block of the whole network's %s",
                               p->views[v].name, w->name);
        }
    }
    p->whole_param_count = whole->param_count;
    p->whole_parameters = whole->parameters;
    for (int i = 0; i < whole->layer_count; i++) p->whole_macs += whole->layers[i].macs;
    free(whole);
    return st;
}

an_status net_plan_build_split(net_plan *p, const net_config *cfg, int max_batch, const net_split *split)
{
    AN_TRY(plan_check_config(cfg, max_batch));
    AN_TRY(split_check(cfg, split));
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    p->max_batch = max_batch;
    p->lrn = lrn_params_paper(cfg->lrn_convention); /* §3.3 */
    p->features_layer = -1;
    p->split_kind = split->kind;
    p->split_index = split->kind == NET_SPLIT_NONE ? 0 : split->index;
    p->split_count = split->kind == NET_SPLIT_NONE ? 1 : split->count;
    int rows_count;
    net_layer_spec rows[NET_MAX_LAYERS];
    AN_TRY(net_variant_layers(cfg, rows, p->layer_names, &rows_count));
    char row_names[NET_MAX_LAYERS][NET_LAYER_NAME_MAX]; /* the rows' names, before exchanges shift the layers */
    for (int r = 0; r < rows_count; r++) {
        snprintf(row_names[r], NET_LAYER_NAME_MAX, "%s", rows[r].name);
        rows[r].name = row_names[r];
    }
    p->input_floats = IMAGE_CROP_FLOATS;
    p->largest_floats = p->input_floats;
    int c = IMAGE_CHANNELS, h = IMAGE_CROP_SIZE, w = IMAGE_CROP_SIZE, count = 0, scale = 1, seen_fc = 0,
        seen_conv = 0;
    int begins[NET_MAX_LAYERS] = {0};
    const int towers = p->split_kind == NET_SPLIT_TOWERS, slices = p->split_kind == NET_SPLIT_FC_SLICES;
    for (int r = 0; r < rows_count; r++) {
        const net_layer_spec *row = &rows[r];
        const char *previous = count > 0 ? p->layer_names[count - 1] : "input";
        /* Before a layer that sees every member's part: hybrid, pool5 over the images before fc6; towers,
         * pool2 before conv3 (the first ungrouped conv after conv1) and pool5 before fc6, over the features. */
        if (slices && row->kind == NET_LAYER_FC && !seen_fc) {
            AN_TRY(exchange_add(p, &count, previous, 1, c, &c, h, w));
            scale = p->split_count;
        } else if (towers && ((row->kind == NET_LAYER_FC && !seen_fc) ||
                              (row->kind == NET_LAYER_CONV && row->groups == 1 && seen_conv))) {
            AN_TRY(exchange_add(p, &count, previous, 0, 2 * c, &c, h, w));
        }
        for (int k = count - 1; k >= 0 && p->layers[k].kind == NET_LAYER_EXCHANGE && p->images_scale[k] == 0; k--) {
            p->images_scale[k] = scale;
            size_t out = net_plan_out_floats(p, k);
            if (out > p->largest_floats) p->largest_floats = out;
        }
        if (count >= NET_MAX_LAYERS) return error_set(AN_ERR_INTERNAL, "more than %d layers", NET_MAX_LAYERS);
        snprintf(p->layer_names[count], NET_LAYER_NAME_MAX, "%s", row->name);
        p->specs[count] = *row;
        p->specs[count].name = p->layer_names[count];
        net_layer_info *l = &p->layers[count];
        l->name = p->specs[count].name;
        l->kind = row->kind;
        l->in_c = c;
        l->in_h = h;
        l->in_w = w;
        l->weight_view = l->bias_view = -1;
        an_status st = layer_plan(p, &p->specs[count], l, count == 0, r == rows_count - 1, &begins[count]);
        if (st != AN_OK) return error_context(st, "planning layer %s", l->name);
        if (row->features) p->features_layer = count;
        /* towers: the LRN's window of n channels crosses the boundary; the other tower's 2 (n / 2) nearest
         * channels (all of them when it has fewer) come in as a halo, so that the nearest n / 2 of them have
         * their whole windows (net_pass.c) */
        if (towers && row->kind == NET_LAYER_LRN) p->halo[count] = 2 * (p->lrn.n / 2) < c ? 2 * (p->lrn.n / 2) : c;
        p->images_scale[count] = scale;
        c = l->out_c;
        h = l->out_h;
        w = l->out_w;
        size_t out = net_plan_out_floats(p, count);
        if (out > p->largest_floats) p->largest_floats = out;
        count++;
        if (row->kind == NET_LAYER_CONV) seen_conv = 1;
        if (row->kind == NET_LAYER_FC) {
            seen_fc = 1;
            if (p->split_kind != NET_SPLIT_NONE) { /* the fc layer's outputs over the features */
                const int whole = row->outputs > 0 ? scaled_fc(row->outputs, cfg->width) : cfg->num_classes;
                AN_TRY(exchange_add(p, &count, l->name, 0, whole, &c, h, w));
                p->images_scale[count - 1] = scale;
                out = net_plan_out_floats(p, count - 1);
                if (out > p->largest_floats) p->largest_floats = out;
            }
        }
    }
    p->layer_count = count;
    const int last_fc = count - 2 - (p->split_kind != NET_SPLIT_NONE);
    if (count < 2 || p->layers[count - 1].kind != NET_LAYER_SOFTMAX || last_fc < 0 ||
        p->layers[last_fc].kind != NET_LAYER_FC)
        return error_set(AN_ERR_INTERNAL, "the layer table must end with a fully connected layer and the softmax");
    if (p->features_layer < 0) return error_set(AN_ERR_INTERNAL, "no layer of the table is marked as features");
    p->largest_pass_floats = p->input_floats * (size_t)max_batch;
    for (int i = 0; i < count; i++) {
        const size_t floats = (size_t)max_batch * (size_t)p->images_scale[i] * net_plan_out_floats(p, i);
        if (floats > p->largest_pass_floats) p->largest_pass_floats = floats;
    }
    return whole_offsets(p, begins);
}
