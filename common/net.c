/* net.c: the network's layer table (§3.5, Figure 2) with the width
 * multiplier, shape checks, the parameter block with its named views, the
 * activation buffers, accessors and the printed summary. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"

void net_config_default(net_config *cfg)
{
    cfg->width = 1.0;
    cfg->num_classes = 1000;
    cfg->lrn_convention = LRN_ALPHA_DIVIDED_BY_N;
    cfg->init = NET_INIT_PAPER;
    cfg->dropout_rate = 0.5f; /* §4.2 */
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

static void view_set(net *n, int id, const char *name, int ndim, int d0, int d1, int d2, int d3)
{
    net_param_view *v = &n->views[id];
    v->name = name;
    v->ndim = ndim;
    v->shape[0] = d0; v->shape[1] = d1; v->shape[2] = d2; v->shape[3] = d3;
    v->count = 1;
    for (int i = 0; i < ndim; i++) v->count *= (size_t)v->shape[i];
    v->offset = n->param_count;
    n->param_count += v->count;
}

static void conv_views(net *n, int wid, const char *wname, const char *bname, const conv_shape *s)
{
    view_set(n, wid, wname, 4, s->out_channels, s->in_channels / s->groups, s->kernel, s->kernel);
    view_set(n, wid + 1, bname, 1, s->out_channels, 0, 0, 0);
}

static void fc_views(net *n, int wid, const char *wname, const char *bname, int in, int out)
{
    view_set(n, wid, wname, 2, out, in, 0, 0);
    view_set(n, wid + 1, bname, 1, out, 0, 0, 0);
}

static void layer_add(net *n, const char *name, net_layer_kind kind, int c, int h, int w,
                      size_t params, size_t macs)
{
    net_layer_info *l = &n->layers[n->layer_count++];
    l->name = name;
    l->kind = kind;
    l->out_c = c; l->out_h = h; l->out_w = w;
    l->params = params;
    l->macs = macs;
}

static conv_shape conv_make(int batch, int cin, int hw, int cout, int k, int stride, int pad,
                            int groups)
{
    conv_shape s = {.batch = batch, .in_channels = cin, .in_h = hw, .in_w = hw,
                    .out_channels = cout, .kernel = k, .stride = stride, .pad = pad,
                    .groups = groups};
    return s;
}

static pool_shape pool_make(int batch, int channels, int hw)
{
    pool_shape p = {.batch = batch, .channels = channels, .in_h = hw, .in_w = hw,
                    .size = 3, .stride = 2, .ceil_mode = 0}; /* §3.4: z = 3, s = 2 */
    return p;
}

static void conv_layer_rows(net *n, const char *conv, const char *relu, const conv_shape *s,
                            int view)
{
    int ho = conv_out_size(s->in_h, s->kernel, s->stride, s->pad);
    size_t params = n->views[view].count + n->views[view + 1].count;
    size_t macs = n->views[view].count * (size_t)ho * (size_t)ho;
    layer_add(n, conv, NET_LAYER_CONV, s->out_channels, ho, ho, params, macs);
    layer_add(n, relu, NET_LAYER_RELU, s->out_channels, ho, ho, 0, 0);
}

static void fc_layer_rows(net *n, const char *fc, int view)
{
    int out = n->views[view].shape[0];
    layer_add(n, fc, NET_LAYER_FC, out, 1, 1, n->views[view].count + n->views[view + 1].count,
              n->views[view].count);
}

