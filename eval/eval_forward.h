/* eval_forward.h: the one thing the scorer needs from a backend: logits for a
 * batch of 224x224 views. The CPU backend wraps net_forward (inference mode:
 * no dropout, §4.2's test-time scaling is implied by inverted dropout); the GPU
 * backend (eval_forward_cuda.c) wraps net_cuda the same way. */
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

#ifdef ALEXNET_HAVE_CUDA
/* The GPU backend (builds with the CUDA backend): a context on device 0 and
 * host's weights uploaded for up to max_views views; logits come back to the
 * host. It offers no fc7 (run() with fc7 fails: AN_ERR_UNSUPPORTED). `host`
 * (its table; it may be created for 1 image) must outlive it. */
an_status eval_forward_cuda_create(eval_forward *f, const net *host, int max_views);
/* Frees a backend made by eval_forward_cuda_create and zeroes f; a zeroed f is fine. */
void eval_forward_cuda_destroy(eval_forward *f);
#endif

#endif
