/* net_plan.c: from the layer table (net_layers.c) and a configuration to the
 * plan: every layer's input and output shape, its convolution or pooling
 * shape, its parameter views in the flat block, its multiply-adds, and the
 * sizes the buffers need (llm.c's fill_in_parameter_sizes and
 * fill_in_activation_sizes, for a table instead of a fixed list). */
#include <math.h>
#include <stdio.h>
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

/* Fills l's output shape, shapes and views from its row and its input shape. */
static an_status layer_plan(net_plan *p, const net_layer_spec *s, net_layer_info *l, int is_first, int is_last)
{
    const int B = p->max_batch;
    l->out_c = l->in_c;
    l->out_h = l->in_h;
    l->out_w = l->in_w;
    switch (s->kind) {
    case NET_LAYER_CONV: {
        conv_shape c = {.batch = B, .in_channels = l->in_c, .in_h = l->in_h, .in_w = l->in_w,
                        .out_channels = scaled_conv(s->outputs, p->cfg.width), .kernel = s->kernel,
                        .stride = s->stride, .pad = s->pad, .groups = s->groups};
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
    }
    return error_set(AN_ERR_INTERNAL, "unknown layer kind %d", (int)s->kind);
}

an_status net_plan_build(net_plan *p, const net_config *cfg, int max_batch)
{
    if (!(cfg->width >= NET_WIDTH_MIN && cfg->width <= NET_WIDTH_MAX))
        return error_set(AN_ERR_ARG, "width multiplier %g is outside [%g, %g]", cfg->width, NET_WIDTH_MIN,
                         NET_WIDTH_MAX);
    if (cfg->num_classes < 2)
        return error_set(AN_ERR_ARG, "the network needs at least 2 classes, got %d", cfg->num_classes);
    if (!(cfg->dropout_rate >= 0.0f && cfg->dropout_rate < 1.0f))
        return error_set(AN_ERR_ARG, "dropout rate %g is outside [0, 1)", cfg->dropout_rate);
    if (max_batch < 1) return error_set(AN_ERR_ARG, "max batch must be >= 1, got %d", max_batch);
    memset(p, 0, sizeof *p);
    p->cfg = *cfg;
    p->max_batch = max_batch;
    p->lrn = lrn_params_paper(cfg->lrn_convention); /* §3.3 */
    p->features_layer = -1;
    int count;
    AN_TRY(net_variant_layers(cfg, p->specs, p->layer_names, &count));
    const net_layer_spec *specs = p->specs;
    p->input_floats = IMAGE_CROP_FLOATS;
    p->largest_floats = p->input_floats;
    int c = IMAGE_CHANNELS, h = IMAGE_CROP_SIZE, w = IMAGE_CROP_SIZE;
    for (int i = 0; i < count; i++) {
        net_layer_info *l = &p->layers[i];
        l->name = specs[i].name;
        l->kind = specs[i].kind;
        l->in_c = c;
        l->in_h = h;
        l->in_w = w;
        l->weight_view = l->bias_view = -1;
        an_status st = layer_plan(p, &specs[i], l, i == 0, i == count - 1);
        if (st != AN_OK) return error_context(st, "planning layer %s", l->name);
        c = l->out_c;
        h = l->out_h;
        w = l->out_w;
        size_t out = net_plan_out_floats(p, i);
        if (out > p->largest_floats) p->largest_floats = out;
        if (specs[i].features) p->features_layer = i;
    }
    p->layer_count = count;
    if (count < 2 || p->layers[count - 1].kind != NET_LAYER_SOFTMAX || p->layers[count - 2].kind != NET_LAYER_FC)
        return error_set(AN_ERR_INTERNAL, "the layer table must end with a fully connected layer and the softmax");
    if (p->features_layer < 0) return error_set(AN_ERR_INTERNAL, "no layer of the table is marked as features");
    return AN_OK;
}
