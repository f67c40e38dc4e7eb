/* test_net_split.c: a network split over CPU members (net.h, net_split)
 * against the whole network, one training pass with dropout on the same
 * images: the members' initial weights are the whole network's, bitwise; the
 * logits every member holds and the loss equal the whole network's; the
 * gradients, put back in the whole network's layout (and, for the conv
 * layers of the fc slices, summed over the members as the trainer does),
 * equal the whole network's within float32 rounding of a regrouped sum.
 * Towers (with LRN, whose window crosses the towers' boundary) and fc
 * slices over 3 members with uneven batches and uneven slices. And the
 * towers' LRN, bitwise: each tower's norm1 and norm2 outputs and input
 * gradients, put side by side, against the LRN op run on the whole tensor
 * of both towers' inputs and output gradients (net_pass.c, "the towers'
 * LRN"), and the outputs against the whole network's. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "communicator_cpu.h"
#include "net_cpu.h"
#include "split_members.h"
#include "net_internal.h" /* the towers' LRN blocks, read after the pass */
#include "philox.h"

#define B 5          /* images */
#define CLASSES 7    /* uneven over 3 members */
#define SEED 11

static void fill(float *x, size_t n, uint32_t stream)
{
    for (size_t i = 0; i < n; i++) x[i] = 60.0f * (philox_uniform(philox_draw(5, stream, 0, 0, (uint32_t)i).v[0]) - 0.5f);
}

static void check_split(net_split_kind kind, int members, const int *batches)
{
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = 0.05;
    cfg.num_classes = CLASSES;
    const size_t per_image = 3 * 224 * 224;
    float *input = malloc(B * per_image * sizeof(float));
    assert_non_null(input);
    fill(input, B * per_image, 1);
    uint32_t ids[B];
    int32_t labels[B];
    for (int b = 0; b < B; b++) {
        ids[b] = 100 + 7 * (uint32_t)b;
        labels[b] = b % CLASSES;
    }

    net *whole;
    assert_int_equal(net_create_cpu(&whole, &cfg, B), AN_OK);
    assert_int_equal(net_init_params(whole, SEED), AN_OK);
    assert_int_equal(net_forward(whole, input, B, ids, 3, SEED, 1), AN_OK);
    double whole_loss, loss;
    assert_int_equal(net_loss(whole, labels, B, &whole_loss), AN_OK);
    const float *whole_logits;
    assert_int_equal(net_read_logits(whole, &whole_logits), AN_OK);
    assert_int_equal(net_backward(whole, labels, B, (float)B), AN_OK);
    const size_t floats = net_param_count(whole);

    communicator *comm;
    assert_int_equal(communicator_cpu_create(&comm, members), AN_OK);
    net *parts[NET_SPLIT_MAX_MEMBERS];
    backend *bes[NET_SPLIT_MAX_MEMBERS]; /* the members' own backends (a split member does not own its backend) */
    member_job jobs[NET_SPLIT_MAX_MEMBERS];
    float *init = calloc(floats, sizeof(float)), *grads = calloc(floats, sizeof(float));
    float *one = calloc(floats, sizeof(float));
    assert_true(init && grads && one);
    int offset = 0;
    for (int m = 0; m < members; m++) {
        assert_int_equal(backend_cpu_create(&bes[m], 1), AN_OK);
        backend *be = bes[m];
        const net_split split = {.kind = kind, .index = m, .count = members, .comm = comm};
        const int own = kind == NET_SPLIT_FC_SLICES ? batches[m] : B;
        assert_int_equal(net_create_split(&parts[m], &cfg, kind == NET_SPLIT_FC_SLICES ? 2 : B, be, &split), AN_OK);
        assert_int_equal(net_whole_param_count(parts[m]), floats);
        assert_int_equal(net_init_params(parts[m], SEED), AN_OK);
        assert_int_equal(net_to_whole(parts[m], NET_BLOCK_PARAMS, init), AN_OK);
        jobs[m] = (member_job){.n = parts[m], .input = input + (size_t)offset * per_image, .own = own,
                               .batches = batches, .ids = ids, .labels = labels, .images = B,
                               .normalizer = (float)B, .step = 3, .seed = SEED};
        if (kind == NET_SPLIT_FC_SLICES) offset += own;
    }
    /* the members' weights are the whole network's, bitwise */
    assert_memory_equal(init, net_params(whole), floats * sizeof(float));
    assert_int_equal(members_pass(jobs, members), 0);
    for (int m = 0; m < members; m++) assert_int_equal(jobs[m].status, AN_OK);

    for (int m = 0; m < members; m++) {
        const float *logits;
        assert_int_equal(net_read_logits(parts[m], &logits), AN_OK);
        for (int k = 0; k < B * CLASSES; k++) assert_true(fabsf(logits[k] - whole_logits[k]) <= 1e-4f * (1.0f + fabsf(whole_logits[k])));
        assert_int_equal(net_loss(parts[m], labels, B, &loss), AN_OK);
        assert_true(fabs(loss - whole_loss) <= 1e-5 * (1.0 + fabs(whole_loss)));
        /* the member's gradients in the whole layout, zero elsewhere, added up over the members */
        memset(one, 0, floats * sizeof(float));
        assert_int_equal(net_to_whole(parts[m], NET_BLOCK_GRADS, one), AN_OK);
        for (size_t i = 0; i < floats; i++) grads[i] += one[i];
    }
    const float *want = net_grads(whole);
    for (int v = 0; v < net_param_view_count(whole); v++) {
        const net_param_view *view = net_param_view_at(whole, v);
        double largest = 0.0;
        for (size_t i = 0; i < view->count; i++) largest = fmax(largest, fabs(want[view->offset + i]));
        for (size_t i = 0; i < view->count; i++) {
            const double d = fabs((double)grads[view->offset + i] - want[view->offset + i]);
            if (d > 1e-4 * largest + 1e-9) fail_msg("%s[%zu]: %g, the whole network's %g", view->name, i,
                                                    grads[view->offset + i], want[view->offset + i]);
        }
    }
    for (int m = 0; m < members; m++) {
        net_destroy(parts[m]);
        backend_destroy(bes[m]);
    }
    communicator_destroy(comm);
    net_destroy(whole);
    free(init);
    free(grads);
    free(one);
    free(input);
}

