/* trainer_gpu.c: the training run's network on one GPU. See trainer_gpu.h. */
#include "trainer_gpu.h"

#include <stdio.h>
#include <stdlib.h>

#include "augment.h"
#include "cuda_check.h"
#include "cuda_context.h"
#include "cuda_memory.h"
#include "net_cuda.h"

struct trainer_gpu {
    cuda_context *ctx;
    net_cuda *net;
    int max_batch;
    int classes;
    size_t param_count;
    float *logits_host; /* [max_batch, classes] pinned */
    char description[320];
};

an_status trainer_gpu_create(trainer_gpu **out, const net *host, int max_batch, int device)
{
    *out = NULL;
    trainer_gpu *g = calloc(1, sizeof *g);
    AN_CHECK_ALLOC(g, sizeof *g);
    g->max_batch = max_batch;
    g->classes = net_get_config(host)->num_classes;
    g->param_count = net_param_count(host);
    cuda_context_options options = cuda_context_options_default();
    options.device = device;
    options.deterministic = 1;
    an_status st;
    AN_TRY_GOTO(st, cuda_context_create(&g->ctx, &options), done);
    AN_TRY_GOTO(st, net_cuda_create(&g->net, g->ctx, host, max_batch), done);
    AN_TRY_GOTO(st, cuda_malloc_host((void **)&g->logits_host,
                                     (size_t)max_batch * (size_t)g->classes * sizeof(float), "the logits' host copy"),
                done);
    snprintf(g->description, sizeof g->description, "%s (device %d)", g->ctx->device_name, g->ctx->device);
    st = AN_OK;
done:
    if (st != AN_OK) {
        trainer_gpu_destroy(g);
        return error_context(st, "preparing training on CUDA device %d", device);
    }
    *out = g;
    return AN_OK;
}

void trainer_gpu_destroy(trainer_gpu *g)
{
    if (!g) return;
    cuda_free_host(g->logits_host);
    net_cuda_destroy(g->net);
    cuda_context_destroy(g->ctx);
    free(g);
}

const char *trainer_gpu_describe(const trainer_gpu *g) { return g->description; }

an_status trainer_gpu_forward_loss(trainer_gpu *g, const float *images, int count, const uint32_t *image_ids,
                                   const int32_t *labels, uint32_t step, uint64_t seed, int train,
                                   double *mean_loss, const float **logits)
{
    if (count < 1 || count > g->max_batch)
        return error_set(AN_ERR_ARG, "GPU batch of %d images, outside [1, %d]", count, g->max_batch);
    cudaStream_t compute = g->ctx->compute;
    float *input = net_cuda_input(g->net); /* [count, 3, 224, 224] */
    size_t input_bytes = (size_t)count * IMAGE_CROP_FLOATS * sizeof(float);
    /* On the compute stream, so it follows the previous step's reads of the
     * buffer; from pageable memory the call returns once `images` is staged. */
    CUDA_TRY(cudaMemcpyAsync(input, images, input_bytes, cudaMemcpyHostToDevice, compute));
    AN_TRY(net_cuda_forward(g->net, input, count, image_ids, step, seed, train));
    AN_TRY(net_cuda_loss(g->net, labels, count, mean_loss));
    size_t logit_bytes = (size_t)count * (size_t)g->classes * sizeof(float);
    CUDA_TRY(cudaMemcpyAsync(g->logits_host, net_cuda_logits(g->net), logit_bytes, cudaMemcpyDeviceToHost,
                             compute));
    CUDA_TRY(cudaStreamSynchronize(compute));
    *logits = g->logits_host;
    return AN_OK;
}

an_status trainer_gpu_backward(trainer_gpu *g, const int32_t *labels, int count, float normalizer)
{
    return net_cuda_backward(g->net, labels, count, normalizer);
}

an_status trainer_gpu_zero_grads(trainer_gpu *g)
{
    CUDA_TRY(cudaMemsetAsync(net_cuda_grads(g->net), 0, g->param_count * sizeof(float), g->ctx->compute));
    return AN_OK;
}

an_status trainer_gpu_grads_to_host(trainer_gpu *g, float *host_grads)
{
    CUDA_TRY(cudaMemcpyAsync(host_grads, net_cuda_grads(g->net), g->param_count * sizeof(float),
                             cudaMemcpyDeviceToHost, g->ctx->compute));
    CUDA_TRY(cudaStreamSynchronize(g->ctx->compute));
    return AN_OK;
}

an_status trainer_gpu_grads_from_host(trainer_gpu *g, const float *host_grads)
{
    CUDA_TRY(cudaMemcpyAsync(net_cuda_grads(g->net), host_grads, g->param_count * sizeof(float),
                             cudaMemcpyHostToDevice, g->ctx->compute));
    CUDA_TRY(cudaStreamSynchronize(g->ctx->compute));
    return AN_OK;
}

an_status trainer_gpu_update(trainer_gpu *g, float lr, float momentum, float weight_decay)
{
    return net_cuda_update(g->net, lr, momentum, weight_decay);
}

an_status trainer_gpu_download(trainer_gpu *g, net *host)
{
    return net_cuda_download(g->net, host);
}
