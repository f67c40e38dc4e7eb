/* conv_cuda.c: convolution forward, backward-data and backward-filter
 * through cuDNN, with groups (§3.2), one algorithm choice per shape and
 * direction.
 *
 * When: each direction's algorithm is chosen at the first call that needs
 * it for that shape (a forward chooses only the forward algorithm; a backward
 * without dinput never chooses backward-data) and cached in ctx->conv_cache.
 * Choosing all three at the first forward made scoring pay for two backward
 * searches per shape and fail when a backward algorithm it would never run
 * did not fit the workspace.
 *
 * How (per direction):
 *   - normal mode: cudnnFind*Algorithm times the candidates on this GPU and we
 *     take the fastest whose workspace fits ctx->workspace_limit_bytes;
 *   - deterministic mode: cudnnGet*Algorithm_v7 (a heuristic, no timing, so
 *     the choice does not depend on timing noise) and only candidates marked
 *     CUDNN_DETERMINISTIC, so a rerun repeats bitwise.
 * The math type follows the precision: fp32 allows only FMA kernels (no
 * TF32 rounding on tensor cores), never FFT or Winograd (conv_algo_pick.h);
 * tf32 and bf16 allow tensor-op kernels. The workspace of the chosen
 * candidate is asked again for the math it will run with.
 *
 * bf16 (precision.h). The network's tensors stay float (the other ops, the
 * float master weights and the update read them); each convolution converts
 * what it reads to bf16 copies in the context's bf16 scratch (round to
 * nearest even, convert_cuda.cu), runs cuDNN on bf16 tensors with a float
 * convolution (float accumulation: PSEUDO_BFLOAT16_CONFIG), and widens what
 * it wrote back to the float tensors: the output, and in the backward pass
 * dweight and dinput (so the gradients reach the fp32 update as floats, each
 * rounded once to bf16, as an autocast framework's are). The weights are
 * converted at each use, not kept as a copy between updates: the copy is as
 * large as the layer's weights (0.9 MB for conv2 at width 1) and the update
 * would have to rewrite it anyway. The bias add and its gradient stay float.
 */
#include <stdint.h>
#include <string.h>

#include "conv_algo_pick.h"
#include "conv_cuda_cache.h"
#include "cuda_check.h"
#include "ops_cuda.h"
#include "convert_cuda.h"

#define MAX_CANDIDATES 16

/* fp32 and fp32-pedantic: float multiply-adds only (precision.h). */
static int is_fp32(backend_precision p)
{
    return p == BACKEND_PRECISION_FP32 || p == BACKEND_PRECISION_FP32_PEDANTIC;
}

static cudnnMathType_t math_type_for(backend_precision p)
{
    return is_fp32(p) ? CUDNN_FMA_MATH : CUDNN_TENSOR_OP_MATH;
}

static conv_listed_math listed_math(cudnnMathType_t m)
{
    if (m == CUDNN_FMA_MATH) return CONV_MATH_FMA;
    if (m == CUDNN_DEFAULT_MATH) return CONV_MATH_DEFAULT;
    return CONV_MATH_TENSOR_OP;
}

/* The math type to run a chosen candidate with: fp32 forces FMA kernels even
 * for a candidate listed as CUDNN_DEFAULT_MATH, which allows TF32 on sm_80+. */
static cudnnMathType_t run_math(const cuda_context *ctx, cudnnMathType_t listed)
{
    return is_fp32(ctx->precision) ? CUDNN_FMA_MATH : listed;
}

static conv_pick_rules rules_of(const cuda_context *ctx)
{
    conv_pick_rules r = {is_fp32(ctx->precision), ctx->deterministic};
    return r;
}

static an_status no_algorithm(const conv_plan *p, const char *direction, const cuda_context *ctx)
{
    const conv_shape *s = &p->shape;
    return error_set(AN_ERR_CUDA,
                     "cuDNN offers no %s%s convolution algorithm for B=%d Cin=%d %dx%d Cout=%d K=%d "
                     "S=%d P=%d G=%d within a %zu-byte workspace (raise the workspace limit or "
                     "use a smaller --batch)",
                     ctx->deterministic ? "deterministic " : "", direction, s->batch, s->in_channels,
                     s->in_h, s->in_w, s->out_channels, s->kernel, s->stride, s->pad, s->groups,
                     ctx->workspace_limit_bytes);
}

