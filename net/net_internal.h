/* net_internal.h: what the files of net/ share behind the opaque `net` of
 * net.h: the layer table's row type (net_layers.c), the plan computed from
 * it (net_plan.c), and the net itself (net.c) with its buffers in backend
 * memory. Not for other modules: they use net.h.
 */
#ifndef ALEXNET_NET_INTERNAL_H
#define ALEXNET_NET_INTERNAL_H

#include "net.h"

/* One row of the network as the paper states it (§3.5, Figure 2), at width
 * 1.0. Every size is derived from these rows (net_plan.c). */
typedef struct net_layer_spec {
    const char *name;         /* "conv1"; parameters are named "<name>.weight", "<name>.bias" */
    net_layer_kind kind;
    int outputs;              /* conv: channels, fc: features, at width 1.0; 0 for the classifier: K */
    int kernel, stride, pad;  /* conv; maxpool uses kernel (z) and stride (s) */
    int groups;               /* conv: 2 where the two towers stay apart (§3.2), else 1 */
    int bias_one;             /* §5: bias initialised to 1 (conv2, conv4, conv5, fc6, fc7) */
    uint32_t dropout_purpose; /* dropout: the Philox purpose of its masks (common/philox.h) */
    int features;             /* 1 on the layer whose output is "fc7 features" (§6.1) */
} net_layer_spec;

/* The paper's network, in order, ending with the softmax; *count rows. */
const net_layer_spec *net_paper_layers(int *count);

/* The rows of cfg's variant of the paper's network (net.h's net_config):
 * without the norm rows (lrn 0), with 2x2 pool rows (NET_POOL_PLAIN), groups
 * 1 (towers 1), tanh rows named "tanhN" for the relu rows (NET_ACTIVATION_TANH).
 * rows [NET_MAX_LAYERS], names [NET_MAX_LAYERS][16] (the rows' names point
 * into them); *count rows. */
#define NET_LAYER_NAME_MAX 16
an_status net_variant_layers(const net_config *cfg, net_layer_spec *rows, char (*names)[NET_LAYER_NAME_MAX],
                             int *count);

#define NET_MAX_LAYERS 32
#define NET_FIXED_SCRATCH 5 /* the fixed order's scratch blocks (struct net) */
#define NET_MAX_VIEWS 32

/* An exchange step of a split network (net.h, net_split): what is gathered
 * forward (an all-gather) and reduce-scattered backward. */
typedef struct net_exchange {
    int over_images;    /* 1: the members' images (each member's part is its images, whole per image);
                         * 0: the members' features of every image */
    size_t part_floats[NET_SPLIT_MAX_MEMBERS]; /* over features: member j's floats per image */
} net_exchange;

/* Everything computed from the table and a configuration; no memory. */
typedef struct net_plan {
    net_config cfg;
    int max_batch;
    lrn_params lrn;
    int layer_count;
    net_layer_spec specs[NET_MAX_LAYERS];          /* the table's rows for cfg (net_variant_layers) */
    char layer_names[NET_MAX_LAYERS][NET_LAYER_NAME_MAX]; /* specs[i].name points here */
    net_layer_info layers[NET_MAX_LAYERS];
    int view_count;
    net_param_view views[NET_MAX_VIEWS];
    char view_names[NET_MAX_VIEWS][32];
    size_t param_count;      /* floats in each flat block: the views and the padding between them */
    size_t parameters;       /* the network's parameters: the views' counts summed (no padding) */
    size_t input_floats;     /* per image: 3 x 224 x 224 */
    size_t largest_floats;   /* per image: the largest of the input and every layer's output */
    int features_layer;      /* index of the layer with spec->features */

    /* A member of a split network (net.h, net_split); kind NET_SPLIT_NONE for the whole network. */
    net_split_kind split_kind;
    int split_index, split_count;
    int images_scale[NET_MAX_LAYERS];   /* layer i's output holds up to max_batch x this images: split_count
                                         * after an exchange over the images, else 1 */
    net_exchange exchanges[NET_MAX_LAYERS]; /* for the NET_LAYER_EXCHANGE layers */
    int halo[NET_MAX_LAYERS];           /* towers: the other tower's channels LRN layer i reads next to the
                                         * boundary, min(2h, its channels) for the window's half h = n / 2
                                         * (§3.3; net_pass.c, net_plan_halo_near); 0 elsewhere */
    int whole_out_c[NET_MAX_LAYERS];    /* fc layer i's outputs in the whole network */
    size_t whole_offset[NET_MAX_VIEWS]; /* view v's place in the whole network's block */
    size_t whole_param_count;           /* floats in a block of the whole network */
    size_t whole_parameters;            /* the whole network's parameters (net_parameters of it) */
    size_t whole_macs;                  /* the whole network's multiply-adds per image */
    size_t largest_pass_floats;         /* the largest of max_batch x images_scale x a layer's output (or the
                                         * input): the size of each ping-pong gradient buffer */
} net_plan;

/* Works out every shape of cfg's network for batches up to max_batch;
 * AN_ERR_ARG for a configuration out of range or sizes that do not chain. */
an_status net_plan_build(net_plan *plan, const net_config *cfg, int max_batch);
/* The plan of member split->index of split->count (net.h); NET_SPLIT_NONE is net_plan_build. */
an_status net_plan_build_split(net_plan *plan, const net_config *cfg, int max_batch, const net_split *split);

