/* net_pass.c: the one forward and backward sequence of the network. It walks
 * the plan (net_plan.c) layer by layer and calls the backend's table
 * (kernels/backend.h): the CPU and the GPU run this same code. A member of a
 * split network (net.h, net_split) walks the same sequence; its exchange
 * steps call the members' communicator (kernels/communicator.h). */
#include <stdlib.h>

#include "grad_tree.h"
#include "net_internal.h"

#define OPS(n) ((n)->be->ops)

static float *param(net *n, float *block, int view)
{
    return block + n->plan.views[view].offset;
}

/* The tensor layer i reads: the net's input for the first layer, else the
 * previous layer's output. */
static const float *layer_input(const net *n, int i)
{
    return i == 0 ? n->input : n->outputs[i - 1];
}

static an_status trace(net *n, int i, int backward)
{
    return n->trace ? n->trace(n->trace_ctx, &n->plan.layers[i], backward) : AN_OK;
}

/* Host labels checked, then made readable by the backend's ops. */
static an_status labels_in(net *n, const int32_t *labels_host, int batch, const int32_t **labels)
{
    if (batch != n->last_batch)
        return error_set(AN_ERR_ARG, "%d labels after a forward pass of %d images", batch, n->last_batch);
    const int classes = n->plan.cfg.num_classes;
    for (int b = 0; b < batch; b++)
        if (labels_host[b] < 0 || labels_host[b] >= classes)
            return error_set(AN_ERR_ARG, "image %d of the batch has label %d, outside [0, %d)", b, labels_host[b],
                             classes);
    const void *view;
    AN_TRY(OPS(n)->upload_view(n->be, &view, n->labels_staging, labels_host, (size_t)batch * sizeof(int32_t)));
    *labels = view;
    return AN_OK;
}

/* Marks what the coming forward pass writes as dead (backend.h: discard). */
static an_status discard_activations(net *n)
{
    const net_plan *p = &n->plan;
    const size_t B = (size_t)p->max_batch;
    for (int i = 0; i < p->layer_count; i++) {
        const net_layer_buffers *b = &n->bufs[i];
        const size_t out = B * (size_t)p->images_scale[i] * net_plan_out_floats(p, i);
        if (b->out) AN_TRY(OPS(n)->discard(n->be, b->out, out * sizeof(float)));
        if (b->scale) AN_TRY(OPS(n)->discard(n->be, b->scale, out * sizeof(float)));
        if (b->argmax) AN_TRY(OPS(n)->discard(n->be, b->argmax, out * sizeof(int32_t)));
        if (b->mask) AN_TRY(OPS(n)->discard(n->be, b->mask, out));
    }
    return AN_OK;
}

/* The rows and the members' parts of exchange step i on a pass whose
 * layer i takes B images (kernels/communicator.h's layout): over the
 * images, one row of every member's images; over the features, a row per
 * image of every member's features. */
static void exchange_parts(const net *n, int i, int B, size_t *rows, size_t *parts)
{
    const net_plan *p = &n->plan;
    const net_exchange *x = &p->exchanges[i];
    const net_layer_info *l = &p->layers[i];
    const size_t per_image = (size_t)l->in_c * (size_t)l->in_h * (size_t)l->in_w;
    *rows = x->over_images ? 1 : (size_t)B;
    for (int j = 0; j < p->split_count; j++)
        parts[j] = x->over_images ? (size_t)n->member_batches[j] * per_image : x->part_floats[j];
}

/* The images of every member's pass together (net_set_member_batches); B for a whole network or towers. */
static int members_images(const net *n, int B)
{
    if (n->plan.split_kind != NET_SPLIT_FC_SLICES) return B;
    int total = 0;
    for (int j = 0; j < n->plan.split_count; j++) total += n->member_batches[j];
    return total;
}

/* The images layer i's output holds in a pass of `batch` images of this member's own. */
static int layer_images(const net *n, int i, int batch)
{
    return n->plan.images_scale[i] > 1 ? members_images(n, batch) : batch;
}

/* ------------------------------------------------------------ the towers' LRN
 *
 * The LRN's window of n channels (§3.3) crosses the towers' boundary: a
 * tower's channels next to it are normalised with the other tower's nearest
 * h = n / 2. The other tower's channels come in as operands (a "halo"), so
 * that every sum for a tower's own channels is made by that tower alone,
 * over the operands one device adds: on the CPU, which sums each channel's
 * window in channel order (kernels/cpu/lrn_cpu.c), the same bits as the
 * whole network's LRN, forward and backward (tests/net/test_net_split.c).
 *
 * Forward, tower t's LRN runs on E = C + K channels, its own C and the
 * other tower's K = min(2h, C) nearest (net_plan.c) on the boundary's side
 * ([own | other's first K] for tower 0, [other's last K | own] for tower 1),
 * all-gathered from both towers' boundary channels, and keeps its own
 * outputs. Of the halo, the nearest h channels' windows are complete (they
 * reach h further, into the K), so their outputs and scales are the true
 * ones; the far K - h channels' are not, and nothing reads them.
 *
 * Backward, an own channel's input gradient sums d(output) y / scale over
 * the channels whose windows hold it: its own tower's and the other's
 * nearest h. So the towers all-gather the h boundary channels of
 * d(output), each places the other's next to its own in the extended
 * output gradient (the far K - h channels' gradient 0), runs the LRN's
 * backward on the extended block and keeps its own channels' input
 * gradient. No gradient crosses back: there is no reduce-scatter. The
 * copies in and out of these blocks are the communicator's take_part and
 * put_part.
 *
 * The layouts, per image row: the tower's input [C] (and d(output) [C]) as
 * parts {C - K, K} forward and {C - h, h} backward (tower 0: its boundary is
 * part 1) or {K, C - K} and {h, C - h} (tower 1: part 0); the gathered halo
 * [2K] as {K, K} forward and [2h] as {h, h} backward (tower j's boundary
 * channels are part j); the other's halo block [K] in the extended output
 * gradient as {h, K - h} (tower 0: the near h are part 0) or {K - h, h}
 * (tower 1: part 1); the extended block [E] as {C, K} (tower 0: own part 0)
 * or {K, C} (tower 1: own part 1). */