/* Builds shapes, views and the summary rows; checks that the sizes chain. */
static an_status net_build_table(net *n)
{
    const net_config *c = &n->cfg;
    const int B = n->max_batch;
    n->c1 = scaled_conv(96, c->width);
    n->c2 = scaled_conv(256, c->width);
    n->c3 = scaled_conv(384, c->width);
    n->c4 = scaled_conv(384, c->width);
    n->c5 = scaled_conv(256, c->width);
    n->f6 = scaled_fc(4096, c->width);
    n->f7 = scaled_fc(4096, c->width);
    n->classes = c->num_classes;
    n->lrn = lrn_params_paper(c->lrn_convention);

    /* §3.5 / Figure 2; conv2, conv4, conv5 in two groups (§3.2) */
    n->conv[0] = conv_make(B, NET_INPUT_CHANNELS, NET_INPUT_SIZE, n->c1, 11, 4, 2, 1);
    int h1 = conv_out_size(NET_INPUT_SIZE, 11, 4, 2);
    n->pool[0] = pool_make(B, n->c1, h1);
    int q1 = pool_out_size(h1, 3, 2, 0);
    n->conv[1] = conv_make(B, n->c1, q1, n->c2, 5, 1, 2, 2);
    int h2 = conv_out_size(q1, 5, 1, 2);
    n->pool[1] = pool_make(B, n->c2, h2);
    int q2 = pool_out_size(h2, 3, 2, 0);
    n->conv[2] = conv_make(B, n->c2, q2, n->c3, 3, 1, 1, 1);
    n->conv[3] = conv_make(B, n->c3, q2, n->c4, 3, 1, 1, 2);
    n->conv[4] = conv_make(B, n->c4, q2, n->c5, 3, 1, 1, 2);
    n->pool[2] = pool_make(B, n->c5, q2);
    int q5 = pool_out_size(q2, 3, 2, 0);
    n->fc6_in = n->c5 * q5 * q5;
    for (int i = 0; i < 5; i++) {
        an_status st = conv_shape_check(&n->conv[i]);
        if (st != AN_OK) return error_context(st, "conv%d", i + 1);
    }
    if (h1 != 55 || q1 != 27 || h2 != 27 || q2 != 13 || q5 != 6)
        return error_set(AN_ERR_INTERNAL, "network sizes %d %d %d %d %d, expected 55 27 27 13 6",
                         h1, q1, h2, q2, q5);

    n->param_count = 0;
    conv_views(n, NV_CONV1_W, "conv1.weight", "conv1.bias", &n->conv[0]);
    conv_views(n, NV_CONV2_W, "conv2.weight", "conv2.bias", &n->conv[1]);
    conv_views(n, NV_CONV3_W, "conv3.weight", "conv3.bias", &n->conv[2]);
    conv_views(n, NV_CONV4_W, "conv4.weight", "conv4.bias", &n->conv[3]);
    conv_views(n, NV_CONV5_W, "conv5.weight", "conv5.bias", &n->conv[4]);
    fc_views(n, NV_FC6_W, "fc6.weight", "fc6.bias", n->fc6_in, n->f6);
    fc_views(n, NV_FC7_W, "fc7.weight", "fc7.bias", n->f6, n->f7);
    fc_views(n, NV_FC8_W, "fc8.weight", "fc8.bias", n->f7, n->classes);

    n->layer_count = 0;
    conv_layer_rows(n, "conv1", "relu1", &n->conv[0], NV_CONV1_W);
    layer_add(n, "norm1", NET_LAYER_LRN, n->c1, h1, h1, 0, 0);
    layer_add(n, "pool1", NET_LAYER_MAXPOOL, n->c1, q1, q1, 0, 0);
    conv_layer_rows(n, "conv2", "relu2", &n->conv[1], NV_CONV2_W);
    layer_add(n, "norm2", NET_LAYER_LRN, n->c2, h2, h2, 0, 0);
    layer_add(n, "pool2", NET_LAYER_MAXPOOL, n->c2, q2, q2, 0, 0);
    conv_layer_rows(n, "conv3", "relu3", &n->conv[2], NV_CONV3_W);
    conv_layer_rows(n, "conv4", "relu4", &n->conv[3], NV_CONV4_W);
    conv_layer_rows(n, "conv5", "relu5", &n->conv[4], NV_CONV5_W);
    layer_add(n, "pool5", NET_LAYER_MAXPOOL, n->c5, q5, q5, 0, 0);
    fc_layer_rows(n, "fc6", NV_FC6_W);
    layer_add(n, "relu6", NET_LAYER_RELU, n->f6, 1, 1, 0, 0);
    layer_add(n, "drop6", NET_LAYER_DROPOUT, n->f6, 1, 1, 0, 0);
    fc_layer_rows(n, "fc7", NV_FC7_W);
    layer_add(n, "relu7", NET_LAYER_RELU, n->f7, 1, 1, 0, 0);
    layer_add(n, "drop7", NET_LAYER_DROPOUT, n->f7, 1, 1, 0, 0);
    fc_layer_rows(n, "fc8", NV_FC8_W);
    layer_add(n, "prob", NET_LAYER_SOFTMAX, n->classes, 1, 1, 0, 0);
    return AN_OK;
}

