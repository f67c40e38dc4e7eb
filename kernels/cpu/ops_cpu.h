/* ops_cpu.h: every layer of the network as a pair of plain functions,
 * <op>_forward_cpu / <op>_backward_cpu, computed with OpenMP and OpenBLAS.
 *
 * Conventions (shared with the CUDA twins <op>_forward_cuda / _backward_cuda,
 * which take the same arguments in the same order, with device pointers):
 *   - tensors are float32, NCHW, contiguous; the shape comment on every
 *     argument says what it holds;
 *   - a backward function OVERWRITES its gradient outputs (never accumulates);
 *     a gradient output passed as NULL is not computed (e.g. conv1's dinput);
 *   - `out` and `in` may be the same buffer only where the comment says so;
 *   - functions that can fail (bad shapes, too small a workspace) return
 *     an_status with a message; the element-wise ones cannot fail and return void.
 *
 * Threading: the batch (in conv: chunks of images) or fixed blocks of output
 * columns (fc) are split over OpenMP threads, each running single-threaded
 * OpenBLAS. cpu_threads_set() sets both thread counts. Results do not depend
 * on the thread count (conv's weight gradient is summed from partials kept
 * per slot of chunks, not per thread; fc's GEMMs are cut into blocks fixed by
 * the shapes), except for one image alone (batch-1 inference), whose conv
 * columns and fc GEMV rows are split over the threads: equal to rounding.
 */
#ifndef ALEXNET_OPS_CPU_H
#define ALEXNET_OPS_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "op_shapes.h"
#include "status.h"

/* Sets the number of OpenMP threads (for the calling host thread's ops) and
 * OpenBLAS threads (n >= 1). */
void cpu_threads_set(int n);
/* The number cpu_threads_set set on the calling host thread (default:
 * omp_get_max_threads()). */
int cpu_threads_get(void);

/* Which kernels OpenBLAS runs (AVX-512, AVX2 or its generic fallback on
 * CPUs it does not recognise) is chosen by blas_runtime_select() at the start
 * of main(); blas_runtime_describe/advice (common/blas_runtime.h) report it. */

/* ---------------------------------------------------------------- conv */

/* Floats of workspace conv_forward_cpu / conv_backward_cpu need with `threads` threads. */
size_t conv_workspace_floats(const conv_shape *s, int threads);

/* out = conv(in, weight) + bias.
 *   out       [B, Cout, Ho, Wo]
 *   in        [B, Cin, H, W]
 *   weight    [Cout, Cin/G, K, K]
 *   bias      [Cout]
 *   workspace [conv_workspace_floats(s, cpu_threads_get())] */
an_status conv_forward_cpu(float *out, const float *in, const float *weight, const float *bias,
                           const conv_shape *s, float *workspace, size_t workspace_floats);

/* Gradients of conv_forward_cpu.
 *   dinput    [B, Cin, H, W]     (NULL: not computed)
 *   dweight   [Cout, Cin/G, K, K]
 *   dbias     [Cout]
 *   doutput   [B, Cout, Ho, Wo]
 *   in        [B, Cin, H, W]     the forward input
 *   weight    [Cout, Cin/G, K, K] */
an_status conv_backward_cpu(float *dinput, float *dweight, float *dbias, const float *doutput,
                            const float *in, const float *weight, const conv_shape *s,
                            float *workspace, size_t workspace_floats);

/* ---------------------------------------------------------------- relu */

/* out = max(0, in), n elements; out may be in (in place). */
void relu_forward_cpu(float *out, const float *in, size_t n);
/* dinput = doutput where out > 0, else 0; dinput may be doutput (in place).
 *   out: the forward OUTPUT [n] */
void relu_backward_cpu(float *dinput, const float *doutput, const float *out, size_t n);

/* ---------------------------------------------------------------- tanh */

/* out = tanh(in), n elements (§3.1's saturating neuron); out may be in (in place). */
void tanh_forward_cpu(float *out, const float *in, size_t n);
/* dinput = doutput * (1 - out²); dinput may be doutput (in place).
 *   out: the forward OUTPUT [n] */
void tanh_backward_cpu(float *dinput, const float *doutput, const float *out, size_t n);

/* ---------------------------------------------------------------- lrn */


/* out = in / scale^β with scale = k + α' Σ_{c'} in[c']².
 *   out   [B, C, H, W]
 *   scale [B, C, H, W]  saved for the backward pass (may be NULL at inference)
 *   in    [B, C, H, W] */
void lrn_forward_cpu(float *out, float *scale, const float *in, int batch, int channels,
                     int height, int width, const lrn_params *p);
/* dinput [B, C, H, W] from doutput, and the forward in, out and scale (all [B, C, H, W]). */
void lrn_backward_cpu(float *dinput, const float *doutput, const float *in, const float *out,
                      const float *scale, int batch, int channels, int height, int width,
                      const lrn_params *p);

