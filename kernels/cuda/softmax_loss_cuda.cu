/* softmax_loss_cuda.cu: softmax over classes, the multinomial logistic loss
 * (§4, averaged over the batch) and its gradient with respect to the logits.
 * One block per row; reductions in a fixed tree order, so results repeat
 * bitwise. See ops_cuda.h. */
#include <float.h>

#include "cuda_check.h"
#include "cuda_launch.h"
#include "ops_cuda.h"

/* Reduces `value` over the block (CUDA_BLOCK threads) with max or sum; every thread gets the result. */
__device__ static float block_reduce(float value, float *shared, int use_max)
{
    int t = threadIdx.x;
    shared[t] = value;
    __syncthreads();
    for (int half = CUDA_BLOCK / 2; half > 0; half /= 2) {
        if (t < half) shared[t] = use_max ? fmaxf(shared[t], shared[t + half]) : shared[t] + shared[t + half];
        __syncthreads();
    }
    float result = shared[0];
    __syncthreads();
    return result;
}

/* probs [B, K] from logits [B, K]; one block per row. */
__global__ static void softmax_kernel(float *probs, const float *logits, int classes)
{
    __shared__ float shared[CUDA_BLOCK];
    const float *row = logits + (size_t)blockIdx.x * classes;
    float *prow = probs + (size_t)blockIdx.x * classes;
    float local_max = -FLT_MAX;
    for (int k = threadIdx.x; k < classes; k += blockDim.x) local_max = fmaxf(local_max, row[k]);
    float row_max = block_reduce(local_max, shared, 1);
    float local_sum = 0.0f;
    for (int k = threadIdx.x; k < classes; k += blockDim.x) {
        float e = expf(row[k] - row_max);
        prow[k] = e; /* in place is fine: each k is read before it is written by this thread only */
        local_sum += e;
    }
    float inv = 1.0f / block_reduce(local_sum, shared, 0);
    for (int k = threadIdx.x; k < classes; k += blockDim.x) prow[k] *= inv;
}

/* result[0] = Σ_b -log(max(probs[b, label], FLT_MIN)) in double, in batch
 * order; result[1] (as a count) = number of labels outside [0, K). One thread. */
__global__ static void loss_kernel(double *result, const float *probs, const int32_t *labels, int batch,
                                   int classes)
{
    double sum = 0.0, bad = 0.0;
    for (int b = 0; b < batch; b++) {
        int label = labels[b];
        if (label < 0 || label >= classes) {
            bad += 1.0;
            continue;
        }
        float p = probs[(size_t)b * classes + label];
        sum += -log((double)fmaxf(p, FLT_MIN));
    }
    result[0] = sum;
    result[1] = bad;
}

/* dlogits [B, K] = (probs - onehot) / normalizer; *bad counts invalid labels. */
__global__ static void loss_backward_kernel(float *dlogits, const float *probs, const int32_t *labels,
                                            int batch, int classes, float normalizer, int *bad)
{
    size_t total = (size_t)batch * classes;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < total;
         i += (size_t)gridDim.x * blockDim.x) {
        int b = (int)(i / classes), k = (int)(i % classes);
        int label = labels[b];
        if (k == 0 && (label < 0 || label >= classes)) atomicAdd(bad, 1);
        float target = k == label ? 1.0f : 0.0f;
        dlogits[i] = (probs[i] - target) / normalizer;
    }
}

an_status softmax_forward_cuda(cuda_context *ctx, float *probs, const float *logits, int batch,
                               int classes)
{
    if (batch <= 0 || classes <= 0) return error_set(AN_ERR_ARG, "softmax of [%d, %d]", batch, classes);
    softmax_kernel<<<batch, CUDA_BLOCK, 0, ctx->compute>>>(probs, logits, classes);
    CUDA_TRY_LAUNCH("softmax_kernel");
    return AN_OK;
}

static an_status bad_labels(int bad, int batch, int classes)
{
    return error_set(AN_ERR_ARG, "%d of %d labels are outside [0, %d) (does the dataset's class count "
                     "match the network's?)", bad, batch, classes);
}

an_status softmax_loss_cuda(cuda_context *ctx, double *loss, const float *probs, const int32_t *labels,
                            int batch, int classes)
{
    if (batch <= 0 || classes <= 0) return error_set(AN_ERR_ARG, "loss of [%d, %d]", batch, classes);
    void *scratch = NULL;
    AN_TRY(cuda_workspace_get(ctx, 2 * sizeof(double), &scratch));
    loss_kernel<<<1, 1, 0, ctx->compute>>>((double *)scratch, probs, labels, batch, classes);
    CUDA_TRY_LAUNCH("loss_kernel");
    double result[2];
    CUDA_TRY(cudaMemcpyAsync(result, scratch, sizeof result, cudaMemcpyDeviceToHost, ctx->compute));
    CUDA_TRY(cudaStreamSynchronize(ctx->compute));
    if (result[1] > 0.0) return bad_labels((int)result[1], batch, classes);
    *loss = result[0] / batch;
    return AN_OK;
}

an_status softmax_loss_backward_cuda(cuda_context *ctx, float *dlogits, const float *probs,
                                     const int32_t *labels, int batch, int classes, float normalizer)
{
    if (batch <= 0 || classes <= 0 || !(normalizer > 0.0f))
        return error_set(AN_ERR_ARG, "loss gradient of [%d, %d] with normalizer %g", batch, classes,
                         (double)normalizer);
    void *scratch = NULL;
    AN_TRY(cuda_workspace_get(ctx, sizeof(int), &scratch));
    CUDA_TRY(cudaMemsetAsync(scratch, 0, sizeof(int), ctx->compute));
    loss_backward_kernel<<<cuda_blocks_for((size_t)batch * classes), CUDA_BLOCK, 0, ctx->compute>>>(
        dlogits, probs, labels, batch, classes, normalizer, (int *)scratch);
    CUDA_TRY_LAUNCH("loss_backward_kernel");
    int bad = 0;
    CUDA_TRY(cudaMemcpyAsync(&bad, scratch, sizeof bad, cudaMemcpyDeviceToHost, ctx->compute));
    CUDA_TRY(cudaStreamSynchronize(ctx->compute));
    if (bad > 0) return bad_labels(bad, batch, classes);
    return AN_OK;
}
