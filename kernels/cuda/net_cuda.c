/* net_cuda.c: the passes of net_pass.c on the GPU. The layer table, the
 * parameter views and the shapes come from the CPU net (net_internal.h); this
 * file owns only device buffers and the sequence of ops. See net_cuda.h. */
#include "net_cuda.h"

#include <stdlib.h>

#include "cuda_check.h"
#include "cuda_memory.h"
#include "net_internal.h"
#include "ops_cuda.h"
#include "philox.h"
#include "train_ops_cuda.h"

struct net_cuda {
    cuda_context *ctx;
    const net *host;    /* table, views, shapes */
    int max_batch;
    size_t param_count;
    float *params, *grads, *momentum; /* [param_count] each */
    int h1, q1, h2, q2;               /* spatial sizes: 55, 27, 27, 13 at 224 input */
    /* activations, per image: */
    float *input;       /* [3, 224, 224] owned input buffer */
    const float *x;     /* the input of the last training forward */
    float *a1, *n1;     /* [c1, h1, h1] conv1 + relu, lrn1 */
    float *p1;          /* [c1, q1, q1] */
    int32_t *m1;        /* [c1, q1, q1] */
    float *a2, *n2;     /* [c2, h2, h2] */
    float *p2;          /* [c2, q2, q2] */
    int32_t *m2;
    float *a3, *a4, *a5;/* [c3|c4|c5, q2, q2] */
    float *p5;          /* [fc6_in] */
    int32_t *m5;
    float *h6, *d6;     /* [f6] */
    uint8_t *k6;
    float *h7, *d7;     /* [f7] */
    uint8_t *k7;
    float *logits, *probs; /* [K] */
    float *grad_a, *grad_b;/* [largest activation] */
    uint32_t *ids;         /* [max_batch] */
    int32_t *labels;       /* [max_batch] */
    int last_batch, last_train, dropout_on;
};

#define W(g, id) ((g)->params + (g)->host->views[id].offset)
#define DW(g, id) ((g)->grads + (g)->host->views[id].offset)

static an_status alloc_floats(float **p, size_t count, const char *what)
{
    return cuda_malloc((void **)p, count * sizeof(float), what);
}

