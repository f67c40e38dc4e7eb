/* net.h: the model. The paper's network (§3.5, Figure 2) is stated once, as a
 * table of layers (net_layers.c); from it and a net_config, net_plan.c
 * computes every shape, parameter view, activation and FLOP count; the one
 * forward/backward sequence (net_pass.c) walks that plan and calls a backend
 * through its table of ops (kernels/backend.h), so the CPU and the GPU run the
 * same code and differ only in their kernels.
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
 * The paper's experiments are variants of the same table (net_config; each
 * default is the paper's network, docs/experiments.md): without LRN (§3.3,
 * the norm rows dropped), plain 2x2 stride-2 pooling instead of overlapping
 * 3x3 stride 2 (§3.4, the same output sizes 27, 13, 6), one tower (§3.2:
 * groups 1 in conv2, conv4, conv5), tanh instead of ReLU (§3.1, Figure 1:
 * every relu row becomes a tanh row), and the dropout rate (§4.2).
 *
 * Use:
 *   net_config cfg; net_config_default(&cfg); cfg.num_classes = 10;
 *   net *n; AN_TRY(net_create_on(&n, &cfg, 128, be)); (a backend from backend_open,
 *                                                      kernels/backend_select.h)
 *     or    AN_TRY(net_create(&n, &cfg, 128, be));    (the net owns be)
 *   AN_TRY(net_init_params(n, seed));
 *   per step: net_forward(n, x, B, ids, step, seed, 1); net_loss(n, labels, B, &loss);
 *             net_backward(n, labels, B, 128); [sum the gradients over replicas];
 *             net_update(n, lr, 0.9f, 0.0005f);
 *   net_destroy(n);
 * Arguments named *_host and the results of net_read_* are host memory; the
 * blocks of net_params/net_grads/net_momentum are backend memory (on the CPU
 * backend, host memory: tests read them directly). A net is used by one
 * thread at a time; the backend's ops may use threads of their own.
 */
#ifndef ALEXNET_NET_H
#define ALEXNET_NET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "backend.h"
#include "communicator.h"
#include "image_geometry.h"
#include "status.h"

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

/* §3.4: which max pooling follows norm1, norm2 and conv5. */
typedef enum net_pooling {
    NET_POOL_OVERLAP = 0, /* 3x3 windows, stride 2: the paper's */
    NET_POOL_PLAIN = 1    /* 2x2 windows, stride 2: "traditional" pooling, the same output sizes */
} net_pooling;

/* §3.1: the non-linearity after every conv and hidden fc layer. */
typedef enum net_activation {
    NET_ACTIVATION_RELU = 0, /* max(0, x): the paper's */
    NET_ACTIVATION_TANH = 1  /* tanh(x): the saturating neuron of Figure 1 */
} net_activation;

/* The range of the width multiplier, the one that --width, the plan and a
 * checkpoint's config are checked against. */
#define NET_WIDTH_MIN 0.001
#define NET_WIDTH_MAX 64.0

typedef struct net_config {
    double width;                        /* channel multiplier, 1.0 = the paper; in [NET_WIDTH_MIN, NET_WIDTH_MAX] */
    int num_classes;                     /* fc8 outputs, 1000 for ILSVRC */
    int lrn;                             /* 1: LRN after relu1 and relu2 (§3.3); 0: no norm layers */
    lrn_alpha_convention lrn_convention; /* default LRN_ALPHA_DIVIDED_BY_N (op_shapes.h); unused when !lrn */
    net_init_scheme init;                /* default NET_INIT_PAPER */
    float dropout_rate;                  /* 0.5 (§4.2); 0 disables dropout */
    net_pooling pooling;                 /* default NET_POOL_OVERLAP (§3.4) */
    int towers;                          /* 2: conv2, conv4, conv5 in two groups (§3.2); 1: one group */
    net_activation activation;           /* default NET_ACTIVATION_RELU (§3.1) */
} net_config;

/* width 1.0, 1000 classes, LRN with α divided by n, paper init, dropout 0.5,
 * overlapping pooling, two towers, ReLU: the paper's network. */
void net_config_default(net_config *cfg);
/* Short names for logs and files: "divided_by_n" / "literal", "paper" / "caffe" / "fan_in";
 * and the parsers (AN_ERR_ARG on an unknown name). */
