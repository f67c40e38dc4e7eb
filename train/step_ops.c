/* step_ops.c: a step's network calls on the CPU or the GPU. See step_ops.h. */
#include "step_ops.h"

#include <string.h>

#include "log.h"
#include "sgd.h"

#ifdef ALEXNET_HAVE_CUDA
#include "cuda_context.h"
#include "trainer_gpu.h"
#endif

int step_host_net_batch(const trainer *t, int local_batch)
{
    return t->opt->device == DEVICE_CUDA ? 1 : local_batch;
}

an_status step_device_open(trainer *t, int local_batch)
{
    if (t->opt->device != DEVICE_CUDA) return AN_OK;
#ifdef ALEXNET_HAVE_CUDA
    int devices = cuda_device_count();
    if (devices < 1) return error_set(AN_ERR_CUDA, "--device cuda: no usable CUDA device");
    AN_TRY(trainer_gpu_create(&t->gpu, t->n, local_batch, t->world->rank % devices));
    log_info("training on %s", trainer_gpu_describe(t->gpu)); /* other ranks log warnings only */
    return AN_OK;
#else
    (void)local_batch;
    return error_set(AN_ERR_UNSUPPORTED, "--device cuda: this build has no CUDA backend");
#endif
}

void step_device_close(trainer *t)
{
#ifdef ALEXNET_HAVE_CUDA
    trainer_gpu_destroy(t->gpu);
#endif
    t->gpu = NULL;
}

an_status step_forward_loss(trainer *t, const loader_batch *b, int train, double *mean_loss,
                            const float **logits)
{
    uint32_t step = train ? (uint32_t)t->state.global_step : 0;
#ifdef ALEXNET_HAVE_CUDA
    if (t->gpu)
        return trainer_gpu_forward_loss(t->gpu, b->images, (int)b->count, b->image_ids, b->labels, step,
                                        t->augment.seed, train, mean_loss, logits);
#endif
    AN_TRY(net_forward(t->n, b->images, (int)b->count, b->image_ids, step, t->augment.seed, train));
    AN_TRY(net_loss(t->n, b->labels, (int)b->count, mean_loss));
    *logits = net_logits(t->n);
    return AN_OK;
}

an_status step_backward(trainer *t, const loader_batch *b)
{
#ifdef ALEXNET_HAVE_CUDA
    if (t->gpu) return trainer_gpu_backward(t->gpu, b->labels, (int)b->count, (float)b->global_count);
#endif
    return net_backward(t->n, b->labels, (int)b->count, (float)b->global_count);
}

an_status step_zero_grads(trainer *t)
{
#ifdef ALEXNET_HAVE_CUDA
    if (t->gpu) return trainer_gpu_zero_grads(t->gpu);
#endif
    memset(net_grads(t->n), 0, net_param_count(t->n) * sizeof(float));
    return AN_OK;
}

an_status step_sum_grads(trainer *t)
{
    size_t count = net_param_count(t->n);
#ifdef ALEXNET_HAVE_CUDA
    if (t->gpu) {
        if (t->world->size == 1) return AN_OK;
        /* Through the host net's gradient block, unused on the GPU path. */
        AN_TRY(trainer_gpu_grads_to_host(t->gpu, net_grads(t->n)));
        AN_TRY(replicas_sum_floats(t->world, net_grads(t->n), count));
        return trainer_gpu_grads_from_host(t->gpu, net_grads(t->n));
    }
#endif
    return replicas_sum_floats(t->world, net_grads(t->n), count);
}

an_status step_update(trainer *t)
{
    float lr = (float)t->state.schedule.lr;
#ifdef ALEXNET_HAVE_CUDA
    if (t->gpu) return trainer_gpu_update(t->gpu, lr, t->state.momentum, t->state.weight_decay);
#endif
    sgd_update(net_params(t->n), net_momentum(t->n), net_grads(t->n), net_param_count(t->n), lr, t->state.momentum,
               t->state.weight_decay);
    return AN_OK;
}

an_status step_sync_host(trainer *t)
{
#ifdef ALEXNET_HAVE_CUDA
    if (t->gpu) return trainer_gpu_download(t->gpu, t->n);
#endif
    (void)t;
    return AN_OK;
}