static an_status net_cuda_alloc(net_cuda *g)
{
    const net *h = g->host;
    const size_t B = (size_t)g->max_batch;
    const size_t s1 = (size_t)h->c1 * g->h1 * g->h1, t1 = (size_t)h->c1 * g->q1 * g->q1;
    const size_t s2 = (size_t)h->c2 * g->h2 * g->h2, t2 = (size_t)h->c2 * g->q2 * g->q2;
    const size_t plane = (size_t)g->q2 * g->q2;
    AN_TRY(alloc_floats(&g->params, g->param_count, "the parameters"));
    AN_TRY(alloc_floats(&g->grads, g->param_count, "the gradients"));
    AN_TRY(alloc_floats(&g->momentum, g->param_count, "the momentum"));
    AN_TRY(alloc_floats(&g->input, B * 3 * NET_INPUT_SIZE * NET_INPUT_SIZE, "the input batch"));
    AN_TRY(alloc_floats(&g->a1, B * s1, "conv1 activations"));
    AN_TRY(alloc_floats(&g->n1, B * s1, "lrn1 activations"));
    AN_TRY(alloc_floats(&g->p1, B * t1, "pool1 activations"));
    AN_TRY(cuda_malloc((void **)&g->m1, B * t1 * sizeof(int32_t), "pool1 argmax"));
    AN_TRY(alloc_floats(&g->a2, B * s2, "conv2 activations"));
    AN_TRY(alloc_floats(&g->n2, B * s2, "lrn2 activations"));
    AN_TRY(alloc_floats(&g->p2, B * t2, "pool2 activations"));
    AN_TRY(cuda_malloc((void **)&g->m2, B * t2 * sizeof(int32_t), "pool2 argmax"));
    AN_TRY(alloc_floats(&g->a3, B * h->c3 * plane, "conv3 activations"));
    AN_TRY(alloc_floats(&g->a4, B * h->c4 * plane, "conv4 activations"));
    AN_TRY(alloc_floats(&g->a5, B * h->c5 * plane, "conv5 activations"));
    AN_TRY(alloc_floats(&g->p5, B * h->fc6_in, "pool5 activations"));
    AN_TRY(cuda_malloc((void **)&g->m5, B * h->fc6_in * sizeof(int32_t), "pool5 argmax"));
    AN_TRY(alloc_floats(&g->h6, B * h->f6, "fc6 activations"));
    AN_TRY(alloc_floats(&g->d6, B * h->f6, "fc6 dropout"));
    AN_TRY(cuda_malloc((void **)&g->k6, B * h->f6, "fc6 dropout mask"));
    AN_TRY(alloc_floats(&g->h7, B * h->f7, "fc7 activations"));
    AN_TRY(alloc_floats(&g->d7, B * h->f7, "fc7 dropout"));
    AN_TRY(cuda_malloc((void **)&g->k7, B * h->f7, "fc7 dropout mask"));
    AN_TRY(alloc_floats(&g->logits, B * h->classes, "the logits"));
    AN_TRY(alloc_floats(&g->probs, B * h->classes, "the probabilities"));
    size_t largest = s1;
    size_t others[] = {s2, (size_t)h->c3 * plane, (size_t)h->c4 * plane, (size_t)h->c5 * plane,
                       (size_t)h->fc6_in, (size_t)h->f6, (size_t)h->f7, (size_t)h->classes};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
        if (others[i] > largest) largest = others[i];
    AN_TRY(alloc_floats(&g->grad_a, B * largest, "gradient buffer a"));
    AN_TRY(alloc_floats(&g->grad_b, B * largest, "gradient buffer b"));
    AN_TRY(cuda_malloc((void **)&g->ids, B * sizeof(uint32_t), "image ids"));
    AN_TRY(cuda_malloc((void **)&g->labels, B * sizeof(int32_t), "labels"));
    return AN_OK;
}

an_status net_cuda_create(net_cuda **out, cuda_context *ctx, const net *host, int max_batch)
{
    *out = NULL;
    if (max_batch < 1) return error_set(AN_ERR_ARG, "GPU batch %d must be at least 1", max_batch);
    net_cuda *g = calloc(1, sizeof *g);
    AN_CHECK_ALLOC(g, sizeof *g);
    g->ctx = ctx;
    g->host = host;
    g->max_batch = max_batch;
    g->param_count = net_param_count(host);
    const conv_shape *c = host->conv;
    g->h1 = conv_out_size(c[0].in_h, c[0].kernel, c[0].stride, c[0].pad);
    g->q1 = pool_out_size(g->h1, host->pool[0].size, host->pool[0].stride, host->pool[0].ceil_mode);
    g->h2 = conv_out_size(c[1].in_h, c[1].kernel, c[1].stride, c[1].pad);
    g->q2 = pool_out_size(g->h2, host->pool[1].size, host->pool[1].stride, host->pool[1].ceil_mode);
    an_status st = net_cuda_alloc(g);
    if (st == AN_OK) st = net_cuda_upload(g, host);
    if (st != AN_OK) {
        net_cuda_destroy(g);
        return error_context(st, "setting up the network on the GPU (batch %d)", max_batch);
    }
    *out = g;
    return AN_OK;
}

void net_cuda_destroy(net_cuda *g)
{
    if (!g) return;
    void *buffers[] = {g->params, g->grads, g->momentum, g->input, g->a1, g->n1, g->p1, g->m1, g->a2,
                       g->n2, g->p2, g->m2, g->a3, g->a4, g->a5, g->p5, g->m5, g->h6, g->d6, g->k6,
                       g->h7, g->d7, g->k7, g->logits, g->probs, g->grad_a, g->grad_b, g->ids,
                       g->labels};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++) cuda_free(buffers[i]);
    free(g);
}

