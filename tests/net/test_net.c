/* test_net.c: the network table (parameter count, multiply-adds, shapes,
 * views), initialisation (§5 with its width rule, Caffe's, fan-in), and the whole network's gradient
 * against finite differences of its loss at a small width. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gradcheck.h"
#include "net.h"
#include "philox.h"
#include "net_cpu.h"

/* At width 0.0625 the views are small and odd-sized (conv1.bias has 6
 * floats): every view still starts on 64 floats in the 64-byte-aligned
 * block, and the padding between views is zero after initialization. */
static void test_views_aligned(void **state)
{
    (void)state;
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = 0.0625;
    net *n = NULL;
    assert_int_equal(net_create_cpu(&n, &cfg, 1), AN_OK);
    assert_int_equal(net_init_params(n, 7), AN_OK);
    const float *block = net_params_const(n); /* [net_param_count] host memory on the CPU */
    assert_int_equal((uintptr_t)block % 64, 0);
    size_t end = 0;
    for (int i = 0; i < net_param_view_count(n); i++) {
        const net_param_view *v = net_param_view_at(n, i);
        assert_int_equal(v->offset % NET_PARAM_ALIGN_FLOATS, 0);
        assert_int_equal((uintptr_t)(block + v->offset) % 256 % 64, 0);
        for (size_t k = end; k < v->offset; k++) assert_true(block[k] == 0.0f);
        end = v->offset + v->count;
    }
    assert_true(net_param_count(n) > net_parameters(n)); /* this width has padding */
    net_destroy(n);
}

static void test_full_width_table(void **state)
{
    (void)state;
    net_config cfg;
    net_config_default(&cfg);
    net *n = NULL;
    assert_int_equal(net_create_cpu(&n, &cfg, 1), AN_OK);
    /* §3.5 / docs/network.md, "Parameters": 60,965,224 parameters; 724,406,816 multiply-adds per image */
    assert_int_equal(net_parameters(n), 60965224);
    assert_int_equal(net_macs_per_image(n), 724406816);
    const net_param_view *v = net_param_find(n, "conv2.weight");
    assert_non_null(v);
    assert_int_equal(v->ndim, 4);
    assert_true(v->shape[0] == 256 && v->shape[1] == 48 && v->shape[2] == 5 && v->shape[3] == 5);
    v = net_param_find(n, "fc6.weight");
    assert_true(v->shape[0] == 4096 && v->shape[1] == 9216);
    assert_null(net_param_find(n, "conv6.weight"));
    /* the plan's shapes, which every backend computes with */
    const conv_shape *c2 = &net_layer_at(n, 4)->conv;
    assert_string_equal(net_layer_at(n, 4)->name, "conv2");
    assert_true(c2->groups == 2 && c2->kernel == 5 && c2->pad == 2 && c2->in_h == 27 && c2->batch == 1);
    assert_true(net_layer_at(n, 0)->conv.stride == 4 && net_layer_at(n, 8)->conv.groups == 1);
    assert_string_equal(net_layer_at(n, 14)->name, "pool5");
    assert_true(net_layer_at(n, 14)->pool.in_h == 13 && net_layer_at(n, 14)->pool.size == 3);
    assert_null(net_layer_at(n, net_layer_count(n)));
    /* views lie in the block in order, each at the first multiple of 64
     * floats after the previous one (net.h), the block ending with the last */
    size_t offset = 0, total = 0;
    for (int i = 0; i < net_param_view_count(n); i++) {
        offset = (offset + NET_PARAM_ALIGN_FLOATS - 1) / NET_PARAM_ALIGN_FLOATS * NET_PARAM_ALIGN_FLOATS;
        assert_int_equal(net_param_view_at(n, i)->offset, offset);
        assert_int_equal(net_param_view_at(n, i)->offset % 64, 0);
        offset += net_param_view_at(n, i)->count;
        total += net_param_view_at(n, i)->count;
    }
    assert_int_equal(offset, net_param_count(n));
    assert_int_equal(total, net_parameters(n));
    /* Figure 2's output shapes */
    const char *names[] = {"pool1", "pool2", "conv3", "pool5", "fc7", "prob"};
    int shapes[][3] = {{96, 27, 27}, {256, 13, 13}, {384, 13, 13}, {256, 6, 6}, {4096, 1, 1}, {1000, 1, 1}};
    for (int k = 0; k < 6; k++) {
        int found = 0;
        for (int i = 0; i < net_layer_count(n); i++) {
            const net_layer_info *l = net_layer_at(n, i);
            if (strcmp(l->name, names[k]) != 0) continue;
            found = 1;
            assert_true(l->out_c == shapes[k][0] && l->out_h == shapes[k][1] && l->out_w == shapes[k][2]);
        }
        assert_true(found);
    }
    char buf[4096] = {0};
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    assert_non_null(f);
    assert_int_equal(net_summary_print(n, f), AN_OK);
    fclose(f);
    assert_non_null(strstr(buf, "96x55x55"));
    assert_non_null(strstr(buf, "60965224"));
    assert_non_null(strstr(buf, "724406816"));

    /* one image forward at full width: probabilities that sum to 1 */
    assert_int_equal(net_init_params(n, 1), AN_OK);
    float *x = malloc(sizeof(float) * IMAGE_CROP_FLOATS);
    assert_non_null(x);
    gradcheck_fill(x, IMAGE_CROP_FLOATS, 7, 100.0f);
    assert_int_equal(net_forward(n, x, 1, NULL, 0, 0, 0), AN_OK);
    const float *probs; /* [1, 1000] */
    assert_int_equal(net_read_probs(n, &probs), AN_OK);
    double sum = 0.0;
    for (int k = 0; k < 1000; k++) {
        assert_true(isfinite(probs[k]));
        sum += probs[k];
    }
    assert_true(fabs(sum - 1.0) < 1e-4);
    assert_int_equal(net_fc7_features(n), 4096);
    assert_int_equal(net_forward(n, x, 2, NULL, 0, 0, 0), AN_ERR_ARG); /* over max batch */
    free(x);
    net_destroy(n);
}

