/* net_init.c: parameter initialisation drawn from Philox — the paper's (§5)
 * with a rule for widths other than 1.0, Caffe's variant, and a fan-in
 * (He et al. 2015) scheme — and the names of the configuration's enums. */
#include <math.h>
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

/* The fan-in (inputs per output) of each weight view at width 1.0 (net.h's
 * table): conv1 3*11*11, conv2 (96/2)*5*5, conv3 256*3*3, conv4 and conv5
 * (384/2)*3*3, fc6 256*6*6, fc7 and fc8 4096. Indexed by net_view_id / 2. */
static const double paper_fan_in[NV_COUNT / 2] = {363, 1200, 2304, 1728, 1728, 9216, 4096, 4096};
_Static_assert(NV_COUNT == 16 && NV_FC8_W == 14, "views alternate weight, bias from conv1 to fc8");

static size_t view_fan_in(const net_param_view *view)
{
    return view->count / (size_t)view->shape[0];
}

/* The standard deviation of a weight view and the constant of a bias view.
 * A weight is (float)(std * z), z ~ N(0, 1) a float: the product of two floats
 * is exact in double, so std = (double)0.01f gives bitwise the float product
 * 0.01f * z. */
static void init_values(net_init_scheme scheme, int v, const net_param_view *view, double *std, float *bias)
{
    if (scheme == NET_INIT_FAN_IN) {
        /* He et al. (2015) keeps the signal's scale through the ReLUs of
         * conv2..fc7; conv1 keeps §5's 0.01 (its inputs are in byte units: a
         * fan-in-scaled conv1 would get updates thousands of times larger,
         * relative to its weights, than the other layers), fc8 too (small first
         * logits). Every bias 0. */
        int is_end = v == NV_CONV1_W || v == NV_FC8_W;
        *std = view->ndim == 1 || is_end ? 0.01 : sqrt(2.0 / (double)view_fan_in(view));
        *bias = 0.0f;
        return;
    }
    /* §5: "biases ... in the second, fourth, and fifth convolutional layers,
     * as well as in the fully-connected hidden layers, with the constant 1" */
    int one_bias = v == NV_CONV2_B || v == NV_CONV4_B || v == NV_CONV5_B || v == NV_FC6_B || v == NV_FC7_B;
    *std = 0.01f; /* §5: zero-mean Gaussian, standard deviation 0.01 (as a float, see above) */
    *bias = one_bias ? 1.0f : 0.0f;
    if (scheme == NET_INIT_CAFFE) {
        if (v == NV_FC6_W || v == NV_FC7_W) *std = 0.005f;
        *bias = one_bias ? 0.1f : 0.0f;
    }
    /* The width rule: a layer multiplies its input's scale by about
     * std * sqrt(fan-in). §5's constants were chosen for the paper's fan-ins;
     * at width w the fan-ins of conv2..fc8 shrink by w (conv1's, 3*11*11, does
     * not), so the same constants would shrink the signal by a further sqrt(w)
     * per layer — at w = 1/16 the logits no longer depend on the input.
     * Scaling the std by sqrt(paper fan-in / fan-in) (1/sqrt(w) where the
     * channel counts divide exactly; exactly 1 at width 1.0) keeps every
     * layer's gain at the paper network's. */
    if (view->ndim > 1) {
        double ratio = paper_fan_in[v / 2] / (double)view_fan_in(view);
        if (ratio != 1.0) *std *= sqrt(ratio);
    }
}

an_status net_init_params(net *n, uint64_t seed)
{
    /* The fan-in scheme draws from its own Philox stream (epoch word 1), so its
     * weights are not a rescaling of the §5 draw. */
    uint32_t stream = n->cfg.init == NET_INIT_FAN_IN ? 1u : 0u;
    for (int v = 0; v < NV_COUNT; v++) {
        const net_param_view *view = &n->views[v];
        float *p = n->params + view->offset; /* [view->count] */
        double std;
        float bias;
        init_values(n->cfg.init, v, view, &std, &bias);
        if (view->ndim == 1) {
            for (size_t i = 0; i < view->count; i++) p[i] = bias;
            continue;
        }
        /* element i is normal number i % 2 of block i / 2 of (INIT, stream, view index) */
#pragma omp parallel for schedule(static)
        for (size_t blk = 0; blk < (view->count + 1) / 2; blk++) {
            float z0, z1;
            philox_normal2(philox_draw(seed, PHILOX_PURPOSE_INIT, stream, (uint32_t)v, (uint32_t)blk),
                           &z0, &z1);
            p[2 * blk] = (float)(std * z0);
            if (2 * blk + 1 < view->count) p[2 * blk + 1] = (float)(std * z1);
        }
    }
    memset(n->momentum, 0, n->param_count * sizeof(float));
    memset(n->grads, 0, n->param_count * sizeof(float));
    return AN_OK;
}