static void test_towers(void **state)
{
    (void)state;
    check_split(NET_SPLIT_TOWERS, 2, NULL);
}

static void test_fc_slices_uneven(void **state)
{
    (void)state;
    const int batches[3] = {2, 2, 1}; /* and 7 classes over 3: 2, 2, 3 */
    check_split(NET_SPLIT_FC_SLICES, 3, batches);
}

/* What one tower's norm layer kept of a pass, in host copies. */
#define LRN_B 2 /* images */
typedef struct tower_lrn {
    int layer;             /* the layer's index in the tower's plan */
    int C, E, own_offset;  /* the tower's channels, those of its extended block, its own's first there */
    size_t hw;             /* H x W */
    float *x, *out;        /* [LRN_B, C, H, W] the layer's input and output (forward) */
    float *dout, *dinput;  /* [LRN_B, C, H, W] its output gradient and its input gradient (backward) */
} tower_lrn;

typedef struct tower_trace {
    net *n;
    int count;             /* norm layers traced */
    tower_lrn lrn[2];      /* norm1, norm2 */
} tower_trace;

/* The tower's own channels of each row of an extended block [LRN_B, E, H, W] into own [LRN_B, C, H, W]. */
static void own_of_extended(const tower_lrn *l, float *own, const float *extended)
{
    for (int b = 0; b < LRN_B; b++)
        memcpy(own + (size_t)b * l->C * l->hw, extended + ((size_t)b * l->E + l->own_offset) * l->hw,
               (size_t)l->C * l->hw * sizeof(float));
}