/* The candidates are listed for the math type the descriptor allows; each
 * direction runs with its own, set again before every call. */
static an_status allow_math_for_search(cuda_context *ctx, conv_plan *p)
{
    CUDNN_TRY(cudnnSetConvolutionMathType(p->conv_desc, math_type_for(ctx->precision)));
    return AN_OK;
}

/* Each direction: search, order the candidates (conv_algo_pick.h), then take
 * the first whose workspace, asked again for the math that will run, cuDNN
 * gives and fits the limit. The entry's own size was measured for the math it
 * was listed under and may not hold for the math we run it with. */

static int fwd_fast_transform(cudnnConvolutionFwdAlgo_t a)
{
    return a == CUDNN_CONVOLUTION_FWD_ALGO_FFT || a == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING ||
           a == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD || a == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED;
}

static int bwd_data_fast_transform(cudnnConvolutionBwdDataAlgo_t a)
{
    return a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT || a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING ||
           a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD ||
           a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED;
}

static int bwd_filter_fast_transform(cudnnConvolutionBwdFilterAlgo_t a)
{
    return a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT || a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING ||
           a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED;
}

#define DESCRIBE_CANDIDATES(perf, found, is_transform, candidates)                                      \
    for (int i_ = 0; i_ < (found); i_++) {                                                                \
        (candidates)[i_].searched_ok = (perf)[i_].status == CUDNN_STATUS_SUCCESS;                         \
        (candidates)[i_].deterministic = (perf)[i_].determinism == CUDNN_DETERMINISTIC;                   \
        (candidates)[i_].fast_transform = is_transform((perf)[i_].algo);                                 \
        (candidates)[i_].math = listed_math((perf)[i_].mathType);                                         \
    }

static an_status choose_forward(cuda_context *ctx, conv_plan *p)
{
    cudnnConvolutionFwdAlgoPerf_t perf[MAX_CANDIDATES];
    conv_candidate candidates[MAX_CANDIDATES];
    int order[MAX_CANDIDATES], found = 0;
    AN_TRY(allow_math_for_search(ctx, p));
    if (ctx->deterministic)
        CUDNN_TRY(cudnnGetConvolutionForwardAlgorithm_v7(ctx->cudnn, p->in_desc, p->weight_desc,
                                                         p->conv_desc, p->out_desc, MAX_CANDIDATES,
                                                         &found, perf));
    else
        CUDNN_TRY(cudnnFindConvolutionForwardAlgorithm(ctx->cudnn, p->in_desc, p->weight_desc,
                                                       p->conv_desc, p->out_desc, MAX_CANDIDATES,
                                                       &found, perf));
    DESCRIBE_CANDIDATES(perf, found, fwd_fast_transform, candidates);
    const conv_pick_rules rules = rules_of(ctx);
    const int k = conv_candidates_order(candidates, found, &rules, order);
    for (int j = 0; j < k; j++) {
        const cudnnConvolutionFwdAlgoPerf_t *c = &perf[order[j]];
        const cudnnMathType_t math = run_math(ctx, c->mathType);
        size_t bytes = 0;
        CUDNN_TRY(cudnnSetConvolutionMathType(p->conv_desc, math));
        if (cudnnGetConvolutionForwardWorkspaceSize(ctx->cudnn, p->in_desc, p->weight_desc, p->conv_desc,
                                                    p->out_desc, c->algo, &bytes) != CUDNN_STATUS_SUCCESS ||
            bytes > ctx->workspace_limit_bytes)
            continue;
        p->fwd_algo = c->algo;
        p->fwd_math = math;
        p->fwd_workspace = bytes;
        p->fwd_chosen = 1;
        return AN_OK;
    }
    return no_algorithm(p, "forward", ctx);
}