typedef struct halo_layout {
    size_t rows;
    size_t input[2], input_near[2];   /* the tower's [C]: its K, and its h, boundary channels */
    size_t halo[2], halo_near[2];     /* the gathered [2K] forward, [2h] backward */
    size_t other[2];                  /* the other's halo block [K]: its near h, its far K - h */
    size_t ext[2];                    /* the extended block [E] */
    int boundary;                     /* the tower's boundary part of its input */
    int own;                          /* its own part of the extended block; also the near part of other[] */
    int E;                            /* channels of the extended block */
} halo_layout;

static halo_layout halo_layout_of(const net *n, int i, int B)
{
    const net_layer_info *l = &n->plan.layers[i];
    const int t = n->split.index, K = n->plan.halo[i], h = net_plan_halo_near(&n->plan, i), C = l->in_c;
    const size_t hw = (size_t)l->in_h * (size_t)l->in_w;
    halo_layout y;
    y.rows = (size_t)B;
    y.boundary = t == 0 ? 1 : 0;
    y.own = t == 0 ? 0 : 1;
    y.input[y.boundary] = (size_t)K * hw;
    y.input[1 - y.boundary] = (size_t)(C - K) * hw;
    y.input_near[y.boundary] = (size_t)h * hw;
    y.input_near[1 - y.boundary] = (size_t)(C - h) * hw;
    y.halo[0] = y.halo[1] = (size_t)K * hw;
    y.halo_near[0] = y.halo_near[1] = (size_t)h * hw;
    y.other[y.own] = (size_t)h * hw;
    y.other[1 - y.own] = (size_t)(K - h) * hw;
    y.ext[y.own] = (size_t)C * hw;
    y.ext[1 - y.own] = (size_t)K * hw;
    y.E = C + K;
    return y;
}

/* out [B, C, H, W] = LRN of x [B, C, H, W] with the other tower's K boundary channels (above). */
static an_status lrn_halo_forward(net *n, int i, int B, const float *x)
{
    const net_layer_info *l = &n->plan.layers[i];
    const net_layer_buffers *b = &n->bufs[i];
    communicator *c = n->split.comm;
    const int t = n->split.index;
    const halo_layout y = halo_layout_of(n, i, B);
    AN_TRY(c->ops->take_part(c, t, y.boundary, b->edge, x, y.rows, y.input));     /* my K boundary channels */
    AN_TRY(c->ops->all_gather(c, t, b->halo, b->edge, y.rows, y.halo));          /* both towers' */
    AN_TRY(c->ops->put_part(c, t, y.own, b->ext_in, x, y.rows, y.ext));           /* mine, in place */
    AN_TRY(c->ops->take_part(c, t, 1 - t, b->edge, b->halo, y.rows, y.halo));     /* the other's */
    AN_TRY(c->ops->put_part(c, t, 1 - y.own, b->ext_in, b->edge, y.rows, y.ext)); /* beside mine */
    AN_TRY(OPS(n)->lrn_forward(n->be, b->ext_out, n->last_train ? b->ext_scale : NULL, b->ext_in, B, y.E, l->in_h,
                               l->in_w, &n->plan.lrn));
    return c->ops->take_part(c, t, y.own, b->out, b->ext_out, y.rows, y.ext);
}

/* dinput [B, C, H, W] from dout [B, C, H, W]: the extended LRN's backward
 * with the other tower's h boundary channels of d(output) beside this
 * tower's, its own channels' input gradient kept (above). */
static an_status lrn_halo_backward(net *n, int i, int B, const float *dout, float *dinput)
{
    const net_layer_info *l = &n->plan.layers[i];
    const net_layer_buffers *b = &n->bufs[i];
    communicator *c = n->split.comm;
    const int t = n->split.index;
    const halo_layout y = halo_layout_of(n, i, B);
    AN_TRY(c->ops->take_part(c, t, y.boundary, b->edge, dout, y.rows, y.input_near)); /* my h: edge [B, h, H, W] */
    AN_TRY(c->ops->all_gather(c, t, b->halo, b->edge, y.rows, y.halo_near));          /* halo [B, 2h, H, W] */
    AN_TRY(c->ops->take_part(c, t, 1 - t, b->edge, b->halo, y.rows, y.halo_near));    /* the other's h */
    /* the other's halo block, halo [B, K, H, W]: its near h channels' d(output), the far K - h channels' 0 */
    AN_TRY(OPS(n)->zero(n->be, b->halo, y.rows * (y.other[0] + y.other[1]) * sizeof(float)));
    AN_TRY(c->ops->put_part(c, t, y.own, b->halo, b->edge, y.rows, y.other));
    AN_TRY(c->ops->put_part(c, t, 1 - y.own, b->d_ext_out, b->halo, y.rows, y.ext));
    AN_TRY(c->ops->put_part(c, t, y.own, b->d_ext_out, dout, y.rows, y.ext));
    AN_TRY(OPS(n)->lrn_backward(n->be, b->d_ext_in, b->d_ext_out, b->ext_in, b->ext_out, b->ext_scale, B, y.E,
                                l->in_h, l->in_w, &n->plan.lrn));
    return c->ops->take_part(c, t, y.own, dinput, b->d_ext_in, y.rows, y.ext);
}

