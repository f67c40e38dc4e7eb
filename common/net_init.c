/* net_init.c: parameter initialisation (§5, or Caffe's variant) drawn from
 * Philox, and the names of the configuration's enums. */
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
    return s == NET_INIT_CAFFE ? "caffe" : "paper";
}

an_status net_init_scheme_parse(const char *name, net_init_scheme *out)
{
    if (strcmp(name, "paper") == 0) *out = NET_INIT_PAPER;
    else if (strcmp(name, "caffe") == 0) *out = NET_INIT_CAFFE;
    else return error_set(AN_ERR_ARG, "unknown init scheme '%s' (paper or caffe)", name);
    return AN_OK;
}

/* The standard deviation of a weight view and the constant of a bias view. */
static void init_values(net_init_scheme scheme, int view, float *std, float *bias)
{
    /* §5: "biases ... in the second, fourth, and fifth convolutional layers,
     * as well as in the fully-connected hidden layers, with the constant 1" */
    int one_bias = view == NV_CONV2_B || view == NV_CONV4_B || view == NV_CONV5_B ||
                   view == NV_FC6_B || view == NV_FC7_B;
    *std = 0.01f; /* §5: zero-mean Gaussian, standard deviation 0.01 */
    *bias = one_bias ? 1.0f : 0.0f;
    if (scheme == NET_INIT_CAFFE) {
        if (view == NV_FC6_W || view == NV_FC7_W) *std = 0.005f;
        *bias = one_bias ? 0.1f : 0.0f;
    }
}

an_status net_init_params(net *n, uint64_t seed)
{
    for (int v = 0; v < NV_COUNT; v++) {
        const net_param_view *view = &n->views[v];
        float *p = n->params + view->offset; /* [view->count] */
        float std, bias;
        init_values(n->cfg.init, v, &std, &bias);
        if (view->ndim == 1) {
            for (size_t i = 0; i < view->count; i++) p[i] = bias;
            continue;
        }
        /* element i is normal number i % 2 of block i / 2 of (INIT, 0, view index) */
#pragma omp parallel for schedule(static)
        for (size_t blk = 0; blk < (view->count + 1) / 2; blk++) {
            float z0, z1;
            philox_normal2(philox_draw(seed, PHILOX_PURPOSE_INIT, 0, (uint32_t)v, (uint32_t)blk),
                           &z0, &z1);
            p[2 * blk] = std * z0;
            if (2 * blk + 1 < view->count) p[2 * blk + 1] = std * z1;
        }
    }
    memset(n->momentum, 0, n->param_count * sizeof(float));
    memset(n->grads, 0, n->param_count * sizeof(float));
    return AN_OK;
}