const char *lrn_convention_name(lrn_alpha_convention c);
an_status lrn_convention_parse(const char *name, lrn_alpha_convention *out);
const char *net_init_scheme_name(net_init_scheme s);
an_status net_init_scheme_parse(const char *name, net_init_scheme *out);
/* The LRN setting as one word: "divided_by_n", "literal" or "off" (cfg->lrn 0). */
const char *net_lrn_name(const net_config *cfg);
/* Sets cfg->lrn and cfg->lrn_convention from such a word. */
an_status net_lrn_parse(const char *name, net_config *cfg);
const char *net_pooling_name(net_pooling p);                 /* "overlap" / "plain" */
an_status net_pooling_parse(const char *name, net_pooling *out);
const char *net_activation_name(net_activation a);           /* "relu" / "tanh" */
an_status net_activation_parse(const char *name, net_activation *out);

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
    NET_LAYER_FC, NET_LAYER_DROPOUT, NET_LAYER_SOFTMAX, NET_LAYER_TANH,
    NET_LAYER_EXCHANGE /* a split network's all-gather (forward) and reduce-scatter (backward); net_split */
} net_layer_kind;

/* One layer of the plan: the table's row with every size worked out. */
typedef struct net_layer_info {
    const char *name;        /* "conv1", "relu1" (or "tanh1"), "norm1", "pool1", ..., "prob" */
    net_layer_kind kind;
    int in_c, in_h, in_w;    /* input per image (fc: in_c features, h = w = 1) */
    int out_c, out_h, out_w; /* output per image */
    conv_shape conv;         /* NET_LAYER_CONV; batch = the net's max batch */
    pool_shape pool;         /* NET_LAYER_MAXPOOL; batch = the net's max batch */
    int weight_view;         /* index of the weight view, -1 when the layer has none */
    int bias_view;           /* index of the bias view, -1 when none */
    size_t params;           /* parameters of this layer */
    size_t macs;             /* multiply-adds per image, forward (conv and fc only) */
} net_layer_info;

typedef struct net net;

/* Computes the plan for cfg, checks every shape, and allocates the
 * parameter, gradient and momentum blocks and the activations for up to
 * max_batch images on be, which the caller owns and which must outlive the
 * net. Parameters are zero until net_init_params. */
an_status net_create_on(net **out, const net_config *cfg, int max_batch, backend *be);
/* The same, and the net owns be: net_destroy destroys it, and so does a
 * failed creation. */
an_status net_create(net **out, const net_config *cfg, int max_batch, backend *be);
void net_destroy(net *n);

backend *net_backend(const net *n);
const net_config *net_get_config(const net *n);
int net_max_batch(const net *n);

/* The flat blocks, each [net_param_count] floats with the same layout, in
 * BACKEND memory (host memory on the CPU backend). Each parameter view
 * starts on a multiple of NET_PARAM_ALIGN_FLOATS floats (256 bytes: aligned
 * for every vector load and for cuBLAS/cuDNN); the padding between views is
 * zero in every block, belongs to no tensor and is never stored in a
 * checkpoint. So net_param_count >= net_parameters. */
#define NET_PARAM_ALIGN_FLOATS 64
size_t net_param_count(const net *n);
/* The network's parameters (60,965,224 for the paper's network, §3.5): the
 * views' counts summed, without the padding. */
size_t net_parameters(const net *n);
float *net_params(net *n);
float *net_grads(net *n);
float *net_momentum(net *n);
const float *net_params_const(const net *n);
const float *net_momentum_const(const net *n);

/* A whole block read or written from the host (checkpoints, sums over
 * processes): *host points at [net_param_count] floats holding the block,
 * valid until the next call: the block itself on the CPU backend, else a
 * host copy that the net keeps. After changing it, net_block_from_host with
 * the same pointer makes the backend's block equal (nothing to do on the CPU). */
typedef enum net_block { NET_BLOCK_PARAMS, NET_BLOCK_GRADS, NET_BLOCK_MOMENTUM } net_block;
an_status net_block_to_host(net *n, net_block which, float **host);
an_status net_block_from_host(net *n, net_block which, const float *host);

