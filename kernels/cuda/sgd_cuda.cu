/* sgd_cuda.cu: the paper's update (§5) over the flat parameter block.
 * See ops_cuda.h. */
#include "cuda_check.h"
#include "cuda_launch.h"
#include "ops_cuda.h"

an_status sgd_update_cuda(backend *be, float *weights, float *velocity, int32_t *applied, const float *grads,
                          size_t n, float lr, float momentum, float weight_decay)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    /* applied = 1, then 0 if any gradient is not finite (every writer writes 0), then the update reads it. */
    AN_TRY(cuda_for_each(ctx, 1, "sgd_update (flag)", [=] __device__(size_t) { *applied = 1; }));
    AN_TRY(cuda_for_each(ctx, n, "sgd_update (finite check)", [=] __device__(size_t i) {
        if (!isfinite(grads[i])) *applied = 0;
    }));
    const float decay_lr = weight_decay * lr;
    return cuda_for_each(ctx, n, "sgd_update", [=] __device__(size_t i) {
        if (*applied == 0) return; /* a non-finite step is never applied */
        float w = weights[i];
        /* v = 0.9 v - 0.0005 lr w - lr g, each operation rounded on its own (no FMA). */
        float v = __fmul_rn(momentum, velocity[i]);
        v = __fsub_rn(v, __fmul_rn(decay_lr, w));
        v = __fsub_rn(v, __fmul_rn(lr, grads[i]));
        velocity[i] = v;
        weights[i] = __fadd_rn(w, v);
    });
}
