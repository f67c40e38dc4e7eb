/* net_cuda.h: the network of common/net.h on one GPU: the same layer table,
 * the same flat parameter layout (so checkpoints and the CPU net exchange
 * blocks with one copy), and the same passes as net_pass.c, op for op with
 * the twins of ops_cuda.h.
 *
 * Use:
 *   net *host;  net_create(&host, &cfg, 1); net_init_params(host, seed);   (table + weights)
 *   net_cuda *g; net_cuda_create(&g, ctx, host, 128);                       (uploads weights)
 *   per step: augment into net_cuda_input(g) (train_ops_cuda.h) or copy a batch in;
 *             net_cuda_forward(g, net_cuda_input(g), B, ids, step, seed, 1);
 *             net_cuda_loss(g, labels, B, &loss); net_cuda_backward(g, labels, B, 128);
 *             [NCCL allreduce of net_cuda_grads]; net_cuda_update(g, lr, 0.9, 0.0005);
 *   net_cuda_download(g, host) before a checkpoint; net_cuda_destroy(g).
 * Image ids and labels are HOST arrays (copied in, a few hundred bytes).
 */
#ifndef ALEXNET_NET_CUDA_H
#define ALEXNET_NET_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "cuda_context.h"
#include "net.h"
#include "status.h"

typedef struct net_cuda net_cuda;

/* Allocates every device buffer for up to max_batch images and uploads
 * host's parameters and momentum. `host` must outlive the net_cuda (its
 * table is read, its activations are not used: create it with max_batch 1). */
an_status net_cuda_create(net_cuda **out, cuda_context *ctx, const net *host, int max_batch);
void net_cuda_destroy(net_cuda *g);

/* Parameters and momentum host -> device and device -> host (checkpoints, resume). */
an_status net_cuda_upload(net_cuda *g, const net *host);
an_status net_cuda_download(const net_cuda *g, net *host);

/* Device blocks, each [net_param_count(host)] floats in the CPU's layout. */
size_t net_cuda_param_count(const net_cuda *g);
float *net_cuda_params(net_cuda *g);
float *net_cuda_grads(net_cuda *g);
float *net_cuda_momentum(net_cuda *g);

/* A device input buffer [max_batch, 3, 224, 224] owned by the net. */
float *net_cuda_input(net_cuda *g);

/* As net_forward (net.h) with `input` a device pointer [B, 3, 224, 224] that
 * must stay unchanged until net_cuda_backward when train = 1. */
an_status net_cuda_forward(net_cuda *g, const float *input, int batch, const uint32_t *image_ids,
                           uint32_t step, uint64_t seed, int train);

/* Device results of the last forward: [B, K]. */
const float *net_cuda_logits(const net_cuda *g);
const float *net_cuda_probs(const net_cuda *g);
/* Device labels [max_batch] as last copied in by net_cuda_loss / net_cuda_backward. */
const int32_t *net_cuda_labels(const net_cuda *g);

/* As net_loss and net_backward (net.h); synchronise. */
an_status net_cuda_loss(net_cuda *g, const int32_t *labels, int batch, double *loss);
an_status net_cuda_backward(net_cuda *g, const int32_t *labels, int batch, float normalizer);

/* §5 over the whole block: sgd_update_cuda(params, momentum, grads). */
an_status net_cuda_update(net_cuda *g, float lr, float momentum, float weight_decay);

#ifdef __cplusplus
}
#endif

#endif