/* The named views, in layer order (conv1.weight, conv1.bias, conv2.weight, ...). */
int net_param_view_count(const net *n);
const net_param_view *net_param_view_at(const net *n, int i);
/* NULL when no view has that name. */
const net_param_view *net_param_find(const net *n, const char *name);

/* The plan's layers (the summary's rows). */
int net_layer_count(const net *n);
const net_layer_info *net_layer_at(const net *n, int i);
size_t net_macs_per_image(const net *n);
/* Writes the summary table (layer, output shape, params, multiply-adds, totals) to out. */
an_status net_summary_print(const net *n, FILE *out);
/* "60,965,224 parameters, 724,406,816 multiply-adds per image" for the programs' log (the whole network's). */
void net_describe(const net *n, char *buf, size_t size);

/* Initialisation by cfg.init (§5 by default; see net_init_scheme) drawn from
 * Philox (purpose INIT, the view's index as image id, the element's block as
 * element), so the same seed gives the same weights on any machine and any
 * backend. Zeroes momentum and gradients. */
an_status net_init_params(net *n, uint64_t seed);

/* Forward pass of `batch` <= max_batch images.
 *   input_host     [B, 3, 224, 224]
 *   image_ids_host [B]   the images' ids (dropout masks; may be NULL when !train)
 *   step, seed           the dropout key (backend.h); ignored when !train
 *   train                1: dropout on and activations kept for net_backward; 0: inference
 * With train = 1, input_host must stay unchanged until net_backward (the CPU
 * backend reads it in place for conv1's weight gradient). */
an_status net_forward(net *n, const float *input_host, int batch, const uint32_t *image_ids_host,
                      uint32_t step, uint64_t seed, int train);

/* Inference (train 0) on `batch` views cut on the backend from stored
 * images by its input op (backend_ops.def: crop_input): view b is
 * choices_host[b]'s window of image b / views_per_image, the mean image
 * subtracted (§2, §4.1). The same bits as net_forward on the views
 * kernels/cpu/crop_cpu.h cuts on the host; about 8x fewer bytes cross to a
 * GPU (uint8 images once, not float views).
 *   images_host [ceil(batch / views_per_image), 256, 256, 3] uint8 HWC
 *   mean_image_host [256, 256, 3] float, choices_host [batch] */
an_status net_forward_crops(net *n, const uint8_t *images_host, int views_per_image, const float *mean_image_host,
                            const crop_choice *choices_host, int batch);

/* A pass (train 1: dropout on, activations kept for net_backward, as
 * net_forward) on one view per stored image, cut on the backend by the same
 * input op: the trainer's, from the loader's images and augmentation
 * choices (§4.1). With train = 1 the views stay in backend memory until
 * net_backward; images_host stays unchanged until the pass's ops are done
 * (backend.h, host_alloc).
 *   images_host [batch, 256, 256, 3] uint8 HWC, mean_image_host [256, 256, 3]
 *   float, choices_host [batch], image_ids_host [batch] (dropout masks), step
 *   and seed the dropout key (backend.h) */
an_status net_forward_images(net *n, const uint8_t *images_host, const float *mean_image_host,
                             const crop_choice *choices_host, int batch, const uint32_t *image_ids_host, uint32_t step,
                             uint64_t seed, int train);

/* Queues the upload of the NEXT pass's images and choices now, into the
 * other of the net's two device copies, so that on a GPU it overlaps the
 * passes already queued (the trainer stages step n+1 before it waits for
 * step n's scores; docs/train.md). The next pass on cut views
 * (net_forward_images or net_forward_crops) uses the staged copies when its
 * images_host, choices_host and sizes are these (images [batch], choices
 * [batch]), and uploads its own otherwise; either way the staging is spent.
 * Contract: images_host and choices_host stay unchanged from this call until
 * the ops of that next pass are done (backend.h, host_alloc), whether or
 * not it uses them. Staging a batch that is then not forwarded (the run
 * stops) is harmless: its memory is free again once the backend has waited
 * for the ops queued after the staging (a read-back such as net_loss's, or
 * synchronize). On a backend whose memory is the host's nothing is
 * copied (the views are the host memory itself).
 *   images_host [batch, 256, 256, 3] uint8 HWC, choices_host [batch] */
