/* softmax_loss_cuda.cu: softmax over classes, the multinomial logistic loss
 * (§4, averaged over the batch) and its gradient with respect to the logits,
 * each computing what kernels/cpu/softmax_cpu.c computes, NaN included:
 *   - softmax: the row max is row[0] compared forward with `>` (a NaN in
 *     row[0] is the max, a NaN elsewhere is skipped), exponentials summed in
 *     double, probs = e * (float)(1 / sum). Any NaN in a row gives a NaN sum,
 *     so the whole row is NaN on both twins.
 *   - loss: -log(max(p, FLT_MIN)) in double, summed in batch order on one
 *     thread; a NaN p stays NaN (fmaxf would have turned it into FLT_MIN and a
 *     finite loss, hiding a diverged network: backend.h asks for NaN).
 *   - gradient: inv = 1 / normalizer in float, dlogits = p * inv, minus inv at
 *     the label, each operation rounded on its own as the CPU loop is.
 * One block per softmax row; reductions in a fixed tree order, so results
 * repeat bitwise. Labels are trusted to be in [0, K) (backend.h: the network
 * checks them on the host before staging them), so nothing is read back to
 * count bad ones; a label outside is never used as an index, it makes the
 * loss and its row of the gradient NaN. See ops_cuda.h. */
#include <float.h>
#include <math.h>

#include "cuda_check.h"
#include "cuda_launch.h"
#include "ops_cuda.h"

/* Reduces `value` over the block (CUDA_BLOCK threads); every thread gets the result.
 *   shared [CUDA_BLOCK] */
template <typename T, typename Op>
__device__ static T block_reduce(T value, T *shared, Op op)
{
    int t = threadIdx.x;
    shared[t] = value;
    __syncthreads();
    for (int half = CUDA_BLOCK / 2; half > 0; half /= 2) {
        if (t < half) shared[t] = op(shared[t], shared[t + half]);
        __syncthreads();
    }
    T result = shared[0];
    __syncthreads();
    return result;
}

struct max_ignoring_nan {
    __device__ float operator()(float a, float b) const { return fmaxf(a, b); }
};
struct sum_double {
    __device__ double operator()(double a, double b) const { return a + b; }
};

/* probs [B, K] from logits [B, K]; one block per row. */
__global__ static void softmax_kernel(float *probs, const float *logits, int classes)
{
    __shared__ float shared_max[CUDA_BLOCK];
    __shared__ double shared_sum[CUDA_BLOCK];
    const float *row = logits + (size_t)blockIdx.x * classes; /* [K] */
    float *prow = probs + (size_t)blockIdx.x * classes;       /* [K] */
    /* Read by every thread before the first barrier: in place, thread 0
     * overwrites it after the barrier. */
    const float first = row[0];
    /* The CPU's max: zmax = row[0], then zmax = row[k] > zmax ? row[k] : zmax.
     * That is row[0] when it is NaN, else the largest non-NaN value, which
     * is fmaxf over the row (fmaxf drops NaNs) seeded with -inf. */
    float local_max = -INFINITY;
    for (int k = threadIdx.x; k < classes; k += blockDim.x) local_max = fmaxf(local_max, row[k]);
    float row_max = block_reduce(local_max, shared_max, max_ignoring_nan());
    if (isnan(first)) row_max = first;
    /* In place is fine from here: element k is read and written by one thread only. */
    double local_sum = 0.0;
    for (int k = threadIdx.x; k < classes; k += blockDim.x) {
        float e = expf(__fsub_rn(row[k], row_max));
        prow[k] = e;
        local_sum += (double)e;
    }
    float inv = (float)(1.0 / block_reduce(local_sum, shared_sum, sum_double()));
    for (int k = threadIdx.x; k < classes; k += blockDim.x) prow[k] = __fmul_rn(prow[k], inv);
}

/* *result = Σ_b -log(max(probs[b, label], FLT_MIN)) in double, in batch
 * order, NaN kept; NaN for a label outside [0, K). One thread.
 *   result [1], probs [B, K], labels [B] */
__global__ static void loss_kernel(double *result, const float *probs, const int32_t *labels, int batch,
                                   int classes)
{
    double sum = 0.0;
    for (int b = 0; b < batch; b++) {
        int label = labels[b];
        if (label < 0 || label >= classes) {
            sum = (double)NAN;
            continue;
        }
        float p = probs[(size_t)b * classes + label];
        /* The CPU's `p > FLT_MIN ? p : FLT_MIN`, except that a NaN stays NaN. */
        double clamped = p > FLT_MIN ? (double)p : (isnan(p) ? (double)p : (double)FLT_MIN);
        sum -= log(clamped);
    }
    *result = sum;
}

/* Element i of dlogits [B, K] = probs * inv, minus inv at the label (the CPU's order of
 * operations); a row whose label is outside [0, K) is NaN.
 *   dlogits [B, K], probs [B, K], labels [B] */
__device__ static void loss_backward_one(size_t i, float *dlogits, const float *probs, const int32_t *labels,
                                            int classes, float inv)
{
    int b = (int)(i / classes), k = (int)(i % classes);
    int label = labels[b];
    float d = __fmul_rn(probs[i], inv);
    if (k == label) d = __fsub_rn(d, inv);
    if (label < 0 || label >= classes) d = NAN;
    dlogits[i] = d;
}

an_status softmax_forward_cuda(backend *be, float *probs, const float *logits, int batch,
                               int classes)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    if (batch < 0 || classes <= 0) return error_set(AN_ERR_ARG, "softmax of [%d, %d]", batch, classes);
    if (batch == 0) return AN_OK;
    softmax_kernel<<<batch, CUDA_BLOCK, 0, ctx->compute>>>(probs, logits, classes);
    CUDA_TRY_LAUNCH("softmax_kernel");
    return AN_OK;
}

an_status softmax_loss_cuda(backend *be, double *loss, const float *probs, const int32_t *labels,
                            int batch, int classes)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    if (batch < 0 || classes <= 0) return error_set(AN_ERR_ARG, "loss of [%d, %d]", batch, classes);
    if (batch == 0) { /* the CPU's mean of nothing */
        *loss = 0.0;
        return AN_OK;
    }
    void *scratch = NULL; /* [1] double */
    AN_TRY(cuda_workspace_get(ctx, sizeof(double), &scratch));
    loss_kernel<<<1, 1, 0, ctx->compute>>>((double *)scratch, probs, labels, batch, classes);
    CUDA_TRY_LAUNCH("loss_kernel");
    /* The one host read of the loss: waits for the queued work. */
    double sum = 0.0;
    CUDA_TRY(cudaMemcpyAsync(&sum, scratch, sizeof sum, cudaMemcpyDeviceToHost, ctx->compute));
    CUDA_TRY(cudaStreamSynchronize(ctx->compute));
    *loss = sum / batch;
    return AN_OK;
}

an_status softmax_loss_backward_cuda(backend *be, float *dlogits, const float *probs,
                                     const int32_t *labels, int batch, int classes, float normalizer)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    if (batch < 0 || classes <= 0 || !(normalizer > 0.0f))
        return error_set(AN_ERR_ARG, "loss gradient of [%d, %d] with normalizer %g", batch, classes,
                         (double)normalizer);
    const float inv = 1.0f / normalizer;
    return cuda_for_each(ctx, (size_t)batch * (size_t)classes, "softmax_loss_backward", [=] __device__(size_t i) {
        loss_backward_one(i, dlogits, probs, labels, classes, inv);
    });
}
