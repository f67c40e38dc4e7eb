/* eval_forward_cuda.c: the scorer's backend on one GPU (kernels/cuda's
 * net_cuda), compiled only in builds with the CUDA backend. Each call copies
 * the views in, runs the forward pass in inference mode (train = 0: no
 * dropout, §4.2) and copies the logits [views, K] back, so the softmax
 * averaging of the ten views (§4.1) and the counting stay the host code that
 * the CPU backend uses. fp32 with deterministic algorithms, as the training
 * path. fc7 is not offered: the neighbours figure uses the CPU backend. */
#include <stdlib.h>

#include "cuda_check.h"
#include "cuda_context.h"
#include "cuda_memory.h"
#include "eval_forward.h"
#include "log.h"
#include "net_cuda.h"
#include "ten_crop.h"

typedef struct eval_cuda {
    cuda_context *ctx;
    net_cuda *net;
    int max_views, classes;
    float *logits_host; /* [max_views, K] pinned */
} eval_cuda;

static an_status run_cuda(void *ctx, const float *input, int views, const float **logits, const float **fc7)
{
    eval_cuda *g = ctx;
    if (fc7)
        return error_set(AN_ERR_UNSUPPORTED, "the CUDA scorer does not return fc7 features (the neighbours "
                                             "figure computes them on the CPU)");
    if (views < 1 || views > g->max_views)
        return error_set(AN_ERR_ARG, "%d views for a CUDA scorer holding %d", views, g->max_views);
    float *device_input = net_cuda_input(g->net); /* [views, 3, 224, 224] */
    /* From pageable memory the copy returns once `input` is staged. */
    CUDA_TRY(cudaMemcpyAsync(device_input, input, (size_t)views * IMAGE_CROP_FLOATS * sizeof(float),
                             cudaMemcpyHostToDevice, g->ctx->compute));
    AN_TRY(net_cuda_forward(g->net, device_input, views, NULL, 0, 0, 0));
    CUDA_TRY(cudaMemcpyAsync(g->logits_host, net_cuda_logits(g->net), (size_t)views * g->classes * sizeof(float),
                             cudaMemcpyDeviceToHost, g->ctx->compute));
    AN_TRY(cuda_context_sync(g->ctx));
    *logits = g->logits_host;
    return AN_OK;
}

void eval_forward_cuda_destroy(eval_forward *f)
{
    eval_cuda *g = f->run == run_cuda ? f->ctx : NULL;
    if (g) {
        cuda_free_host(g->logits_host);
        net_cuda_destroy(g->net);
        cuda_context_destroy(g->ctx);
        free(g);
    }
    *f = (eval_forward){0};
}

an_status eval_forward_cuda_create(eval_forward *f, const net *host, int max_views)
{
    *f = (eval_forward){0};
    eval_cuda *g = calloc(1, sizeof *g);
    AN_CHECK_ALLOC(g, sizeof *g);
    f->ctx = g;
    f->run = run_cuda;
    g->max_views = max_views;
    g->classes = net_get_config(host)->num_classes;
    cuda_context_options options = cuda_context_options_default();
    options.deterministic = 1;
    an_status st = AN_OK;
    AN_TRY_GOTO(st, cuda_context_create(&g->ctx, &options), done);
    AN_TRY_GOTO(st, net_cuda_create(&g->net, g->ctx, host, max_views), done);
    AN_TRY_GOTO(st, cuda_malloc_host((void **)&g->logits_host, (size_t)max_views * g->classes * sizeof(float),
                                     "the logits' host copy"), done);
    f->device = "cuda";
    f->max_views = max_views;
    f->num_classes = g->classes;
    f->fc7_features = net_fc7_features(host);
    log_info("scoring on %s (CUDA device %d)", g->ctx->device_name, g->ctx->device);
done:
    if (st != AN_OK) {
        eval_forward_cuda_destroy(f);
        return error_context(st, "preparing the CUDA scorer for %d views", max_views);
    }
    return AN_OK;
}
