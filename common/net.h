/* net.h: the paper's network (§3.5, Figure 2) as a table of layers, its
 * parameters in one block with named views, initialisation (§5), and the
 * forward and backward passes on the CPU (kernels/cpu).
 *
 *   input  [B, 3, 224, 224]  mean image subtracted, byte units (§2)
 *   conv1  96 x 11x11/4 pad 2      -> [B,  96, 55, 55]  relu, lrn, maxpool 3/2 -> 27
 *   conv2 256 x  5x5    pad 2, G=2 -> [B, 256, 27, 27]  relu, lrn, maxpool 3/2 -> 13
 *   conv3 384 x  3x3    pad 1      -> [B, 384, 13, 13]  relu
 *   conv4 384 x  3x3    pad 1, G=2 -> [B, 384, 13, 13]  relu
 *   conv5 256 x  3x3    pad 1, G=2 -> [B, 256, 13, 13]  relu, maxpool 3/2 -> 6
 *   fc6  4096 -> relu, dropout;  fc7 4096 -> relu, dropout;  fc8 K classes -> softmax
 * At width 1.0 and 1000 classes: 60,965,224 parameters, 724,406,816
 * multiply-adds per image forward. A width multiplier w scales every channel
 * count and the fc widths (conv counts rounded to a multiple of 2, the number
 * of groups), keeping the structure for tests and CPU demos.
 *
 * Use:
 *   net_config cfg; net_config_default(&cfg); cfg.num_classes = 10;
 *   net *n; AN_TRY(net_create(&n, &cfg, 128));
 *   AN_TRY(net_init_params(n, seed));
 *   per step: net_forward(n, x, B, ids, step, seed, 1); net_loss(n, labels, B, &loss);
 *             net_backward(n, labels, B, 128); [allreduce net_grads()];
 *             sgd_update(net_params(n), net_momentum(n), net_grads(n), net_param_count(n), lr, ...)
 *   net_destroy(n);
 * A net is used by one thread at a time; the ops inside use OpenMP threads.
 */
#ifndef ALEXNET_NET_H
#define ALEXNET_NET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ops_cpu.h"
#include "status.h"

#define NET_INPUT_CHANNELS 3
#define NET_INPUT_SIZE 224 /* §4.1: 224x224 crops of 256x256 images; see DESIGN §3 on padding */

typedef enum net_init_scheme {
    /* §5: weights N(0, 0.01); biases 1 in conv2, conv4, conv5, fc6, fc7, else 0. At a width
     * other than 1.0 each weight's std is 0.01 * sqrt(paper fan-in / fan-in) (net_init.c), so
     * every layer's gain is the paper network's; at width 1.0 exactly §5. */
    NET_INIT_PAPER = 0,
    /* Caffe's bvlc_alexnet: as PAPER (width rule included) but fc6/fc7 weights N(0, 0.005)
     * and their biases, and those of conv2, conv4, conv5, 0.1 */
    NET_INIT_CAFFE = 1,
    /* He et al. (2015) for conv2..fc7: N(0, sqrt(2 / fan-in)); conv1 and fc8 N(0, 0.01);
     * biases 0. Not the paper's; wants a lower rate (about 0.002) */
    NET_INIT_FAN_IN = 2
} net_init_scheme;

typedef struct net_config {
    double width;                       /* channel multiplier, 1.0 = the paper; > 0 */
    int num_classes;                    /* fc8 outputs, 1000 for ILSVRC */
    lrn_alpha_convention lrn_convention; /* default LRN_ALPHA_DIVIDED_BY_N (see ops_cpu.h) */
    net_init_scheme init;               /* default NET_INIT_PAPER */
    float dropout_rate;                 /* 0.5 (§4.2); 0 disables dropout */
} net_config;

/* width 1.0, 1000 classes, α divided by n, paper init, dropout 0.5. */
void net_config_default(net_config *cfg);
/* Short names for logs and files: "divided_by_n" / "literal", "paper" / "caffe" / "fan_in";
 * and the parsers (AN_ERR_ARG on an unknown name). */
const char *lrn_convention_name(lrn_alpha_convention c);
an_status lrn_convention_parse(const char *name, lrn_alpha_convention *out);
const char *net_init_scheme_name(net_init_scheme s);
an_status net_init_scheme_parse(const char *name, net_init_scheme *out);

/* One parameter tensor inside the flat block. Names follow PyTorch:
 * "conv1.weight" [96, 3, 11, 11], "conv1.bias" [96], ..., "fc8.bias" [K]. */
