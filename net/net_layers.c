/* net_layers.c: the paper's network, stated once (§3.5 and Figure 2), as
 * darknet states it in a cfg file: one row per layer, in order. Every shape,
 * parameter view, buffer and FLOP count is derived from these rows by
 * net_plan.c; nothing else in the project writes the sequence down.
 *
 * conv2, conv4 and conv5 see only the kernel maps of their own tower (two
 * groups, §3.2); conv3 and the fully connected layers see both. LRN follows
 * the ReLU of conv1 and conv2 (§3.3); overlapping 3x3 stride-2 pooling follows
 * the LRNs and conv5 (§3.4); dropout follows fc6 and fc7 (§4.2). conv1's
 * padding of 2 makes 224x224 crops give 55x55 maps (docs/network.md).
 */
#include <stdio.h>

#include "net_internal.h"
#include "philox.h"

static const net_layer_spec paper_layers[] = {
    /* name     kind                out   k  s  p  g  bias1 dropout purpose        features */
    {"conv1", NET_LAYER_CONV,     96, 11, 4, 2, 1, 0, 0, 0},
    {"relu1", NET_LAYER_RELU,      0,  0, 0, 0, 0, 0, 0, 0},
    {"norm1", NET_LAYER_LRN,       0,  0, 0, 0, 0, 0, 0, 0},
    {"pool1", NET_LAYER_MAXPOOL,   0,  3, 2, 0, 0, 0, 0, 0},
    {"conv2", NET_LAYER_CONV,    256,  5, 1, 2, 2, 1, 0, 0},
    {"relu2", NET_LAYER_RELU,      0,  0, 0, 0, 0, 0, 0, 0},
    {"norm2", NET_LAYER_LRN,       0,  0, 0, 0, 0, 0, 0, 0},
    {"pool2", NET_LAYER_MAXPOOL,   0,  3, 2, 0, 0, 0, 0, 0},
    {"conv3", NET_LAYER_CONV,    384,  3, 1, 1, 1, 0, 0, 0},
    {"relu3", NET_LAYER_RELU,      0,  0, 0, 0, 0, 0, 0, 0},
    {"conv4", NET_LAYER_CONV,    384,  3, 1, 1, 2, 1, 0, 0},
    {"relu4", NET_LAYER_RELU,      0,  0, 0, 0, 0, 0, 0, 0},
    {"conv5", NET_LAYER_CONV,    256,  3, 1, 1, 2, 1, 0, 0},
    {"relu5", NET_LAYER_RELU,      0,  0, 0, 0, 0, 0, 0, 0},
    {"pool5", NET_LAYER_MAXPOOL,   0,  3, 2, 0, 0, 0, 0, 0},
    {"fc6",   NET_LAYER_FC,     4096,  0, 0, 0, 0, 1, 0, 0},
    {"relu6", NET_LAYER_RELU,      0,  0, 0, 0, 0, 0, 0, 0},
    {"drop6", NET_LAYER_DROPOUT,   0,  0, 0, 0, 0, 0, PHILOX_PURPOSE_DROPOUT6, 0},
    {"fc7",   NET_LAYER_FC,     4096,  0, 0, 0, 0, 1, 0, 0},
    {"relu7", NET_LAYER_RELU,      0,  0, 0, 0, 0, 0, 0, 1},
    {"drop7", NET_LAYER_DROPOUT,   0,  0, 0, 0, 0, 0, PHILOX_PURPOSE_DROPOUT7, 0},
    {"fc8",   NET_LAYER_FC,        0,  0, 0, 0, 0, 0, 0, 0}, /* K classes */
    {"prob",  NET_LAYER_SOFTMAX,   0,  0, 0, 0, 0, 0, 0, 0},
};

const net_layer_spec *net_paper_layers(int *count)
{
    *count = (int)(sizeof paper_layers / sizeof paper_layers[0]);
    return paper_layers;
}

/* The paper's experiments as edits of its rows (net.h, docs/experiments.md). */
an_status net_variant_layers(const net_config *cfg, net_layer_spec *rows, char (*names)[NET_LAYER_NAME_MAX],
                             int *count)
{
    int paper_count, n = 0;
    const net_layer_spec *paper = net_paper_layers(&paper_count);
    if (cfg->towers != 1 && cfg->towers != 2)
        return error_set(AN_ERR_ARG, "the network has 1 or 2 towers, not %d", cfg->towers);
    for (int i = 0; i < paper_count; i++) {
        net_layer_spec r = paper[i];
        if (r.kind == NET_LAYER_LRN && !cfg->lrn) continue;              /* §3.3: no normalisation */
        if (n >= NET_MAX_LAYERS) return error_set(AN_ERR_INTERNAL, "more than %d layers", NET_MAX_LAYERS);
        snprintf(names[n], NET_LAYER_NAME_MAX, "%s", r.name);
        if (r.kind == NET_LAYER_MAXPOOL && cfg->pooling == NET_POOL_PLAIN) /* §3.4: z = s = 2 */
            r.kernel = 2;
        if (r.kind == NET_LAYER_CONV && r.groups > 1 && cfg->towers == 1) /* §3.2: every kernel sees all maps */
            r.groups = 1;
        if (r.kind == NET_LAYER_RELU && cfg->activation == NET_ACTIVATION_TANH) { /* §3.1 */
            r.kind = NET_LAYER_TANH;
            snprintf(names[n], NET_LAYER_NAME_MAX, "tanh%s", r.name + 4);
        }
        r.name = names[n];
        rows[n++] = r;
    }
    *count = n;
    return AN_OK;
}
