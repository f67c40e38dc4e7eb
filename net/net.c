/* net.c: a network in backend memory: created from its plan (net_plan.c),
 * its buffers allocated through the backend's table, the accessors, the
 * host copies of its blocks, and the printed summary. The passes are in
 * net_pass.c, the initialisation in net_init.c. */
#include <stdlib.h>
#include <string.h>

#include "grad_tree.h"
#include "net_internal.h"

static an_status be_alloc(net *n, void **out, size_t bytes, const char *what, const char *layer)
{
    char name[96];
    if (layer)
        snprintf(name, sizeof name, "%s %s", layer, what);
    else
        snprintf(name, sizeof name, "%s", what);
    return n->be->ops->alloc(n->be, out, bytes, name);
}

/* The towers' LRN layer i: its extended blocks [B, C + K, H, W], halo [B, 2K, H, W] and edge [B, K, H, W]
 * (net_internal.h, net_pass.c; K the plan's halo). */
static an_status halo_alloc(net *n, int i)
{
    const net_plan *p = &n->plan;
    const net_layer_info *l = &p->layers[i];
    net_layer_buffers *b = &n->bufs[i];
    const size_t B = (size_t)p->max_batch, hw = (size_t)l->in_h * (size_t)l->in_w;
    const size_t ext = B * (size_t)(l->in_c + p->halo[i]) * hw * sizeof(float), edge = B * (size_t)p->halo[i] * hw *
                                                                                        sizeof(float);
    AN_TRY(be_alloc(n, (void **)&b->ext_in, ext, "extended input", l->name));
    AN_TRY(be_alloc(n, (void **)&b->ext_out, ext, "extended output", l->name));
    AN_TRY(be_alloc(n, (void **)&b->d_ext_out, ext, "extended output gradient", l->name));
    AN_TRY(be_alloc(n, (void **)&b->d_ext_in, ext, "extended input gradient", l->name));
    if (n->be->keeps_lrn_scale) AN_TRY(be_alloc(n, (void **)&b->ext_scale, ext, "extended scales", l->name));
    AN_TRY(be_alloc(n, (void **)&b->halo, 2 * edge, "halo", l->name));
    return be_alloc(n, (void **)&b->edge, edge, "boundary channels", l->name);
}

static an_status net_alloc(net *n)
{
    const net_plan *p = &n->plan;
    const size_t B = (size_t)p->max_batch, block = p->param_count * sizeof(float);
    /* NULL for relu, tanh and a whole network's exchange steps (none) */
    AN_TRY(be_alloc(n, (void **)&n->params, block, "the parameters", NULL));
    AN_TRY(be_alloc(n, (void **)&n->grads, block, "the gradients", NULL));
    AN_TRY(be_alloc(n, (void **)&n->momentum, block, "the momentum", NULL));
    AN_TRY(n->be->ops->zero(n->be, n->params, block));
    AN_TRY(n->be->ops->zero(n->be, n->grads, block));
    AN_TRY(n->be->ops->zero(n->be, n->momentum, block));
    for (int i = 0; i < p->layer_count; i++) {
        const net_layer_info *l = &p->layers[i];
        net_layer_buffers *b = &n->bufs[i];
        const size_t out = B * (size_t)p->images_scale[i] * net_plan_out_floats(p, i);
        if (l->kind != NET_LAYER_RELU && l->kind != NET_LAYER_TANH) /* the activations work in place */
            AN_TRY(be_alloc(n, (void **)&b->out, out * sizeof(float), "outputs", l->name));
        /* [B, C, H, W] only where the backend keeps it (backend.h); 243 MB at batch 128, width 1 */
        if (l->kind == NET_LAYER_LRN && n->be->keeps_lrn_scale)
            AN_TRY(be_alloc(n, (void **)&b->scale, out * sizeof(float), "scales", l->name));
        if (l->kind == NET_LAYER_MAXPOOL)
            AN_TRY(be_alloc(n, (void **)&b->argmax, out * sizeof(int32_t), "argmax", l->name));
        if (l->kind == NET_LAYER_DROPOUT) AN_TRY(be_alloc(n, (void **)&b->mask, out, "mask", l->name));
        if (p->halo[i] > 0) AN_TRY(halo_alloc(n, i));
    }
    const size_t grad_bytes = p->largest_pass_floats * sizeof(float);
    AN_TRY(be_alloc(n, (void **)&n->grad_a, grad_bytes, "gradient buffer a", NULL));
    AN_TRY(be_alloc(n, (void **)&n->grad_b, grad_bytes, "gradient buffer b", NULL));
    AN_TRY(be_alloc(n, (void **)&n->input_staging, B * p->input_floats * sizeof(float), "the input batch", NULL));
    /* the ids and labels of every member's images (FC_SLICES: up to count x B) */
    const size_t images = B * (size_t)p->split_count;
    AN_TRY(be_alloc(n, (void **)&n->ids_staging, images * sizeof(uint32_t), "the image ids", NULL));
    AN_TRY(be_alloc(n, (void **)&n->labels_staging, images * sizeof(int32_t), "the labels", NULL));
    AN_TRY(be_alloc(n, (void **)&n->update_applied, sizeof(int32_t), "the update's flag", NULL));
    return AN_OK;
}

