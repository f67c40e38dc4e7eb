/* eval_forward.h: the one thing the scorer needs from a backend: logits for a
 * batch of 224x224 views. The CPU backend wraps net_forward (inference mode:
 * no dropout, §4.2's test-time scaling is implied by inverted dropout); a GPU
 * backend fills in the same two functions. */
#ifndef ALEXNET_EVAL_FORWARD_H
#define ALEXNET_EVAL_FORWARD_H

#include "net.h"
#include "status.h"

typedef struct eval_forward {
    void *ctx;
    const char *device;   /* "cpu" or "cuda" */
    int max_views;        /* views per call at most */
    int num_classes;      /* K */
    int fc7_features;     /* F7 */
    /* input [views, 3, 224, 224] -> *logits [views, K] and, when fc7 is not
     * NULL, *fc7 [views, F7]; both valid until the next call. */
    an_status (*run)(void *ctx, const float *input, int views, const float **logits, const float **fc7);
} eval_forward;

/* The CPU backend on a net created for at least max_views images. */
void eval_forward_cpu(eval_forward *f, net *n);

#endif