static void test_bad_config(void **state)
{
    (void)state;
    net_config cfg;
    net_config_default(&cfg);
    net *n = NULL;
    cfg.width = 0;
    assert_int_equal(net_create_cpu(&n, &cfg, 1), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "width"));
    net_config_default(&cfg);
    cfg.num_classes = 1;
    assert_int_equal(net_create_cpu(&n, &cfg, 1), AN_ERR_ARG);
    net_config_default(&cfg);
    cfg.dropout_rate = 1.0f;
    assert_int_equal(net_create_cpu(&n, &cfg, 1), AN_ERR_ARG);
    assert_null(n);
    lrn_alpha_convention c;
    assert_int_equal(lrn_convention_parse("literal", &c), AN_OK);
    assert_int_equal(c, LRN_ALPHA_LITERAL);
    assert_int_equal(lrn_convention_parse("cudnn", &c), AN_ERR_ARG);
}

/* mean and standard deviation of a view */
static void view_stats(const net *n, const char *name, double *mean, double *sd)
{
    const net_param_view *v = net_param_find(n, name);
    assert_non_null(v);
    const float *p = net_params_const(n) + v->offset;
    double s = 0, s2 = 0;
    for (size_t i = 0; i < v->count; i++) { s += p[i]; s2 += (double)p[i] * p[i]; }
    *mean = s / v->count;
    *sd = sqrt(s2 / v->count - *mean * *mean);
}

/* The fan-in (inputs per output) of a weight view. */
static double fan_in_of(const net_param_view *v)
{
    return (double)(v->count / (size_t)v->shape[0]);
}

/* Element i of weight view `view_index` as the scheme's formula gives it:
 * std * z with z the Philox normal of (INIT, stream, view, i / 2). */
static float drawn_normal(uint64_t seed, uint32_t stream, int view_index, size_t i)
{
    float z0, z1;
    philox_normal2(philox_draw(seed, PHILOX_PURPOSE_INIT, stream, (uint32_t)view_index, (uint32_t)(i / 2)), &z0,
                   &z1);
    return i % 2 ? z1 : z0;
}