an_status net_cuda_upload(net_cuda *g, const net *host)
{
    if (net_param_count(host) != g->param_count)
        return error_set(AN_ERR_ARG, "uploading %zu parameters into a GPU net of %zu",
                         net_param_count(host), g->param_count);
    size_t bytes = g->param_count * sizeof(float);
    AN_TRY(cuda_copy_to_device(g->params, net_params_const(host), bytes));
    AN_TRY(cuda_copy_to_device(g->momentum, net_momentum_const(host), bytes));
    CUDA_TRY(cudaMemset(g->grads, 0, bytes));
    return AN_OK;
}

an_status net_cuda_download(const net_cuda *g, net *host)
{
    if (net_param_count(host) != g->param_count)
        return error_set(AN_ERR_ARG, "downloading %zu parameters into a net of %zu", g->param_count,
                         net_param_count(host));
    size_t bytes = g->param_count * sizeof(float);
    CUDA_TRY(cudaStreamSynchronize(g->ctx->compute));
    AN_TRY(cuda_copy_to_host(net_params(host), g->params, bytes));
    AN_TRY(cuda_copy_to_host(net_momentum(host), g->momentum, bytes));
    return AN_OK;
}

size_t net_cuda_param_count(const net_cuda *g) { return g->param_count; }
float *net_cuda_params(net_cuda *g) { return g->params; }
float *net_cuda_grads(net_cuda *g) { return g->grads; }
float *net_cuda_momentum(net_cuda *g) { return g->momentum; }
float *net_cuda_input(net_cuda *g) { return g->input; }
const float *net_cuda_logits(const net_cuda *g) { return g->logits; }
const float *net_cuda_probs(const net_cuda *g) { return g->probs; }
const int32_t *net_cuda_labels(const net_cuda *g) { return g->labels; }

/* conv i + relu (in place). */
static an_status conv_fwd(net_cuda *g, int i, float *out, const float *in, int batch, int wid)
{
    conv_shape s = g->host->conv[i];
    s.batch = batch;
    an_status st = conv_forward_cuda(g->ctx, out, in, W(g, wid), W(g, wid + 1), &s);
    if (st != AN_OK) return error_context(st, "conv%d forward", i + 1);
    size_t n = (size_t)batch * s.out_channels * (size_t)conv_out_size(s.in_h, s.kernel, s.stride, s.pad) *
               (size_t)conv_out_size(s.in_w, s.kernel, s.stride, s.pad);
    return relu_forward_cuda(g->ctx, out, out, n);
}

static an_status pool_fwd(net_cuda *g, int i, float *out, int32_t *argmax, const float *in, int batch)
{
    pool_shape s = g->host->pool[i];
    s.batch = batch;
    return maxpool_forward_cuda(g->ctx, out, argmax, in, &s);
}

/* fc + relu + (training) dropout; *next is what the next layer reads. */
static an_status fc_hidden_fwd(net_cuda *g, const float **next, float *h, float *d, uint8_t *mask,
                               const float *in, int batch, int in_f, int out_f, int wid,
                               uint32_t purpose, uint32_t step, uint64_t seed)
{
    AN_TRY(fc_forward_cuda(g->ctx, h, in, W(g, wid), W(g, wid + 1), batch, in_f, out_f));
    AN_TRY(relu_forward_cuda(g->ctx, h, h, (size_t)batch * out_f));
    *next = h;
    if (!g->dropout_on) return AN_OK;
    AN_TRY(dropout_forward_cuda(g->ctx, d, mask, h, batch, out_f, g->host->cfg.dropout_rate, seed, purpose,
                                step, g->ids)); /* §4.2 */
    *next = d;
    return AN_OK;
}

