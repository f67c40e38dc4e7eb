/* net_pass.c: the forward and backward passes through the layer sequence of
 * net.h on the CPU ops (kernels/cpu). */
#include <stdlib.h>
#include <string.h>

#include "net_internal.h"
#include "philox.h"

#define W(n, id) ((n)->params + (n)->views[id].offset)
#define DW(n, id) ((n)->grads + (n)->views[id].offset)

/* Grows the shared conv workspace to what the current thread count needs. */
static an_status net_workspace_reserve(net *n)
{
    size_t need = 0;
    for (int i = 0; i < 5; i++) {
        size_t w = conv_workspace_floats(&n->conv[i], cpu_threads_get());
        need = w > need ? w : need;
    }
    if (need <= n->workspace_floats) return AN_OK;
    free(n->workspace);
    n->workspace_floats = 0;
    size_t bytes = (need * sizeof(float) + 63) / 64 * 64;
    n->workspace = aligned_alloc(64, bytes);
    AN_CHECK_ALLOC(n->workspace, bytes);
    n->workspace_floats = need;
    return AN_OK;
}

static an_status conv_fwd(net *n, int i, float *out, const float *in, int batch, int wid)
{
    conv_shape s = n->conv[i];
    s.batch = batch;
    an_status st = conv_forward_cpu(out, in, W(n, wid), W(n, wid + 1), &s, n->workspace,
                                    n->workspace_floats);
    if (st != AN_OK) return error_context(st, "conv%d forward", i + 1);
    relu_forward_cpu(out, out, (size_t)batch * s.out_channels *
                                   (size_t)conv_out_size(s.in_h, s.kernel, s.stride, s.pad) *
                                   (size_t)conv_out_size(s.in_w, s.kernel, s.stride, s.pad));
    return AN_OK;
}

static an_status pool_fwd(net *n, int i, float *out, int32_t *argmax, const float *in, int batch)
{
    pool_shape s = n->pool[i];
    s.batch = batch;
    return maxpool_forward_cpu(out, argmax, in, &s);
}

/* fc + relu + (training) dropout; returns the tensor the next layer reads. */
static const float *fc_hidden_fwd(net *n, float *h, float *d, uint8_t *mask, const float *in,
                                  int batch, int in_f, int out_f, int wid, uint32_t purpose,
                                  const uint32_t *ids, uint32_t step, uint64_t seed)
{
    fc_forward_cpu(h, in, W(n, wid), W(n, wid + 1), batch, in_f, out_f);
    relu_forward_cpu(h, h, (size_t)batch * out_f);
    if (!n->dropout_on) return h;
    dropout_forward_cpu(d, mask, h, batch, out_f, n->cfg.dropout_rate, seed, purpose, step, ids);
    return d;
}

an_status net_forward(net *n, const float *input, int batch, const uint32_t *image_ids,
                      uint32_t step, uint64_t seed, int train)
{
    if (batch < 1 || batch > n->max_batch)
        return error_set(AN_ERR_ARG, "batch %d is outside [1, %d] (the net's max batch)", batch,
                         n->max_batch);
    if (train && n->cfg.dropout_rate > 0.0f && !image_ids)
        return error_set(AN_ERR_ARG, "training with dropout needs the images' ids");
    AN_TRY(net_workspace_reserve(n));
    n->input = input;
    n->last_batch = batch;
    n->last_train = train;
    n->dropout_on = train && n->cfg.dropout_rate > 0.0f;
    const int B = batch;
    float *s1 = train ? n->s1 : NULL, *s2 = train ? n->s2 : NULL;

    AN_TRY(conv_fwd(n, 0, n->a1, input, B, NV_CONV1_W));
    lrn_forward_cpu(n->n1, s1, n->a1, B, n->c1, 55, 55, &n->lrn); /* §3.3 */
    AN_TRY(pool_fwd(n, 0, n->p1, n->m1, n->n1, B));             /* §3.4 */
    AN_TRY(conv_fwd(n, 1, n->a2, n->p1, B, NV_CONV2_W));
    lrn_forward_cpu(n->n2, s2, n->a2, B, n->c2, 27, 27, &n->lrn);
    AN_TRY(pool_fwd(n, 1, n->p2, n->m2, n->n2, B));
    AN_TRY(conv_fwd(n, 2, n->a3, n->p2, B, NV_CONV3_W));
    AN_TRY(conv_fwd(n, 3, n->a4, n->a3, B, NV_CONV4_W));
    AN_TRY(conv_fwd(n, 4, n->a5, n->a4, B, NV_CONV5_W));
    AN_TRY(pool_fwd(n, 2, n->p5, n->m5, n->a5, B));
    const float *x6 = fc_hidden_fwd(n, n->h6, n->d6, n->k6, n->p5, B, n->fc6_in, n->f6, NV_FC6_W,
                                    PHILOX_PURPOSE_DROPOUT6, image_ids, step, seed);
    const float *x7 = fc_hidden_fwd(n, n->h7, n->d7, n->k7, x6, B, n->f6, n->f7, NV_FC7_W,
                                    PHILOX_PURPOSE_DROPOUT7, image_ids, step, seed);
    fc_forward_cpu(n->logits, x7, W(n, NV_FC8_W), W(n, NV_FC8_B), B, n->f7, n->classes);
    softmax_forward_cpu(n->probs, n->logits, B, n->classes);
    return AN_OK;
}

