/* op_shapes.h: the shapes and parameters the ops of both backends take, with
 * the size arithmetic every layer of the network is built from. Shared by
 * kernels/cpu, kernels/cuda and net/ (docs/ARCHITECTURE.md: the backend
 * contract). Header only: nothing here allocates or computes a tensor.
 */
#ifndef ALEXNET_OP_SHAPES_H
#define ALEXNET_OP_SHAPES_H

#include <stddef.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- conv */

/* A 2-D convolution with square kernel, equal stride and padding on both
 * axes, and `groups` independent channel groups (§3.2, Figure 2: conv2, conv4
 * and conv5 have 2 groups, each seeing half of the input channels). */
typedef struct conv_shape {
    int batch;        /* B */
    int in_channels;  /* Cin, divisible by groups */
    int in_h, in_w;   /* H, W */
    int out_channels; /* Cout, divisible by groups */
    int kernel;       /* K: the kernel is K x K */
    int stride;       /* S */
    int pad;          /* P: zeros added on every side */
    int groups;       /* G */
} conv_shape;

/* (in + 2 pad - kernel) / stride + 1, or 0 when the kernel does not fit. */
static inline int conv_out_size(int in, int kernel, int stride, int pad)
{
    if (stride < 1 || kernel < 1) return 0;
    int span = in + 2 * pad - kernel;
    return span < 0 ? 0 : span / stride + 1;
}

/* Checks the shape (positive sizes, divisibility by groups, output >= 1). */
static inline an_status conv_shape_check(const conv_shape *s)
{
    if (s->batch < 0 || s->in_channels < 1 || s->out_channels < 1 || s->in_h < 1 || s->in_w < 1 ||
        s->kernel < 1 || s->stride < 1 || s->pad < 0 || s->groups < 1)
        return error_set(AN_ERR_ARG,
                         "bad convolution shape: batch %d, %d -> %d channels, %dx%d input, "
                         "kernel %d, stride %d, pad %d, groups %d",
                         s->batch, s->in_channels, s->out_channels, s->in_h, s->in_w, s->kernel,
                         s->stride, s->pad, s->groups);
    if (s->in_channels % s->groups || s->out_channels % s->groups)
        return error_set(AN_ERR_ARG, "convolution channels %d -> %d are not divisible by %d groups",
                         s->in_channels, s->out_channels, s->groups);
    if (conv_out_size(s->in_h, s->kernel, s->stride, s->pad) < 1 ||
        conv_out_size(s->in_w, s->kernel, s->stride, s->pad) < 1)
        return error_set(AN_ERR_ARG, "a %dx%d kernel with pad %d does not fit a %dx%d input",
                         s->kernel, s->kernel, s->pad, s->in_h, s->in_w);
    return AN_OK;
}

/* Elements of a convolution's input [B, Cin, H, W], output [B, Cout, Ho, Wo]
 * and weight [Cout, Cin/G, K, K]. */
static inline size_t conv_shape_in_count(const conv_shape *s)
{
    return (size_t)s->batch * s->in_channels * s->in_h * s->in_w;
}
static inline size_t conv_shape_out_count(const conv_shape *s)
{
    return (size_t)s->batch * s->out_channels * conv_out_size(s->in_h, s->kernel, s->stride, s->pad) *
           conv_out_size(s->in_w, s->kernel, s->stride, s->pad);
}
static inline size_t conv_shape_weight_count(const conv_shape *s)
{
    return s->groups < 1 ? 0 : (size_t)s->out_channels * (s->in_channels / s->groups) * s->kernel * s->kernel;
}

/* ---------------------------------------------------------------- lrn */

/* Which α the formula of §3.3 means, b = a / (k + α' Σ a²)^β over n channels:
 *   LRN_ALPHA_DIVIDED_BY_N: α' = α / n, as cuda-convnet (the code behind the
 *     paper's numbers), cuDNN and PyTorch's LocalResponseNorm compute. Default.
 *   LRN_ALPHA_LITERAL: α' = α, the formula as printed in the paper.
 * PyTorch's LocalResponseNorm(size=n, alpha=A) equals DIVIDED_BY_N with α = A,
 * and LITERAL with α = A / n. */