/* A few elements of every weight view: first, last, and every `stride`-th. */
static void assert_weights_sampled(const net *n, uint64_t seed, uint32_t stream, const double *stds,
                                   size_t stride)
{
    for (int v = 0; v < net_param_view_count(n); v++) {
        const net_param_view *pv = net_param_view_at(n, v);
        if (pv->ndim == 1) continue;
        const float *p = net_params_const(n) + pv->offset;
        for (size_t i = 0; i < pv->count; i += stride) {
            size_t at = i + stride < pv->count ? i : pv->count - 1; /* the last sample is the last element */
            float want = (float)(stds[v] * drawn_normal(seed, stream, v, at));
            if (p[at] != want) fail_msg("%s[%zu] = %.9g, the formula gives %.9g", pv->name, at, p[at], want);
        }
    }
}

/* A 10-class network of the given width and scheme, initialised with seed. */
static net *initialised_net(double width, net_init_scheme scheme, int max_batch, uint64_t seed)
{
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = width;
    cfg.num_classes = 10;
    cfg.init = scheme;
    net *n = NULL;
    assert_int_equal(net_create_cpu(&n, &cfg, max_batch), AN_OK);
    assert_int_equal(net_init_params(n, seed), AN_OK);
    return n;
}

/* Width 1.0: exactly §5, the unscaled formula 0.01f * z (float product), as
 * before the width rule existed. */
static void test_init_paper_width_one(void **state)
{
    (void)state;
    net *n = initialised_net(1.0, NET_INIT_PAPER, 1, 99);
    for (int v = 0; v < net_param_view_count(n); v++) {
        const net_param_view *pv = net_param_view_at(n, v);
        if (pv->ndim == 1) continue;
        const float *p = net_params_const(n) + pv->offset;
        for (size_t i = 0; i < pv->count; i += 1009) {
            float z = drawn_normal(99, 0, v, i);
            if (p[i] != 0.01f * z) fail_msg("%s[%zu] = %.9g, not 0.01f * z = %.9g", pv->name, i, p[i], 0.01f * z);
        }
        assert_true(p[pv->count - 1] == 0.01f * drawn_normal(99, 0, v, pv->count - 1));
    }
    double mean, sd;
    /* §5: N(0, 0.01); fc6 has 37.7M weights: sd within 0.1%, mean within 5 sd/sqrt(N) */
    view_stats(n, "fc6.weight", &mean, &sd);
    assert_true(fabs(sd - 0.01) < 1e-5 && fabs(mean) < 5 * 0.01 / sqrt(37.7e6));
    view_stats(n, "conv2.weight", &mean, &sd);
    assert_true(fabs(sd - 0.01) < 1e-4);
    net_destroy(n);
}

/* The paper's fan-ins (a width-1.0 network's views) against a reduced one's. */
static void scaled_stds(const net *reduced, double base, double *stds)
{
    net_config cfg = *net_get_config(reduced);
    cfg.width = 1.0;
    net *full = NULL;
    assert_int_equal(net_create_cpu(&full, &cfg, 1), AN_OK);
    for (int v = 0; v < net_param_view_count(reduced); v++) {
        const net_param_view *r = net_param_view_at(reduced, v), *f = net_param_view_at(full, v);
        stds[v] = r->ndim == 1 ? 0.0 : base * sqrt(fan_in_of(f) / fan_in_of(r));
    }
    net_destroy(full);
}

