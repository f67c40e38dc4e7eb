/* fc_cuda.c: fully connected layers (fc6, fc7, fc8; §3.5) through cuBLAS.
 *
 * Tensors are row-major; cuBLAS is column-major. A row-major [R, C] matrix is
 * the column-major [C, R] matrix with the same bytes, so with
 *   X = in [B, I], W = weight [O, I], Y = out [B, O] (row-major)
 *   Y  = X · Wᵀ   is   Yc [O, B] = Wcᵀ · Xc       (gemm T, N; m=O n=B k=I)
 *   dX = dY · W   is  dXc [I, B] = Wc · dYc        (gemm N, N; m=I n=B k=O)
 *   dW = dYᵀ · X  is  dWc [I, O] = Xc · dYcᵀ       (gemm N, T; m=I n=O k=B)
 * The compute type follows the precision (precision.h; fp32:
 * CUBLAS_COMPUTE_32F in cuBLAS's default math mode, float in every phase and
 * never TF32; fp32-pedantic: CUBLAS_COMPUTE_32F_PEDANTIC, cuBLAS's debugging
 * mode; tf32: _FAST_TF32; bf16: _FAST_16BF); storage stays float.
 */
#include "cuda_check.h"
#include "fc_bias_cuda.h"
#include "ops_cuda.h"

static cublasComputeType_t compute_type_for(backend_precision p)
{
    switch (p) {
    case BACKEND_PRECISION_TF32: return CUBLAS_COMPUTE_32F_FAST_TF32;
    case BACKEND_PRECISION_BF16: return CUBLAS_COMPUTE_32F_FAST_16BF;
    case BACKEND_PRECISION_FP32_PEDANTIC: return CUBLAS_COMPUTE_32F_PEDANTIC;
    case BACKEND_PRECISION_FP32: break;
    }
    return CUBLAS_COMPUTE_32F;
}

/* C [m, n] = op(A) · op(B), column-major, float storage. */
static an_status gemm(cuda_context *ctx, cublasOperation_t op_a, cublasOperation_t op_b, int m, int n,
                      int k, const float *a, int lda, const float *b, int ldb, float *c, int ldc)
{
    const float one = 1.0f, zero = 0.0f;
    CUBLAS_TRY(cublasGemmEx(ctx->cublas, op_a, op_b, m, n, k, &one, a, CUDA_R_32F, lda, b, CUDA_R_32F, ldb,
                            &zero, c, CUDA_R_32F, ldc, compute_type_for(ctx->precision),
                            CUBLAS_GEMM_DEFAULT));
    return AN_OK;
}

static an_status fc_check(int batch, int in_features, int out_features)
{
    if (batch < 0 || in_features < 1 || out_features < 1)
        return error_set(AN_ERR_ARG, "fully connected layer of batch %d, %d -> %d features", batch,
                         in_features, out_features);
    return AN_OK;
}

an_status fc_forward_cuda(backend *be, float *out, const float *in, const float *weight,
                          const float *bias, int batch, int in_features, int out_features)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    AN_TRY(fc_check(batch, in_features, out_features));
    if (batch == 0) return AN_OK;
    AN_TRY(gemm(ctx, CUBLAS_OP_T, CUBLAS_OP_N, out_features, batch, in_features, weight, in_features, in,
                in_features, out, out_features));
    return fc_bias_add_cuda(ctx, out, bias, batch, out_features);
}

an_status fc_backward_cuda(backend *be, float *dinput, float *dweight, float *dbias,
                           const float *doutput, const float *in, const float *weight, int batch,
                           int in_features, int out_features)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    AN_TRY(fc_check(batch, in_features, out_features));
    if (batch == 0) { /* the gradients of an empty batch are 0 (not left to a k = 0 GEMM) */
        if (dweight)
            CUDA_TRY(cudaMemsetAsync(dweight, 0, (size_t)out_features * (size_t)in_features * sizeof(float),
                                     ctx->compute));
        if (dbias) CUDA_TRY(cudaMemsetAsync(dbias, 0, (size_t)out_features * sizeof(float), ctx->compute));
        return AN_OK;
    }
    if (dinput)
        AN_TRY(gemm(ctx, CUBLAS_OP_N, CUBLAS_OP_N, in_features, batch, out_features, weight, in_features,
                    doutput, out_features, dinput, in_features));
    if (dweight)
        AN_TRY(gemm(ctx, CUBLAS_OP_N, CUBLAS_OP_T, in_features, out_features, batch, in, in_features,
                    doutput, out_features, dweight, in_features));
    if (dbias) AN_TRY(fc_bias_grad_cuda(ctx, dbias, doutput, batch, out_features));
    return AN_OK;
}