an_status net_stage_images(net *n, const uint8_t *images_host, const crop_choice *choices_host, int batch);

/* After net_forward, host copies valid until the next forward or read of the same kind: */
an_status net_read_logits(net *n, const float **logits_host); /* [B, K] fc8 outputs */
an_status net_read_probs(net *n, const float **probs_host);   /* [B, K] softmax of the logits */
an_status net_read_fc7(net *n, const float **fc7_host);       /* [B, F7] fc7 after ReLU, before dropout (§6.1) */
int net_fc7_features(const net *n);                           /* F7 = 4096 at width 1.0 */

/* Mean over the batch of -log p(label) from the last forward (NaN when a
 * probability is NaN). labels_host [B], each in [0, K) (AN_ERR_ARG otherwise). */
an_status net_loss(net *n, const int32_t *labels_host, int batch, double *loss);
/* Top-1 and top-5 errors of the last forward's logits (backend.h's topk_errors). */
an_status net_topk_errors(net *n, const int32_t *labels_host, int batch, int64_t *errors1,
                          int64_t *errors5);

/* Backward pass after a net_forward(train = 1) of the same batch: OVERWRITES
 * the gradient block with d(sum_b loss_b / normalizer)/dparams. normalizer is
 * the global batch size (the sum of all replicas' batches), so that summing
 * the replicas' gradients gives the batch mean of §5. labels_host [B]. */
an_status net_backward(net *n, const int32_t *labels_host, int batch, float normalizer);
/* Zero gradients (a replica with no image in a short last batch). */
an_status net_zero_grads(net *n);
#define SGD_PAPER_MOMENTUM 0.9f         /* §5 */
#define SGD_PAPER_WEIGHT_DECAY 0.0005f  /* §5 */

/* §5 over the whole block: v = momentum·v − weight_decay·lr·w − lr·grad; w += v,
 * queued; skipped (weights and momentum unchanged) when a gradient is not
 * finite, which a step with a non-finite loss always has. */
an_status net_update(net *n, float lr, float momentum, float weight_decay);
/* *applied = 1 when the last net_update was made, 0 when it was skipped. Waits for it. */
an_status net_update_applied(net *n, int *applied);

/* ------------------------------------------------------------ one network split over devices
 *
 * The parallel modes of docs/train.md ("Parallel modes"): one network whose
 * layers are divided over the `count` devices of a process, each device
 * holding a member network made from the same configuration and split
 * (net_create_split). A member's plan is the table's rows with its share of
 * the outputs of the split layers, and steps of kind NET_LAYER_EXCHANGE
 * where the members' parts meet: forward an all-gather, backward the
 * matching reduce-scatter (kernels/communicator.h), called by the same one
 * sequence (net_pass.c).
 *
 *   NET_SPLIT_FC_SLICES, member s of N >= 2 ("hybrid", Krizhevsky 2014):
 *     conv1..pool5 whole, on the member's own images; pool5 all-gathered
 *     over the images; fc6, fc7 and fc8 compute outputs [s F / N, (s+1) F / N)
 *     of their F for every image, all-gathered over the features.
 *   NET_SPLIT_TOWERS, tower t of 2 (§3.2): every conv layer's kernels
 *     [t C / 2, (t+1) C / 2), every fc layer's outputs likewise; pool2,
 *     pool5, fc6, fc7 and fc8 all-gathered over the features. Needs the
 *     grouped network (cfg towers 2). Our LRN's window of 5 channels spans
 *     the towers' boundary (the paper's GPUs normalised each its own maps):
 *     a tower's LRN also reads the other tower's 4 nearest channels (a
 *     halo, all-gathered; backward, the gradient of the 2 nearest
 *     channels' outputs all-gathered, nothing reduce-scattered), so the
 *     towers compute the one network's function, on CPUs with the same
 *     bits in the LRN (net_pass.c).
 *
 * The parameter views of a member are sub-blocks of the whole network's
 * (the first rows of a tensor, outputs first): net_to_whole and
 * net_from_whole move a block between a member and the whole network's
 * layout, which is what checkpoints hold, whatever the split. */
