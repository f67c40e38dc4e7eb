/* backend.h: the contract between the network (net/) and the op libraries
 * below it: a backend is a table of functions (backend_ops) and the state
 * they share, chosen at run time. kernels/cpu (backend_cpu.h) and
 * kernels/cuda (backend_cuda.h) each provide one instance; the network walks
 * its plan and calls nothing else, so every test of the network on the CPU
 * also tests the sequence the GPU executes (docs/ARCHITECTURE.md).
 *
 * Conventions, for every op:
 *   - tensors are float32, NCHW, contiguous, in BACKEND memory (from alloc);
 *     host pointers are named *_host. The shape comment on each argument says
 *     what it holds; B = batch.
 *   - a forward op OVERWRITES its outputs; a backward op OVERWRITES its
 *     gradient outputs (never accumulates); a gradient output passed as NULL
 *     is not computed (conv1's and fc's dinput).
 *   - `out` may be `in` only where the comment says "in place allowed".
 *   - ops are ordered: each sees the results of every op called before it on
 *     the same backend (the CUDA backend queues them on one stream). Only
 *     download, download_view, softmax_loss and topk_errors wait for results.
 *   - every op returns an_status with a message (bad shapes, a failed library
 *     call); nothing prints or exits.
 *   - the twins behind one entry compute the same function: kernels/cpu's
 *     <op>_forward_cpu and kernels/cuda's <op>_forward_cuda, tested against
 *     each other (tests/gpu) and through the checking backend (tests/net).
 * A backend is used by one host thread at a time.
 */
#ifndef ALEXNET_BACKEND_H
#define ALEXNET_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "op_shapes.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct backend backend;

