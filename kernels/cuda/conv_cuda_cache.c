/* conv_cuda_cache.c: one cuDNN convolution plan per shape. See conv_cuda_cache.h. */
#include "conv_cuda_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_check.h"

struct conv_algo_cache {
    conv_plan **plans; /* [count] each its own allocation, so pointers stay valid */
    int count, capacity;
    cudnnDataType_t data_type; /* of every plan's in, out and weight tensors */
};

an_status conv_algo_cache_create(conv_algo_cache **out, cudnnDataType_t data_type)
{
    *out = NULL;
    if (data_type != CUDNN_DATA_FLOAT && data_type != CUDNN_DATA_BFLOAT16)
        return error_set(AN_ERR_ARG, "convolutions on cuDNN data type %d (float or bf16 only)", (int)data_type);
    *out = calloc(1, sizeof **out);
    AN_CHECK_ALLOC(*out, sizeof **out);
    (*out)->data_type = data_type;
    return AN_OK;
}

static void plan_destroy(conv_plan *p)
{
    if (!p) return;
    if (p->in_desc) cudnnDestroyTensorDescriptor(p->in_desc);
    if (p->out_desc) cudnnDestroyTensorDescriptor(p->out_desc);
    if (p->out_float_desc) cudnnDestroyTensorDescriptor(p->out_float_desc);
    if (p->bias_desc) cudnnDestroyTensorDescriptor(p->bias_desc);
    if (p->weight_desc) cudnnDestroyFilterDescriptor(p->weight_desc);
    if (p->conv_desc) cudnnDestroyConvolutionDescriptor(p->conv_desc);
    free(p);
}

void conv_algo_cache_destroy(conv_algo_cache *cache)
{
    if (!cache) return;
    for (int i = 0; i < cache->count; i++) plan_destroy(cache->plans[i]);
    free(cache->plans);
    free(cache);
}

int conv_algo_cache_size(const conv_algo_cache *cache)
{
    return cache ? cache->count : 0;
}

static int shape_equal(const conv_shape *a, const conv_shape *b)
{
    return a->batch == b->batch && a->in_channels == b->in_channels && a->in_h == b->in_h &&
           a->in_w == b->in_w && a->out_channels == b->out_channels && a->kernel == b->kernel &&
           a->stride == b->stride && a->pad == b->pad && a->groups == b->groups;
}

static an_status plan_init(conv_plan *p, const conv_shape *s, cudnnDataType_t type)
{
    p->shape = *s;
    p->out_h = conv_out_size(s->in_h, s->kernel, s->stride, s->pad);
    p->out_w = conv_out_size(s->in_w, s->kernel, s->stride, s->pad);
    CUDNN_TRY(cudnnCreateTensorDescriptor(&p->in_desc));
    CUDNN_TRY(cudnnCreateTensorDescriptor(&p->out_desc));
    CUDNN_TRY(cudnnCreateTensorDescriptor(&p->out_float_desc));
    CUDNN_TRY(cudnnCreateTensorDescriptor(&p->bias_desc));
    CUDNN_TRY(cudnnCreateFilterDescriptor(&p->weight_desc));
    CUDNN_TRY(cudnnCreateConvolutionDescriptor(&p->conv_desc));
    CUDNN_TRY(cudnnSetTensor4dDescriptor(p->in_desc, CUDNN_TENSOR_NCHW, type, s->batch,
                                         s->in_channels, s->in_h, s->in_w));
    CUDNN_TRY(cudnnSetTensor4dDescriptor(p->out_desc, CUDNN_TENSOR_NCHW, type, s->batch,
                                         s->out_channels, p->out_h, p->out_w));
    CUDNN_TRY(cudnnSetTensor4dDescriptor(p->out_float_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, s->batch,
                                         s->out_channels, p->out_h, p->out_w));
    CUDNN_TRY(cudnnSetTensor4dDescriptor(p->bias_desc, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, 1,
                                         s->out_channels, 1, 1));
    /* [Cout, Cin/G, K, K]: cuDNN's grouped filter holds Cin/G input channels. */
    CUDNN_TRY(cudnnSetFilter4dDescriptor(p->weight_desc, type, CUDNN_TENSOR_NCHW,
                                         s->out_channels, s->in_channels / s->groups, s->kernel,
                                         s->kernel));
    /* Cross-correlation, as the CPU computes and every framework calls
     * "convolution"; float accumulation whatever the tensors' type. */
    CUDNN_TRY(cudnnSetConvolution2dDescriptor(p->conv_desc, s->pad, s->pad, s->stride, s->stride, 1, 1,
                                              CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    CUDNN_TRY(cudnnSetConvolutionGroupCount(p->conv_desc, s->groups)); /* §3.2 */
    return AN_OK;
}

an_status conv_algo_cache_plan(conv_algo_cache *cache, const conv_shape *s, conv_plan **out)
{
    *out = NULL;
    for (int i = 0; i < cache->count; i++) {
        if (shape_equal(&cache->plans[i]->shape, s)) {
            *out = cache->plans[i];
            return AN_OK;
        }
    }
    AN_TRY(conv_shape_check(s));
    if (cache->count == cache->capacity) {
        int capacity = cache->capacity ? 2 * cache->capacity : 16;
        conv_plan **grown = realloc(cache->plans, (size_t)capacity * sizeof *grown);
        AN_CHECK_ALLOC(grown, (size_t)capacity * sizeof *grown);
        cache->plans = grown;
        cache->capacity = capacity;
    }
    conv_plan *p = calloc(1, sizeof *p);
    AN_CHECK_ALLOC(p, sizeof *p);
    an_status st = plan_init(p, s, cache->data_type);
    if (st != AN_OK) {
        plan_destroy(p);
        return st;
    }
    cache->plans[cache->count++] = p;
    *out = p;
    return AN_OK;
}

static const char *fwd_name(const conv_plan *p)
{
    static const char *names[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT",
                                  "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
    if (!p->fwd_chosen) return "-";
    return (int)p->fwd_algo >= 0 && (int)p->fwd_algo < 8 ? names[p->fwd_algo] : "?";
}

static const char *bwd_data_name(const conv_plan *p)
{
    static const char *names[] = {"ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
    if (!p->bwd_data_chosen) return "-";
    return (int)p->bwd_data_algo >= 0 && (int)p->bwd_data_algo < 6 ? names[p->bwd_data_algo] : "?";
}

static const char *bwd_filter_name(const conv_plan *p)
{
    static const char *names[] = {"ALGO_0", "ALGO_1", "FFT", "ALGO_3", "WINOGRAD", "WINOGRAD_NONFUSED",
                                  "FFT_TILING"};
    if (!p->bwd_filter_chosen) return "-";
    return (int)p->bwd_filter_algo >= 0 && (int)p->bwd_filter_algo < 7 ? names[p->bwd_filter_algo] : "?";
}

void conv_algo_cache_describe(const conv_algo_cache *cache, char *text, size_t size)
{
    size_t used = 0;
    if (size == 0) return;
    text[0] = '\0';
    for (int i = 0; cache && i < cache->count && used < size; i++) {
        const conv_plan *p = cache->plans[i];
        int n = snprintf(text + used, size - used, "%sK%d/S%d/G%d fwd %s bwd-data %s bwd-filter %s",
                         i ? "; " : "", p->shape.kernel, p->shape.stride, p->shape.groups, fwd_name(p),
                         bwd_data_name(p), bwd_filter_name(p));
        if (n < 0) break;
        used += (size_t)n;
    }
}
