/* fc_bias_cuda.h: the bias of a fully connected layer, added to every row and
 * summed over rows for its gradient. Internal to kernels/cuda (fc_cuda.c).
 */
#ifndef ALEXNET_FC_BIAS_CUDA_H
#define ALEXNET_FC_BIAS_CUDA_H

#ifdef __cplusplus
extern "C" {
#endif

#include "cuda_context.h"
#include "status.h"

/* out [B, O] += bias [O] (broadcast over rows). */
an_status fc_bias_add_cuda(cuda_context *ctx, float *out, const float *bias, int batch, int out_features);

/* dbias [O] = Σ_b doutput [b, O], summed in row order (deterministic). */
an_status fc_bias_grad_cuda(cuda_context *ctx, float *dbias, const float *doutput, int batch,
                            int out_features);

#ifdef __cplusplus
}
#endif

#endif