/* ---------------------------------------------------------------- maxpool */


/*   out    [B, C, Ho, Wo]
 *   argmax [B, C, Ho, Wo]  index within the input plane (y * W + x) of the winner;
 *                          NULL at inference
 *   in     [B, C, H, W] */
an_status maxpool_forward_cpu(float *out, int32_t *argmax, const float *in, const pool_shape *s);
/* dinput [B, C, H, W] (overwritten) from doutput [B, C, Ho, Wo] and the forward argmax. */
an_status maxpool_backward_cpu(float *dinput, const float *doutput, const int32_t *argmax,
                               const pool_shape *s);

/* ---------------------------------------------------------------- fc */

/* out = in · weightᵀ + bias (fully connected, PyTorch's Linear layout).
 *   out    [B, O]
 *   in     [B, I]
 *   weight [O, I]
 *   bias   [O] */
void fc_forward_cpu(float *out, const float *in, const float *weight, const float *bias,
                    int batch, int in_features, int out_features);
/*   dinput  [B, I]  (NULL: not computed)
 *   dweight [O, I]
 *   dbias   [O]
 *   doutput [B, O]
 *   in      [B, I], weight [O, I]: the forward arguments */
void fc_backward_cpu(float *dinput, float *dweight, float *dbias, const float *doutput,
                     const float *in, const float *weight, int batch, int in_features,
                     int out_features);

/* ---------------------------------------------------------------- dropout */

/* Inverted dropout (§4.2): an element is dropped when
 *   philox_uniform(philox_draw(seed, purpose, step, image_ids[b], e / 4).v[e % 4]) < rate
 * for element e of image b's n_per_image features; kept elements are scaled by
 * 1 / (1 - rate), so the expected output equals the input and the test-time
 * network is the identity (the paper's ×0.5 at test time is the same function
 * in expectation). The mask depends only on (seed, purpose, step, image id,
 * element): the same on any backend, thread count or replica split.
 *   out       [B, N]  may be in (in place)
 *   mask      [B, N]  1 kept, 0 dropped, saved for the backward pass
 *   in        [B, N]
 *   image_ids [B]
 *   purpose   PHILOX_PURPOSE_DROPOUT6 or PHILOX_PURPOSE_DROPOUT7 */
void dropout_forward_cpu(float *out, uint8_t *mask, const float *in, int batch, int n_per_image,
                         float rate, uint64_t seed, uint32_t purpose, uint32_t step,
                         const uint32_t *image_ids);
/* dinput = doutput * mask / (1 - rate); dinput may be doutput (in place). All [B, N]. */
void dropout_backward_cpu(float *dinput, const float *doutput, const uint8_t *mask, int batch,
                          int n_per_image, float rate);

/* ---------------------------------------------------------------- softmax + loss */

/* probs = softmax(logits) per row, computed in float with the row max subtracted.
 *   probs  [B, K] (may be logits: in place)
 *   logits [B, K] */
void softmax_forward_cpu(float *probs, const float *logits, int batch, int classes);
/* The multinomial logistic loss (§4 "maximizes the multinomial logistic
 * regression objective"): mean over the batch of -log probs[b, labels[b]],
 * accumulated in double, with probs clamped below at FLT_MIN so a zero
 * probability gives a large finite loss; a NaN probability gives a NaN loss.
 * AN_ERR_ARG for a label outside [0, K).
 *   probs [B, K], labels [B] */
an_status softmax_loss_cpu(double *loss, const float *probs, const int32_t *labels, int batch,
                           int classes);
/* dlogits = (probs - onehot(labels)) / normalizer, the gradient of
 * sum_b loss_b / normalizer. normalizer = the GLOBAL batch size (128), which
 * is larger than `batch` when replicas each compute a slice of the batch.
 *   dlogits [B, K], probs [B, K], labels [B] */
an_status softmax_loss_backward_cpu(float *dlogits, const float *probs, const int32_t *labels,
                                    int batch, int classes, float normalizer);

/* ---------------------------------------------------------------- update and scores */

/* §5 over a flat block, element by element in this order:
 *   v = momentum·v − (weight_decay·lr)·w − lr·grad;   w = w + v
 *   weights [n], velocity [n], grads [n] (the batch mean) */
void sgd_update_cpu(float *weights, float *velocity, const float *grads, size_t n, float lr, float momentum,
                    float weight_decay);

/* Images whose label is not the top score (*errors1) / not among the 5 top
 * scores (*errors5). A class scoring equal to the label counts as above it,
 * so ties never flatter the model; a NaN label score is an error in both.
 *   scores [B, K], labels [B] */
void topk_errors_cpu(int64_t *errors1, int64_t *errors5, const float *scores, const int32_t *labels, int batch,
                     int classes);

#endif
