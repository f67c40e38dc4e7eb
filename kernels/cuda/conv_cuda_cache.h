/* conv_cuda_cache.h: the convolution plans of one cuda_context, one per
 * shape: cuDNN descriptors and, per direction (forward, backward-data,
 * backward-filter), the algorithm chosen for that shape at that direction's
 * first use (conv_cuda.c), reused every step after.
 * Internal to kernels/cuda.
 */
#ifndef ALEXNET_CONV_CUDA_CACHE_H
#define ALEXNET_CONV_CUDA_CACHE_H

#include <cudnn.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "op_shapes.h"
#include "status.h"

typedef struct conv_plan {
    conv_shape shape;
    int out_h, out_w;
    /* The convolution's own tensors, in the cache's data type (float, or
     * bf16 under --precision bf16: conv_cuda.c converts to and from them). */
    cudnnTensorDescriptor_t in_desc;    /* [B, Cin, H, W] */
    cudnnTensorDescriptor_t out_desc;   /* [B, Cout, Ho, Wo] */
    cudnnFilterDescriptor_t weight_desc;/* [Cout, Cin/G, K, K] */
    cudnnConvolutionDescriptor_t conv_desc; /* computes (accumulates) in float under every data type */
    /* The bias add and its gradient, always on the float tensors. */
    cudnnTensorDescriptor_t bias_desc;  /* [1, Cout, 1, 1] float */
    cudnnTensorDescriptor_t out_float_desc; /* [B, Cout, Ho, Wo] float */
    /* Each direction's choice is made at its first use, so inference never
     * searches (or needs workspace for) a backward algorithm. */
    int fwd_chosen, bwd_data_chosen, bwd_filter_chosen; /* 0 until that direction's first call */
    cudnnConvolutionFwdAlgo_t fwd_algo;
    cudnnConvolutionBwdDataAlgo_t bwd_data_algo;
    cudnnConvolutionBwdFilterAlgo_t bwd_filter_algo;
    cudnnMathType_t fwd_math, bwd_data_math, bwd_filter_math;
    size_t fwd_workspace, bwd_data_workspace, bwd_filter_workspace; /* bytes */
} conv_plan;

typedef struct conv_algo_cache conv_algo_cache;

/* Plans whose convolutions take tensors of `data_type`: CUDNN_DATA_FLOAT, or
 * CUDNN_DATA_BFLOAT16 (with float compute: cuDNN's PSEUDO_BFLOAT16_CONFIG). */
an_status conv_algo_cache_create(conv_algo_cache **out, cudnnDataType_t data_type);
void conv_algo_cache_destroy(conv_algo_cache *cache);

/* The plan for `s`, created with its descriptors on first use (no algorithm
 * chosen yet). The pointer stays valid until the cache is destroyed. */
an_status conv_algo_cache_plan(conv_algo_cache *cache, const conv_shape *s, conv_plan **out);

/* The algorithms chosen so far, one "K<k>/S<s>/G<g> fwd <name> bwd-data
 * <name> bwd-filter <name>" per plan ("-" for a direction not yet chosen),
 * for the check lines of the GPU tests (docs/cuda.md, "Convolution
 * algorithms"). Truncated to fit `size` bytes, always terminated. */
void conv_algo_cache_describe(const conv_algo_cache *cache, char *text, size_t size);

/* Number of plans held (for tests: one per distinct shape). */
int conv_algo_cache_size(const conv_algo_cache *cache);

#ifdef __cplusplus
}
#endif

#endif
