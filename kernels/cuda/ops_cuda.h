/* ops_cuda.h: the CUDA twins of kernels/cpu's ops, one per CPU op, with the
 * same name ending in _cuda and the same arguments in the same order, after a
 * leading cuda_context (all tensor pointers are DEVICE pointers). The CUDA
 * library does not link the CPU one: shapes and parameters come from
 * op_shapes.h, and backend_cuda.c puts these functions behind the table of
 * kernels/backend.h, whose comments are the contract both twins meet.
 *
 * Conventions are those of backend.h: float32 NCHW contiguous; a backward
 * function overwrites its gradient outputs; a NULL gradient output is not
 * computed. Where the GPU version needs something else the comment says so:
 *   - conv: no workspace arguments, the context owns a bounded workspace;
 *   - lrn: cuDNN keeps no `scale`; the argument is accepted and ignored
 *     (pass NULL), backward recomputes what it needs from in and out;
 *   - softmax_loss: `labels` are on the device, the loss comes back to the host.
 * Every function returns an_status (kernel launches and library calls are
 * checked). Work is queued on ctx->compute; functions that return a host
 * value synchronise.
 */
#ifndef ALEXNET_OPS_CUDA_H
#define ALEXNET_OPS_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "cuda_context.h"
#include "op_shapes.h"
#include "status.h"

/* ---------------------------------------------------------------- conv (cuDNN) */

/* out [B, Cout, Ho, Wo] = conv(in [B, Cin, H, W], weight [Cout, Cin/G, K, K]) + bias [Cout].
 * Groups through cudnnSetConvolutionGroupCount (§3.2). Each direction's
 * algorithm (forward, backward-data, backward-filter) is chosen at that
 * direction's first use for a shape (within the workspace limit,
 * deterministic ones only in deterministic mode) and cached in the context,
 * so inference never searches a backward algorithm (conv_cuda.c). */
an_status conv_forward_cuda(cuda_context *ctx, float *out, const float *in, const float *weight,
                            const float *bias, const conv_shape *s);

/*   dinput [B, Cin, H, W] (NULL: not computed), dweight [Cout, Cin/G, K, K], dbias [Cout],
 *   doutput [B, Cout, Ho, Wo], in [B, Cin, H, W], weight [Cout, Cin/G, K, K] */
an_status conv_backward_cuda(cuda_context *ctx, float *dinput, float *dweight, float *dbias,
                             const float *doutput, const float *in, const float *weight,
                             const conv_shape *s);

/* ---------------------------------------------------------------- relu (own kernels) */

/* out [n] = in > 0 ? in : 0 (a NaN gives 0, as on the CPU); in place allowed. */
an_status relu_forward_cuda(cuda_context *ctx, float *out, const float *in, size_t n);
/* dinput [n] = doutput [n] where out [n] > 0; in place allowed. */
an_status relu_backward_cuda(cuda_context *ctx, float *dinput, const float *doutput, const float *out,
                             size_t n);

/* ---------------------------------------------------------------- tanh (own kernels) */

/* out [n] = tanhf(in [n]) (§3.1, Figure 1); in place allowed. CUDA's tanhf and
 * glibc's may differ in the last bit: equal to the CPU within 2 ulp. */
an_status tanh_forward_cuda(cuda_context *ctx, float *out, const float *in, size_t n);
/* dinput [n] = doutput [n] * (1 - out [n]²), out the forward output; in place allowed. */
an_status tanh_backward_cuda(cuda_context *ctx, float *dinput, const float *doutput, const float *out,
                             size_t n);

/* ---------------------------------------------------------------- lrn (cuDNN) */

/* out [B, C, H, W] = LRN(in [B, C, H, W]) (§3.3), either α convention of lrn_params;
 * scale: ignored (may be NULL). */
an_status lrn_forward_cuda(cuda_context *ctx, float *out, float *scale, const float *in, int batch,
                           int channels, int height, int width, const lrn_params *p);
/* dinput [B, C, H, W] from doutput, in, out (all [B, C, H, W]); scale ignored. */
an_status lrn_backward_cuda(cuda_context *ctx, float *dinput, const float *doutput, const float *in,
                            const float *out, const float *scale, int batch, int channels, int height,
                            int width, const lrn_params *p);