static an_status choose_backward_data(cuda_context *ctx, conv_plan *p)
{
    cudnnConvolutionBwdDataAlgoPerf_t perf[MAX_CANDIDATES];
    conv_candidate candidates[MAX_CANDIDATES];
    int order[MAX_CANDIDATES], found = 0;
    AN_TRY(allow_math_for_search(ctx, p));
    if (ctx->deterministic)
        CUDNN_TRY(cudnnGetConvolutionBackwardDataAlgorithm_v7(ctx->cudnn, p->weight_desc, p->out_desc,
                                                              p->conv_desc, p->in_desc, MAX_CANDIDATES,
                                                              &found, perf));
    else
        CUDNN_TRY(cudnnFindConvolutionBackwardDataAlgorithm(ctx->cudnn, p->weight_desc, p->out_desc,
                                                            p->conv_desc, p->in_desc, MAX_CANDIDATES,
                                                            &found, perf));
    DESCRIBE_CANDIDATES(perf, found, bwd_data_fast_transform, candidates);
    const conv_pick_rules rules = rules_of(ctx);
    const int k = conv_candidates_order(candidates, found, &rules, order);
    for (int j = 0; j < k; j++) {
        const cudnnConvolutionBwdDataAlgoPerf_t *c = &perf[order[j]];
        const cudnnMathType_t math = run_math(ctx, c->mathType);
        size_t bytes = 0;
        CUDNN_TRY(cudnnSetConvolutionMathType(p->conv_desc, math));
        if (cudnnGetConvolutionBackwardDataWorkspaceSize(ctx->cudnn, p->weight_desc, p->out_desc, p->conv_desc,
                                                         p->in_desc, c->algo, &bytes) != CUDNN_STATUS_SUCCESS ||
            bytes > ctx->workspace_limit_bytes)
            continue;
        p->bwd_data_algo = c->algo;
        p->bwd_data_math = math;
        p->bwd_data_workspace = bytes;
        p->bwd_data_chosen = 1;
        return AN_OK;
    }
    return no_algorithm(p, "backward-data", ctx);
}

static an_status choose_backward_filter(cuda_context *ctx, conv_plan *p)
{
    cudnnConvolutionBwdFilterAlgoPerf_t perf[MAX_CANDIDATES];
    conv_candidate candidates[MAX_CANDIDATES];
    int order[MAX_CANDIDATES], found = 0;
    AN_TRY(allow_math_for_search(ctx, p));
    if (ctx->deterministic)
        CUDNN_TRY(cudnnGetConvolutionBackwardFilterAlgorithm_v7(ctx->cudnn, p->in_desc, p->out_desc,
                                                                p->conv_desc, p->weight_desc,
                                                                MAX_CANDIDATES, &found, perf));
    else
        CUDNN_TRY(cudnnFindConvolutionBackwardFilterAlgorithm(ctx->cudnn, p->in_desc, p->out_desc,
                                                              p->conv_desc, p->weight_desc,
                                                              MAX_CANDIDATES, &found, perf));
    DESCRIBE_CANDIDATES(perf, found, bwd_filter_fast_transform, candidates);
    const conv_pick_rules rules = rules_of(ctx);
    const int k = conv_candidates_order(candidates, found, &rules, order);
    for (int j = 0; j < k; j++) {
        const cudnnConvolutionBwdFilterAlgoPerf_t *c = &perf[order[j]];
        const cudnnMathType_t math = run_math(ctx, c->mathType);
        size_t bytes = 0;
        CUDNN_TRY(cudnnSetConvolutionMathType(p->conv_desc, math));
        if (cudnnGetConvolutionBackwardFilterWorkspaceSize(ctx->cudnn, p->in_desc, p->out_desc, p->conv_desc,
                                                           p->weight_desc, c->algo,
                                                           &bytes) != CUDNN_STATUS_SUCCESS ||
            bytes > ctx->workspace_limit_bytes)
            continue;
        p->bwd_filter_algo = c->algo;
        p->bwd_filter_math = math;
        p->bwd_filter_workspace = bytes;
        p->bwd_filter_chosen = 1;
        return AN_OK;
    }
    return no_algorithm(p, "backward-filter", ctx);
}