/* ------------------------------------------------------------ the fixed order (--reproducible)
 *
 * net_set_fixed_order (net.h). A whole network of two towers (a whole
 * network, or a hybrid member, whose conv layers are whole) computes each
 * conv layer as the towers of §3.2 do: output half t from tower t's kernels,
 * on tower t's half of the input where the layer is grouped (conv2, conv4,
 * conv5), on the whole input where it is not (conv1, conv3), whose input
 * gradient is then half 0's share + half 1's: the sum the towers' exchange
 * before conv3 makes. Every fc layer is computed as parts of the whole
 * layer's GRAD_TREE_CHUNKS output parts (a member of N holds 8 / N of them):
 * each part's outputs one fc op of its own, each part's share of the input
 * gradient a leaf of common/grad_tree.h's tree, summed with the binary
 * counter; the members' subtree sums are then added by the exchange's
 * reduce-scatter in the tree's upper levels (communicator.h). So every GEMM
 * has the same shape and operands, and every sum the same order, whatever
 * the split. The halves and parts are cut and joined by the backend's
 * split_parts and join_parts. */

_Static_assert(GRAD_TREE_CHUNKS == OP_MAX_PARTS, "the fc layers' parts are the tree's leaves, at most join_parts's");

/* Whether conv layer i runs as the two towers' halves. */
static int conv_in_halves(const net *n, int i)
{
    const net_plan *p = &n->plan;
    return n->fixed_pass_images > 0 && p->layers[i].kind == NET_LAYER_CONV && p->split_kind != NET_SPLIT_TOWERS &&
           p->cfg.towers == 2;
}

/* One half of conv layer i on B images: the shape a tower's member has. */
static conv_shape conv_half_shape(const net_layer_info *l, int B)
{
    conv_shape h = l->conv;
    h.batch = B;
    if (h.groups == 2) h.in_channels /= 2;
    h.out_channels /= 2;
    h.groups = 1;
    return h;
}

/* Floats per image of a conv shape's input and output. */
static size_t conv_in_image(const conv_shape *s) { return (size_t)s->in_channels * s->in_h * s->in_w; }
static size_t conv_out_image(const conv_shape *s)
{
    return (size_t)s->out_channels * conv_out_size(s->in_h, s->kernel, s->stride, s->pad) *
           conv_out_size(s->in_w, s->kernel, s->stride, s->pad);
}

/* out [B, Cout, Ho, Wo] of conv layer i from x [B, Cin, H, W], as two halves. */
static an_status conv_forward_halves(net *n, int i, int B, const float *x)
{
    const net_layer_info *l = &n->plan.layers[i];
    const conv_shape h = conv_half_shape(l, B);
    const int grouped = l->conv.groups == 2;
    const size_t in_w[2] = {conv_in_image(&h), conv_in_image(&h)}, out_w[2] = {conv_out_image(&h), conv_out_image(&h)};
    float *in_halves = n->fixed_scratch[0];  /* [2][B, Cin/2, H, W] (grouped) */
    float *out_halves = n->fixed_scratch[1]; /* [2][B, Cout/2, Ho, Wo] */
    const float *weight = param(n, n->params, l->weight_view), *bias = param(n, n->params, l->bias_view);
    if (grouped) AN_TRY(OPS(n)->split_parts(n->be, in_halves, x, (size_t)B, 2, in_w));
    for (int t = 0; t < 2; t++) {
        const float *input = grouped ? in_halves + (size_t)t * B * in_w[0] : x;
        AN_TRY(OPS(n)->conv_forward(n->be, out_halves + (size_t)t * B * out_w[0], input,
                                    weight + (size_t)t * conv_shape_weight_count(&h), bias + (size_t)t * h.out_channels,
                                    &h));
    }
    return OPS(n)->join_parts(n->be, n->bufs[i].out, out_halves, (size_t)B, 2, out_w);
}

/* Conv layer i's backward as two halves: its weight and bias gradients, and
 * dinput [B, Cin, H, W] (NULL: none) from dout [B, Cout, Ho, Wo]. */
static an_status conv_backward_halves(net *n, int i, int B, const float *dout, const float *x, float *dinput)
{
    const net_layer_info *l = &n->plan.layers[i];
    const conv_shape h = conv_half_shape(l, B);
    const int grouped = l->conv.groups == 2;
    const size_t in_w[2] = {conv_in_image(&h), conv_in_image(&h)}, out_w[2] = {conv_out_image(&h), conv_out_image(&h)};
    const size_t weights = conv_shape_weight_count(&h);
    float *in_halves = n->fixed_scratch[0];   /* [2][B, Cin/2, H, W] (grouped) */
    float *dout_halves = n->fixed_scratch[1]; /* [2][B, Cout/2, Ho, Wo] */
    float *din_halves = n->fixed_scratch[2];  /* grouped: [2][B, Cin/2, H, W]; else half 1's share [B, Cin, H, W] */
    const float *weight = param(n, n->params, l->weight_view);
    float *dweight = param(n, n->grads, l->weight_view), *dbias = param(n, n->grads, l->bias_view);
    AN_TRY(OPS(n)->split_parts(n->be, dout_halves, dout, (size_t)B, 2, out_w));
    if (grouped) AN_TRY(OPS(n)->split_parts(n->be, in_halves, x, (size_t)B, 2, in_w));
    for (int t = 0; t < 2; t++) {
        const float *input = grouped ? in_halves + (size_t)t * B * in_w[0] : x;
        float *dx = !dinput ? NULL : grouped ? din_halves + (size_t)t * B * in_w[0] : t == 0 ? dinput : din_halves;
        AN_TRY(OPS(n)->conv_backward(n->be, dx, dweight + (size_t)t * weights, dbias + (size_t)t * h.out_channels,
                                     dout_halves + (size_t)t * B * out_w[0], input, weight + (size_t)t * weights, &h));
    }
    if (!dinput) return AN_OK;
    if (grouped) return OPS(n)->join_parts(n->be, dinput, din_halves, (size_t)B, 2, in_w);
    return OPS(n)->add(n->be, dinput, dinput, din_halves, (size_t)B * in_w[0]); /* half 0's share + half 1's */
}