/* The outputs [slice_begin, slice_begin + slice_length) of `whole` that member j of `count` computes. */
static inline int net_slice_begin(int whole, int j, int count) { return (int)((long)whole * j / count); }
static inline int net_slice_length(int whole, int j, int count)
{
    return net_slice_begin(whole, j + 1, count) - net_slice_begin(whole, j, count);
}

/* Floats per image of layer i's output. */
static inline size_t net_plan_out_floats(const net_plan *plan, int i)
{
    const net_layer_info *l = &plan->layers[i];
    return (size_t)l->out_c * (size_t)l->out_h * (size_t)l->out_w;
}

/* Towers: of LRN layer i's halo of K channels (plan halo), the h = min(n / 2, K) nearest the boundary,
 * those in the windows of the tower's own channels: their d(output) is exchanged backward (net_pass.c). */
static inline int net_plan_halo_near(const net_plan *plan, int i)
{
    return plan->lrn.n / 2 < plan->halo[i] ? plan->lrn.n / 2 : plan->halo[i];
}

/* What one layer keeps in backend memory, each for max_batch images. */
typedef struct net_layer_buffers {
    float *out;      /* [B, out_c, out_h, out_w]; NULL for relu and tanh (in place on their input) */
    float *scale;    /* lrn: [B, C, H, W] the denominators, for the backward pass */
    int32_t *argmax; /* maxpool: [B, C, Ho, Wo] */
    uint8_t *mask;   /* dropout: [B, N] */
    /* towers' LRN (plan halo K > 0 channels, h = net_plan_halo_near of them), C = the tower's channels,
     * E = C + K with the other tower's K next to the boundary: [B, E, H, W] ext_in, ext_out, ext_scale
     * (where the backend keeps it), d_ext_out, d_ext_in; halo [B, 2K, H, W] both towers' boundary
     * channels (backward [B, 2h, H, W] of d(output), then [B, K, H, W] the other's halo block); edge
     * [B, K, H, W] one tower's (backward [B, h, H, W]) */
    float *ext_in, *ext_out, *ext_scale, *d_ext_out, *d_ext_in, *halo, *edge;
} net_layer_buffers;

struct net {
    net_plan plan;
    backend *be;
    int owns_backend;
    net_layer_buffers bufs[NET_MAX_LAYERS];
    float *params, *grads, *momentum;  /* [param_count] each, backend memory */
    float *grad_a, *grad_b;            /* [max_batch, largest_floats] ping-pong gradients */
    float *input_staging;              /* [max_batch, 3, 224, 224] for backends that copy the input */
    uint32_t *ids_staging;             /* [max_batch] */
    int32_t *labels_staging;           /* [max_batch] */
    int32_t *update_applied;           /* [1] the last net_update's sgd_update flag: 1 applied, 0 skipped */
    net_split split;                   /* kind NET_SPLIT_NONE for a whole network */
    int member_batches[NET_SPLIT_MAX_MEMBERS]; /* FC_SLICES: each member's images in the coming pass */
    /* the inputs of net_forward_crops and net_forward_images, allocated at the first such pass (NULL until then);
     * two of the images and choices, used in turn, so that the upload of one
     * pass's images need not wait for the ops still reading the previous one's */
    uint8_t *images_staging[2];        /* each [max_batch, 256, 256, 3] */
    crop_choice *choices_staging[2];   /* each [max_batch] */
    int crops_turn;                    /* which of the two the next upload uses */
    /* what net_stage_images queued for the next pass on cut views (staged 0: nothing) */
    struct {
        int staged;
        int turn;                          /* the images and choices staging it went into */
        const uint8_t *images_host;        /* the host memory uploaded and how much of it */
        const crop_choice *choices_host;
        size_t image_count;                /* images [image_count, 256, 256, 3] */
        int batch;                         /* choices [batch] */
        const void *images, *choices;      /* the views in backend memory */
    } next_input;
    float *mean_staging;               /* [256, 256, 3] */
    float *block_mirror[3];            /* [param_count] host copies by net_block (NULL until needed) */
    float *logits_mirror, *probs_mirror, *fc7_mirror; /* host [max_batch, K|K|F7], NULL until needed */

    /* the last forward pass */
    const float *input;                /* [B, 3, 224, 224] its input in backend memory */
    float *outputs[NET_MAX_LAYERS];    /* each layer's output: its own buffer, or its input's (relu, dropout off) */
    int last_batch;                    /* the images of the last layer: every member's (FC_SLICES) */
    int last_own_batch;                /* the images of the pass's input: this member's own */
    int last_train;
    int dropout_on;

    /* the fixed order of --reproducible (net_set_fixed_order; net_pass.c): 0 off, else the most images of a
     * pass of this member's own; scratch [NET_FIXED_SCRATCH][fixed_scratch_floats], NULL when off:
     * 0 the parts of a tensor one after another (conv input halves, fc outputs or their gradients),
     * 1 conv output halves or their gradients, 2 conv input-gradient halves or the fc tree's partial level 0,
     * 3 and 4 its levels 1 and 2 */
    int fixed_pass_images;
    float *fixed_scratch[NET_FIXED_SCRATCH];
    size_t fixed_scratch_floats;

    net_trace_fn trace;
    void *trace_ctx;
};

#endif
