/* lrn_cuda.c: local response normalisation across channels (§3.3) through
 * cuDNN, in either α convention of lrn_params.
 *
 * cuDNN computes b = a / (k + (α_cudnn / n) Σ a²)^β, i.e. it always divides
 * its α by n. So for LRN_ALPHA_DIVIDED_BY_N (cuda-convnet, PyTorch, our
 * default) α_cudnn = α, and for LRN_ALPHA_LITERAL (the paper's printed
 * formula) α_cudnn = α · n. The window is c - n/2 .. c + n/2 clipped at the
 * channel edges, as on the CPU (n odd).
 */
#include "cuda_check.h"
#include "cudnn_tensor.h"
#include "ops_cuda.h"

static double cudnn_alpha(const lrn_params *p)
{
    return p->convention == LRN_ALPHA_LITERAL ? (double)p->alpha * (double)p->n : (double)p->alpha;
}

static an_status lrn_check(const lrn_params *p)
{
    if (p->n < CUDNN_LRN_MIN_N || p->n > CUDNN_LRN_MAX_N || p->n % 2 == 0)
        return error_set(AN_ERR_ARG, "LRN size n=%d: cuDNN needs an odd n in [%d, %d]", p->n,
                         CUDNN_LRN_MIN_N, CUDNN_LRN_MAX_N);
    if (p->k < CUDNN_LRN_MIN_K || p->beta < CUDNN_LRN_MIN_BETA)
        return error_set(AN_ERR_ARG, "LRN k=%g beta=%g: cuDNN needs k >= %g and beta >= %g", (double)p->k,
                         (double)p->beta, CUDNN_LRN_MIN_K, CUDNN_LRN_MIN_BETA);
    return AN_OK;
}

/* Forward when doutput == NULL, else backward into `result`. */
static an_status lrn_run(cuda_context *ctx, float *result, const float *doutput, const float *in,
                         const float *out, int batch, int channels, int height, int width,
                         const lrn_params *p)
{
    cudnnTensorDescriptor_t desc = NULL;
    cudnnLRNDescriptor_t lrn = NULL;
    an_status st = AN_OK;
    const float one = 1.0f, zero = 0.0f;
    AN_TRY(lrn_check(p));
    if (batch < 0 || channels < 1 || height < 1 || width < 1)
        return error_set(AN_ERR_ARG, "LRN of [%d, %d, %d, %d]", batch, channels, height, width);
    if (batch == 0) return AN_OK; /* as on the CPU; cuDNN refuses empty tensors */
    AN_TRY_GOTO(st, cudnn_tensor_nchw(&desc, (size_t)batch, (size_t)channels, (size_t)height,
                                      (size_t)width), done);
    CUDNN_TRY_GOTO(st, cudnnCreateLRNDescriptor(&lrn), done);
    CUDNN_TRY_GOTO(st, cudnnSetLRNDescriptor(lrn, (unsigned)p->n, cudnn_alpha(p), (double)p->beta,
                                             (double)p->k), done);
    if (!doutput)
        CUDNN_TRY_GOTO(st, cudnnLRNCrossChannelForward(ctx->cudnn, lrn, CUDNN_LRN_CROSS_CHANNEL_DIM1, &one,
                                                       desc, in, &zero, desc, result), done);
    else
        CUDNN_TRY_GOTO(st, cudnnLRNCrossChannelBackward(ctx->cudnn, lrn, CUDNN_LRN_CROSS_CHANNEL_DIM1, &one,
                                                        desc, out, desc, doutput, desc, in, &zero, desc,
                                                        result), done);
done:
    if (lrn) cudnnDestroyLRNDescriptor(lrn);
    if (desc) cudnnDestroyTensorDescriptor(desc);
    return st;
}

an_status lrn_forward_cuda(backend *be, float *out, float *scale, const float *in, int batch,
                           int channels, int height, int width, const lrn_params *p)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    (void)scale; /* cuDNN keeps no scale: backward recomputes it */
    return lrn_run(ctx, out, NULL, in, NULL, batch, channels, height, width, p);
}

an_status lrn_backward_cuda(backend *be, float *dinput, const float *doutput, const float *in,
                            const float *out, const float *scale, int batch, int channels, int height,
                            int width, const lrn_params *p)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    (void)scale;
    return lrn_run(ctx, dinput, doutput, in, out, batch, channels, height, width, p);
}
