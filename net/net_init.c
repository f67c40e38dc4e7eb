/* net_init.c: parameter initialisation drawn from Philox — the paper's (§5)
 * with a rule for widths other than 1.0, Caffe's variant, and a fan-in
 * (He et al. 2015) scheme — and the names of the configuration's enums. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"
#include "philox.h"

const char *lrn_convention_name(lrn_alpha_convention c)
{
    return c == LRN_ALPHA_LITERAL ? "literal" : "divided_by_n";
}

an_status lrn_convention_parse(const char *name, lrn_alpha_convention *out)
{
    if (strcmp(name, "divided_by_n") == 0) *out = LRN_ALPHA_DIVIDED_BY_N;
    else if (strcmp(name, "literal") == 0) *out = LRN_ALPHA_LITERAL;
    else return error_set(AN_ERR_ARG, "unknown LRN alpha convention '%s' (divided_by_n or literal)", name);
    return AN_OK;
}

const char *net_lrn_name(const net_config *cfg)
{
    return cfg->lrn ? lrn_convention_name(cfg->lrn_convention) : "off";
}

an_status net_lrn_parse(const char *name, net_config *cfg)
{
    if (strcmp(name, "off") == 0) {
        cfg->lrn = 0;
        return AN_OK;
    }
    if (lrn_convention_parse(name, &cfg->lrn_convention) != AN_OK)
        return error_set(AN_ERR_ARG, "unknown LRN setting '%s' (divided_by_n, literal or off)", name);
    cfg->lrn = 1;
    return AN_OK;
}

const char *net_pooling_name(net_pooling p)
{
    return p == NET_POOL_PLAIN ? "plain" : "overlap";
}

an_status net_pooling_parse(const char *name, net_pooling *out)
{
    if (strcmp(name, "overlap") == 0) *out = NET_POOL_OVERLAP;
    else if (strcmp(name, "plain") == 0) *out = NET_POOL_PLAIN;
    else return error_set(AN_ERR_ARG, "unknown pooling '%s' (overlap or plain)", name);
    return AN_OK;
}

const char *net_activation_name(net_activation a)
{
    return a == NET_ACTIVATION_TANH ? "tanh" : "relu";
}

an_status net_activation_parse(const char *name, net_activation *out)
{
    if (strcmp(name, "relu") == 0) *out = NET_ACTIVATION_RELU;
    else if (strcmp(name, "tanh") == 0) *out = NET_ACTIVATION_TANH;
    else return error_set(AN_ERR_ARG, "unknown activation '%s' (relu or tanh)", name);
    return AN_OK;
}

const char *net_init_scheme_name(net_init_scheme s)
{
    switch (s) {
    case NET_INIT_CAFFE: return "caffe";
    case NET_INIT_FAN_IN: return "fan_in";
    case NET_INIT_PAPER: break;
    }
    return "paper";
}

an_status net_init_scheme_parse(const char *name, net_init_scheme *out)
{
    if (strcmp(name, "paper") == 0) *out = NET_INIT_PAPER;
    else if (strcmp(name, "caffe") == 0) *out = NET_INIT_CAFFE;
    else if (strcmp(name, "fan_in") == 0) *out = NET_INIT_FAN_IN;
    else return error_set(AN_ERR_ARG, "unknown init scheme '%s' (paper, caffe or fan_in)", name);
    return AN_OK;
}

static size_t view_fan_in(const net_param_view *view)
{
    return view->count / (size_t)view->shape[0];
}

/* The standard deviation of layer l's weights and the constant of its
 * biases. A weight is (float)(std * z), z ~ N(0, 1) a float: the product of
 * two floats is exact in double, so std = (double)0.01f gives bitwise the
 * float product 0.01f * z.
 *   first_or_last: l is conv1 or the classifier (fc8)
 *   paper_fan_in:  the fan-in of l's weights in the paper's network (width 1.0) */
static void init_values(net_init_scheme scheme, const net_layer_spec *spec, const net_layer_info *l,
                        const net_param_view *weights, int first_or_last, double paper_fan_in, double *std,
                        float *bias)
{
    if (scheme == NET_INIT_FAN_IN) {
        /* He et al. (2015) keeps the signal's scale through the ReLUs of
         * conv2..fc7; conv1 keeps §5's 0.01 (its inputs are in byte units: a
         * fan-in-scaled conv1 would get updates thousands of times larger,
         * relative to its weights, than the other layers), fc8 too (small first
         * logits). Every bias 0. */
        *std = first_or_last ? 0.01 : sqrt(2.0 / (double)view_fan_in(weights));
        *bias = 0.0f;
        return;
    }
    /* §5: "biases ... in the second, fourth, and fifth convolutional layers,
     * as well as in the fully-connected hidden layers, with the constant 1" */
    *std = 0.01f; /* §5: zero-mean Gaussian, standard deviation 0.01 (as a float, see above) */
    *bias = spec->bias_one ? 1.0f : 0.0f;
    if (scheme == NET_INIT_CAFFE) {
        if (l->kind == NET_LAYER_FC && spec->bias_one) *std = 0.005f; /* fc6, fc7 */
        *bias = spec->bias_one ? 0.1f : 0.0f;
    }
    /* The width rule: a layer multiplies its input's scale by about
     * std * sqrt(fan-in). §5's constants were chosen for the paper's fan-ins;
     * at width w the fan-ins of conv2..fc8 shrink by w (conv1's, 3*11*11, does
     * not), so the same constants would shrink the signal by a further sqrt(w)
     * per layer — at w = 1/16 the logits no longer depend on the input.
     * Scaling the std by sqrt(paper fan-in / fan-in) (1/sqrt(w) where the
     * channel counts divide exactly; exactly 1 at width 1.0) keeps every
     * layer's gain at the paper network's. */
    double ratio = paper_fan_in / (double)view_fan_in(weights);
    if (ratio != 1.0) *std *= sqrt(ratio);
}