static void test_init(void **state)
{
    (void)state;
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = 0.25;
    cfg.num_classes = 10;
    net *n = NULL, *m = NULL;
    assert_int_equal(net_create_cpu(&n, &cfg, 1), AN_OK);
    assert_int_equal(net_create_cpu(&m, &cfg, 1), AN_OK);
    assert_int_equal(net_init_params(n, 99), AN_OK);
    assert_int_equal(net_init_params(m, 99), AN_OK);
    assert_memory_equal(net_params(n), net_params(m), net_param_count(n) * sizeof(float));
    double mean, sd;
    /* width rule: fc6's fan-in is 64*6*6 = 2304 here, 9216 in the paper: sd 0.01 * 2;
     * 2.4M weights: sd within 1%, mean within 5 sd/sqrt(N) */
    view_stats(n, "fc6.weight", &mean, &sd);
    assert_true(fabs(sd - 0.02) < 2e-4 && fabs(mean) < 5 * 0.02 / sqrt(2.3e6));
    /* conv1's fan-in (3*11*11) does not depend on the width: §5's 0.01 */
    view_stats(n, "conv1.weight", &mean, &sd);
    assert_true(fabs(sd - 0.01) < 5e-4);
    /* §5: biases 1 in conv2, conv4, conv5, fc6, fc7; 0 in conv1, conv3, fc8 */
    const char *one[] = {"conv2.bias", "conv4.bias", "conv5.bias", "fc6.bias", "fc7.bias"};
    const char *zero[] = {"conv1.bias", "conv3.bias", "fc8.bias"};
    for (int i = 0; i < 5; i++) { view_stats(n, one[i], &mean, &sd); assert_true(mean == 1.0 && sd == 0); }
    for (int i = 0; i < 3; i++) { view_stats(n, zero[i], &mean, &sd); assert_true(mean == 0.0 && sd == 0); }
    /* another seed, other weights */
    assert_int_equal(net_init_params(m, 100), AN_OK);
    assert_memory_not_equal(net_params(n), net_params(m), 1000 * sizeof(float));
    net_destroy(m);
    /* Caffe: fc6/fc7 N(0, 0.005) at width 1 (fc7: 0.005 * sqrt(4096 / 1024) here), biases 0.1 */
    cfg.init = NET_INIT_CAFFE;
    assert_int_equal(net_create_cpu(&m, &cfg, 1), AN_OK);
    assert_int_equal(net_init_params(m, 99), AN_OK);
    view_stats(m, "fc7.weight", &mean, &sd);
    assert_true(fabs(sd - 0.01) < 2e-4);
    view_stats(m, "conv4.bias", &mean, &sd);
    assert_true(fabs(mean - 0.1) < 1e-7);
    view_stats(m, "conv3.bias", &mean, &sd);
    assert_true(mean == 0.0);
    net_destroy(m);
    net_destroy(n);
}

/* Reduced widths: every weight's std is 0.01 * sqrt(paper fan-in / fan-in),
 * i.e. 1/sqrt(w) for conv2..fc8 where the channel counts divide exactly
 * (1/16), the rounded counts' own ratio otherwise (0.05). */
static void test_init_width_rule(void **state)
{
    (void)state;
    const double widths[] = {0.0625, 0.05};
    for (int k = 0; k < 2; k++) {
        net *n = initialised_net(widths[k], NET_INIT_PAPER, 1, 5);
        double stds[32];
        assert_true(net_param_view_count(n) <= 32);
        scaled_stds(n, 0.01f, stds);
        assert_weights_sampled(n, 5, 0, stds, 101);
        const net_param_view *c1 = net_param_find(n, "conv1.weight");
        assert_true(stds[c1 - net_param_view_at(n, 0)] == (double)0.01f); /* conv1 unscaled */
        if (k == 0) /* at 1/16 every other layer is scaled by exactly 4 */
            for (int v = 2; v < net_param_view_count(n); v += 2)
                assert_true(fabs(stds[v] / (double)0.01f - 4.0) < 1e-12);
        net_destroy(n);
    }
}

/* --init fan_in: conv2..fc7 N(0, sqrt(2 / fan-in)), conv1 and fc8 N(0, 0.01),
 * biases 0, from Philox stream 1; its name round-trips. */
static void test_init_fan_in(void **state)
{
    (void)state;
    net_init_scheme s;
    assert_int_equal(net_init_scheme_parse("fan_in", &s), AN_OK);
    assert_int_equal(s, NET_INIT_FAN_IN);
    assert_string_equal(net_init_scheme_name(s), "fan_in");
    assert_int_equal(net_init_scheme_parse("he", &s), AN_ERR_ARG);
    net *n = initialised_net(0.0625, NET_INIT_FAN_IN, 1, 3);
    double stds[32];
    for (int v = 0; v < net_param_view_count(n); v++) {
        const net_param_view *pv = net_param_view_at(n, v);
        int end = strcmp(pv->name, "conv1.weight") == 0 || strcmp(pv->name, "fc8.weight") == 0;
        stds[v] = end ? 0.01 : sqrt(2.0 / fan_in_of(pv));
        if (pv->ndim > 1) continue;
        double mean, sd;
        view_stats(n, pv->name, &mean, &sd);
        assert_true(mean == 0.0 && sd == 0.0);
    }
    assert_weights_sampled(n, 3, 1, stds, 37);
    net_destroy(n);
}

/* At 1/16 width the default scheme gives logits that depend on the input
 * (with §5's unscaled N(0, 0.01) they differed by 1.4e-6). */