/* ------------------------------------------------------------ bf16 copies */

/* Element counts of a shape's tensors, each rounded up to 64 elements
 * (128 bytes) so that every copy in the scratch starts aligned. */
typedef struct conv_counts {
    size_t in, weight, out;          /* elements */
    size_t in_at, weight_at, out_at; /* offsets in the scratch, elements */
    size_t total;
} conv_counts;

static size_t round64(size_t n)
{
    return (n + 63) / 64 * 64;
}

static conv_counts counts_of(const conv_plan *p)
{
    const conv_shape *s = &p->shape;
    conv_counts c;
    c.in = (size_t)s->batch * (size_t)s->in_channels * (size_t)s->in_h * (size_t)s->in_w;
    c.weight = (size_t)s->out_channels * (size_t)(s->in_channels / s->groups) * (size_t)s->kernel * (size_t)s->kernel;
    c.out = (size_t)s->batch * (size_t)s->out_channels * (size_t)p->out_h * (size_t)p->out_w;
    c.in_at = 0;
    c.weight_at = round64(c.in);
    c.out_at = c.weight_at + round64(c.weight);
    c.total = c.out_at + round64(c.out);
    return c;
}

/* The bf16 scratch of one convolution: in [in], weight [weight], out [out]
 * (conv_counts), bf16 bit patterns. */
typedef struct conv_bf16 {
    uint16_t *in, *weight, *out;
} conv_bf16;

static an_status bf16_scratch(cuda_context *ctx, const conv_counts *c, conv_bf16 *b)
{
    void *base = NULL;
    AN_TRY(cuda_bf16_scratch_get(ctx, c->total * sizeof(uint16_t), &base));
    b->in = (uint16_t *)base + c->in_at;
    b->weight = (uint16_t *)base + c->weight_at;
    b->out = (uint16_t *)base + c->out_at;
    return AN_OK;
}

static int is_bf16(const cuda_context *ctx)
{
    return ctx->precision == BACKEND_PRECISION_BF16;
}

/* ------------------------------------------------------------ the ops */

an_status conv_forward_cuda(backend *be, float *out, const float *in, const float *weight,
                            const float *bias, const conv_shape *s)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    conv_plan *p = NULL;
    if (s->batch == 0) return conv_shape_check(s); /* nothing to compute; cuDNN refuses empty tensors */
    AN_TRY(conv_algo_cache_plan(ctx->conv_cache, s, &p));
    if (!p->fwd_chosen) AN_TRY(choose_forward(ctx, p));
    void *workspace = NULL;
    AN_TRY(cuda_workspace_get(ctx, p->fwd_workspace, &workspace));
    const float one = 1.0f, zero = 0.0f;
    const void *x = in, *w = weight; /* what cuDNN reads: the float tensors, or their bf16 copies */
    void *y = out;
    const conv_counts c = counts_of(p);
    conv_bf16 b = {NULL, NULL, NULL};
    if (is_bf16(ctx)) {
        AN_TRY(bf16_scratch(ctx, &c, &b));
        AN_TRY(convert_f32_to_bf16_cuda(ctx, b.in, in, c.in));
        AN_TRY(convert_f32_to_bf16_cuda(ctx, b.weight, weight, c.weight));
        x = b.in, w = b.weight, y = b.out;
    }
    CUDNN_TRY(cudnnSetConvolutionMathType(p->conv_desc, p->fwd_math));
    CUDNN_TRY(cudnnConvolutionForward(ctx->cudnn, &one, p->in_desc, x, p->weight_desc, w, p->conv_desc,
                                      p->fwd_algo, workspace, p->fwd_workspace, &zero, p->out_desc, y));
    if (is_bf16(ctx)) AN_TRY(convert_bf16_to_f32_cuda(ctx, out, b.out, c.out));
    CUDNN_TRY(cudnnAddTensor(ctx->cudnn, &one, p->bias_desc, bias, &one, p->out_float_desc, out));
    return AN_OK;
}