an_status net_create_on(net **out, const net_config *cfg, int max_batch, backend *be)
{
    const net_split whole = {.kind = NET_SPLIT_NONE, .index = 0, .count = 1, .comm = NULL};
    return net_create_split(out, cfg, max_batch, be, &whole);
}

an_status net_create_split(net **out, const net_config *cfg, int max_batch, backend *be, const net_split *split)
{
    *out = NULL;
    if (split->kind != NET_SPLIT_NONE && (!split->comm || split->comm->members != split->count))
        return error_set(AN_ERR_ARG, "a member of a network split over %d devices needs their communicator",
                         split->count);
    net *n = calloc(1, sizeof *n);
    AN_CHECK_ALLOC(n, sizeof *n);
    n->be = be;
    n->split = *split;
    if (split->kind == NET_SPLIT_NONE) n->split = (net_split){.kind = NET_SPLIT_NONE, .index = 0, .count = 1};
    for (int j = 0; j < NET_SPLIT_MAX_MEMBERS; j++) n->member_batches[j] = max_batch;
    an_status st;
    AN_TRY_GOTO(st, net_plan_build_split(&n->plan, cfg, max_batch, split), fail);
    AN_TRY_GOTO(st, net_alloc(n), fail);
    *out = n;
    return AN_OK;
fail:
    net_destroy(n);
    return error_context(st, "creating the network (width %g, %d classes, batch %d, on %s)", cfg->width,
                         cfg->num_classes, max_batch, be->kind);
}

an_status net_create(net **out, const net_config *cfg, int max_batch, backend *be)
{
    *out = NULL;
    an_status st = net_create_on(out, cfg, max_batch, be);
    if (st != AN_OK) {
        backend_destroy(be);
        return st;
    }
    (*out)->owns_backend = 1;
    return AN_OK;
}

void net_destroy(net *n)
{
    if (!n) return;
    backend *be = n->be;
    void (*release)(backend *, void *) = be->ops->free;
    for (int i = 0; i < NET_MAX_LAYERS; i++) {
        release(be, n->bufs[i].out);
        release(be, n->bufs[i].scale);
        release(be, n->bufs[i].argmax);
        release(be, n->bufs[i].mask);
        float *halo[] = {n->bufs[i].ext_in, n->bufs[i].ext_out, n->bufs[i].ext_scale, n->bufs[i].d_ext_out,
                         n->bufs[i].d_ext_in, n->bufs[i].halo, n->bufs[i].edge};
        for (size_t k = 0; k < sizeof halo / sizeof halo[0]; k++) release(be, halo[k]);
    }
    void *blocks[] = {n->params,         n->grads,          n->momentum,     n->grad_a,
                      n->grad_b,         n->input_staging,  n->ids_staging,  n->labels_staging,
                      n->images_staging[0], n->images_staging[1], n->mean_staging,
                      n->choices_staging[0], n->choices_staging[1], n->update_applied};
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) release(be, blocks[i]);
    for (int i = 0; i < NET_FIXED_SCRATCH; i++) release(be, n->fixed_scratch[i]);
    for (int i = 0; i < 3; i++) free(n->block_mirror[i]);
    free(n->logits_mirror);
    free(n->probs_mirror);
    free(n->fc7_mirror);
    if (n->owns_backend) backend_destroy(be);
    free(n);
}

backend *net_backend(const net *n) { return n->be; }
const net_config *net_get_config(const net *n) { return &n->plan.cfg; }
int net_max_batch(const net *n) { return n->plan.max_batch; }
size_t net_param_count(const net *n) { return n->plan.param_count; }
size_t net_parameters(const net *n) { return n->plan.parameters; }
float *net_params(net *n) { return n->params; }
float *net_grads(net *n) { return n->grads; }
float *net_momentum(net *n) { return n->momentum; }
const float *net_params_const(const net *n) { return n->params; }
const float *net_momentum_const(const net *n) { return n->momentum; }
int net_param_view_count(const net *n) { return n->plan.view_count; }
int net_layer_count(const net *n) { return n->plan.layer_count; }
int net_fc7_features(const net *n) { return n->plan.layers[n->plan.features_layer].out_c; }
const net_split *net_get_split(const net *n) { return &n->split; }
size_t net_whole_param_count(const net *n) { return n->plan.whole_param_count; }
size_t net_whole_parameters(const net *n) { return n->plan.whole_parameters; }
size_t net_whole_macs_per_image(const net *n) { return n->plan.whole_macs; }