/* ---------------------------------------------------------------- maxpool (own kernels) */

/* Overlapping max pooling (§3.4) with the CPU's tie rule (the first maximum in
 * row-major window order wins) and NaN propagation, so results are identical.
 *   out [B, C, Ho, Wo], argmax [B, C, Ho, Wo] (NULL at inference), in [B, C, H, W] */
an_status maxpool_forward_cuda(cuda_context *ctx, float *out, int32_t *argmax, const float *in,
                               const pool_shape *s);
/* dinput [B, C, H, W] (overwritten) from doutput [B, C, Ho, Wo] and argmax; a
 * gather over the windows covering each input, so no atomics: deterministic. */
an_status maxpool_backward_cuda(cuda_context *ctx, float *dinput, const float *doutput,
                                const int32_t *argmax, const pool_shape *s);

/* ---------------------------------------------------------------- fc (cuBLAS) */

/* out [B, O] = in [B, I] · weight [O, I]ᵀ + bias [O]. */
an_status fc_forward_cuda(cuda_context *ctx, float *out, const float *in, const float *weight,
                          const float *bias, int batch, int in_features, int out_features);
/* dinput [B, I] (NULL: not computed), dweight [O, I], dbias [O] from doutput [B, O],
 * in [B, I], weight [O, I]. */
an_status fc_backward_cuda(cuda_context *ctx, float *dinput, float *dweight, float *dbias,
                           const float *doutput, const float *in, const float *weight, int batch,
                           int in_features, int out_features);

/* ---------------------------------------------------------------- dropout (own kernel) */

/* The same masks as dropout_forward_cpu: element e of image b is dropped when
 * philox_uniform(philox_draw(seed, purpose, step, image_ids[b], e / 4).v[e % 4]) < rate.
 *   out [B, N] (in place allowed), mask [B, N], in [B, N], image_ids [B] (device) */
an_status dropout_forward_cuda(cuda_context *ctx, float *out, uint8_t *mask, const float *in, int batch,
                               int n_per_image, float rate, uint64_t seed, uint32_t purpose,
                               uint32_t step, const uint32_t *image_ids);
/* dinput [B, N] = doutput [B, N] * mask [B, N] / (1 - rate); in place allowed. */
an_status dropout_backward_cuda(cuda_context *ctx, float *dinput, const float *doutput,
                                const uint8_t *mask, int batch, int n_per_image, float rate);

/* ---------------------------------------------------------------- softmax + loss (own kernels) */

/* probs [B, K] = softmax(logits [B, K]) per row, in place allowed, with the
 * CPU's rules: the row max is row[0] compared forward with `>`, so a NaN in
 * row[0] is the max and a NaN elsewhere is skipped; the sum of exponentials
 * is kept in double and its inverse rounded to float once. A NaN anywhere in
 * a row makes the whole row NaN (its sum is NaN). batch 0 does nothing. */
an_status softmax_forward_cuda(cuda_context *ctx, float *probs, const float *logits, int batch,
                               int classes);
/* *loss (host) = mean over b of -log(max(probs[b, labels[b]], FLT_MIN)), summed in double
 * in batch order (deterministic); a NaN probability gives a NaN loss, so a
 * diverged network reports NaN. The loss is the one value read back.
 * Labels must be in [0, K) (backend.h: the caller checks them on the host);
 * one outside is not read through, it makes the loss NaN. batch 0 gives 0.
 *   probs [B, K], labels [B] (device) */
an_status softmax_loss_cuda(cuda_context *ctx, double *loss, const float *probs, const int32_t *labels,
                            int batch, int classes);
/* dlogits [B, K] = (probs - onehot(labels)) / normalizer, queued, nothing read
 * back. Labels must be in [0, K); the row of one outside is all NaN.
 *   dlogits [B, K], probs [B, K], labels [B] (device) */
an_status softmax_loss_backward_cuda(cuda_context *ctx, float *dlogits, const float *probs,
                                     const int32_t *labels, int batch, int classes, float normalizer);

#ifdef __cplusplus
}
#endif

#endif
