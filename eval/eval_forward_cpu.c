/* eval_forward_cpu.c: the scorer's backend on the CPU network. */
#include "eval_forward.h"

static an_status run_cpu(void *ctx, const float *input, int views, const float **logits, const float **fc7)
{
    net *n = ctx;
    AN_TRY(net_forward(n, input, views, NULL, 0, 0, 0));
    *logits = net_logits(n);
    if (fc7) *fc7 = net_fc7(n);
    return AN_OK;
}

void eval_forward_cpu(eval_forward *f, net *n)
{
    f->ctx = n;
    f->device = "cpu";
    f->max_views = net_max_batch(n);
    f->num_classes = net_get_config(n)->num_classes;
    f->fc7_features = net_fc7_features(n);
    f->run = run_cpu;
}