typedef struct net_param_view {
    const char *name;
    size_t offset; /* in floats from the start of the block */
    size_t count;  /* product of shape */
    int ndim;      /* 1, 2 or 4 */
    int shape[4];
} net_param_view;

typedef enum net_layer_kind {
    NET_LAYER_CONV, NET_LAYER_RELU, NET_LAYER_LRN, NET_LAYER_MAXPOOL,
    NET_LAYER_FC, NET_LAYER_DROPOUT, NET_LAYER_SOFTMAX
} net_layer_kind;

/* One row of the summary. */
typedef struct net_layer_info {
    const char *name;  /* "conv1", "relu1", "norm1", "pool1", ..., "prob" */
    net_layer_kind kind;
    int out_c, out_h, out_w; /* output per image (fc: out_c features, h = w = 1) */
    size_t params;           /* parameters of this layer */
    size_t macs;             /* multiply-adds per image, forward (conv and fc only) */
} net_layer_info;

typedef struct net net;

/* Builds the layer table for cfg, checks every shape, and allocates the
 * parameter, gradient and momentum blocks and the activations for up to
 * max_batch images. Parameters are zero until net_init_params. */
an_status net_create(net **out, const net_config *cfg, int max_batch);
void net_destroy(net *n);

const net_config *net_get_config(const net *n);
int net_max_batch(const net *n);

/* The flat blocks, each [net_param_count] floats with the same layout. */
size_t net_param_count(const net *n);
float *net_params(net *n);
float *net_grads(net *n);
float *net_momentum(net *n);
const float *net_params_const(const net *n);
const float *net_momentum_const(const net *n);

/* The named views, in layer order (conv1.weight, conv1.bias, conv2.weight, ...). */
int net_param_view_count(const net *n);
const net_param_view *net_param_view_at(const net *n, int i);
/* NULL when no view has that name. */
const net_param_view *net_param_find(const net *n, const char *name);

/* The layer table (the summary's rows). */
int net_layer_count(const net *n);
const net_layer_info *net_layer_at(const net *n, int i);
size_t net_macs_per_image(const net *n);
/* Writes the summary table (layer, output shape, params, multiply-adds, totals) to out. */
an_status net_summary_print(const net *n, FILE *out);

/* The shapes the layers are computed with (batch = max batch), for other
 * backends that build the same network: conv index 0..4 (conv1..conv5),
 * pool index 0..2 (pool1, pool2, pool5). NULL for an index out of range. */
const conv_shape *net_conv_shape(const net *n, int index);
const pool_shape *net_pool_shape(const net *n, int index);
const lrn_params *net_lrn_params(const net *n);

/* Initialisation by cfg.init (§5 by default; see net_init_scheme) drawn from
 * Philox (purpose INIT, the view's index as image id, the element's block as
 * element), so the same seed gives the same weights on any machine. Zeroes
 * momentum and gradients. */
an_status net_init_params(net *n, uint64_t seed);

/* Forward pass of `batch` <= max_batch images.
 *   input     [B, 3, 224, 224]
 *   image_ids [B]   the images' ids (dropout masks; may be NULL when !train)
 *   step, seed      the dropout key (ops_cpu.h); ignored when !train
 *   train           1: dropout on and activations kept for net_backward; 0: inference
 * Results: net_logits, net_probs, net_fc7. With train = 1 the net keeps a
 * pointer to `input` (conv1's weight gradient needs it): it must stay
 * unchanged until net_backward. */
an_status net_forward(net *n, const float *input, int batch, const uint32_t *image_ids,
                      uint32_t step, uint64_t seed, int train);

/* After net_forward, valid until the next net_forward: */
const float *net_logits(const net *n); /* [B, K] fc8 outputs */
const float *net_probs(const net *n);  /* [B, K] softmax of the logits */
const float *net_fc7(const net *n);    /* [B, F7] fc7 after ReLU, before dropout (§6.1 figures) */
int net_fc7_features(const net *n);    /* F7 = 4096 at width 1.0 */

/* Mean over the batch of -log p(label) from the last forward. labels [B]. */
an_status net_loss(const net *n, const int32_t *labels, int batch, double *loss);

/* Backward pass after a net_forward(train = 1) of the same batch: OVERWRITES
 * net_grads with d(sum_b loss_b / normalizer)/dparams. normalizer is the
 * global batch size (the sum of all replicas' batches), so that summing the
 * replicas' gradients gives the batch mean of §5. labels [B]. */
an_status net_backward(net *n, const int32_t *labels, int batch, float normalizer);

#endif
