/* net_pass.c: the one forward and backward sequence of the network. It walks
 * the plan (net_plan.c) layer by layer and calls the backend's table
 * (kernels/backend.h): the CPU and the GPU run this same code. */
#include <stdlib.h>

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
        const size_t out = B * net_plan_out_floats(p, i);
        if (b->out) AN_TRY(OPS(n)->discard(n->be, b->out, out * sizeof(float)));
        if (b->scale) AN_TRY(OPS(n)->discard(n->be, b->scale, out * sizeof(float)));
        if (b->argmax) AN_TRY(OPS(n)->discard(n->be, b->argmax, out * sizeof(int32_t)));
        if (b->mask) AN_TRY(OPS(n)->discard(n->be, b->mask, out));
    }
    return AN_OK;
}

/* Layer i forward on a batch of B; sets n->outputs[i]. */
static an_status layer_forward(net *n, int i, int B, uint32_t step, uint64_t seed, const uint32_t *ids)
{
    const net_plan *p = &n->plan;
    const net_layer_info *l = &p->layers[i];
    const net_layer_buffers *b = &n->bufs[i];
    const float *x = layer_input(n, i);
    const size_t count = (size_t)B * net_plan_out_floats(p, i);
    backend *be = n->be;
    n->outputs[i] = b->out;
    switch (l->kind) {
    case NET_LAYER_CONV: {
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
        return OPS(n)->lrn_forward(be, b->out, n->last_train ? b->scale : NULL, x, B, l->in_c, l->in_h, l->in_w,
                                   &p->lrn);
    case NET_LAYER_MAXPOOL: { /* §3.4 */
        pool_shape s = l->pool;
        s.batch = B;
        return OPS(n)->maxpool_forward(be, b->out, b->argmax, x, &s);
    }
    case NET_LAYER_FC:
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
    }
    return error_set(AN_ERR_INTERNAL, "layer %s: unknown kind", l->name);
}

/* The forward pass over n->input, set by the caller. */
static an_status forward_layers(net *n, int batch, const uint32_t *image_ids_host, uint32_t step, uint64_t seed)
{
    const net_plan *p = &n->plan;
    const uint32_t *ids = NULL;
    if (n->dropout_on) {
        const void *view;
        AN_TRY(OPS(n)->upload_view(n->be, &view, n->ids_staging, image_ids_host, (size_t)batch * sizeof(uint32_t)));
        ids = view;
    }
    for (int i = 0; i < p->layer_count; i++) {
        an_status st = layer_forward(n, i, batch, step, seed, ids);
        if (st != AN_OK) return error_context(st, "%s forward", p->layers[i].name);
        AN_TRY(trace(n, i, 0));
    }
    n->last_batch = batch;
    return AN_OK;
}

/* The checks and state of a pass starting on `batch` images. */
static an_status pass_start(net *n, int batch, int train, const uint32_t *image_ids_host)
{
    const net_plan *p = &n->plan;
    if (batch < 1 || batch > p->max_batch)
        return error_set(AN_ERR_ARG, "batch %d is outside [1, %d] (the net's max batch)", batch, p->max_batch);
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
    const size_t bytes = (size_t)n->plan.max_batch * per_image * sizeof(float);
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

/* Layer i backward: *g holds d(loss)/d(its output) and receives d(loss)/d(its
 * input) (in place, or in *other and the two swap). The first layer computes
 * no input gradient. */
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
    switch (l->kind) {
    case NET_LAYER_RELU:
        return OPS(n)->relu_backward(be, *g, *g, y, count);
    case NET_LAYER_TANH:
        return OPS(n)->tanh_backward(be, *g, *g, y, count);
    case NET_LAYER_DROPOUT:
        return n->dropout_on ? OPS(n)->dropout_backward(be, *g, *g, b->mask, B, l->out_c, p->cfg.dropout_rate)
                             : AN_OK;
    case NET_LAYER_CONV: {
        conv_shape s = l->conv;
        s.batch = B;
        st = OPS(n)->conv_backward(be, dinput, param(n, n->grads, l->weight_view), param(n, n->grads, l->bias_view),
                                   *g, x, param(n, n->params, l->weight_view), &s);
        break;
    }
    case NET_LAYER_FC:
        st = OPS(n)->fc_backward(be, dinput, param(n, n->grads, l->weight_view), param(n, n->grads, l->bias_view), *g,
                                 x, param(n, n->params, l->weight_view), B, l->in_c, l->out_c);
        break;
    case NET_LAYER_LRN:
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
    }
    float *t = *g;
    *g = *other;
    *other = t;
    return st;
}

an_status net_backward(net *n, const int32_t *labels_host, int batch, float normalizer)
{
    const net_plan *p = &n->plan;
    if (!n->last_train || batch != n->last_batch)
        return error_set(AN_ERR_ARG, "net_backward of %d images needs a training forward pass of the same batch "
                         "first", batch);
    const int32_t *labels;
    AN_TRY(labels_in(n, labels_host, batch, &labels));
    const size_t grad_bytes = (size_t)p->max_batch * p->largest_floats * sizeof(float);
    AN_TRY(OPS(n)->discard(n->be, n->grad_a, grad_bytes));
    AN_TRY(OPS(n)->discard(n->be, n->grad_b, grad_bytes));
    /* each view's gradient is written below; the padding between views stays zero */
    for (int v = 0; v < p->view_count; v++)
        AN_TRY(OPS(n)->discard(n->be, n->grads + p->views[v].offset, p->views[v].count * sizeof(float)));
    const int last = p->layer_count - 1;
    float *g = n->grad_a, *other = n->grad_b;
    AN_TRY(OPS(n)->softmax_loss_backward(n->be, g, n->outputs[last], labels, batch, p->cfg.num_classes, normalizer));
    AN_TRY(trace(n, last, 1));
    for (int i = last - 1; i >= 0; i--) {
        an_status st = layer_backward(n, i, batch, &g, &other);
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