/* After each layer of the tower's passes: an LRN layer with a halo keeps its input, output and gradients. */
static an_status trace_lrn(void *ctx, const net_layer_info *layer, int backward)
{
    tower_trace *tr = ctx;
    net *n = tr->n;
    const int i = (int)(layer - n->plan.layers);
    if (layer->kind != NET_LAYER_LRN || n->plan.halo[i] == 0) return AN_OK;
    tower_lrn *l = NULL;
    for (int k = 0; k < tr->count; k++)
        if (tr->lrn[k].layer == i) l = &tr->lrn[k];
    const size_t floats = (size_t)LRN_B * (size_t)layer->in_c * (size_t)layer->in_h * (size_t)layer->in_w;
    if (!backward) {
        if (l || tr->count == 2) return error_set(AN_ERR_INTERNAL, "more than two norm layers, or one twice");
        l = &tr->lrn[tr->count++];
        l->layer = i;
        l->C = layer->in_c;
        l->E = layer->in_c + n->plan.halo[i];
        l->own_offset = n->split.index == 0 ? 0 : n->plan.halo[i];
        l->hw = (size_t)layer->in_h * (size_t)layer->in_w;
        l->x = malloc(floats * sizeof(float));
        l->out = malloc(floats * sizeof(float));
        l->dout = malloc(floats * sizeof(float));
        l->dinput = malloc(floats * sizeof(float));
        if (!l->x || !l->out || !l->dout || !l->dinput) return error_set(AN_ERR_NOMEM, "trace copies");
        memcpy(l->x, n->outputs[i - 1], floats * sizeof(float));
        memcpy(l->out, n->outputs[i], floats * sizeof(float));
        return AN_OK;
    }
    if (!l) return error_set(AN_ERR_INTERNAL, "layer %d backward before its forward", i);
    /* the output gradient is the own part of the extended output gradient; the input gradient is in
     * whichever of the two gradient buffers does not hold the output gradient */
    own_of_extended(l, l->dout, n->bufs[i].d_ext_out);
    const int a_is_dout = memcmp(n->grad_a, l->dout, floats * sizeof(float)) == 0;
    const int b_is_dout = memcmp(n->grad_b, l->dout, floats * sizeof(float)) == 0;
    if (a_is_dout == b_is_dout) return error_set(AN_ERR_INTERNAL, "cannot tell %s's input gradient", layer->name);
    memcpy(l->dinput, a_is_dout ? n->grad_b : n->grad_a, floats * sizeof(float));
    return AN_OK;
}

/* The whole network's norm layers' inputs and outputs [LRN_B, 2C, H, W], in host copies. */
typedef struct whole_trace {
    net *n;
    int count;
    float *x[2], *out[2];
} whole_trace;

static an_status trace_whole_lrn(void *ctx, const net_layer_info *layer, int backward)
{
    whole_trace *tr = ctx;
    net *n = tr->n;
    const int i = (int)(layer - n->plan.layers);
    if (backward || layer->kind != NET_LAYER_LRN) return AN_OK;
    if (tr->count == 2) return error_set(AN_ERR_INTERNAL, "more than two norm layers");
    const size_t floats = (size_t)LRN_B * (size_t)layer->in_c * (size_t)layer->in_h * (size_t)layer->in_w;
    float *x = malloc(floats * sizeof(float)), *out = malloc(floats * sizeof(float));
    if (!x || !out) return error_set(AN_ERR_NOMEM, "trace copies");
    memcpy(x, n->outputs[i - 1], floats * sizeof(float));
    memcpy(out, n->outputs[i], floats * sizeof(float));
    tr->x[tr->count] = x;
    tr->out[tr->count++] = out;
    return AN_OK;
}

/* Per image, tower 0's channels then tower 1's: whole [LRN_B, 2C, H, W] from two [LRN_B, C, H, W]. */
static void side_by_side(float *whole, const float *t0, const float *t1, int C, size_t hw)
{
    const size_t block = (size_t)C * hw;
    for (int b = 0; b < LRN_B; b++) {
        memcpy(whole + (size_t)b * 2 * block, t0 + (size_t)b * block, block * sizeof(float));
        memcpy(whole + (size_t)b * 2 * block + block, t1 + (size_t)b * block, block * sizeof(float));
    }
}

/* The towers' norm1 and norm2 give one device's LRN bits: forward, the whole network's outputs (the whole
 * network in the fixed order, whose conv1 and grouped conv2 are the towers' halves, gives its inputs' bits
 * too), and the input gradient of every own channel, boundary channels included (their window's sum made in
 * one place, in channel order), against the LRN's backward on the whole tensor with the towers' output
 * gradients (the whole network's own output gradients come through the fc layers, whose input gradients
 * these towers, not in the fixed order, sum in another order: test_net_fixed_order.c has the rest). */