an_status net_cuda_forward(net_cuda *g, const float *input, int batch, const uint32_t *image_ids,
                           uint32_t step, uint64_t seed, int train)
{
    const net *h = g->host;
    if (batch < 1 || batch > g->max_batch)
        return error_set(AN_ERR_ARG, "batch %d is outside [1, %d] (the GPU net's max batch)", batch,
                         g->max_batch);
    if (train && h->cfg.dropout_rate > 0.0f && !image_ids)
        return error_set(AN_ERR_ARG, "training with dropout needs the images' ids");
    g->x = input;
    g->last_batch = batch;
    g->last_train = train;
    g->dropout_on = train && h->cfg.dropout_rate > 0.0f;
    if (g->dropout_on)
        CUDA_TRY(cudaMemcpyAsync(g->ids, image_ids, (size_t)batch * sizeof(uint32_t), cudaMemcpyHostToDevice,
                                 g->ctx->compute));
    const int B = batch;
    const float *x6 = NULL, *x7 = NULL;
    AN_TRY(conv_fwd(g, 0, g->a1, input, B, NV_CONV1_W));
    AN_TRY(lrn_forward_cuda(g->ctx, g->n1, NULL, g->a1, B, h->c1, g->h1, g->h1, &h->lrn)); /* §3.3 */
    AN_TRY(pool_fwd(g, 0, g->p1, g->m1, g->n1, B));                                       /* §3.4 */
    AN_TRY(conv_fwd(g, 1, g->a2, g->p1, B, NV_CONV2_W));
    AN_TRY(lrn_forward_cuda(g->ctx, g->n2, NULL, g->a2, B, h->c2, g->h2, g->h2, &h->lrn));
    AN_TRY(pool_fwd(g, 1, g->p2, g->m2, g->n2, B));
    AN_TRY(conv_fwd(g, 2, g->a3, g->p2, B, NV_CONV3_W));
    AN_TRY(conv_fwd(g, 3, g->a4, g->a3, B, NV_CONV4_W));
    AN_TRY(conv_fwd(g, 4, g->a5, g->a4, B, NV_CONV5_W));
    AN_TRY(pool_fwd(g, 2, g->p5, g->m5, g->a5, B));
    AN_TRY(fc_hidden_fwd(g, &x6, g->h6, g->d6, g->k6, g->p5, B, h->fc6_in, h->f6, NV_FC6_W,
                         PHILOX_PURPOSE_DROPOUT6, step, seed));
    AN_TRY(fc_hidden_fwd(g, &x7, g->h7, g->d7, g->k7, x6, B, h->f6, h->f7, NV_FC7_W,
                         PHILOX_PURPOSE_DROPOUT7, step, seed));
    AN_TRY(fc_forward_cuda(g->ctx, g->logits, x7, W(g, NV_FC8_W), W(g, NV_FC8_B), B, h->f7, h->classes));
    return softmax_forward_cuda(g->ctx, g->probs, g->logits, B, h->classes);
}

static an_status labels_in(net_cuda *g, const int32_t *labels, int batch)
{
    if (batch != g->last_batch)
        return error_set(AN_ERR_ARG, "%d labels after a forward pass of %d images", batch, g->last_batch);
    CUDA_TRY(cudaMemcpyAsync(g->labels, labels, (size_t)batch * sizeof(int32_t), cudaMemcpyHostToDevice,
                             g->ctx->compute));
    return AN_OK;
}

an_status net_cuda_loss(net_cuda *g, const int32_t *labels, int batch, double *loss)
{
    AN_TRY(labels_in(g, labels, batch));
    return softmax_loss_cuda(g->ctx, loss, g->probs, g->labels, batch, g->host->classes);
}

static an_status conv_bwd(net_cuda *g, int i, float *dinput, const float *doutput, const float *in,
                          int batch, int wid)
{
    conv_shape s = g->host->conv[i];
    s.batch = batch;
    an_status st = conv_backward_cuda(g->ctx, dinput, DW(g, wid), DW(g, wid + 1), doutput, in, W(g, wid), &s);
    return st == AN_OK ? st : error_context(st, "conv%d backward", i + 1);
}

static an_status pool_bwd(net_cuda *g, int i, float *dinput, const float *doutput, const int32_t *argmax,
                          int batch)
{
    pool_shape s = g->host->pool[i];
    s.batch = batch;
    return maxpool_backward_cuda(g->ctx, dinput, doutput, argmax, &s);
}

/* Through dropout (in place) and relu (in place) of a hidden fc layer. */
static an_status fc_hidden_bwd(net_cuda *g, float *grad, const float *h, const uint8_t *mask, int batch,
                               int features)
{
    if (g->dropout_on)
        AN_TRY(dropout_backward_cuda(g->ctx, grad, grad, mask, batch, features, g->host->cfg.dropout_rate));
    return relu_backward_cuda(g->ctx, grad, grad, h, (size_t)batch * features);
}

