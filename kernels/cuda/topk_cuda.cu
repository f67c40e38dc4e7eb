/* topk_cuda.cu: the rank of each row's label among its scores, for top-1
 * and top-5 accuracy (§6). See train_ops_cuda.h. */
#include <stdlib.h>

#include "cuda_check.h"
#include "cuda_launch.h"
#include "train_ops_cuda.h"

/* One block per row; each thread counts over a stride of classes, then a tree sum. */
__global__ static void topk_rank_kernel(int32_t *ranks, const float *scores, const int32_t *labels,
                                        int classes)
{
    __shared__ int counts[CUDA_BLOCK];
    const float *row = scores + (size_t)blockIdx.x * classes;
    int label = labels[blockIdx.x];
    if (label < 0 || label >= classes) {
        if (threadIdx.x == 0) ranks[blockIdx.x] = -1;
        return;
    }
    float target = row[label];
    int above = 0;
    for (int k = threadIdx.x; k < classes; k += blockDim.x)
        above += row[k] > target || (row[k] == target && k < label);
    counts[threadIdx.x] = above;
    __syncthreads();
    for (int half = CUDA_BLOCK / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half) counts[threadIdx.x] += counts[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0) ranks[blockIdx.x] = counts[0];
}

an_status topk_rank_cuda(cuda_context *ctx, int32_t *ranks, const float *scores, const int32_t *labels,
                         int batch, int classes)
{
    if (batch <= 0 || classes <= 0) return error_set(AN_ERR_ARG, "top-k of [%d, %d]", batch, classes);
    topk_rank_kernel<<<batch, CUDA_BLOCK, 0, ctx->compute>>>(ranks, scores, labels, classes);
    CUDA_TRY_LAUNCH("topk_rank_kernel");
    return AN_OK;
}

an_status topk_count_cuda(cuda_context *ctx, int *correct1, int *correct5, const float *scores,
                          const int32_t *labels, int batch, int classes)
{
    void *scratch = NULL;
    int32_t *ranks = NULL;
    an_status st = AN_OK;
    if (batch <= 0) return error_set(AN_ERR_ARG, "top-k of an empty batch");
    ranks = (int32_t *)malloc((size_t)batch * sizeof *ranks);
    AN_CHECK_ALLOC(ranks, (size_t)batch * sizeof *ranks);
    AN_TRY_GOTO(st, cuda_workspace_get(ctx, (size_t)batch * sizeof *ranks, &scratch), done);
    AN_TRY_GOTO(st, topk_rank_cuda(ctx, (int32_t *)scratch, scores, labels, batch, classes), done);
    CUDA_TRY_GOTO(st, cudaMemcpyAsync(ranks, scratch, (size_t)batch * sizeof *ranks, cudaMemcpyDeviceToHost,
                                      ctx->compute), done);
    CUDA_TRY_GOTO(st, cudaStreamSynchronize(ctx->compute), done);
    *correct1 = *correct5 = 0;
    for (int b = 0; b < batch; b++) {
        if (ranks[b] < 0) {
            st = error_set(AN_ERR_ARG, "label of row %d is outside [0, %d)", b, classes);
            goto done;
        }
        *correct1 += ranks[b] < 1;
        *correct5 += ranks[b] < 5;
    }
done:
    free(ranks);
    return st;
}