an_status net_loss(const net *n, const int32_t *labels, int batch, double *loss)
{
    if (batch != n->last_batch)
        return error_set(AN_ERR_ARG, "loss of %d images after a forward pass of %d", batch,
                         n->last_batch);
    return softmax_loss_cpu(loss, n->probs, labels, batch, n->classes);
}

static an_status conv_bwd(net *n, int i, float *dinput, const float *doutput, const float *in,
                          int batch, int wid)
{
    conv_shape s = n->conv[i];
    s.batch = batch;
    an_status st = conv_backward_cpu(dinput, DW(n, wid), DW(n, wid + 1), doutput, in, W(n, wid),
                                     &s, n->workspace, n->workspace_floats);
    return st == AN_OK ? st : error_context(st, "conv%d backward", i + 1);
}

static an_status pool_bwd(net *n, int i, float *dinput, const float *doutput,
                          const int32_t *argmax, int batch)
{
    pool_shape s = n->pool[i];
    s.batch = batch;
    return maxpool_backward_cpu(dinput, doutput, argmax, &s);
}

/* Through dropout (in place) and relu (in place) of a hidden fc layer. */
static void fc_hidden_bwd(net *n, float *g, const float *h, const uint8_t *mask, int batch,
                          int features)
{
    if (n->dropout_on) dropout_backward_cpu(g, g, mask, batch, features, n->cfg.dropout_rate);
    relu_backward_cpu(g, g, h, (size_t)batch * features);
}

an_status net_backward(net *n, const int32_t *labels, int batch, float normalizer)
{
    if (!n->last_train || batch != n->last_batch)
        return error_set(AN_ERR_ARG, "net_backward of %d images needs a training forward pass "
                         "of the same batch first", batch);
    const int B = batch;
    float *ga = n->grad_a, *gb = n->grad_b;
    const float *x7 = n->dropout_on ? n->d7 : n->h7;
    const float *x6 = n->dropout_on ? n->d6 : n->h6;

    AN_TRY(softmax_loss_backward_cpu(ga, n->probs, labels, B, n->classes, normalizer));
    fc_backward_cpu(gb, DW(n, NV_FC8_W), DW(n, NV_FC8_B), ga, x7, W(n, NV_FC8_W), B, n->f7,
                    n->classes);
    fc_hidden_bwd(n, gb, n->h7, n->k7, B, n->f7);
    fc_backward_cpu(ga, DW(n, NV_FC7_W), DW(n, NV_FC7_B), gb, x6, W(n, NV_FC7_W), B, n->f6, n->f7);
    fc_hidden_bwd(n, ga, n->h6, n->k6, B, n->f6);
    fc_backward_cpu(gb, DW(n, NV_FC6_W), DW(n, NV_FC6_B), ga, n->p5, W(n, NV_FC6_W), B,
                    n->fc6_in, n->f6);
    AN_TRY(pool_bwd(n, 2, ga, gb, n->m5, B));
    relu_backward_cpu(ga, ga, n->a5, (size_t)B * n->c5 * 169);
    AN_TRY(conv_bwd(n, 4, gb, ga, n->a4, B, NV_CONV5_W));
    relu_backward_cpu(gb, gb, n->a4, (size_t)B * n->c4 * 169);
    AN_TRY(conv_bwd(n, 3, ga, gb, n->a3, B, NV_CONV4_W));
    relu_backward_cpu(ga, ga, n->a3, (size_t)B * n->c3 * 169);
    AN_TRY(conv_bwd(n, 2, gb, ga, n->p2, B, NV_CONV3_W));
    AN_TRY(pool_bwd(n, 1, ga, gb, n->m2, B));
    lrn_backward_cpu(gb, ga, n->a2, n->n2, n->s2, B, n->c2, 27, 27, &n->lrn);
    relu_backward_cpu(gb, gb, n->a2, (size_t)B * n->c2 * 729);
    AN_TRY(conv_bwd(n, 1, ga, gb, n->p1, B, NV_CONV2_W));
    AN_TRY(pool_bwd(n, 0, gb, ga, n->m1, B));
    lrn_backward_cpu(ga, gb, n->a1, n->n1, n->s1, B, n->c1, 55, 55, &n->lrn);
    relu_backward_cpu(ga, ga, n->a1, (size_t)B * n->c1 * 3025);
    AN_TRY(conv_bwd(n, 0, NULL, ga, n->input, B, NV_CONV1_W));
    return AN_OK;
}