an_status conv_backward_cuda(backend *be, float *dinput, float *dweight, float *dbias,
                             const float *doutput, const float *in, const float *weight,
                             const conv_shape *s)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    conv_plan *p = NULL;
    const float one = 1.0f, zero = 0.0f;
    void *workspace = NULL;
    if (s->batch == 0) { /* the gradients of an empty batch are 0; cuDNN refuses empty tensors */
        AN_TRY(conv_shape_check(s));
        size_t weights = (size_t)s->out_channels * (size_t)(s->in_channels / s->groups) *
                         (size_t)s->kernel * (size_t)s->kernel;
        if (dweight) CUDA_TRY(cudaMemsetAsync(dweight, 0, weights * sizeof(float), ctx->compute));
        if (dbias)
            CUDA_TRY(cudaMemsetAsync(dbias, 0, (size_t)s->out_channels * sizeof(float), ctx->compute));
        return AN_OK;
    }
    AN_TRY(conv_algo_cache_plan(ctx->conv_cache, s, &p));
    if (dbias)
        CUDNN_TRY(cudnnConvolutionBackwardBias(ctx->cudnn, &one, p->out_float_desc, doutput, &zero,
                                               p->bias_desc, dbias));
    if (!dweight && !dinput) return AN_OK;
    /* What cuDNN reads and writes: the float tensors, or their bf16 copies.
     * Under bf16 the backward-filter pass uses the scratch's `in` and
     * `weight` for x and dweight, then the backward-data pass the same two
     * for dinput and the weights: the stream runs them in this order. */
    const void *dy = doutput, *x = in, *w = weight;
    void *dw = dweight, *dx = dinput;
    const conv_counts c = counts_of(p);
    conv_bf16 b = {NULL, NULL, NULL};
    if (is_bf16(ctx)) {
        AN_TRY(bf16_scratch(ctx, &c, &b));
        AN_TRY(convert_f32_to_bf16_cuda(ctx, b.out, doutput, c.out));
        dy = b.out, x = b.in, dw = b.weight, w = b.weight, dx = b.in;
    }
    if (dweight) {
        if (!p->bwd_filter_chosen) AN_TRY(choose_backward_filter(ctx, p));
        AN_TRY(cuda_workspace_get(ctx, p->bwd_filter_workspace, &workspace));
        if (is_bf16(ctx)) AN_TRY(convert_f32_to_bf16_cuda(ctx, b.in, in, c.in));
        CUDNN_TRY(cudnnSetConvolutionMathType(p->conv_desc, p->bwd_filter_math));
        CUDNN_TRY(cudnnConvolutionBackwardFilter(ctx->cudnn, &one, p->in_desc, x, p->out_desc, dy, p->conv_desc,
                                                 p->bwd_filter_algo, workspace, p->bwd_filter_workspace, &zero,
                                                 p->weight_desc, dw));
        if (is_bf16(ctx)) AN_TRY(convert_bf16_to_f32_cuda(ctx, dweight, b.weight, c.weight));
    }
    if (dinput) {
        if (!p->bwd_data_chosen) AN_TRY(choose_backward_data(ctx, p));
        AN_TRY(cuda_workspace_get(ctx, p->bwd_data_workspace, &workspace));
        if (is_bf16(ctx)) AN_TRY(convert_f32_to_bf16_cuda(ctx, b.weight, weight, c.weight));
        CUDNN_TRY(cudnnSetConvolutionMathType(p->conv_desc, p->bwd_data_math));
        CUDNN_TRY(cudnnConvolutionBackwardData(ctx->cudnn, &one, p->weight_desc, w, p->out_desc, dy, p->conv_desc,
                                               p->bwd_data_algo, workspace, p->bwd_data_workspace, &zero,
                                               p->in_desc, dx));
        if (is_bf16(ctx)) AN_TRY(convert_bf16_to_f32_cuda(ctx, dinput, b.in, c.in));
    }
    return AN_OK;
}
