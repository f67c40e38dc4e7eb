/* train_ops_cuda.h: the GPU kernels of a training step that have no twin in
 * ops_cpu.h: the SGD update over the flat parameter block (§5), the
 * top-1/top-5 error counts (§6; twin: train/topk.h's topk_count_errors),
 * the fused augmentation of a batch (§4.1, §2) and bf16 conversion.
 * All pointers are device pointers unless the comment says host.
 */
#ifndef ALEXNET_TRAIN_OPS_CUDA_H
#define ALEXNET_TRAIN_OPS_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "cuda_context.h"
#include "status.h"

/* §5, over n parameters:
 *   v = momentum·v − weight_decay·lr·w − lr·grad;   w = w + v
 * with momentum 0.9 and weight_decay 0.0005 in the paper; grad is the batch
 * mean. Rounded operation by operation (no fused multiply-add), in the order
 * written, so it matches a C loop compiled without contraction.
 *   weights [n], velocity [n], grads [n] */
an_status sgd_update_cuda(cuda_context *ctx, float *weights, float *velocity, const float *grads,
                          size_t n, float lr, float momentum, float weight_decay);

/* *errors1_host / *errors5_host = images whose label is not the top score /
 * not among the 5 top scores, with train/topk.c's rules: a class other than
 * the label scoring >= the label's score counts as above it (ties never
 * flatter the model), and a NaN label score is an error in both. Waits for
 * the queued work (one read-back of three counters). AN_ERR_ARG when a label
 * is outside [0, K) (the caller should have checked: backend.h).
 *   scores [B, K], labels [B] (device) */
an_status topk_errors_cuda(cuda_context *ctx, int64_t *errors1_host, int64_t *errors5_host,
                           const float *scores, const int32_t *labels, int batch, int classes);

/* One image's random choices for the epoch, drawn on the host by the
 * training loader (train/augment.c, augment_draw_for) from the Philox keys
 * of §4.1, so the GPU batch equals the CPU batch. Field for field the layout
 * of train's augment_draw (tests/gpu/test_augment_cuda.c asserts it), so an
 * array of those can be copied to the device as it is. */
typedef struct augment_choice {
    int x, y;       /* crop offset in [0, 32] */
    int flip;       /* 1: mirror left-right */
    float alpha[3]; /* lighting coefficients (not read here: shift holds their effect) */
    float shift[3]; /* per-channel RGB shift, byte units */
} augment_choice;

/* out [B, 3, 224, 224] = crop(images[b] - mean_image) + shift, flipped if asked,
 * in one pass: the mean is subtracted at the SOURCE pixel, before the flip (§2).
 *   images     [B, 256, 256, 3] uint8 HWC
 *   mean_image [256, 256, 3] float, byte units
 *   choices    [B]
 * augment_batch_bf16_cuda writes bf16 (uint16 bit patterns, round to nearest even). */
an_status augment_batch_cuda(cuda_context *ctx, float *out, const uint8_t *images, const float *mean_image,
                             const augment_choice *choices, int batch);
an_status augment_batch_bf16_cuda(cuda_context *ctx, uint16_t *out, const uint8_t *images,
                                  const float *mean_image, const augment_choice *choices, int batch);

/* out [n] bf16 (round to nearest even) from in [n] float, and back. */
an_status convert_f32_to_bf16_cuda(cuda_context *ctx, uint16_t *out, const float *in, size_t n);
an_status convert_bf16_to_f32_cuda(cuda_context *ctx, float *out, const uint16_t *in, size_t n);

#ifdef __cplusplus
}
#endif

#endif