static an_status alloc_floats(float **out, size_t count)
{
    size_t bytes = (count ? count : 1) * sizeof(float);
    bytes = (bytes + 63) / 64 * 64;
    *out = aligned_alloc(64, bytes);
    AN_CHECK_ALLOC(*out, bytes);
    return AN_OK;
}

static an_status alloc_bytes(void **out, size_t bytes)
{
    *out = malloc(bytes ? bytes : 1);
    AN_CHECK_ALLOC(*out, bytes);
    return AN_OK;
}

static an_status net_alloc(net *n)
{
    const size_t B = (size_t)n->max_batch;
    const size_t s1 = (size_t)n->c1 * 55 * 55, s1p = (size_t)n->c1 * 27 * 27;
    const size_t s2 = (size_t)n->c2 * 27 * 27, s2p = (size_t)n->c2 * 13 * 13;
    const size_t s3 = (size_t)n->c3 * 169, s4 = (size_t)n->c4 * 169, s5 = (size_t)n->c5 * 169;
    AN_TRY(alloc_floats(&n->params, n->param_count));
    AN_TRY(alloc_floats(&n->grads, n->param_count));
    AN_TRY(alloc_floats(&n->momentum, n->param_count));
    memset(n->params, 0, n->param_count * sizeof(float));
    memset(n->grads, 0, n->param_count * sizeof(float));
    memset(n->momentum, 0, n->param_count * sizeof(float));
    AN_TRY(alloc_floats(&n->a1, B * s1));
    AN_TRY(alloc_floats(&n->n1, B * s1));
    AN_TRY(alloc_floats(&n->s1, B * s1));
    AN_TRY(alloc_floats(&n->p1, B * s1p));
    AN_TRY(alloc_bytes((void **)&n->m1, B * s1p * sizeof(int32_t)));
    AN_TRY(alloc_floats(&n->a2, B * s2));
    AN_TRY(alloc_floats(&n->n2, B * s2));
    AN_TRY(alloc_floats(&n->s2, B * s2));
    AN_TRY(alloc_floats(&n->p2, B * s2p));
    AN_TRY(alloc_bytes((void **)&n->m2, B * s2p * sizeof(int32_t)));
    AN_TRY(alloc_floats(&n->a3, B * s3));
    AN_TRY(alloc_floats(&n->a4, B * s4));
    AN_TRY(alloc_floats(&n->a5, B * s5));
    AN_TRY(alloc_floats(&n->p5, B * (size_t)n->fc6_in));
    AN_TRY(alloc_bytes((void **)&n->m5, B * (size_t)n->fc6_in * sizeof(int32_t)));
    AN_TRY(alloc_floats(&n->h6, B * (size_t)n->f6));
    AN_TRY(alloc_floats(&n->d6, B * (size_t)n->f6));
    AN_TRY(alloc_bytes((void **)&n->k6, B * (size_t)n->f6));
    AN_TRY(alloc_floats(&n->h7, B * (size_t)n->f7));
    AN_TRY(alloc_floats(&n->d7, B * (size_t)n->f7));
    AN_TRY(alloc_bytes((void **)&n->k7, B * (size_t)n->f7));
    AN_TRY(alloc_floats(&n->logits, B * (size_t)n->classes));
    AN_TRY(alloc_floats(&n->probs, B * (size_t)n->classes));
    size_t g = s1;
    size_t others[] = {s2, s3, s4, s5, (size_t)n->fc6_in, (size_t)n->f6, (size_t)n->f7,
                       (size_t)n->classes, (size_t)NET_INPUT_CHANNELS * 224 * 224};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) g = others[i] > g ? others[i] : g;
    n->grad_floats = B * g;
    AN_TRY(alloc_floats(&n->grad_a, n->grad_floats));
    AN_TRY(alloc_floats(&n->grad_b, n->grad_floats));
    return AN_OK;
}

