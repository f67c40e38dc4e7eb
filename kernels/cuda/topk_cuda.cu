/* topk_cuda.cu: top-1 and top-5 errors of a batch of scores (§6 reports
 * both), the twin of train/topk.c (topk_count_errors) behind backend.h's
 * topk_errors, with its rules exactly:
 *   - a class other than the label scoring >= the label's score counts as
 *     above it, so ties never flatter the model;
 *   - a NaN label score is an error in both top-1 and top-5;
 *   - a NaN score of another class is not above (NaN >= x is false);
 *   - top-1 error: at least 1 class above; top-5 error: at least 5 above.
 * One block per image counts the classes above; the error counts are summed
 * with integer atomics (exact, so the order does not matter) and read back
 * as the one host read. See ops_cuda.h. */
#include "cuda_check.h"
#include "cuda_launch.h"
#include "ops_cuda.h"

/* counts [3]: top-1 errors, top-5 errors, labels outside [0, K).
 *   scores [B, K], labels [B]; one block of CUDA_BLOCK threads per image. */
__global__ static void topk_errors_kernel(unsigned long long *counts, const float *scores,
                                          const int32_t *labels, int classes)
{
    __shared__ int above_shared[CUDA_BLOCK];
    const float *row = scores + (size_t)blockIdx.x * classes; /* [K] */
    int label = labels[blockIdx.x];
    if (label < 0 || label >= classes) { /* the caller's error: counted, never read through */
        if (threadIdx.x == 0) atomicAdd(&counts[2], 1ull);
        return;
    }
    float mine = row[label];
    if (isnan(mine)) { /* no score is no answer: wrong in both */
        if (threadIdx.x == 0) {
            atomicAdd(&counts[0], 1ull);
            atomicAdd(&counts[1], 1ull);
        }
        return;
    }
    int above = 0;
    for (int k = threadIdx.x; k < classes; k += blockDim.x) above += k != label && row[k] >= mine;
    above_shared[threadIdx.x] = above;
    __syncthreads();
    for (int half = CUDA_BLOCK / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half) above_shared[threadIdx.x] += above_shared[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        if (above_shared[0] >= 1) atomicAdd(&counts[0], 1ull);
        if (above_shared[0] >= 5) atomicAdd(&counts[1], 1ull);
    }
}

an_status topk_errors_cuda(backend *be, int64_t *errors1_host, int64_t *errors5_host,
                           const float *scores, const int32_t *labels, int batch, int classes)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    if (batch < 0 || classes <= 0) return error_set(AN_ERR_ARG, "top-k of [%d, %d]", batch, classes);
    *errors1_host = *errors5_host = 0;
    if (batch == 0) return AN_OK;
    void *scratch = NULL; /* [3] unsigned long long: top-1 errors, top-5 errors, bad labels */
    const size_t scratch_bytes = 3 * sizeof(unsigned long long);
    AN_TRY(cuda_workspace_get(ctx, scratch_bytes, &scratch));
    CUDA_TRY(cudaMemsetAsync(scratch, 0, scratch_bytes, ctx->compute));
    topk_errors_kernel<<<batch, CUDA_BLOCK, 0, ctx->compute>>>((unsigned long long *)scratch, scores,
                                                               labels, classes);
    CUDA_TRY_LAUNCH("topk_errors_kernel");
    unsigned long long counts[3] = {0, 0, 0};
    CUDA_TRY(cudaMemcpyAsync(counts, scratch, scratch_bytes, cudaMemcpyDeviceToHost, ctx->compute));
    CUDA_TRY(cudaStreamSynchronize(ctx->compute));
    if (counts[2] > 0)
        return error_set(AN_ERR_ARG, "%llu of %d labels are outside [0, %d) (the caller checks labels "
                         "before staging them: kernels/backend.h)", counts[2], batch, classes);
    *errors1_host = (int64_t)counts[0];
    *errors5_host = (int64_t)counts[1];
    return AN_OK;
}