static void test_init_input_dependent_logits(void **state)
{
    (void)state;
    net_config cfg;
    net_config_default(&cfg);
    net *n = initialised_net(0.0625, cfg.init, 2, 1); /* the default scheme */
    enum { PIXELS = IMAGE_CROP_FLOATS };
    float *x = malloc(sizeof(float) * 2 * PIXELS); /* [2, 3, 224, 224] */
    assert_non_null(x);
    gradcheck_fill(x, PIXELS, 7, 100.0f);
    gradcheck_fill(x + PIXELS, PIXELS, 8, 100.0f);
    assert_int_equal(net_forward(n, x, 2, NULL, 0, 0, 0), AN_OK);
    const float *logits; /* [2, 10] */
    assert_int_equal(net_read_logits(n, &logits), AN_OK);
    double max_diff = 0.0;
    for (int k = 0; k < 10; k++) max_diff = fmax(max_diff, fabs((double)logits[k] - logits[10 + k]));
    if (!(max_diff > 1e-3)) fail_msg("logits of two inputs differ by at most %g", max_diff);
    free(x);
    net_destroy(n);
}

/* ------------------------------------------------------------ whole-network gradient */

enum { GB = 3 };

typedef struct net_ctx {
    net *n;
    float *x;
    uint32_t ids[GB];
    int32_t labels[GB];
    float loss;
} net_ctx;

static void net_fwd(void *p)
{
    net_ctx *c = p;
    double loss;
    assert_int_equal(net_forward(c->n, c->x, GB, c->ids, 3, 11, 1), AN_OK);
    assert_int_equal(net_loss(c->n, c->labels, GB, &loss), AN_OK);
    c->loss = (float)loss;
}

/* Weights scaled by 1/sqrt(fan in), so every layer's activations are O(1)
 * and every gradient is large enough to check (with §5's 0.01 the gradients
 * of the first layers are below float resolution). */
static void fill_well_conditioned(net *n)
{
    for (int i = 0; i < net_param_view_count(n); i++) {
        const net_param_view *v = net_param_view_at(n, i);
        size_t fan_in = v->ndim == 1 ? 1 : v->count / (size_t)v->shape[0];
        float scale = v->ndim == 1 ? 0.1f : 1.7f / sqrtf((float)fan_in);
        gradcheck_fill(net_params(n) + v->offset, v->count, 200 + (uint32_t)i, scale);
    }
}

/* The gradient of cfg's network (width 1/16) against finite differences,
 * `entries` entries of every view. */