an_status net_create(net **out, const net_config *cfg, int max_batch)
{
    *out = NULL;
    if (!(cfg->width > 0.0) || cfg->width > 64.0)
        return error_set(AN_ERR_ARG, "width multiplier %g is outside (0, 64]", cfg->width);
    if (cfg->num_classes < 2)
        return error_set(AN_ERR_ARG, "the network needs at least 2 classes, got %d", cfg->num_classes);
    if (!(cfg->dropout_rate >= 0.0f && cfg->dropout_rate < 1.0f))
        return error_set(AN_ERR_ARG, "dropout rate %g is outside [0, 1)", cfg->dropout_rate);
    if (max_batch < 1) return error_set(AN_ERR_ARG, "max batch must be >= 1, got %d", max_batch);
    net *n = calloc(1, sizeof *n);
    AN_CHECK_ALLOC(n, sizeof *n);
    n->cfg = *cfg;
    n->max_batch = max_batch;
    an_status st;
    AN_TRY_GOTO(st, net_build_table(n), fail);
    AN_TRY_GOTO(st, net_alloc(n), fail);
    *out = n;
    return AN_OK;
fail:
    net_destroy(n);
    return error_context(st, "creating the network (width %g, %d classes, batch %d)", cfg->width,
                         cfg->num_classes, max_batch);
}

void net_destroy(net *n)
{
    if (!n) return;
    void *bufs[] = {n->params, n->grads, n->momentum, n->a1, n->n1, n->s1, n->p1, n->m1,
                    n->a2, n->n2, n->s2, n->p2, n->m2, n->a3, n->a4, n->a5, n->p5, n->m5,
                    n->h6, n->d6, n->k6, n->h7, n->d7, n->k7, n->logits, n->probs,
                    n->grad_a, n->grad_b, n->workspace};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(n);
}

const net_config *net_get_config(const net *n) { return &n->cfg; }
int net_max_batch(const net *n) { return n->max_batch; }
size_t net_param_count(const net *n) { return n->param_count; }
float *net_params(net *n) { return n->params; }
float *net_grads(net *n) { return n->grads; }
float *net_momentum(net *n) { return n->momentum; }
const float *net_params_const(const net *n) { return n->params; }
const float *net_momentum_const(const net *n) { return n->momentum; }
int net_param_view_count(const net *n) { return NV_COUNT; }
int net_layer_count(const net *n) { return n->layer_count; }
const float *net_logits(const net *n) { return n->logits; }
const float *net_probs(const net *n) { return n->probs; }
const float *net_fc7(const net *n) { return n->h7; }
int net_fc7_features(const net *n) { return n->f7; }

const net_param_view *net_param_view_at(const net *n, int i)
{
    return i >= 0 && i < NV_COUNT ? &n->views[i] : NULL;
}

const net_param_view *net_param_find(const net *n, const char *name)
{
    for (int i = 0; i < NV_COUNT; i++)
        if (strcmp(n->views[i].name, name) == 0) return &n->views[i];
    return NULL;
}

const conv_shape *net_conv_shape(const net *n, int index)
{
    return index >= 0 && index < 5 ? &n->conv[index] : NULL;
}

const pool_shape *net_pool_shape(const net *n, int index)
{
    return index >= 0 && index < 3 ? &n->pool[index] : NULL;
}

const lrn_params *net_lrn_params(const net *n) { return &n->lrn; }

const net_layer_info *net_layer_at(const net *n, int i)
{
    return i >= 0 && i < n->layer_count ? &n->layers[i] : NULL;
}

size_t net_macs_per_image(const net *n)
{
    size_t total = 0;
    for (int i = 0; i < n->layer_count; i++) total += n->layers[i].macs;
    return total;
}

an_status net_summary_print(const net *n, FILE *out)
{
    int ok = fprintf(out, "%-6s %-16s %12s %14s\n", "layer", "output", "params", "mult-adds") > 0;
    for (int i = 0; i < n->layer_count && ok; i++) {
        const net_layer_info *l = &n->layers[i];
        char shape[32];
        if (l->out_h == 1 && l->out_w == 1 && l->kind != NET_LAYER_CONV)
            snprintf(shape, sizeof shape, "%d", l->out_c);
        else
            snprintf(shape, sizeof shape, "%dx%dx%d", l->out_c, l->out_h, l->out_w);
        ok = fprintf(out, "%-6s %-16s %12zu %14zu\n", l->name, shape, l->params, l->macs) > 0;
    }
    if (ok)
        ok = fprintf(out, "%-6s %-16s %12zu %14zu\n", "total", "", n->param_count,
                     net_macs_per_image(n)) > 0;
    if (!ok) return error_set(AN_ERR_IO, "cannot write the network summary");
    return AN_OK;
}