/* The output parts fc layer i of this member computes: *parts of them,
 * widths[k] outputs each, in order (parts [s 8 / N, (s+1) 8 / N) of the
 * whole layer's 8, whose union is the member's slice, net_plan.c). */
static void fc_parts(const net *n, int i, int *parts, size_t widths[OP_MAX_PARTS])
{
    const net_plan *p = &n->plan;
    const int each = GRAD_TREE_CHUNKS / p->split_count, first = p->split_index * each, whole = p->whole_out_c[i];
    for (int k = 0; k < each; k++) widths[k] = (size_t)net_slice_length(whole, first + k, GRAD_TREE_CHUNKS);
    *parts = each;
}

/* out [B, O] of fc layer i from x [B, I], part by part. */
static an_status fc_forward_parts(net *n, int i, int B, const float *x)
{
    const net_layer_info *l = &n->plan.layers[i];
    int parts;
    size_t widths[OP_MAX_PARTS];
    fc_parts(n, i, &parts, widths);
    float *outs = n->fixed_scratch[0]; /* the parts one after another, part k [B, widths[k]] */
    const float *weight = param(n, n->params, l->weight_view), *bias = param(n, n->params, l->bias_view);
    size_t first = 0; /* part k's first output of the member's */
    for (int k = 0; k < parts; k++) {
        if (widths[k] > 0)
            AN_TRY(OPS(n)->fc_forward(n->be, outs + (size_t)B * first, x, weight + first * (size_t)l->in_c,
                                      bias + first, B, l->in_c, (int)widths[k]));
        first += widths[k];
    }
    return OPS(n)->join_parts(n->be, n->bufs[i].out, outs, (size_t)B, parts, widths);
}

/* fc layer i's backward, part by part, as grad_tree_sum_leaves sees it. */
typedef struct fc_part_leaves {
    net *n;
    int i, B;
    const float *x;        /* [B, I] the layer's input */
    const float *douts;    /* the parts of d(output) one after another, part k [B, widths[k]] */
    float *dinput;         /* [B, I] the running sum of the parts' shares; NULL: none */
    size_t widths[OP_MAX_PARTS], firsts[OP_MAX_PARTS];
} fc_part_leaves;

/* Leaf k: part k's weight and bias gradients, and its share of d(input) in the running sum. */
static an_status fc_part_leaf(void *ctx, int k)
{
    fc_part_leaves *f = ctx;
    net *n = f->n;
    const net_layer_info *l = &n->plan.layers[f->i];
    const size_t first = f->firsts[k], in = (size_t)l->in_c;
    if (f->widths[k] == 0) /* an empty part (fewer outputs than parts): no share */
        return f->dinput ? OPS(n)->zero(n->be, f->dinput, (size_t)f->B * in * sizeof(float)) : AN_OK;
    return OPS(n)->fc_backward(n->be, f->dinput, param(n, n->grads, l->weight_view) + first * in,
                               param(n, n->grads, l->bias_view) + first, f->douts + (size_t)f->B * first, f->x,
                               param(n, n->params, l->weight_view) + first * in, f->B, l->in_c, (int)f->widths[k]);
}

static an_status fc_part_add(void *ctx, int level)
{
    fc_part_leaves *f = ctx;
    const size_t count = (size_t)f->B * (size_t)f->n->plan.layers[f->i].in_c;
    return f->dinput ? OPS(f->n)->add(f->n->be, f->dinput, f->n->fixed_scratch[2 + level], f->dinput, count) : AN_OK;
}

static an_status fc_part_store(void *ctx, int level)
{
    fc_part_leaves *f = ctx;
    const size_t count = (size_t)f->B * (size_t)f->n->plan.layers[f->i].in_c;
    return f->dinput ? OPS(f->n)->add(f->n->be, f->n->fixed_scratch[2 + level], f->dinput, NULL, count) : AN_OK;
}

/* fc layer i's weight and bias gradients and dinput [B, I] (NULL: none) from dout [B, O], part by part. */
static an_status fc_backward_parts(net *n, int i, int B, const float *dout, const float *x, float *dinput)
{
    static const grad_tree_leaf_ops leaf_ops = {fc_part_leaf, fc_part_add, fc_part_store};
    fc_part_leaves f = {.n = n, .i = i, .B = B, .x = x, .douts = n->fixed_scratch[0], .dinput = dinput};
    int parts;
    fc_parts(n, i, &parts, f.widths);
    for (int k = 0, first = 0; k < parts; first += (int)f.widths[k], k++) f.firsts[k] = (size_t)first;
    AN_TRY(OPS(n)->split_parts(n->be, n->fixed_scratch[0], dout, (size_t)B, parts, f.widths));
    return grad_tree_sum_leaves(parts, &leaf_ops, &f);
}

