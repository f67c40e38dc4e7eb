/* fc_bias_cuda.cu: bias add and bias gradient of the fully connected layers.
 * See fc_bias_cuda.h. */
#include "cuda_launch.h"
#include "cuda_check.h"
#include "fc_bias_cuda.h"

/* out [B, O] += bias [O]. */
__global__ static void bias_grad_kernel(float *dbias, const float *doutput, int batch, int out_features)
{
    int o = blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= out_features) return;
    float sum = 0.0f;
    for (int b = 0; b < batch; b++) sum += doutput[(size_t)b * out_features + o];
    dbias[o] = sum;
}

an_status fc_bias_add_cuda(cuda_context *ctx, float *out, const float *bias, int batch, int out_features)
{
    return cuda_for_each(ctx, (size_t)batch * (size_t)out_features, "bias_add",
                         [=] __device__(size_t i) { out[i] += bias[i % (size_t)out_features]; });
}

an_status fc_bias_grad_cuda(cuda_context *ctx, float *dbias, const float *doutput, int batch,
                            int out_features)
{
    if (out_features == 0) return AN_OK;
    bias_grad_kernel<<<(out_features + CUDA_BLOCK - 1) / CUDA_BLOCK, CUDA_BLOCK, 0, ctx->compute>>>(
        dbias, doutput, batch, out_features);
    CUDA_TRY_LAUNCH("bias_grad_kernel");
    return AN_OK;
}