static void test_towers_lrn_bitwise(void **state)
{
    (void)state;
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = 0.125; /* 6 channels a tower at norm1, 16 at norm2: more than the halo of 4 */
    cfg.num_classes = CLASSES;
    const size_t per_image = 3 * 224 * 224;
    float *input = malloc(LRN_B * per_image * sizeof(float));
    assert_non_null(input);
    fill(input, LRN_B * per_image, 2);
    const uint32_t ids[LRN_B] = {3, 8};
    const int32_t labels[LRN_B] = {1, 4};
    communicator *comm;
    assert_int_equal(communicator_cpu_create(&comm, 2), AN_OK);
    net *towers[2];
    backend *bes[2];
    tower_trace traces[2];
    member_job jobs[2];
    memset(traces, 0, sizeof traces);
    for (int t = 0; t < 2; t++) {
        assert_int_equal(backend_cpu_create(&bes[t], 1), AN_OK);
        const net_split split = {.kind = NET_SPLIT_TOWERS, .index = t, .count = 2, .comm = comm};
        assert_int_equal(net_create_split(&towers[t], &cfg, LRN_B, bes[t], &split), AN_OK);
        assert_int_equal(net_init_params(towers[t], SEED), AN_OK);
        traces[t].n = towers[t];
        net_set_trace(towers[t], trace_lrn, &traces[t]);
        jobs[t] = (member_job){.n = towers[t], .input = input, .own = LRN_B, .ids = ids, .labels = labels,
                               .images = LRN_B, .normalizer = (float)LRN_B, .step = 3, .seed = SEED};
    }
    assert_int_equal(members_pass(jobs, 2), 0);
    for (int t = 0; t < 2; t++) assert_int_equal(jobs[t].status, AN_OK);
    assert_int_equal(traces[0].count, 2);
    assert_int_equal(traces[1].count, 2);

    /* the whole network with the same weights, on the same images */
    net *whole;
    whole_trace wt = {0};
    assert_int_equal(net_create_cpu(&whole, &cfg, LRN_B), AN_OK);
    assert_int_equal(net_init_params(whole, SEED), AN_OK);
    /* conv1 and the grouped conv2 as the towers compute them (two halves of 48 and 128 kernels at width 1): the
     * same GEMMs, so the norm layers' inputs have the same bits whatever the BLAS (net_set_fixed_order) */
    assert_int_equal(net_set_fixed_order(whole, LRN_B), AN_OK);
    wt.n = whole;
    net_set_trace(whole, trace_whole_lrn, &wt);
    assert_int_equal(net_forward(whole, input, LRN_B, ids, 3, SEED, 1), AN_OK);
    assert_int_equal(wt.count, 2);

    backend *be = bes[0];
    const lrn_params *lrn = &towers[0]->plan.lrn;
    for (int k = 0; k < 2; k++) {
        const tower_lrn *l0 = &traces[0].lrn[k], *l1 = &traces[1].lrn[k];
        const net_layer_info *layer = &towers[0]->plan.layers[l0->layer];
        assert_int_equal(l0->C, l1->C);
        assert_true(l0->C > l0->E - l0->C); /* some own channels lie outside the halo's reach */
        const size_t count = (size_t)LRN_B * 2 * (size_t)l0->C * l0->hw;
        float *x = malloc(count * sizeof(float)), *out = malloc(count * sizeof(float));
        float *scale = malloc(count * sizeof(float)), *dout = malloc(count * sizeof(float));
        float *dinput = malloc(count * sizeof(float)), *got = malloc(count * sizeof(float));
        assert_true(x && out && scale && dout && dinput && got);
        side_by_side(x, l0->x, l1->x, l0->C, l0->hw);
        side_by_side(dout, l0->dout, l1->dout, l0->C, l0->hw);
        assert_int_equal(be->ops->lrn_forward(be, out, scale, x, LRN_B, 2 * l0->C, layer->in_h, layer->in_w, lrn),
                         AN_OK);
        assert_int_equal(be->ops->lrn_backward(be, dinput, dout, x, out, scale, LRN_B, 2 * l0->C, layer->in_h,
                                               layer->in_w, lrn),
                         AN_OK);
        side_by_side(got, l0->out, l1->out, l0->C, l0->hw);
        for (size_t i = 0; i < count; i++)
            if (memcmp(&got[i], &out[i], sizeof(float)) != 0)
                fail_msg("%s output [%zu]: the towers' %.9g, the whole tensor's %.9g", layer->name, i, got[i], out[i]);
        /* and the whole network's own norm layer, with the same weights: the same input and output bits */
        assert_memory_equal(x, wt.x[k], count * sizeof(float));
        assert_memory_equal(got, wt.out[k], count * sizeof(float));
        side_by_side(got, l0->dinput, l1->dinput, l0->C, l0->hw);
        for (size_t i = 0; i < count; i++)
            if (memcmp(&got[i], &dinput[i], sizeof(float)) != 0)
                fail_msg("%s input gradient [%zu] (channel %zu of %d): the towers' %.9g, the whole tensor's %.9g",
                         layer->name, i, (i / l0->hw) % (size_t)(2 * l0->C), 2 * l0->C, got[i], dinput[i]);
        free(x);
        free(out);
        free(scale);
        free(dout);
        free(dinput);
        free(got);
    }
    for (int t = 0; t < 2; t++) {
        for (int k = 0; k < 2; k++) {
            free(traces[t].lrn[k].x);
            free(traces[t].lrn[k].out);
            free(traces[t].lrn[k].dout);
            free(traces[t].lrn[k].dinput);
        }
        net_destroy(towers[t]);
        backend_destroy(bes[t]);
    }
    for (int k = 0; k < 2; k++) {
        free(wt.x[k]);
        free(wt.out[k]);
    }
    net_destroy(whole);
    communicator_destroy(comm);
    free(input);
}