/* Layer i forward on a batch of B (its input's images); sets n->outputs[i]. */
static an_status layer_forward(net *n, int i, int B, uint32_t step, uint64_t seed, const uint32_t *ids)
{
    const net_plan *p = &n->plan;
    const net_layer_info *l = &p->layers[i];
    const net_layer_buffers *b = &n->bufs[i];
    const float *x = layer_input(n, i);
    const size_t count = (size_t)B * net_plan_out_floats(p, i);
    backend *be = n->be;
    n->outputs[i] = b->out;
    if (l->kind == NET_LAYER_EXCHANGE) {
        size_t rows, parts[NET_SPLIT_MAX_MEMBERS];
        exchange_parts(n, i, B, &rows, parts);
        return n->split.comm->ops->all_gather(n->split.comm, n->split.index, b->out, x, rows, parts);
    }
    if (B == 0) { /* a member without images in this pass: nothing to compute before the exchange */
        if (!b->out) n->outputs[i] = n->outputs[i - 1];
        return AN_OK;
    }
    switch (l->kind) {
    case NET_LAYER_CONV: {
        if (conv_in_halves(n, i)) return conv_forward_halves(n, i, B, x);
        conv_shape s = l->conv;
        s.batch = B;
        return OPS(n)->conv_forward(be, b->out, x, param(n, n->params, l->weight_view),
                                    param(n, n->params, l->bias_view), &s);
    }
    case NET_LAYER_RELU: /* §3.1, in place on the previous layer's own buffer */
        n->outputs[i] = n->outputs[i - 1];
        return OPS(n)->relu_forward(be, n->outputs[i], x, count);
    case NET_LAYER_TANH: /* §3.1, Figure 1: the saturating neuron, in place as relu */
        n->outputs[i] = n->outputs[i - 1];
        return OPS(n)->tanh_forward(be, n->outputs[i], x, count);
    case NET_LAYER_LRN: /* §3.3 */
        if (p->halo[i] > 0) return lrn_halo_forward(n, i, B, x);
        return OPS(n)->lrn_forward(be, b->out, n->last_train ? b->scale : NULL, x, B, l->in_c, l->in_h, l->in_w,
                                   &p->lrn);
    case NET_LAYER_MAXPOOL: { /* §3.4 */
        pool_shape s = l->pool;
        s.batch = B;
        return OPS(n)->maxpool_forward(be, b->out, b->argmax, x, &s);
    }
    case NET_LAYER_FC:
        if (n->fixed_pass_images > 0) return fc_forward_parts(n, i, B, x);
        return OPS(n)->fc_forward(be, b->out, x, param(n, n->params, l->weight_view),
                                  param(n, n->params, l->bias_view), B, l->in_c, l->out_c);
    case NET_LAYER_DROPOUT: /* §4.2; the identity at test time (inverted dropout) */
        if (!n->dropout_on) {
            n->outputs[i] = n->outputs[i - 1];
            return AN_OK;
        }
        return OPS(n)->dropout_forward(be, b->out, b->mask, x, B, l->out_c, p->cfg.dropout_rate, seed,
                                       p->specs[i].dropout_purpose, step, ids);
    case NET_LAYER_SOFTMAX:
        return OPS(n)->softmax_forward(be, b->out, x, B, l->out_c);
    case NET_LAYER_EXCHANGE:
        break; /* above */
    }
    return error_set(AN_ERR_INTERNAL, "layer %s: unknown kind", l->name);
}

/* The forward pass over n->input, set by the caller. */
static an_status forward_layers(net *n, int batch, const uint32_t *image_ids_host, uint32_t step, uint64_t seed)
{
    const net_plan *p = &n->plan;
    const uint32_t *ids = NULL;
    const int images = members_images(n, batch); /* the ids: of every member's images (net.h) */
    if (n->dropout_on) {
        const void *view;
        AN_TRY(OPS(n)->upload_view(n->be, &view, n->ids_staging, image_ids_host, (size_t)images * sizeof(uint32_t)));
        ids = view;
    }
    int B = batch;
    for (int i = 0; i < p->layer_count; i++) {
        an_status st = layer_forward(n, i, B, step, seed, ids);
        if (st != AN_OK) return error_context(st, "%s forward", p->layers[i].name);
        AN_TRY(trace(n, i, 0));
        B = layer_images(n, i, batch);
    }
    n->last_batch = B;
    n->last_own_batch = batch;
    return AN_OK;
}

/* The checks and state of a pass starting on `batch` images. */
static an_status pass_start(net *n, int batch, int train, const uint32_t *image_ids_host)
{
    const net_plan *p = &n->plan;
    const int lowest = p->split_kind == NET_SPLIT_FC_SLICES ? 0 : 1; /* a member may pass no image of its own */
    if (batch < lowest || batch > p->max_batch)
        return error_set(AN_ERR_ARG, "batch %d is outside [%d, %d] (the net's max batch)", batch, lowest,
                         p->max_batch);
    if (p->split_kind == NET_SPLIT_FC_SLICES) {
        if (batch != n->member_batches[p->split_index])
            return error_set(AN_ERR_ARG, "a pass of %d images, but net_set_member_batches gave this member %d", batch,
                             n->member_batches[p->split_index]);
        if (members_images(n, batch) < 1) return error_set(AN_ERR_ARG, "a pass of no image on any member");
    }
    if (n->fixed_pass_images > 0 && batch > n->fixed_pass_images)
        return error_set(AN_ERR_ARG, "a pass of %d images in the fixed order, whose scratch holds %d", batch,
                         n->fixed_pass_images);
    if (train && p->cfg.dropout_rate > 0.0f && !image_ids_host)
        return error_set(AN_ERR_ARG, "training with dropout needs the images' ids");
    n->last_batch = 0; /* until this pass completes */
    n->last_train = train;
    n->dropout_on = train && p->cfg.dropout_rate > 0.0f;
    return discard_activations(n);
}

