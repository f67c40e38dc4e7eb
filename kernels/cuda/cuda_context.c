/* cuda_context.c: device probe, streams, cuDNN/cuBLAS handles and the
 * bounded workspace. See cuda_context.h. */
#include "cuda_context.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_cuda_cache.h"
#include "cuda_check.h"
#include "cuda_memory.h"

#define DEFAULT_WORKSPACE_LIMIT ((size_t)512 << 20) /* 512 MiB */

int cuda_device_count(void)
{
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return count;
}

int cuda_device_available(void)
{
    return cuda_device_count() > 0;
}

cuda_context_options cuda_context_options_default(void)
{
    cuda_context_options o;
    memset(&o, 0, sizeof o);
    o.device = 0;
    o.precision = BACKEND_PRECISION_FP32;
    o.deterministic = 0;
    o.workspace_limit_bytes = DEFAULT_WORKSPACE_LIMIT;
    return o;
}

/* cuBLAS math mode per precision (precision.h). fp32 uses the default
 * mode: with CUBLAS_COMPUTE_32F (fc_cuda.c) it keeps float precision in every
 * phase and never rounds to TF32. Pedantic mode, which cuBLAS documents as
 * meant for numerical studies and debugging, only for fp32-pedantic. */
static cublasMath_t cublas_math_for(backend_precision p)
{
    switch (p) {
    case BACKEND_PRECISION_TF32: return CUBLAS_TF32_TENSOR_OP_MATH;
    case BACKEND_PRECISION_BF16: return CUBLAS_DEFAULT_MATH; /* bf16 is chosen per GEMM (fc_cuda.c) */
    case BACKEND_PRECISION_FP32_PEDANTIC: return CUBLAS_PEDANTIC_MATH;
    case BACKEND_PRECISION_FP32: break;
    }
    return CUBLAS_DEFAULT_MATH;
}

static an_status context_init(cuda_context *ctx, const cuda_context_options *o)
{
    int count = cuda_device_count();
    if (count == 0)
        return error_set(AN_ERR_CUDA, "no CUDA device found (use --device cpu, or check nvidia-smi "
                         "and the driver)");
    if (o->device < 0 || o->device >= count)
        return error_set(AN_ERR_ARG, "CUDA device %d does not exist (this machine has %d)", o->device,
                         count);
    if (strcmp(backend_precision_name(o->precision), "?") == 0)
        return error_set(AN_ERR_ARG, "unknown CUDA precision %d", (int)o->precision);
    ctx->device = o->device;
    ctx->precision = o->precision;
    ctx->deterministic = o->deterministic;
    ctx->workspace_limit_bytes = o->workspace_limit_bytes ? o->workspace_limit_bytes : DEFAULT_WORKSPACE_LIMIT;

    CUDA_TRY(cudaSetDevice(ctx->device));
    struct cudaDeviceProp prop;
    CUDA_TRY(cudaGetDeviceProperties(&prop, ctx->device));
    snprintf(ctx->device_name, sizeof ctx->device_name, "%s", prop.name);
    ctx->sm_count = prop.multiProcessorCount;
    ctx->total_memory_bytes = prop.totalGlobalMem;

    /* Non-blocking: no implicit ordering with the NULL stream, which nothing
     * here uses (cuda_context.h, "Streams and ordering"). */
    CUDA_TRY(cudaStreamCreateWithFlags(&ctx->compute, cudaStreamNonBlocking));
    CUDA_TRY(cudaStreamCreateWithFlags(&ctx->copy, cudaStreamNonBlocking));
    CUDNN_TRY(cudnnCreate(&ctx->cudnn));
    CUDNN_TRY(cudnnSetStream(ctx->cudnn, ctx->compute));
    CUBLAS_TRY(cublasCreate(&ctx->cublas));
    CUBLAS_TRY(cublasSetStream(ctx->cublas, ctx->compute));
    CUBLAS_TRY(cublasSetMathMode(ctx->cublas, cublas_math_for(ctx->precision)));
    /* cuBLAS's own workspace lives with the handle; pointer mode stays host. */
    /* bf16: the convolutions take bf16 tensors and accumulate in float (conv_cuda.c) */
    AN_TRY(conv_algo_cache_create(&ctx->conv_cache, ctx->precision == BACKEND_PRECISION_BF16 ? CUDNN_DATA_BFLOAT16
                                                                                             : CUDNN_DATA_FLOAT));
    return AN_OK;
}

an_status cuda_context_create(cuda_context **out, const cuda_context_options *options)
{
    *out = NULL;
    cuda_context_options defaults = cuda_context_options_default();
    if (!options) options = &defaults;
    cuda_context *ctx = calloc(1, sizeof *ctx);
    AN_CHECK_ALLOC(ctx, sizeof *ctx);
    an_status st = context_init(ctx, options);
    if (st != AN_OK) {
        cuda_context_destroy(ctx);
        return error_context(st, "setting up CUDA device %d", options->device);
    }
    *out = ctx;
    return AN_OK;
}

void cuda_context_destroy(cuda_context *ctx)
{
    if (!ctx) return;
    if (ctx->compute) cudaStreamSynchronize(ctx->compute);
    conv_algo_cache_destroy(ctx->conv_cache);
    cuda_free(ctx->workspace);
    cuda_free(ctx->bf16_scratch);
    if (ctx->cublas) cublasDestroy(ctx->cublas);
    if (ctx->cudnn) cudnnDestroy(ctx->cudnn);
    if (ctx->copy) cudaStreamDestroy(ctx->copy);
    if (ctx->compute) cudaStreamDestroy(ctx->compute);
    free(ctx);
}

/* *buffer [*have bytes] grown to at least `bytes` (contents undefined). */
static an_status scratch_grow(cuda_context *ctx, void **buffer, size_t *have, size_t bytes, const char *what)
{
    if (bytes > *have) {
        /* The old buffer may still be in use by queued work. */
        CUDA_TRY(cudaStreamSynchronize(ctx->compute));
        cuda_free(*buffer);
        *buffer = NULL;
        *have = 0;
        AN_TRY(cuda_malloc(buffer, bytes, what));
        *have = bytes;
    }
    return AN_OK;
}

an_status cuda_workspace_get(cuda_context *ctx, size_t bytes, void **out)
{
    *out = NULL;
    if (bytes > ctx->workspace_limit_bytes)
        return error_set(AN_ERR_CUDA, "a %zu-byte workspace is over the limit of %zu bytes "
                         "(raise the workspace limit or use a smaller --batch)",
                         bytes, ctx->workspace_limit_bytes);
    AN_TRY(scratch_grow(ctx, &ctx->workspace, &ctx->workspace_bytes, bytes, "the convolution workspace"));
    *out = ctx->workspace;
    return AN_OK;
}

an_status cuda_bf16_scratch_get(cuda_context *ctx, size_t bytes, void **out)
{
    *out = NULL;
    AN_TRY(scratch_grow(ctx, &ctx->bf16_scratch, &ctx->bf16_scratch_bytes, bytes,
                        "the bf16 copies of a convolution's tensors"));
    *out = ctx->bf16_scratch;
    return AN_OK;
}

an_status cuda_context_sync(cuda_context *ctx)
{
    CUDA_TRY(cudaStreamSynchronize(ctx->compute));
    return AN_OK;
}