an_status net_set_fixed_order(net *n, int pass_images)
{
    const net_plan *p = &n->plan;
    for (int i = 0; i < NET_FIXED_SCRATCH; i++) {
        n->be->ops->free(n->be, n->fixed_scratch[i]);
        n->fixed_scratch[i] = NULL;
    }
    n->fixed_pass_images = 0;
    n->fixed_scratch_floats = 0;
    if (pass_images == 0) return AN_OK;
    if (pass_images < 0 || pass_images > p->max_batch)
        return error_set(AN_ERR_ARG, "fixed-order passes of %d images, outside [1, %d] (the net's max batch)",
                         pass_images, p->max_batch);
    if (GRAD_TREE_CHUNKS % p->split_count != 0)
        return error_set(AN_ERR_ARG, "the fixed order cuts each fc layer into %d parts, which %d devices cannot share "
                         "equally: use 1, 2, 4 or 8", GRAD_TREE_CHUNKS, p->split_count);
    /* the largest tensor of a pass (largest_pass_floats is that of max_batch images), for pass_images */
    n->fixed_scratch_floats = p->largest_pass_floats / (size_t)p->max_batch * (size_t)pass_images;
    for (int i = 0; i < NET_FIXED_SCRATCH; i++)
        AN_TRY(be_alloc(n, (void **)&n->fixed_scratch[i], n->fixed_scratch_floats * sizeof(float),
                        "fixed-order scratch", NULL));
    n->fixed_pass_images = pass_images;
    return AN_OK;
}

an_status net_set_member_batches(net *n, const int *batches)
{
    if (n->plan.split_kind != NET_SPLIT_FC_SLICES) return AN_OK; /* towers: every member passes the same images */
    int total = 0;
    for (int j = 0; j < n->plan.split_count; j++) {
        if (batches[j] < 0 || batches[j] > n->plan.max_batch)
            return error_set(AN_ERR_ARG, "member %d passes %d images, outside [0, %d]", j, batches[j],
                             n->plan.max_batch);
        total += batches[j];
    }
    if (total < 1) return error_set(AN_ERR_ARG, "a pass of no image on any member");
    for (int j = 0; j < n->plan.split_count; j++) n->member_batches[j] = batches[j];
    return AN_OK;
}

static size_t plan_exchange_floats(const net_plan *p, int batch)
{
    const size_t N = (size_t)p->split_count;
    size_t floats = 0;
    for (int i = 0; i < p->layer_count; i++) {
        if (p->halo[i] > 0) { /* towers' LRN: both towers' halo of boundary channels gathered forward, and
                               * the nearest h of d(output) backward (net_pass.c) */
            const net_layer_info *l = &p->layers[i];
            const size_t hw = (size_t)l->in_h * (size_t)l->in_w;
            const size_t forward = (size_t)batch * 2 * (size_t)p->halo[i] * hw,
                         backward = (size_t)batch * 2 * (size_t)net_plan_halo_near(p, i) * hw;
            floats += (forward + backward) * (N - 1) / N;
        }
        if (p->layers[i].kind != NET_LAYER_EXCHANGE) continue;
        /* the gathered tensor of the whole batch; a ring sends (N - 1) / N of it forward and backward */
        const size_t gathered = (size_t)batch * net_plan_out_floats(p, i);
        floats += 2 * gathered * (N - 1) / N;
    }
    return floats;
}

size_t net_exchange_floats_per_step(const net *n, int batch)
{
    return plan_exchange_floats(&n->plan, batch);
}

an_status net_split_sizes(const net_config *cfg, const net_split *split, int batch, size_t *parameters,
                          size_t *conv_parameters, size_t *exchange_floats)
{
    net_plan *p = malloc(sizeof *p);
    AN_CHECK_ALLOC(p, sizeof *p);
    an_status st = net_plan_build_split(p, cfg, 1, split);
    if (st == AN_OK) {
        *parameters = p->parameters;
        *conv_parameters = 0;
        for (int i = 0; i < p->layer_count && p->layers[i].kind != NET_LAYER_FC; i++) *conv_parameters += p->layers[i].params;
        *exchange_floats = plan_exchange_floats(p, batch);
    }
    free(p);
    return st;
}