an_status net_forward(net *n, const float *input_host, int batch, const uint32_t *image_ids_host,
                      uint32_t step, uint64_t seed, int train)
{
    AN_TRY(pass_start(n, batch, train, image_ids_host));
    const void *view;
    AN_TRY(OPS(n)->upload_view(n->be, &view, n->input_staging, input_host,
                               (size_t)batch * n->plan.input_floats * sizeof(float)));
    n->input = view;
    return forward_layers(n, batch, image_ids_host, step, seed);
}

/* Allocates the staging of the passes on cut views at the first one. */
static an_status crops_staging(net *n)
{
    if (n->mean_staging) return AN_OK;
    const size_t B = (size_t)n->plan.max_batch;
    for (int i = 0; i < 2; i++) {
        AN_TRY(OPS(n)->alloc(n->be, (void **)&n->images_staging[i], B * IMAGE_STORED_BYTES, "the input images"));
        AN_TRY(OPS(n)->alloc(n->be, (void **)&n->choices_staging[i], B * sizeof(crop_choice), "the crop choices"));
    }
    return OPS(n)->alloc(n->be, (void **)&n->mean_staging, IMAGE_STORED_BYTES * sizeof(float), "the mean image");
}

/* Queues the upload of a pass's images [image_count] and choices [batch] into
 * the next staging of the two (n->crops_turn); *turn says which. */
static an_status upload_images(net *n, const uint8_t *images_host, size_t image_count, const crop_choice *choices_host,
                               int batch, int *turn, const void **images, const void **choices)
{
    AN_TRY(crops_staging(n));
    *turn = n->crops_turn;
    n->crops_turn ^= 1;
    AN_TRY(OPS(n)->upload_view(n->be, images, n->images_staging[*turn], images_host,
                               image_count * IMAGE_STORED_BYTES));
    return OPS(n)->upload_view(n->be, choices, n->choices_staging[*turn], choices_host,
                               (size_t)batch * sizeof(crop_choice));
}

/* n->input = the views the backend's input op cuts (net_forward_crops,
 * net_forward_images), from what net_stage_images queued when it is this
 * pass's input (the same host memory, unchanged by contract, and sizes),
 * else from an upload queued now. Either way the staging is spent. */
static an_status crop_views(net *n, const uint8_t *images_host, int views_per_image, const float *mean_image_host,
                            const crop_choice *choices_host, int batch)
{
    if (batch == 0) { /* a member without images of its own (FC_SLICES) */
        AN_TRY(crops_staging(n));
        n->next_input.staged = 0;
        n->input = n->input_staging;
        return AN_OK;
    }
    const size_t image_count = crop_input_images(batch, views_per_image);
    int turn;
    const void *images, *mean, *choices;
    if (n->next_input.staged && n->next_input.images_host == images_host &&
        n->next_input.choices_host == choices_host && n->next_input.image_count == image_count &&
        n->next_input.batch == batch) {
        turn = n->next_input.turn;
        images = n->next_input.images;
        choices = n->next_input.choices;
        n->next_input.staged = 0;
    } else {
        n->next_input.staged = 0;
        AN_TRY(upload_images(n, images_host, image_count, choices_host, batch, &turn, &images, &choices));
    }
    AN_TRY(OPS(n)->upload_view(n->be, &mean, n->mean_staging, mean_image_host, IMAGE_STORED_BYTES * sizeof(float)));
    an_status st = OPS(n)->crop_input(n->be, n->input_staging, images, mean, choices, batch, views_per_image);
    if (st != AN_OK) return error_context(st, "the input crop");
    /* The crop is the images' and choices' only reader: their staging may be
     * refilled after it (backend.h, discard), so the next pass's upload into
     * it need not wait for this pass's other ops. */
    AN_TRY(OPS(n)->discard(n->be, n->images_staging[turn], image_count * IMAGE_STORED_BYTES));
    AN_TRY(OPS(n)->discard(n->be, n->choices_staging[turn], (size_t)batch * sizeof(crop_choice)));
    n->input = n->input_staging;
    return AN_OK;
}

/* The checks of a pass on cut views. */
static an_status crops_check(const net *n, int views_per_image)
{
    if (views_per_image < 1) return error_set(AN_ERR_ARG, "%d views per image", views_per_image);
    if (n->plan.input_floats != IMAGE_CROP_FLOATS)
        return error_set(AN_ERR_ARG, "a network input of %zu floats is not a 224x224 crop", n->plan.input_floats);
    return AN_OK;
}

an_status net_forward_crops(net *n, const uint8_t *images_host, int views_per_image, const float *mean_image_host,
                            const crop_choice *choices_host, int batch)
{
    AN_TRY(crops_check(n, views_per_image));
    AN_TRY(pass_start(n, batch, 0, NULL));
    AN_TRY(crop_views(n, images_host, views_per_image, mean_image_host, choices_host, batch));
    return forward_layers(n, batch, NULL, 0, 0);
}

