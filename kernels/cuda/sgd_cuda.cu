/* sgd_cuda.cu: the paper's update (§5) over the flat parameter block.
 * See train_ops_cuda.h. */
#include "cuda_check.h"
#include "cuda_launch.h"
#include "train_ops_cuda.h"

__global__ static void sgd_kernel(float *weights, float *velocity, const float *grads, size_t n, float lr,
                                  float momentum, float decay_lr)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x) {
        float w = weights[i];
        /* v = 0.9 v - 0.0005 lr w - lr g, each operation rounded on its own (no FMA). */
        float v = __fmul_rn(momentum, velocity[i]);
        v = __fsub_rn(v, __fmul_rn(decay_lr, w));
        v = __fsub_rn(v, __fmul_rn(lr, grads[i]));
        velocity[i] = v;
        weights[i] = __fadd_rn(w, v);
    }
}

an_status sgd_update_cuda(cuda_context *ctx, float *weights, float *velocity, const float *grads,
                          size_t n, float lr, float momentum, float weight_decay)
{
    if (n == 0) return AN_OK;
    sgd_kernel<<<cuda_blocks_for(n), CUDA_BLOCK, 0, ctx->compute>>>(weights, velocity, grads, n, lr, momentum,
                                                                    weight_decay * lr);
    CUDA_TRY_LAUNCH("sgd_kernel");
    return AN_OK;
}
