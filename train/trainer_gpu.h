/* trainer_gpu.h: the network of a training run on one GPU (--device cuda),
 * around kernels/cuda's net_cuda. Compiled only when the build has the CUDA
 * backend (ALEXNET_HAVE_CUDA).
 *
 * The loader's batches are the CPU's augmented float batches
 * [b, 3, 224, 224] (train/augment.c), copied to the device as they are: the
 * GPU trains on exactly the batches the CPU would. The host net keeps the
 * layer table, and receives the weights and momentum before every checkpoint
 * (trainer_gpu_download); the GPU keeps the live copy between checkpoints.
 */
#ifndef ALEXNET_TRAINER_GPU_H
#define ALEXNET_TRAINER_GPU_H

#include <stdint.h>

#include "net.h"
#include "status.h"

typedef struct trainer_gpu trainer_gpu;

/* Creates a context on CUDA device `device` (deterministic algorithms, fp32:
 * a resume repeats the run exactly), and the network for batches of up to
 * max_batch images with host's weights and momentum. `host` must outlive it. */
an_status trainer_gpu_create(trainer_gpu **out, const net *host, int max_batch, int device);
void trainer_gpu_destroy(trainer_gpu *g);

/* "NVIDIA H100 80GB HBM3 (device 0)" for the log. */
const char *trainer_gpu_describe(const trainer_gpu *g);

/* Uploads images [count, 3, 224, 224] (host), runs the forward pass
 * (dropout keyed by step, seed and ids when train = 1) and the loss of
 * labels [count] (host). *mean_loss is the batch's mean loss; *logits (host,
 * [count, classes]) stays valid until the next call. */
an_status trainer_gpu_forward_loss(trainer_gpu *g, const float *images, int count, const uint32_t *image_ids,
                                   const int32_t *labels, uint32_t step, uint64_t seed, int train,
                                   double *mean_loss, const float **logits);

/* Gradients of sum(loss) / normalizer of the last training forward pass. */
an_status trainer_gpu_backward(trainer_gpu *g, const int32_t *labels, int count, float normalizer);

/* Zero gradients (a rank with no image in a short last batch). */
an_status trainer_gpu_zero_grads(trainer_gpu *g);

/* Gradient block device <-> host ([net_param_count] floats), for the sum over processes. */
an_status trainer_gpu_grads_to_host(trainer_gpu *g, float *host_grads);
an_status trainer_gpu_grads_from_host(trainer_gpu *g, const float *host_grads);

/* §5 on the device. */
an_status trainer_gpu_update(trainer_gpu *g, float lr, float momentum, float weight_decay);

/* Weights and momentum device -> host (before a checkpoint, at the end). */
an_status trainer_gpu_download(trainer_gpu *g, net *host);

#endif