an_status net_stage_images(net *n, const uint8_t *images_host, const crop_choice *choices_host, int batch)
{
    AN_TRY(crops_check(n, 1));
    if (batch < 1 || batch > n->plan.max_batch)
        return error_set(AN_ERR_ARG, "batch %d is outside [1, %d] (the net's max batch)", batch, n->plan.max_batch);
    n->next_input.staged = 0; /* until this upload is queued */
    AN_TRY(upload_images(n, images_host, (size_t)batch, choices_host, batch, &n->next_input.turn,
                         &n->next_input.images, &n->next_input.choices));
    n->next_input.images_host = images_host;
    n->next_input.choices_host = choices_host;
    n->next_input.image_count = (size_t)batch;
    n->next_input.batch = batch;
    n->next_input.staged = 1;
    return AN_OK;
}

an_status net_forward_images(net *n, const uint8_t *images_host, const float *mean_image_host,
                             const crop_choice *choices_host, int batch, const uint32_t *image_ids_host, uint32_t step,
                             uint64_t seed, int train)
{
    AN_TRY(crops_check(n, 1));
    AN_TRY(pass_start(n, batch, train, image_ids_host));
    AN_TRY(crop_views(n, images_host, 1, mean_image_host, choices_host, batch));
    return forward_layers(n, batch, image_ids_host, step, seed);
}

/* A host view of `floats` per image of the last forward's tensor. */
static an_status read_tensor(net *n, const float *tensor, size_t per_image, float **mirror, const float **out)
{
    if (n->last_batch < 1) return error_set(AN_ERR_ARG, "no forward pass has completed yet");
    const size_t bytes = (size_t)n->plan.max_batch * (size_t)n->plan.split_count * per_image * sizeof(float);
    if (!*mirror) {
        *mirror = malloc(bytes);
        AN_CHECK_ALLOC(*mirror, bytes);
    }
    const void *view;
    AN_TRY(OPS(n)->download_view(n->be, &view, *mirror, tensor, (size_t)n->last_batch * per_image * sizeof(float)));
    *out = view;
    return AN_OK;
}

an_status net_read_logits(net *n, const float **logits_host)
{
    const int last = n->plan.layer_count - 1;
    return read_tensor(n, n->outputs[last - 1], (size_t)n->plan.cfg.num_classes, &n->logits_mirror, logits_host);
}

an_status net_read_probs(net *n, const float **probs_host)
{
    const int last = n->plan.layer_count - 1;
    return read_tensor(n, n->outputs[last], (size_t)n->plan.cfg.num_classes, &n->probs_mirror, probs_host);
}

an_status net_read_fc7(net *n, const float **fc7_host)
{
    const int f = n->plan.features_layer;
    return read_tensor(n, n->outputs[f], (size_t)n->plan.layers[f].out_c, &n->fc7_mirror, fc7_host);
}

an_status net_loss(net *n, const int32_t *labels_host, int batch, double *loss)
{
    const int32_t *labels;
    AN_TRY(labels_in(n, labels_host, batch, &labels));
    return OPS(n)->softmax_loss(n->be, loss, n->outputs[n->plan.layer_count - 1], labels, batch,
                                n->plan.cfg.num_classes);
}

an_status net_topk_errors(net *n, const int32_t *labels_host, int batch, int64_t *errors1, int64_t *errors5)
{
    const int32_t *labels;
    AN_TRY(labels_in(n, labels_host, batch, &labels));
    return OPS(n)->topk_errors(n->be, errors1, errors5, n->outputs[n->plan.layer_count - 2], labels, batch,
                               n->plan.cfg.num_classes);
}

/* A member without images of its own: layer i's parameters get no gradient. */
static an_status zero_layer_grads(net *n, int i)
{
    const net_layer_info *l = &n->plan.layers[i];
    const int views[2] = {l->weight_view, l->bias_view};
    for (int k = 0; k < 2; k++)
        if (views[k] >= 0)
            AN_TRY(OPS(n)->zero(n->be, n->grads + n->plan.views[views[k]].offset,
                                n->plan.views[views[k]].count * sizeof(float)));
    return AN_OK;
}

/* Layer i backward on a batch of B (its input's images): *g holds
 * d(loss)/d(its output) and receives d(loss)/d(its input) (in place, or in
 * *other and the two swap). The first layer computes no input gradient. An
 * exchange step's backward is the reduce-scatter of its all-gather: every
 * member's partial gradient of the gathered tensor summed, this member's
 * part kept. */