/* Fills view v of the block: a constant, or std * N(0, 1) from Philox. */
static void fill_view(float *block, const net_param_view *view, int v, uint64_t seed, uint32_t stream, double std,
                      float constant, int gaussian)
{
    float *p = block + view->offset; /* [view->count] */
    if (!gaussian) {
        for (size_t i = 0; i < view->count; i++) p[i] = constant;
        return;
    }
    /* element i is normal number i % 2 of block i / 2 of (INIT, stream, view index) */
#pragma omp parallel for schedule(static)
    for (size_t blk = 0; blk < (view->count + 1) / 2; blk++) {
        float z0, z1;
        philox_normal2(philox_draw(seed, PHILOX_PURPOSE_INIT, stream, (uint32_t)v, (uint32_t)blk), &z0, &z1);
        p[2 * blk] = (float)(std * z0);
        if (2 * blk + 1 < view->count) p[2 * blk + 1] = (float)(std * z1);
    }
}

/* The block `params` of plan p (a whole network's) drawn for seed. */
static an_status init_block(const net_plan *p, uint64_t seed, float *params)
{
    /* The paper's fan-ins: the same table planned at width 1.0. */
    net_plan *paper = malloc(sizeof *paper);
    AN_CHECK_ALLOC(paper, sizeof *paper);
    net_config paper_cfg = p->cfg;
    paper_cfg.width = 1.0;
    an_status st = net_plan_build(paper, &paper_cfg, 1);
    if (st != AN_OK) {
        free(paper);
        return st;
    }
    /* The fan-in scheme draws from its own Philox stream (epoch word 1), so its
     * weights are not a rescaling of the §5 draw. */
    uint32_t stream = p->cfg.init == NET_INIT_FAN_IN ? 1u : 0u;
    int first = -1, last = -1;
    for (int i = 0; i < p->layer_count; i++)
        if (p->layers[i].weight_view >= 0) {
            if (first < 0) first = i;
            last = i;
        }
    for (int i = 0; i < p->layer_count; i++) {
        const net_layer_info *l = &p->layers[i];
        if (l->weight_view < 0) continue;
        const net_param_view *w = &p->views[l->weight_view];
        double std;
        float bias;
        init_values(p->cfg.init, &p->specs[i], l, w, i == first || i == last,
                    (double)view_fan_in(&paper->views[paper->layers[i].weight_view]), &std, &bias);
        fill_view(params, w, l->weight_view, seed, stream, std, 0.0f, 1);
        fill_view(params, &p->views[l->bias_view], l->bias_view, seed, stream, 0.0, bias, 0);
    }
    free(paper);
    return AN_OK;
}

/* A member of a split network (net.h): the whole network's weights drawn on
 * the host, this member's views taken from them, so that every split
 * starts from the same network. */
static an_status init_member(net *n, uint64_t seed)
{
    net_plan *whole = malloc(sizeof *whole);
    AN_CHECK_ALLOC(whole, sizeof *whole);
    an_status st = net_plan_build(whole, &n->plan.cfg, 1);
    float *params = NULL; /* [whole->param_count] host */
    if (st == AN_OK && !(params = calloc(whole->param_count, sizeof *params)))
        st = error_set(AN_ERR_NOMEM, "out of memory for the whole network's %zu parameters", whole->param_count);
    if (st == AN_OK) st = init_block(whole, seed, params);
    if (st == AN_OK) st = net_from_whole(n, NET_BLOCK_PARAMS, params);
    free(params);
    free(whole);
    return st;
}

an_status net_init_params(net *n, uint64_t seed)
{
    const net_plan *p = &n->plan;
    float *params = NULL;
    an_status st;
    if (p->split_kind != NET_SPLIT_NONE) {
        st = init_member(n, seed);
    } else {
        st = net_block_to_host(n, NET_BLOCK_PARAMS, &params);
        if (st == AN_OK) st = init_block(p, seed, params);
        if (st == AN_OK) st = net_block_from_host(n, NET_BLOCK_PARAMS, params);
    }
    if (st != AN_OK) return error_context(st, "initialising the parameters");
    backend *be = n->be;
    AN_TRY(be->ops->zero(be, n->momentum, p->param_count * sizeof(float)));
    return be->ops->zero(be, n->grads, p->param_count * sizeof(float));
}