typedef struct backend_ops {
    /* ------------------------------------------------------------ memory */

    /* *out = `bytes` of backend memory, 64-byte aligned, contents undefined
     * (the network zeroes what it needs); `what` names it in an
     * out-of-memory message ("conv1 activations"). */
    an_status (*alloc)(backend *be, void **out, size_t bytes, const char *what);
    /* Frees a block from alloc; NULL is fine. */
    void (*free)(backend *be, void *p);
    /* dst [bytes] (backend) = src_host [bytes], in order with the ops. */
    an_status (*upload)(backend *be, void *dst, const void *src_host, size_t bytes);
    /* dst_host [bytes] = src [bytes] (backend), once every earlier op is done. */
    an_status (*download)(backend *be, void *dst_host, const void *src, size_t bytes);
    /* *view: backend memory holding src_host's bytes, for ops to read until
     * the next call with the same staging. A backend whose memory is the
     * host's returns src_host itself (no copy); others upload into staging
     * [bytes] (from alloc) and return it. */
    an_status (*upload_view)(backend *be, const void **view, void *staging, const void *src_host,
                             size_t bytes);
    /* *view_host: host memory holding src's bytes once every earlier op is
     * done. A backend whose memory is the host's returns src itself; others
     * download into mirror_host [bytes] and return it. */
    an_status (*download_view)(backend *be, const void **view_host, void *mirror_host, const void *src,
                               size_t bytes);
    /* dst [bytes] = 0. */
    an_status (*zero)(backend *be, void *dst, size_t bytes);
    /* From now on nobody reads p [bytes] before writing it (a new pass
     * starts). The CPU and CUDA backends do nothing; a checking backend
     * poisons it, so a read before the next write is caught. */
    an_status (*discard)(backend *be, void *p, size_t bytes);
    /* Waits until every queued op has finished (timing, before a host read
     * outside this table). */
    an_status (*synchronize)(backend *be);

    /* ------------------------------------------------------------ conv (§3.2, §3.5) */

    /* out [B, Cout, Ho, Wo] = conv(in [B, Cin, H, W], weight [Cout, Cin/G, K, K]) + bias [Cout].
     * Scratch memory is the backend's own. */
    an_status (*conv_forward)(backend *be, float *out, const float *in, const float *weight,
                              const float *bias, const conv_shape *s);
    /* dinput [B, Cin, H, W] (NULL: not computed), dweight [Cout, Cin/G, K, K], dbias [Cout]
     * from doutput [B, Cout, Ho, Wo], the forward in [B, Cin, H, W] and weight. */
    an_status (*conv_backward)(backend *be, float *dinput, float *dweight, float *dbias,
                               const float *doutput, const float *in, const float *weight,
                               const conv_shape *s);

    /* ------------------------------------------------------------ relu (§3.1) */

    /* out [n] = max(0, in [n]) (a NaN gives 0); in place allowed. */
    an_status (*relu_forward)(backend *be, float *out, const float *in, size_t n);
    /* dinput [n] = doutput [n] where the forward OUTPUT out [n] > 0, else 0; in place allowed. */
    an_status (*relu_backward)(backend *be, float *dinput, const float *doutput, const float *out,
                               size_t n);

    /* ------------------------------------------------------------ tanh (§3.1, Figure 1) */

    /* out [n] = tanh(in [n]) (a NaN stays NaN); in place allowed. The saturating
     * neuron the paper compares ReLU with; used only by --activation tanh. */
    an_status (*tanh_forward)(backend *be, float *out, const float *in, size_t n);
    /* dinput [n] = doutput [n] * (1 - out [n]²), out the forward OUTPUT; in place allowed. */
    an_status (*tanh_backward)(backend *be, float *dinput, const float *doutput, const float *out,
                               size_t n);

    /* ------------------------------------------------------------ lrn (§3.3) */

    /* out [B, C, H, W] = in / scale^β, scale = k + α' Σ in² over p->n channels.
     * scale [B, C, H, W]: kept for the backward pass where the backend uses it
     * (the CPU does; cuDNN recomputes); NULL at inference. */
    an_status (*lrn_forward)(backend *be, float *out, float *scale, const float *in, int batch,
                             int channels, int height, int width, const lrn_params *p);
    /* dinput [B, C, H, W] from doutput and the forward in, out and scale (all [B, C, H, W]). */
    an_status (*lrn_backward)(backend *be, float *dinput, const float *doutput, const float *in,
                              const float *out, const float *scale, int batch, int channels,
                              int height, int width, const lrn_params *p);

    /* ------------------------------------------------------------ maxpool (§3.4) */

    /* out [B, C, Ho, Wo] and argmax [B, C, Ho, Wo] (the winner's y * W + x in
     * its plane; NULL at inference) from in [B, C, H, W]. First maximum wins ties. */
    an_status (*maxpool_forward)(backend *be, float *out, int32_t *argmax, const float *in,
                                 const pool_shape *s);
    /* dinput [B, C, H, W] from doutput [B, C, Ho, Wo] and argmax. */
    an_status (*maxpool_backward)(backend *be, float *dinput, const float *doutput,
                                  const int32_t *argmax, const pool_shape *s);

    /* ------------------------------------------------------------ fc */

    /* out [B, O] = in [B, I] · weight [O, I]ᵀ + bias [O]. */
    an_status (*fc_forward)(backend *be, float *out, const float *in, const float *weight,
                            const float *bias, int batch, int in_features, int out_features);
    /* dinput [B, I] (NULL: not computed), dweight [O, I], dbias [O] from
     * doutput [B, O] and the forward in [B, I] and weight [O, I]. */
    an_status (*fc_backward)(backend *be, float *dinput, float *dweight, float *dbias,
                             const float *doutput, const float *in, const float *weight, int batch,
                             int in_features, int out_features);

    /* ------------------------------------------------------------ dropout (§4.2) */

    /* Inverted dropout: element e of image b is dropped when
     * philox_uniform(philox_draw(seed, purpose, step, image_ids[b], e / 4).v[e % 4]) < rate,
     * kept ones are scaled by 1 / (1 - rate).
     *   out [B, N] (in place allowed), mask [B, N] 1 kept / 0 dropped, in [B, N],
     *   image_ids [B] (backend memory) */
    an_status (*dropout_forward)(backend *be, float *out, uint8_t *mask, const float *in, int batch,
                                 int n_per_image, float rate, uint64_t seed, uint32_t purpose,
                                 uint32_t step, const uint32_t *image_ids);
    /* dinput [B, N] = doutput [B, N] * mask [B, N] / (1 - rate); in place allowed. */
    an_status (*dropout_backward)(backend *be, float *dinput, const float *doutput,
                                  const uint8_t *mask, int batch, int n_per_image, float rate);

    /* ------------------------------------------------------------ softmax + loss (§4) */

    /* probs [B, K] = softmax(logits [B, K]) per row, row max subtracted; in place allowed. */
    an_status (*softmax_forward)(backend *be, float *probs, const float *logits, int batch,
                                 int classes);
    /* *loss_host = mean over b of -log max(probs[b, labels[b]], FLT_MIN), summed
     * in double in batch order; a NaN probability gives a NaN loss.
     *   probs [B, K], labels [B] (backend memory, each in [0, K): the caller checks) */
    an_status (*softmax_loss)(backend *be, double *loss_host, const float *probs,
                              const int32_t *labels, int batch, int classes);
    /* dlogits [B, K] = (probs - onehot(labels)) / normalizer, the gradient of
     * sum_b loss_b / normalizer (normalizer: the global batch, §5's mean). */
    an_status (*softmax_loss_backward)(backend *be, float *dlogits, const float *probs,
                                       const int32_t *labels, int batch, int classes,
                                       float normalizer);

    /* ------------------------------------------------------------ update and scores */

    /* §5 over n parameters, rounded operation by operation in this order:
     *   v = momentum·v − (weight_decay·lr)·w − lr·grad;   w = w + v
     *   weights [n], velocity [n], grads [n] (the batch mean) */
    an_status (*sgd_update)(backend *be, float *weights, float *velocity, const float *grads,
                            size_t n, float lr, float momentum, float weight_decay);
    /* *errors1_host / *errors5_host = images whose label is not the top
     * score / not among the 5 top scores. A class scoring equal to the label
     * counts as above it; a NaN label score is an error in both.
     *   scores [B, K], labels [B] (backend memory) */
    an_status (*topk_errors)(backend *be, int64_t *errors1_host, int64_t *errors5_host,
                             const float *scores, const int32_t *labels, int batch, int classes);

    /* ------------------------------------------------------------ lifetime */

    /* Frees the backend and everything it owns (not the blocks from alloc:
     * free those first). */
    void (*destroy)(backend *be);
} backend_ops;

/* The part every instance shares; an implementation embeds it as the first
 * member of its own struct. */
struct backend {
    const backend_ops *ops;
    const char *kind;         /* "cpu", "cuda" */
    int ordinal;              /* the device's number (cuda:N); 0 on the CPU */
    char description[256];    /* for the log: "CPU (2 threads, OpenBLAS SkylakeX)", "NVIDIA H200 (device 0)" */
};

/* NULL is fine. */
static inline void backend_destroy(backend *be)
{
    if (be) be->ops->destroy(be);
}

#ifdef __cplusplus
}
#endif

#endif