static an_status layer_backward(net *n, int i, int B, float **g, float **other)
{
    const net_plan *p = &n->plan;
    const net_layer_info *l = &p->layers[i];
    const net_layer_buffers *b = &n->bufs[i];
    const float *x = layer_input(n, i), *y = n->outputs[i];
    const size_t count = (size_t)B * net_plan_out_floats(p, i);
    float *dinput = i == 0 ? NULL : *other;
    backend *be = n->be;
    an_status st = AN_OK;
    if (l->kind == NET_LAYER_EXCHANGE) {
        size_t rows, parts[NET_SPLIT_MAX_MEMBERS];
        exchange_parts(n, i, B, &rows, parts);
        st = n->split.comm->ops->reduce_scatter(n->split.comm, n->split.index, dinput, *g, rows, parts);
    } else if (B > 0 && l->kind == NET_LAYER_LRN && p->halo[i] > 0) {
        st = lrn_halo_backward(n, i, B, *g, dinput);
    } else if (B == 0) {
        st = zero_layer_grads(n, i); /* and no input gradient: there is no image */
    } else switch (l->kind) {
    case NET_LAYER_RELU:
        return OPS(n)->relu_backward(be, *g, *g, y, count);
    case NET_LAYER_TANH:
        return OPS(n)->tanh_backward(be, *g, *g, y, count);
    case NET_LAYER_DROPOUT:
        return n->dropout_on ? OPS(n)->dropout_backward(be, *g, *g, b->mask, B, l->out_c, p->cfg.dropout_rate)
                             : AN_OK;
    case NET_LAYER_CONV: {
        if (conv_in_halves(n, i)) {
            st = conv_backward_halves(n, i, B, *g, x, dinput);
            break;
        }
        conv_shape s = l->conv;
        s.batch = B;
        st = OPS(n)->conv_backward(be, dinput, param(n, n->grads, l->weight_view), param(n, n->grads, l->bias_view),
                                   *g, x, param(n, n->params, l->weight_view), &s);
        break;
    }
    case NET_LAYER_FC:
        if (n->fixed_pass_images > 0) {
            st = fc_backward_parts(n, i, B, *g, x, dinput);
            break;
        }
        st = OPS(n)->fc_backward(be, dinput, param(n, n->grads, l->weight_view), param(n, n->grads, l->bias_view), *g,
                                 x, param(n, n->params, l->weight_view), B, l->in_c, l->out_c);
        break;
    case NET_LAYER_LRN: /* towers: above */
        st = OPS(n)->lrn_backward(be, dinput, *g, x, y, b->scale, B, l->in_c, l->in_h, l->in_w, &p->lrn);
        break;
    case NET_LAYER_MAXPOOL: {
        pool_shape s = l->pool;
        s.batch = B;
        st = OPS(n)->maxpool_backward(be, dinput, *g, b->argmax, &s);
        break;
    }
    case NET_LAYER_SOFTMAX:
        return error_set(AN_ERR_INTERNAL, "the softmax is not an inner layer");
    case NET_LAYER_EXCHANGE:
        break; /* above */
    }
    if (B == 0 && (l->kind == NET_LAYER_RELU || l->kind == NET_LAYER_TANH || l->kind == NET_LAYER_DROPOUT))
        return AN_OK; /* in place: nothing swaps */
    float *t = *g;
    *g = *other;
    *other = t;
    return st;
}

/* g [batch, K] = d(loss)/d(logits). Every member of a split holds the
 * whole logits (an all-gather) and the same loss; member s writes the rows
 * [s B / N, (s+1) B / N) of the gradient and zeros elsewhere, so that the
 * reduce-scatter of the logits' exchange adds each row of one member to
 * zeros: the sum is exact and equals the whole network's. */
static an_status loss_backward(net *n, float *g, const int32_t *labels, int batch, float normalizer)
{
    const net_plan *p = &n->plan;
    const int K = p->cfg.num_classes, last = p->layer_count - 1;
    const float *probs = n->outputs[last];
    if (p->split_kind == NET_SPLIT_NONE)
        return OPS(n)->softmax_loss_backward(n->be, g, probs, labels, batch, K, normalizer);
    const int first = net_slice_begin(batch, p->split_index, p->split_count);
    const int rows = net_slice_length(batch, p->split_index, p->split_count);
    const size_t k = (size_t)K;
    if (first > 0) AN_TRY(OPS(n)->zero(n->be, g, (size_t)first * k * sizeof(float)));
    if (first + rows < batch)
        AN_TRY(OPS(n)->zero(n->be, g + (size_t)(first + rows) * k, (size_t)(batch - first - rows) * k * sizeof(float)));
    if (rows == 0) return AN_OK;
    return OPS(n)->softmax_loss_backward(n->be, g + (size_t)first * k, probs + (size_t)first * k, labels + first, rows,
                                         K, normalizer);
}

an_status net_backward(net *n, const int32_t *labels_host, int batch, float normalizer)
{
    const net_plan *p = &n->plan;
    if (!n->last_train || batch != n->last_batch)
        return error_set(AN_ERR_ARG, "net_backward of %d images needs a training forward pass of the same batch "
                         "first", batch);
    const int32_t *labels;
    AN_TRY(labels_in(n, labels_host, batch, &labels));
    const size_t grad_bytes = p->largest_pass_floats * sizeof(float);
    AN_TRY(OPS(n)->discard(n->be, n->grad_a, grad_bytes));
    AN_TRY(OPS(n)->discard(n->be, n->grad_b, grad_bytes));
    /* each view's gradient is written below; the padding between views stays zero */
    for (int v = 0; v < p->view_count; v++)
        AN_TRY(OPS(n)->discard(n->be, n->grads + p->views[v].offset, p->views[v].count * sizeof(float)));
    const int last = p->layer_count - 1;
    float *g = n->grad_a, *other = n->grad_b;
    AN_TRY(loss_backward(n, g, labels, batch, normalizer));
    AN_TRY(trace(n, last, 1));
    for (int i = last - 1; i >= 0; i--) {
        /* the images of layer i's input: this member's own before an exchange over the images */
        const int B = i == 0 ? n->last_own_batch : layer_images(n, i - 1, n->last_own_batch);
        an_status st = layer_backward(n, i, B, &g, &other);
        if (st != AN_OK) return error_context(st, "%s backward", p->layers[i].name);
        AN_TRY(trace(n, i, 1));
    }
    return AN_OK;
}

an_status net_zero_grads(net *n)
{
    return OPS(n)->zero(n->be, n->grads, n->plan.param_count * sizeof(float));
}

an_status net_update(net *n, float lr, float momentum, float weight_decay)
{
    return OPS(n)->sgd_update(n->be, n->params, n->momentum, n->update_applied, n->grads, n->plan.param_count, lr,
                              momentum, weight_decay); /* §5 */
}

an_status net_update_applied(net *n, int *applied)
{
    int32_t flag = 0;
    AN_TRY(OPS(n)->download(n->be, &flag, n->update_applied, sizeof flag));
    *applied = flag != 0;
    return AN_OK;
}
