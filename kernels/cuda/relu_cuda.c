/* relu_cuda.c: ReLU forward and backward through cuDNN (§3.1). See ops_cuda.h. */
#include "cuda_check.h"
#include "cudnn_tensor.h"
#include "ops_cuda.h"

/* Runs forward (doutput == NULL) or backward on one flat tensor of n elements. */
static an_status relu_run(cuda_context *ctx, float *result, const float *in_or_out,
                          const float *doutput, size_t n)
{
    cudnnTensorDescriptor_t desc = NULL;
    cudnnActivationDescriptor_t act = NULL;
    an_status st = AN_OK;
    const float one = 1.0f, zero = 0.0f;
    if (n == 0) return AN_OK;
    AN_TRY_GOTO(st, cudnn_tensor_flat(&desc, n), done);
    CUDNN_TRY_GOTO(st, cudnnCreateActivationDescriptor(&act), done);
    CUDNN_TRY_GOTO(st, cudnnSetActivationDescriptor(act, CUDNN_ACTIVATION_RELU, CUDNN_PROPAGATE_NAN, 0.0),
                   done);
    if (!doutput) {
        CUDNN_TRY_GOTO(st, cudnnActivationForward(ctx->cudnn, act, &one, desc, in_or_out, &zero, desc,
                                                  result), done);
    } else {
        /* The forward output stands in for the input: out > 0 exactly where in > 0. */
        CUDNN_TRY_GOTO(st, cudnnActivationBackward(ctx->cudnn, act, &one, desc, in_or_out, desc, doutput,
                                                   desc, in_or_out, &zero, desc, result), done);
    }
done:
    if (act) cudnnDestroyActivationDescriptor(act);
    if (desc) cudnnDestroyTensorDescriptor(desc);
    return st;
}

an_status relu_forward_cuda(cuda_context *ctx, float *out, const float *in, size_t n)
{
    return relu_run(ctx, out, in, NULL, n);
}

an_status relu_backward_cuda(cuda_context *ctx, float *dinput, const float *doutput, const float *out,
                             size_t n)
{
    return relu_run(ctx, dinput, out, doutput, n);
}