typedef enum net_split_kind { NET_SPLIT_NONE = 0, NET_SPLIT_FC_SLICES = 1, NET_SPLIT_TOWERS = 2 } net_split_kind;
#define NET_SPLIT_MAX_MEMBERS 8

typedef struct net_split {
    net_split_kind kind;
    int index;          /* this member, 0..count-1 */
    int count;          /* members: >= 2 (FC_SLICES), 2 (TOWERS) */
    communicator *comm; /* the members' communicator (count members); not owned, outlives the net */
} net_split;

/* net_create_on for member split->index of a split network; max_batch is the
 * most images of one member's pass (FC_SLICES: of its own images; after the
 * all-gather over the images the fc layers take up to count x max_batch). */
an_status net_create_split(net **out, const net_config *cfg, int max_batch, backend *be, const net_split *split);
/* The split (kind NET_SPLIT_NONE for a whole network). */
const net_split *net_get_split(const net *n);

/* NET_SPLIT_FC_SLICES: before each pass, the images of every member's pass,
 * batches[count] (batches[index] is this member's `batch`; 0 is allowed for
 * a member without images, the others' sum >= 1). The ids of net_forward /
 * net_forward_images and the labels of net_loss, net_topk_errors and
 * net_backward are then those of every member's images in member order
 * (their sum of them), and so is the last batch: the scores are every
 * member's images. TOWERS: every member passes the same images. */
an_status net_set_member_batches(net *n, const int *batches);

/* The fixed order of --reproducible (docs/train.md, "Reproducible
 * training"). From now on n computes every conv layer of a network of two
 * towers as the towers do (§3.2: output half t from tower t's kernels, the
 * input gradient of an ungrouped layer as half 0's share + half 1's), and
 * every fc layer as its parts of GRAD_TREE_CHUNKS output parts (a member of
 * N holds 8 / N of them), each part a GEMM of its own, the parts' shares of
 * the input gradient summed in common/grad_tree.h's tree. So a whole
 * network, a member of the towers and a member of a hybrid split compute
 * every tensor with GEMMs of the same shapes on the same operands, and every
 * sum in the same order: the same bits, given a communicator that adds the
 * members' shares in that tree (communicator.h). Scratch for passes of up to
 * `pass_images` images of n's own (<= its max batch) is allocated now; 0
 * turns the order off and frees it. AN_ERR_ARG for a split over a member
 * count that does not divide GRAD_TREE_CHUNKS. */
an_status net_set_fixed_order(net *n, int pass_images);

/* Floats in a block of the whole network (net_param_count of a net without
 * split), its parameters and multiply-adds per image (net_parameters and
 * net_macs_per_image of the whole network; net_describe gives these). */
size_t net_whole_param_count(const net *n);
size_t net_whole_parameters(const net *n);
size_t net_whole_macs_per_image(const net *n);
/* whole_host [net_whole_param_count] receives this member's views at their
 * place in the whole network's block (other places untouched); a whole
 * network copies its block. */
an_status net_to_whole(net *n, net_block which, float *whole_host);
/* This member's views from a whole network's block whole_host. */
an_status net_from_whole(net *n, net_block which, const float *whole_host);

/* What one member moves and holds: its parameter floats (net_parameters),
 * and the floats its exchanges send per training step of `batch` images
 * through the process (the members' images together), as a ring
 * all-gather / reduce-scatter sends them: (N - 1) / N of each gathered
 * tensor forward and again backward. The gradient sums are the trainer's. */
size_t net_exchange_floats_per_step(const net *n, int batch);
/* The same from the plan alone (nothing allocated): member split->index of
 * cfg's network split so (split->comm may be NULL here), its parameters,
 * those of its conv layers (before the first fc layer), and its exchanges'
 * floats per step of `batch` images. */
an_status net_split_sizes(const net_config *cfg, const net_split *split, int batch, size_t *parameters,
                          size_t *conv_parameters, size_t *exchange_floats);

/* Called after each layer's ops in net_forward (backward = 0) and
 * net_backward (backward = 1), for per-layer timing (bench/cpu). NULL: none. */
typedef an_status (*net_trace_fn)(void *ctx, const net_layer_info *layer, int backward);
void net_set_trace(net *n, net_trace_fn fn, void *ctx);

#endif