static void check_net_gradient(const net_config *variant, int entries)
{
    net_config cfg = *variant;
    cfg.width = 1.0 / 16; /* 6, 16, 24, 24, 16 channels; fc 256 */
    cfg.num_classes = 5;
    cfg.dropout_rate = 0.5f; /* the masks are keyed, so they repeat in every forward */
    net_ctx c = {.ids = {4, 9, 1}, .labels = {0, 3, 4}};
    assert_int_equal(net_create_cpu(&c.n, &cfg, GB), AN_OK);
    fill_well_conditioned(c.n);
    c.x = malloc(sizeof(float) * GB * IMAGE_CROP_FLOATS);
    assert_non_null(c.x);
    gradcheck_fill(c.x, (size_t)GB * IMAGE_CROP_FLOATS, 300, 1.0f);
    net_fwd(&c);
    assert_int_equal(net_backward(c.n, c.labels, GB, (float)GB), AN_OK);
    size_t count = net_param_count(c.n);
    float *analytic = malloc(sizeof(float) * count);
    assert_non_null(analytic);
    memcpy(analytic, net_grads(c.n), sizeof(float) * count);
    float one = 1.0f;
    /* `entries` entries of every view, spread through it. Each entry reaches
     * thousands of ReLU and pooling decisions; ±h must not move any across
     * its kink, so h is small: 1e-4 (with 2e-3, conv5.bias[4] crossed one
     * and gave a 25% error that vanishes as h shrinks). The price is
     * rounding: the loss (float, about 2) rounds at 2e-7, so the quotient
     * carries up to 2e-3 absolute error; measured worst 7.6e-4. Tolerance
     * 3e-3: the ops' own checks (test_ops_gradcheck) are the tight ones,
     * this one checks the wiring, where a mistake gives errors of order 1. */
    for (int i = 0; i < net_param_view_count(c.n); i++) {
        const net_param_view *v = net_param_view_at(c.n, i);
        for (int k = 0; k < entries; k++) {
            size_t idx = v->offset + (size_t)(((uint64_t)v->count * (2 * k + 1)) / (2 * (uint64_t)entries));
            char what[64];
            snprintf(what, sizeof what, "%s (entry %zu)", v->name, idx - v->offset);
            gradcheck_run(what, net_params(c.n) + idx, 1, analytic + idx, net_fwd, &c, &c.loss,
                          &one, 1, 1e-4f, 3e-3);
        }
    }
    /* two replicas with half the batch each and normalizer 3 sum to the whole batch's gradient */
    float *sum = calloc(count, sizeof(float));
    assert_non_null(sum);
    int split[2][2] = {{0, 2}, {2, 1}};
    for (int r = 0; r < 2; r++) {
        int first = split[r][0], nb = split[r][1];
        assert_int_equal(net_forward(c.n, c.x + (size_t)first * IMAGE_CROP_FLOATS, nb, c.ids + first, 3, 11, 1), AN_OK);
        assert_int_equal(net_backward(c.n, c.labels + first, nb, (float)GB), AN_OK);
        for (size_t i = 0; i < count; i++) sum[i] += net_grads(c.n)[i];
    }
    double worst = 0;
    for (size_t i = 0; i < count; i++)
        worst = fmax(worst, fabs(sum[i] - analytic[i]) / fmax(1e-3, fabs(analytic[i])));
    assert_true(worst < 1e-3); /* the same sums in another order: float rounding only */
    /* backward without a training forward is refused */
    assert_int_equal(net_forward(c.n, c.x, GB, NULL, 0, 0, 0), AN_OK);
    assert_int_equal(net_backward(c.n, c.labels, GB, (float)GB), AN_ERR_ARG);
    free(sum);
    free(analytic);
    free(c.x);
    net_destroy(c.n);
}

static void test_net_gradient(void **state)
{
    (void)state;
    net_config cfg;
    net_config_default(&cfg);
    check_net_gradient(&cfg, 6);
}

/* The experiments' network (docs/experiments.md): tanh, plain 2x2 pooling, no
 * LRN, one tower, through the same sequence, against finite differences. */
static void test_variant_gradient(void **state)
{
    (void)state;
    net_config cfg;
    net_config_default(&cfg);
    cfg.activation = NET_ACTIVATION_TANH;
    cfg.pooling = NET_POOL_PLAIN;
    cfg.lrn = 0;
    cfg.towers = 1;
    check_net_gradient(&cfg, 3); /* the ops are checked alone (test_ops_gradcheck); this checks the wiring */
}

static int layer_index(const net *n, const char *name)
{
    for (int i = 0; i < net_layer_count(n); i++)
        if (strcmp(net_layer_at(n, i)->name, name) == 0) return i;
    return -1;
}