typedef enum lrn_alpha_convention {
    LRN_ALPHA_DIVIDED_BY_N = 0,
    LRN_ALPHA_LITERAL = 1
} lrn_alpha_convention;

typedef struct lrn_params {
    float k;     /* 2 (§3.3) */
    int n;       /* 5 adjacent channels, odd: channel c sums c - n/2 .. c + n/2, clipped at the edges */
    float alpha; /* 1e-4 (§3.3) */
    float beta;  /* 0.75 (§3.3) */
    lrn_alpha_convention convention;
} lrn_params;

/* The paper's values k=2, n=5, α=1e-4, β=0.75 (§3.3) with the given convention. */
static inline lrn_params lrn_params_paper(lrn_alpha_convention convention)
{
    lrn_params p = {.k = 2.0f, .n = 5, .alpha = 1e-4f, .beta = 0.75f, .convention = convention};
    return p;
}

/* ---------------------------------------------------------------- maxpool */

/* Overlapping max pooling (§3.4): window `size` x `size`, stride `stride`,
 * no padding. Ho = floor((H - size) / stride) + 1, or with ceil_mode
 * ceil((H - size) / stride) + 1, where the last windows may overhang the
 * bottom/right edge and are clipped to the input (cuda-convnet, Caffe).
 * For the network's sizes both agree (3x3/2: 55 -> 27, 27 -> 13, 13 -> 6).
 * Ties: the FIRST maximum in row-major window order wins and alone receives
 * the gradient. A NaN in a window is its maximum (it propagates). */
typedef struct pool_shape {
    int batch, channels, in_h, in_w; /* B, C, H, W */
    int size, stride;                /* 3, 2 */
    int ceil_mode;                   /* 0: floor (the network); 1: overhanging windows */
} pool_shape;

/* The output size along one axis; 0 when the window does not fit. */
static inline int pool_out_size(int in, int size, int stride, int ceil_mode)
{
    if (in < size || size < 1 || stride < 1) return 0;
    int span = in - size;
    return (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
}

/* Elements of a pooling's input [B, C, H, W] and output [B, C, Ho, Wo]. */
static inline size_t pool_shape_in_count(const pool_shape *s)
{
    return (size_t)s->batch * s->channels * s->in_h * s->in_w;
}
static inline size_t pool_shape_out_count(const pool_shape *s)
{
    return (size_t)s->batch * s->channels * pool_out_size(s->in_h, s->size, s->stride, s->ceil_mode) *
           pool_out_size(s->in_w, s->size, s->stride, s->ceil_mode);
}

/* ---------------------------------------------------------------- crop (§4.1, §2) */

/* Where one 224x224 view is cut from a stored 256x256 image
 * (common/image_geometry.h), and what is added to it:
 *   out[c, y, x] = (image[y0 + y, x0 + sx, c] - mean[y0 + y, x0 + sx, c]) + shift[c],
 *   sx = flip ? 223 - x : x
 * The mean image is subtracted at the source pixel, before the flip (§2);
 * shift is PCA lighting (§4.1) in byte units, 0 for scoring. */
typedef struct crop_choice {
    int x, y;       /* top-left corner, each in [0, IMAGE_MAX_OFFSET] */
    int flip;       /* 1: mirrored left-right */
    float shift[3]; /* per-channel RGB shift, byte units */
} crop_choice;

/* The images behind `views` views of views_per_image each (the last image
 * may have fewer): ceil(views / views_per_image); 0 for views_per_image < 1. */
static inline size_t crop_input_images(int views, int views_per_image)
{
    if (views < 1 || views_per_image < 1) return 0;
    return ((size_t)views + (size_t)views_per_image - 1) / (size_t)views_per_image;
}

/* ------------------------------------------------------------ parts of rows (join_parts, split_parts) */

/* The most parts join_parts and split_parts take: the fc layers' output parts of --reproducible (8). */
#define OP_MAX_PARTS 8

/* Floats of one row of `parts` parts side by side: the sum of widths[0 .. parts). */
static inline size_t op_parts_width(int parts, const size_t *widths)
{
    size_t total = 0;
    for (int p = 0; p < parts; p++) total += widths[p];
    return total;
}

#ifdef __cplusplus
}
#endif

#endif