an_status net_to_whole(net *n, net_block which, float *whole_host)
{
    float *block; /* [param_count] host */
    AN_TRY(net_block_to_host(n, which, &block));
    for (int v = 0; v < n->plan.view_count; v++)
        memcpy(whole_host + n->plan.whole_offset[v], block + n->plan.views[v].offset,
               n->plan.views[v].count * sizeof(float));
    return AN_OK;
}

an_status net_from_whole(net *n, net_block which, const float *whole_host)
{
    float *block; /* [param_count] host: the padding between views stays as it is, zero */
    AN_TRY(net_block_to_host(n, which, &block));
    for (int v = 0; v < n->plan.view_count; v++)
        memcpy(block + n->plan.views[v].offset, whole_host + n->plan.whole_offset[v],
               n->plan.views[v].count * sizeof(float));
    return net_block_from_host(n, which, block);
}

void net_set_trace(net *n, net_trace_fn fn, void *ctx)
{
    n->trace = fn;
    n->trace_ctx = ctx;
}

const net_param_view *net_param_view_at(const net *n, int i)
{
    return i >= 0 && i < n->plan.view_count ? &n->plan.views[i] : NULL;
}

const net_param_view *net_param_find(const net *n, const char *name)
{
    for (int i = 0; i < n->plan.view_count; i++)
        if (strcmp(n->plan.views[i].name, name) == 0) return &n->plan.views[i];
    return NULL;
}

const net_layer_info *net_layer_at(const net *n, int i)
{
    return i >= 0 && i < n->plan.layer_count ? &n->plan.layers[i] : NULL;
}

size_t net_macs_per_image(const net *n)
{
    size_t total = 0;
    for (int i = 0; i < n->plan.layer_count; i++) total += n->plan.layers[i].macs;
    return total;
}

static float *block_of(net *n, net_block which)
{
    return which == NET_BLOCK_PARAMS ? n->params : which == NET_BLOCK_GRADS ? n->grads : n->momentum;
}

an_status net_block_to_host(net *n, net_block which, float **host)
{
    const size_t bytes = n->plan.param_count * sizeof(float);
    float **mirror = &n->block_mirror[which];
    if (!*mirror) {
        *mirror = malloc(bytes); /* pages stay untouched where the backend's memory is the host's */
        AN_CHECK_ALLOC(*mirror, bytes);
    }
    const void *view;
    AN_TRY(n->be->ops->download_view(n->be, &view, *mirror, block_of(n, which), bytes));
    *host = (float *)view; /* the block itself, or the mirror: both the net's own */
    return AN_OK;
}

an_status net_block_from_host(net *n, net_block which, const float *host)
{
    float *block = block_of(n, which);
    if (host == block) return AN_OK;
    return n->be->ops->upload(n->be, block, host, n->plan.param_count * sizeof(float));
}

/* "%'zu" without the locale: 60965224 -> "60,965,224". */
static void with_commas(size_t v, char *buf, size_t size)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%zu", v), j = 0;
    for (int i = 0; i < len && (size_t)j + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0) buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = '\0';
}

void net_describe(const net *n, char *buf, size_t size)
{
    char params[40], macs[40];
    with_commas(n->plan.whole_parameters, params, sizeof params); /* a split network's member: the whole one's */
    with_commas(n->plan.whole_macs, macs, sizeof macs);
    snprintf(buf, size, "%s parameters, %s multiply-adds per image", params, macs);
}

an_status net_summary_print(const net *n, FILE *out)
{
    int ok = fprintf(out, "%-6s %-16s %12s %14s\n", "layer", "output", "params", "mult-adds") > 0;
    for (int i = 0; i < n->plan.layer_count && ok; i++) {
        const net_layer_info *l = &n->plan.layers[i];
        char shape[32];
        if (l->out_h == 1 && l->out_w == 1 && l->kind != NET_LAYER_CONV)
            snprintf(shape, sizeof shape, "%d", l->out_c);
        else
            snprintf(shape, sizeof shape, "%dx%dx%d", l->out_c, l->out_h, l->out_w);
        ok = fprintf(out, "%-6s %-16s %12zu %14zu\n", l->name, shape, l->params, l->macs) > 0;
    }
    if (ok)
        ok = fprintf(out, "%-6s %-16s %12zu %14zu\n", "total", "", n->plan.parameters, net_macs_per_image(n)) > 0;
    if (!ok) return error_set(AN_ERR_IO, "cannot write the network summary");
    return AN_OK;
}