/* Each flag of the experiments changes the table exactly as docs/experiments.md says. */
static void test_variant_tables(void **state)
{
    (void)state;
    net_config paper, cfg;
    net_config_default(&paper);
    net *p = NULL, *n = NULL;
    assert_int_equal(net_create_cpu(&p, &paper, 1), AN_OK);
    const int paper_layers = net_layer_count(p);

    /* --lrn off (§3.3): norm1 and norm2 gone, nothing else */
    cfg = paper;
    cfg.lrn = 0;
    assert_int_equal(net_create_cpu(&n, &cfg, 1), AN_OK);
    assert_int_equal(net_layer_count(n), paper_layers - 2);
    assert_int_equal(layer_index(n, "norm1"), -1);
    assert_int_equal(layer_index(n, "norm2"), -1);
    assert_int_equal(net_layer_at(n, layer_index(n, "pool1"))->in_c, 96);
    assert_int_equal(net_parameters(n), 60965224);
    assert_int_equal(net_macs_per_image(n), 724406816);
    net_destroy(n);

    /* --pool plain (§3.4): 2x2 stride 2, the same output sizes 27, 13, 6 */
    cfg = paper;
    cfg.pooling = NET_POOL_PLAIN;
    assert_int_equal(net_create_cpu(&n, &cfg, 1), AN_OK);
    assert_int_equal(net_layer_count(n), paper_layers);
    const char *pools[] = {"pool1", "pool2", "pool5"};
    for (int k = 0; k < 3; k++) {
        const net_layer_info *a = net_layer_at(n, layer_index(n, pools[k]));
        const net_layer_info *b = net_layer_at(p, layer_index(p, pools[k]));
        assert_true(a->pool.size == 2 && a->pool.stride == 2 && b->pool.size == 3 && b->pool.stride == 2);
        assert_true(a->out_c == b->out_c && a->out_h == b->out_h && a->out_w == b->out_w);
    }
    assert_int_equal(net_parameters(n), 60965224);
    net_destroy(n);

    /* --towers 1 (§3.2): conv2, conv4, conv5 see every channel; one-tower counts */
    cfg = paper;
    cfg.towers = 1;
    assert_int_equal(net_create_cpu(&n, &cfg, 1), AN_OK);
    const char *grouped[] = {"conv2", "conv4", "conv5"};
    for (int k = 0; k < 3; k++) assert_int_equal(net_layer_at(n, layer_index(n, grouped[k]))->conv.groups, 1);
    const net_param_view *v = net_param_find(n, "conv2.weight");
    assert_true(v->shape[0] == 256 && v->shape[1] == 96);
    /* + 256*48*25 (conv2) + 384*192*9 (conv4) + 256*192*9 (conv5) */
    assert_int_equal(net_parameters(n), 60965224 + 307200 + 663552 + 442368);
    net_destroy(n);
    cfg.towers = 3;
    assert_int_equal(net_create_cpu(&n, &cfg, 1), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "towers"));

    /* --activation tanh (§3.1): every relu row a tanh row, nothing else */
    cfg = paper;
    cfg.activation = NET_ACTIVATION_TANH;
    assert_int_equal(net_create_cpu(&n, &cfg, 1), AN_OK);
    assert_int_equal(net_layer_count(n), paper_layers);
    int tanhs = 0;
    for (int i = 0; i < net_layer_count(n); i++) {
        const net_layer_info *l = net_layer_at(n, i);
        assert_int_not_equal(l->kind, NET_LAYER_RELU);
        if (l->kind != NET_LAYER_TANH) {
            assert_string_equal(l->name, net_layer_at(p, i)->name);
            continue;
        }
        tanhs++;
        assert_int_equal(net_layer_at(p, i)->kind, NET_LAYER_RELU);
        assert_int_equal(strncmp(l->name, "tanh", 4), 0);
        assert_string_equal(l->name + 4, net_layer_at(p, i)->name + 4);
    }
    assert_int_equal(tanhs, 7);
    assert_int_equal(net_parameters(n), 60965224);
    net_destroy(n);
    net_destroy(p);

    /* the names and their parsers */
    assert_int_equal(net_lrn_parse("off", &cfg), AN_OK);
    assert_int_equal(cfg.lrn, 0);
    assert_string_equal(net_lrn_name(&cfg), "off");
    assert_int_equal(net_lrn_parse("literal", &cfg), AN_OK);
    assert_true(cfg.lrn == 1 && cfg.lrn_convention == LRN_ALPHA_LITERAL);
    assert_int_equal(net_lrn_parse("none", &cfg), AN_ERR_ARG);
    net_pooling pool;
    assert_int_equal(net_pooling_parse("plain", &pool), AN_OK);
    assert_string_equal(net_pooling_name(pool), "plain");
    assert_int_equal(net_pooling_parse("average", &pool), AN_ERR_ARG);
    net_activation act;
    assert_int_equal(net_activation_parse("tanh", &act), AN_OK);
    assert_string_equal(net_activation_name(act), "tanh");
    assert_int_equal(net_activation_parse("sigmoid", &act), AN_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_width_table),
        cmocka_unit_test(test_views_aligned),
        cmocka_unit_test(test_bad_config),
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_init_paper_width_one),
        cmocka_unit_test(test_init_width_rule),
        cmocka_unit_test(test_init_fan_in),
        cmocka_unit_test(test_init_input_dependent_logits),
        cmocka_unit_test(test_net_gradient),
        cmocka_unit_test(test_variant_tables),
        cmocka_unit_test(test_variant_gradient),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
