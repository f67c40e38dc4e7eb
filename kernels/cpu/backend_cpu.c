/* backend_cpu.c: the CPU backend: each entry of the table (kernels/backend.h)
 * is the op of the same name in ops_cpu.h. The convolution workspace belongs
 * to the instance and grows to what the largest shape needs at the current
 * thread count. */
#include "backend_cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_cpu.h"

typedef struct backend_cpu {
    backend base;            /* first: a backend_cpu * is a backend * */
    float *workspace;        /* [workspace_floats] conv scratch */
    size_t workspace_floats;
} backend_cpu;

static backend_cpu *cpu_of(backend *be) { return (backend_cpu *)be; }

static an_status cpu_alloc(backend *be, void **out, size_t bytes, const char *what)
{
    (void)be;
    size_t rounded = ((bytes ? bytes : 1) + 63) / 64 * 64;
    *out = aligned_alloc(64, rounded); /* untouched pages cost no memory until written */
    if (!*out) return error_set(AN_ERR_NOMEM, "out of memory: %zu bytes for %s", bytes, what);
    return AN_OK;
}

static void cpu_free(backend *be, void *p)
{
    (void)be;
    free(p);
}

static an_status cpu_copy(backend *be, void *dst, const void *src, size_t bytes)
{
    (void)be;
    if (dst != src && bytes) memcpy(dst, src, bytes);
    return AN_OK;
}

static an_status cpu_view(backend *be, const void **view, void *staging, const void *src, size_t bytes)
{
    (void)be, (void)staging, (void)bytes;
    *view = src;
    return AN_OK;
}

static an_status cpu_zero(backend *be, void *dst, size_t bytes)
{
    (void)be;
    memset(dst, 0, bytes);
    return AN_OK;
}

static an_status cpu_nothing(backend *be, void *p, size_t bytes)
{
    (void)be, (void)p, (void)bytes;
    return AN_OK;
}

static an_status cpu_synchronize(backend *be)
{
    (void)be;
    return AN_OK;
}

/* The workspace for shape s at the current thread count. */
static an_status workspace_for(backend_cpu *c, const conv_shape *s)
{
    size_t need = conv_workspace_floats(s, cpu_threads_get());
    if (need <= c->workspace_floats) return AN_OK;
    free(c->workspace);
    c->workspace_floats = 0;
    size_t bytes = (need * sizeof(float) + 63) / 64 * 64;
    c->workspace = aligned_alloc(64, bytes);
    if (!c->workspace) return error_set(AN_ERR_NOMEM, "out of memory: %zu bytes of convolution workspace", bytes);
    c->workspace_floats = need;
    return AN_OK;
}

static an_status cpu_conv_forward(backend *be, float *out, const float *in, const float *weight, const float *bias,
                                  const conv_shape *s)
{
    backend_cpu *c = cpu_of(be);
    AN_TRY(workspace_for(c, s));
    return conv_forward_cpu(out, in, weight, bias, s, c->workspace, c->workspace_floats);
}

static an_status cpu_conv_backward(backend *be, float *dinput, float *dweight, float *dbias, const float *doutput,
                                   const float *in, const float *weight, const conv_shape *s)
{
    backend_cpu *c = cpu_of(be);
    AN_TRY(workspace_for(c, s));
    return conv_backward_cpu(dinput, dweight, dbias, doutput, in, weight, s, c->workspace, c->workspace_floats);
}

static an_status cpu_relu_forward(backend *be, float *out, const float *in, size_t n)
{
    (void)be;
    relu_forward_cpu(out, in, n);
    return AN_OK;
}

static an_status cpu_relu_backward(backend *be, float *dinput, const float *doutput, const float *out, size_t n)
{
    (void)be;
    relu_backward_cpu(dinput, doutput, out, n);
    return AN_OK;
}

static an_status cpu_tanh_forward(backend *be, float *out, const float *in, size_t n)
{
    (void)be;
    tanh_forward_cpu(out, in, n);
    return AN_OK;
}

static an_status cpu_tanh_backward(backend *be, float *dinput, const float *doutput, const float *out, size_t n)
{
    (void)be;
    tanh_backward_cpu(dinput, doutput, out, n);
    return AN_OK;
}

static an_status cpu_lrn_forward(backend *be, float *out, float *scale, const float *in, int batch, int channels,
                                 int height, int width, const lrn_params *p)
{
    (void)be;
    lrn_forward_cpu(out, scale, in, batch, channels, height, width, p);
    return AN_OK;
}

static an_status cpu_lrn_backward(backend *be, float *dinput, const float *doutput, const float *in,
                                  const float *out, const float *scale, int batch, int channels, int height,
                                  int width, const lrn_params *p)
{
    (void)be;
    lrn_backward_cpu(dinput, doutput, in, out, scale, batch, channels, height, width, p);
    return AN_OK;
}

static an_status cpu_maxpool_forward(backend *be, float *out, int32_t *argmax, const float *in, const pool_shape *s)
{
    (void)be;
    return maxpool_forward_cpu(out, argmax, in, s);
}