/* The batches of a pass: member 1 may pass none, none may pass more than its max, some must pass one. */
static void test_fc_slices_member_without_images(void **state)
{
    (void)state;
    const int batches[3] = {2, 0, 3}; /* member 2 more than its max (2): refused */
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = 0.05;
    cfg.num_classes = CLASSES;
    communicator *comm;
    assert_int_equal(communicator_cpu_create(&comm, 3), AN_OK);
    backend *be;
    assert_int_equal(backend_cpu_create(&be, 1), AN_OK);
    const net_split split = {.kind = NET_SPLIT_FC_SLICES, .index = 1, .count = 3, .comm = comm};
    net *n;
    assert_int_equal(net_create_split(&n, &cfg, 2, be, &split), AN_OK);
    assert_int_equal(net_set_member_batches(n, batches), AN_ERR_ARG);
    const int fits[3] = {2, 0, 1}; /* member 1 passes no image of its own */
    assert_int_equal(net_set_member_batches(n, fits), AN_OK);
    const int none[3] = {0, 0, 0};
    assert_int_equal(net_set_member_batches(n, none), AN_ERR_ARG); /* no image at all */
    net_destroy(n);
    backend_destroy(be);
    communicator_destroy(comm);
}

/* A split that cannot be: too few classes for the members, the towers of a one-tower network. */
static void test_refused(void **state)
{
    (void)state;
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = 0.05;
    cfg.num_classes = 2;
    communicator *comm;
    assert_int_equal(communicator_cpu_create(&comm, 3), AN_OK);
    backend *be;
    assert_int_equal(backend_cpu_create(&be, 1), AN_OK);
    net *n;
    const net_split three = {.kind = NET_SPLIT_FC_SLICES, .index = 0, .count = 3, .comm = comm};
    assert_int_equal(net_create_split(&n, &cfg, 2, be, &three), AN_ERR_ARG); /* 2 classes over 3 */
    cfg.num_classes = 10;
    cfg.towers = 1;
    communicator *pair;
    assert_int_equal(communicator_cpu_create(&pair, 2), AN_OK);
    const net_split towers = {.kind = NET_SPLIT_TOWERS, .index = 0, .count = 2, .comm = pair};
    assert_int_equal(net_create_split(&n, &cfg, 2, be, &towers), AN_ERR_ARG); /* the towers of a one-tower network */
    cfg.towers = 2;
    assert_int_equal(net_create_split(&n, &cfg, 2, be, &towers), AN_OK);
    net_destroy(n);
    backend_destroy(be);
    communicator_destroy(pair);
    communicator_destroy(comm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_towers),
        cmocka_unit_test(test_towers_lrn_bitwise),
        cmocka_unit_test(test_fc_slices_uneven),
        cmocka_unit_test(test_fc_slices_member_without_images),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
