/* step_ops.h: the network computations of a training step and of
 * validation, on the device the run trains on: the CPU net (kernels/cpu) or,
 * in a build with the CUDA backend and --device cuda, the GPU (trainer_gpu.h).
 * The loop in trainer.c is written once over these.
 */
#ifndef ALEXNET_STEP_OPS_H
#define ALEXNET_STEP_OPS_H

#include "trainer_internal.h"

/* Images of one net pass on this rank at most: the host net's batch on the
 * CPU; on the GPU the host net only holds the table and weights (batch 1). */
int step_host_net_batch(const trainer *t, int local_batch);

/* After the host net exists: --device cuda creates the GPU's copy (one GPU
 * per process: device rank % devices). Nothing on the CPU. */
an_status step_device_open(trainer *t, int local_batch);
void step_device_close(trainer *t);

/* Forward (dropout when train = 1, keyed by the global step) and loss over
 * this rank's b->count >= 1 images; *logits: host [count, classes]. */
an_status step_forward_loss(trainer *t, const loader_batch *b, int train, double *mean_loss,
                            const float **logits);

/* Gradients of sum(loss) / b->global_count after a training forward pass. */
an_status step_backward(trainer *t, const loader_batch *b);

/* Zero gradients: this rank had no image in the step. */
an_status step_zero_grads(trainer *t);

/* Gradients summed over the processes (every rank then holds the batch mean). */
an_status step_sum_grads(trainer *t);

/* §5 with the state's learning rate, momentum and weight decay. */
an_status step_update(trainer *t);

/* The host net's weights and momentum made current (before a checkpoint). */
an_status step_sync_host(trainer *t);

#endif