static an_status cpu_maxpool_backward(backend *be, float *dinput, const float *doutput, const int32_t *argmax,
                                      const pool_shape *s)
{
    (void)be;
    return maxpool_backward_cpu(dinput, doutput, argmax, s);
}

static an_status cpu_fc_forward(backend *be, float *out, const float *in, const float *weight, const float *bias,
                                int batch, int in_features, int out_features)
{
    (void)be;
    fc_forward_cpu(out, in, weight, bias, batch, in_features, out_features);
    return AN_OK;
}

static an_status cpu_fc_backward(backend *be, float *dinput, float *dweight, float *dbias, const float *doutput,
                                 const float *in, const float *weight, int batch, int in_features, int out_features)
{
    (void)be;
    fc_backward_cpu(dinput, dweight, dbias, doutput, in, weight, batch, in_features, out_features);
    return AN_OK;
}

static an_status cpu_dropout_forward(backend *be, float *out, uint8_t *mask, const float *in, int batch,
                                     int n_per_image, float rate, uint64_t seed, uint32_t purpose, uint32_t step,
                                     const uint32_t *image_ids)
{
    (void)be;
    dropout_forward_cpu(out, mask, in, batch, n_per_image, rate, seed, purpose, step, image_ids);
    return AN_OK;
}

static an_status cpu_dropout_backward(backend *be, float *dinput, const float *doutput, const uint8_t *mask,
                                      int batch, int n_per_image, float rate)
{
    (void)be;
    dropout_backward_cpu(dinput, doutput, mask, batch, n_per_image, rate);
    return AN_OK;
}

static an_status cpu_softmax_forward(backend *be, float *probs, const float *logits, int batch, int classes)
{
    (void)be;
    softmax_forward_cpu(probs, logits, batch, classes);
    return AN_OK;
}

static an_status cpu_softmax_loss(backend *be, double *loss_host, const float *probs, const int32_t *labels,
                                  int batch, int classes)
{
    (void)be;
    return softmax_loss_cpu(loss_host, probs, labels, batch, classes);
}

static an_status cpu_softmax_loss_backward(backend *be, float *dlogits, const float *probs, const int32_t *labels,
                                           int batch, int classes, float normalizer)
{
    (void)be;
    return softmax_loss_backward_cpu(dlogits, probs, labels, batch, classes, normalizer);
}

static an_status cpu_sgd_update(backend *be, float *weights, float *velocity, const float *grads, size_t n, float lr,
                                float momentum, float weight_decay)
{
    (void)be;
    sgd_update_cpu(weights, velocity, grads, n, lr, momentum, weight_decay);
    return AN_OK;
}

static an_status cpu_topk_errors(backend *be, int64_t *errors1_host, int64_t *errors5_host, const float *scores,
                                 const int32_t *labels, int batch, int classes)
{
    (void)be;
    topk_errors_cpu(errors1_host, errors5_host, scores, labels, batch, classes);
    return AN_OK;
}

static void cpu_destroy(backend *be)
{
    backend_cpu *c = cpu_of(be);
    free(c->workspace);
    free(c);
}

/* The table, an op's forward and backward on one line. */
static const backend_ops cpu_ops = {
    .alloc = cpu_alloc, .free = cpu_free,
    .upload = cpu_copy, .download = cpu_copy,
    .upload_view = cpu_view, .download_view = cpu_view,
    .zero = cpu_zero, .discard = cpu_nothing, .synchronize = cpu_synchronize,
    .conv_forward = cpu_conv_forward, .conv_backward = cpu_conv_backward,
    .relu_forward = cpu_relu_forward, .relu_backward = cpu_relu_backward,
    .tanh_forward = cpu_tanh_forward, .tanh_backward = cpu_tanh_backward,
    .lrn_forward = cpu_lrn_forward, .lrn_backward = cpu_lrn_backward,
    .maxpool_forward = cpu_maxpool_forward, .maxpool_backward = cpu_maxpool_backward,
    .fc_forward = cpu_fc_forward, .fc_backward = cpu_fc_backward,
    .dropout_forward = cpu_dropout_forward, .dropout_backward = cpu_dropout_backward,
    .softmax_forward = cpu_softmax_forward, .softmax_loss = cpu_softmax_loss,
    .softmax_loss_backward = cpu_softmax_loss_backward,
    .sgd_update = cpu_sgd_update, .topk_errors = cpu_topk_errors,
    .destroy = cpu_destroy,
};

an_status backend_cpu_create(backend **out)
{
    *out = NULL;
    backend_cpu *c = calloc(1, sizeof *c);
    AN_CHECK_ALLOC(c, sizeof *c);
    c->base.ops = &cpu_ops;
    c->base.kind = "cpu";
    int threads = cpu_threads_get();
    snprintf(c->base.description, sizeof c->base.description, "the CPU (%d thread%s)", threads, threads == 1 ? "" : "s");
    *out = &c->base;
    return AN_OK;
}
