/* net_internal.h: the struct behind the opaque `net` of net.h, shared by
 * net.c (table, buffers, summary), net_init.c and net_pass.c. Not installed
 * for other modules: they use net.h. */
#ifndef ALEXNET_NET_INTERNAL_H
#define ALEXNET_NET_INTERNAL_H

#include "net.h"

enum net_view_id {
    NV_CONV1_W, NV_CONV1_B, NV_CONV2_W, NV_CONV2_B, NV_CONV3_W, NV_CONV3_B,
    NV_CONV4_W, NV_CONV4_B, NV_CONV5_W, NV_CONV5_B, NV_FC6_W, NV_FC6_B,
    NV_FC7_W, NV_FC7_B, NV_FC8_W, NV_FC8_B, NV_COUNT
};

#define NET_MAX_LAYERS 24

struct net {
    net_config cfg;
    int max_batch;
    lrn_params lrn;
    /* channel counts after the width multiplier */
    int c1, c2, c3, c4, c5; /* conv outputs: 96, 256, 384, 384, 256 at width 1 */
    int f6, f7, classes;    /* fc outputs: 4096, 4096, K */
    int fc6_in;             /* c5 * 6 * 6 */
    conv_shape conv[5];     /* batch field = max_batch; set per call */
    pool_shape pool[3];     /* after conv1, conv2, conv5 */

    net_param_view views[NV_COUNT];
    net_layer_info layers[NET_MAX_LAYERS];
    int layer_count;
    size_t param_count;
    float *params, *grads, *momentum; /* [param_count] each */

    /* activations for max_batch images; the shape comment is per image */
    const float *input; /* [3, 224, 224] the caller's, kept until net_backward */
    float *a1;          /* [c1, 55, 55] conv1 + relu */
    float *n1, *s1;     /* [c1, 55, 55] lrn1 output and scale */
    float *p1;          /* [c1, 27, 27] */
    int32_t *m1;        /* [c1, 27, 27] argmax */
    float *a2, *n2, *s2;/* [c2, 27, 27] */
    float *p2;          /* [c2, 13, 13] */
    int32_t *m2;        /* [c2, 13, 13] */
    float *a3;          /* [c3, 13, 13] */
    float *a4;          /* [c4, 13, 13] */
    float *a5;          /* [c5, 13, 13] */
    float *p5;          /* [c5, 6, 6] = [fc6_in] */
    int32_t *m5;        /* [c5, 6, 6] */
    float *h6, *d6;     /* [f6] fc6 + relu, after dropout */
    uint8_t *k6;        /* [f6] dropout mask */
    float *h7, *d7;     /* [f7] */
    uint8_t *k7;        /* [f7] */
    float *logits;      /* [K] */
    float *probs;       /* [K] */
    float *grad_a, *grad_b; /* [max activation] ping-pong gradient buffers */
    size_t grad_floats;     /* per buffer, for max_batch */
    float *workspace;       /* conv workspace */
    size_t workspace_floats;

    int last_batch;   /* batch of the last forward */
    int last_train;   /* whether it kept what backward needs */
    int dropout_on;   /* last forward applied dropout */
};

#endif
