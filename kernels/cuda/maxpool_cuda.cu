/* maxpool_cuda.cu: overlapping max pooling (§3.4) with the CPU's rules:
 * the first maximum in row-major window order wins, a NaN is taken and
 * never replaced. Backward gathers, per input element, the gradients of the
 * windows whose winner it is, in output order: no atomics, deterministic,
 * and the same sum order as the CPU's scatter. See ops_cuda.h. */
#include "cuda_check.h"
#include "cuda_launch.h"
#include "ops_cuda.h"

/* Element i of out/argmax [B*C, Ho, Wo] from in [B*C, H, W]. */
__device__ static void maxpool_forward_one(size_t i, float *out, int32_t *argmax, const float *in,
                                              int in_h, int in_w, int out_h, int out_w, int size, int stride)
{
    int ox = (int)(i % out_w), oy = (int)((i / out_w) % out_h);
    size_t plane = i / ((size_t)out_w * out_h);
    const float *src = in + plane * (size_t)in_h * in_w;
    /* Windows that overhang the edge (ceil mode) are clipped to the input. */
    int y0 = oy * stride, x0 = ox * stride;
    int y1 = y0 + size < in_h ? y0 + size : in_h, x1 = x0 + size < in_w ? x0 + size : in_w;
    int best_index = y0 * in_w + x0;
    float best = src[best_index];
    for (int iy = y0; iy < y1; iy++) {
        for (int ix = x0; ix < x1; ix++) {
            int index = iy * in_w + ix;
            float v = src[index];
            if (best != best) return;  /* a NaN stays */
            if (v > best || v != v) {
                best = v;
                best_index = index;
            }
        }
    }
    out[i] = best;
    if (argmax) argmax[i] = best_index;
}

/* Element i of dinput [B*C, H, W] = Σ over the windows covering (y, x) that it won of doutput. */
__device__ static void maxpool_backward_one(size_t i, float *dinput, const float *doutput, const int32_t *argmax,
                                               int in_h, int in_w, int out_h, int out_w,
                                               int size, int stride)
{
    int x = (int)(i % in_w), y = (int)((i / in_w) % in_h);
    size_t plane = i / ((size_t)in_w * in_h);
    int index = y * in_w + x;
    /* Windows oy with oy*stride <= y <= oy*stride + size - 1. */
    int oy_lo = y - size + 1 > 0 ? (y - size + stride) / stride : 0;
    int oy_hi = y / stride < out_h - 1 ? y / stride : out_h - 1;
    int ox_lo = x - size + 1 > 0 ? (x - size + stride) / stride : 0;
    int ox_hi = x / stride < out_w - 1 ? x / stride : out_w - 1;
    const float *dout = doutput + plane * (size_t)out_h * out_w;
    const int32_t *arg = argmax + plane * (size_t)out_h * out_w;
    float sum = 0.0f;
    for (int oy = oy_lo; oy <= oy_hi; oy++)
        for (int ox = ox_lo; ox <= ox_hi; ox++)
            if (arg[oy * out_w + ox] == index) sum += dout[oy * out_w + ox];
    dinput[i] = sum;
}

static an_status pool_check(const pool_shape *s, int *out_h, int *out_w)
{
    *out_h = pool_out_size(s->in_h, s->size, s->stride, s->ceil_mode);
    *out_w = pool_out_size(s->in_w, s->size, s->stride, s->ceil_mode);
    if (s->batch < 0 || s->channels <= 0 || s->size <= 0 || s->stride <= 0 || *out_h <= 0 || *out_w <= 0)
        return error_set(AN_ERR_ARG, "max pooling %dx%d/%d does not fit a [%d, %d, %d, %d] input", s->size,
                         s->size, s->stride, s->batch, s->channels, s->in_h, s->in_w);
    /* With ceil_mode and stride > size the last window would start past the edge. */
    if (s->ceil_mode && s->stride > s->size)
        return error_set(AN_ERR_ARG, "max pooling %dx%d/%d in ceil mode: the stride must not exceed the window",
                         s->size, s->size, s->stride);
    return AN_OK;
}

an_status maxpool_forward_cuda(backend *be, float *out, int32_t *argmax, const float *in,
                               const pool_shape *s)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    int out_h = 0, out_w = 0;
    AN_TRY(pool_check(s, &out_h, &out_w));
    const size_t planes = (size_t)s->batch * s->channels; /* batch 0: nothing, as on the CPU */
    const int in_h = s->in_h, in_w = s->in_w, size = s->size, stride = s->stride;
    return cuda_for_each(ctx, planes * out_h * out_w, "maxpool_forward", [=] __device__(size_t i) {
        maxpool_forward_one(i, out, argmax, in, in_h, in_w, out_h, out_w, size, stride);
    });
}

an_status maxpool_backward_cuda(backend *be, float *dinput, const float *doutput,
                                const int32_t *argmax, const pool_shape *s)
{
    cuda_context *ctx;
    AN_TRY(backend_cuda_use(be, &ctx));
    int out_h = 0, out_w = 0;
    AN_TRY(pool_check(s, &out_h, &out_w));
    const size_t planes = (size_t)s->batch * s->channels;
    const int in_h = s->in_h, in_w = s->in_w, size = s->size, stride = s->stride;
    return cuda_for_each(ctx, planes * in_h * in_w, "maxpool_backward", [=] __device__(size_t i) {
        maxpool_backward_one(i, dinput, doutput, argmax, in_h, in_w, out_h, out_w, size, stride);
    });
}