an_status net_cuda_backward(net_cuda *g, const int32_t *labels, int batch, float normalizer)
{
    const net *h = g->host;
    if (!g->last_train || batch != g->last_batch)
        return error_set(AN_ERR_ARG, "net_cuda_backward of %d images needs a training forward pass "
                         "of the same batch first", batch);
    AN_TRY(labels_in(g, labels, batch));
    const int B = batch;
    const size_t plane2 = (size_t)g->q2 * g->q2, plane_h2 = (size_t)g->h2 * g->h2, plane_h1 = (size_t)g->h1 * g->h1;
    float *ga = g->grad_a, *gb = g->grad_b;
    const float *x7 = g->dropout_on ? g->d7 : g->h7;
    const float *x6 = g->dropout_on ? g->d6 : g->h6;
    cuda_context *ctx = g->ctx;

    AN_TRY(softmax_loss_backward_cuda(ctx, ga, g->probs, g->labels, B, h->classes, normalizer));
    AN_TRY(fc_backward_cuda(ctx, gb, DW(g, NV_FC8_W), DW(g, NV_FC8_B), ga, x7, W(g, NV_FC8_W), B, h->f7,
                            h->classes));
    AN_TRY(fc_hidden_bwd(g, gb, g->h7, g->k7, B, h->f7));
    AN_TRY(fc_backward_cuda(ctx, ga, DW(g, NV_FC7_W), DW(g, NV_FC7_B), gb, x6, W(g, NV_FC7_W), B, h->f6, h->f7));
    AN_TRY(fc_hidden_bwd(g, ga, g->h6, g->k6, B, h->f6));
    AN_TRY(fc_backward_cuda(ctx, gb, DW(g, NV_FC6_W), DW(g, NV_FC6_B), ga, g->p5, W(g, NV_FC6_W), B,
                            h->fc6_in, h->f6));
    AN_TRY(pool_bwd(g, 2, ga, gb, g->m5, B));
    AN_TRY(relu_backward_cuda(ctx, ga, ga, g->a5, (size_t)B * h->c5 * plane2));
    AN_TRY(conv_bwd(g, 4, gb, ga, g->a4, B, NV_CONV5_W));
    AN_TRY(relu_backward_cuda(ctx, gb, gb, g->a4, (size_t)B * h->c4 * plane2));
    AN_TRY(conv_bwd(g, 3, ga, gb, g->a3, B, NV_CONV4_W));
    AN_TRY(relu_backward_cuda(ctx, ga, ga, g->a3, (size_t)B * h->c3 * plane2));
    AN_TRY(conv_bwd(g, 2, gb, ga, g->p2, B, NV_CONV3_W));
    AN_TRY(pool_bwd(g, 1, ga, gb, g->m2, B));
    AN_TRY(lrn_backward_cuda(ctx, gb, ga, g->a2, g->n2, NULL, B, h->c2, g->h2, g->h2, &h->lrn));
    AN_TRY(relu_backward_cuda(ctx, gb, gb, g->a2, (size_t)B * h->c2 * plane_h2));
    AN_TRY(conv_bwd(g, 1, ga, gb, g->p1, B, NV_CONV2_W));
    AN_TRY(pool_bwd(g, 0, gb, ga, g->m1, B));
    AN_TRY(lrn_backward_cuda(ctx, ga, gb, g->a1, g->n1, NULL, B, h->c1, g->h1, g->h1, &h->lrn));
    AN_TRY(relu_backward_cuda(ctx, ga, ga, g->a1, (size_t)B * h->c1 * plane_h1));
    return conv_bwd(g, 0, NULL, ga, g->x, B, NV_CONV1_W);
}

an_status net_cuda_update(net_cuda *g, float lr, float momentum, float weight_decay)
{
    return sgd_update_cuda(g->ctx, g->params, g->momentum, g->grads, g->param_count, lr, momentum,
                           weight_decay); /* §5 */
}
