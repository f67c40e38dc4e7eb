/* backend_twin.c: the cross-checking backend of backend_twin.h. Every op is
 * wrapped as: download its inputs from the inner backend, call the inner op,
 * download its outputs, recompute them with the CPU op from the downloaded
 * inputs, compare. Inputs are downloaded BEFORE the call, so an op working
 * in place is recomputed from what it read.
 *
 * Two tolerances derived here (the others: gpu_test_util.c, backend_twin.h):
 *   softmax, from identical logits: both subtract the same row max (same
 *     float operation), take expf (CUDA's expf errs by at most 2 ulp, glibc's
 *     by less than 1), sum in double (orders differ by about K x 2^-53, so
 *     the float inverse (float)(1 / sum) differs by at most 1 ulp) and
 *     multiply once more (0.5 ulp each side): at most about 5 ulp apart,
 *     5 x 2^-23 = 6e-7 relative, so 1e-6 element-wise. The floor
 *     1e-30 x max|p| only absorbs subnormal probabilities (below 1e-33),
 *     whose ulp is absolute.
 *   loss, from identical probabilities: both sum -log((double)p) in double in
 *     batch order; the two libraries' double log differ by at most about
 *     2 ulp per term, so the sum of positive terms by 2 x 2^-52 relative
 *     plus the sum's own roundings, far below 1e-12. */
#include "backend_twin.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_test_util.h"
#include "ops_cpu.h"

#define REPORT_LINES 256
#define SOFTMAX_RTOL 1e-6
#define SOFTMAX_FLOOR 1e-30
#define LOSS_RTOL 1e-12
#define LRN_FORWARD_RTOL 1e-5
#define LRN_BACKWARD_RTOL 1e-4
#define SUM_FLOOR 0.1
/* tanh forward: CUDA's tanhf and glibc's are each within about 2 ulp of the
 * true value (ops_cuda.h), so 4 ulp apart at most: 4 x 2^-23 = 4.8e-7 relative;
 * the floor absorbs outputs near 0, whose ulp is tiny. */
#define TANH_RTOL 5e-7
#define TANH_FLOOR 1e-6

typedef struct report_line {
    char text[160];
} report_line;

typedef struct backend_twin {
    backend base; /* first: a backend_twin * is a backend * */
    backend *inner;
    double sum_rtol;
    long comparisons;
    long calls[32]; /* per op kind, for the report's call numbers */
    report_line *lines; /* [REPORT_LINES] */
    int line_count;
} backend_twin;

enum op_kind {
    K_CONV_F, K_CONV_B, K_RELU_F, K_RELU_B, K_TANH_F, K_TANH_B, K_LRN_F, K_LRN_B, K_POOL_F, K_POOL_B, K_FC_F, K_FC_B, K_DROP_F,
    K_DROP_B, K_SOFTMAX, K_LOSS, K_LOSS_B, K_SGD, K_TOPK
};

static backend_twin *twin_of(backend *be) { return (backend_twin *)be; }
#define INNER(be) (twin_of(be)->inner)

/* A host copy [bytes] of inner memory src, once the queued work is done; NULL when src is NULL. */
static an_status fetch(backend *be, void **out, const void *src, size_t bytes)
{
    *out = NULL;
    if (!src) return AN_OK;
    void *h = malloc(bytes ? bytes : 1); /* [bytes] host */
    AN_CHECK_ALLOC(h, bytes ? bytes : 1);
    an_status st = INNER(be)->ops->download(INNER(be), h, src, bytes);
    if (st != AN_OK) {
        free(h);
        return st;
    }
    *out = h;
    return AN_OK;
}

static void note(backend_twin *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(backend_twin *t, const char *fmt, ...)
{
    if (t->line_count >= REPORT_LINES) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->lines[t->line_count++].text, sizeof t->lines[0].text, fmt, ap);
    va_end(ap);
}

/* gpu [n] against cpu [n] within rtol of |cpu| + floor max|cpu|. */
static an_status compare_close(backend *be, const char *op, long call, const char *what, const float *gpu,
                               const float *cpu, size_t n, double rtol, double floor_fraction)
{
    backend_twin *t = twin_of(be);
    size_t i = 0;
    double worst = gpu_test_worst_ratio(gpu, cpu, n, rtol, floor_fraction, &i);
    t->comparisons++;
    note(t, "%s #%ld %s: n=%zu worst error/tolerance %.3g", op, call, what, n, worst);
    if (!(worst <= 1.0))
        return error_set(AN_ERR_INTERNAL,
                         "twin check: %s #%ld %s element %zu of %zu: inner %.9g, CPU twin %.9g (error %.3g of "
                         "the tolerance, rtol %g)",
                         op, call, what, i, n, n ? (double)gpu[i] : 0.0, n ? (double)cpu[i] : 0.0, worst, rtol);
    return AN_OK;
}

/* a [bytes] and b [bytes] bit for bit; element size for the message. */
static an_status compare_bits(backend *be, const char *op, long call, const char *what, const void *a,
                              const void *b, size_t bytes, size_t element)
{
    backend_twin *t = twin_of(be);
    t->comparisons++;
    const uint8_t *x = a, *y = b;
    for (size_t k = 0; k < bytes; k++)
        if (x[k] != y[k]) {
            size_t e = k / element;
            double vx = 0.0, vy = 0.0;
            if (element == 4) {
                float fx, fy;
                memcpy(&fx, x + e * 4, 4);
                memcpy(&fy, y + e * 4, 4);
                vx = fx, vy = fy;
            } else {
                vx = x[e * element], vy = y[e * element];
            }
            return error_set(AN_ERR_INTERNAL,
                             "twin check: %s #%ld %s element %zu of %zu differs from the CPU twin's bitwise "
                             "(inner %.9g, CPU %.9g as float/bytes)",
                             op, call, what, e, bytes / element, vx, vy);
        }
    note(t, "%s #%ld %s: n=%zu bitwise equal", op, call, what, bytes / element);
    return AN_OK;
}

/* ------------------------------------------------------------ memory: passed through */

static an_status tw_alloc(backend *be, void **out, size_t bytes, const char *what)
{
    return INNER(be)->ops->alloc(INNER(be), out, bytes, what);
}
static void tw_free(backend *be, void *p) { INNER(be)->ops->free(INNER(be), p); }
static an_status tw_upload(backend *be, void *dst, const void *src_host, size_t bytes)
{
    return INNER(be)->ops->upload(INNER(be), dst, src_host, bytes);
}
static an_status tw_download(backend *be, void *dst_host, const void *src, size_t bytes)
{
    return INNER(be)->ops->download(INNER(be), dst_host, src, bytes);
}
static an_status tw_upload_view(backend *be, const void **view, void *staging, const void *src_host, size_t bytes)
{
    return INNER(be)->ops->upload_view(INNER(be), view, staging, src_host, bytes);
}
static an_status tw_download_view(backend *be, const void **view_host, void *mirror_host, const void *src,
                                  size_t bytes)
{
    return INNER(be)->ops->download_view(INNER(be), view_host, mirror_host, src, bytes);
}
static an_status tw_zero(backend *be, void *dst, size_t bytes) { return INNER(be)->ops->zero(INNER(be), dst, bytes); }
static an_status tw_discard(backend *be, void *p, size_t bytes)
{
    return INNER(be)->ops->discard(INNER(be), p, bytes);
}
static an_status tw_synchronize(backend *be) { return INNER(be)->ops->synchronize(INNER(be)); }

/* ------------------------------------------------------------ ops */

#define F(n) ((size_t)(n) * sizeof(float))
#define FETCH(ptr, src, bytes) AN_TRY_GOTO(st, fetch(be, (void **)&(ptr), (src), (bytes)), done)
#define CALL(kind) (++twin_of(be)->calls[kind])

static size_t conv_in_floats(const conv_shape *s)
{
    return (size_t)s->batch * s->in_channels * s->in_h * s->in_w;
}
static size_t conv_weight_floats(const conv_shape *s)
{
    return (size_t)s->out_channels * (s->in_channels / s->groups) * s->kernel * s->kernel;
}
static size_t conv_out_floats(const conv_shape *s)
{
    return (size_t)s->batch * s->out_channels * conv_out_size(s->in_h, s->kernel, s->stride, s->pad) *
           conv_out_size(s->in_w, s->kernel, s->stride, s->pad);
}

static an_status conv_workspace(const conv_shape *s, float **ws, size_t *floats)
{
    *floats = conv_workspace_floats(s, cpu_threads_get());
    *ws = malloc(F(*floats ? *floats : 1)); /* [floats] */
    AN_CHECK_ALLOC(*ws, F(*floats ? *floats : 1));
    return AN_OK;
}

static an_status tw_conv_forward(backend *be, float *out, const float *in, const float *weight, const float *bias,
                                 const conv_shape *s)
{
    const long call = CALL(K_CONV_F);
    an_status st = AN_OK;
    float *h_in = NULL, *h_w = NULL, *h_b = NULL, *got = NULL, *want = NULL, *ws = NULL;
    size_t ws_floats = 0;
    AN_TRY_GOTO(st, conv_shape_check(s), done);
    FETCH(h_in, in, F(conv_in_floats(s)));           /* [B, Cin, H, W] */
    FETCH(h_w, weight, F(conv_weight_floats(s)));    /* [Cout, Cin/G, K, K] */
    FETCH(h_b, bias, F(s->out_channels));            /* [Cout] */
    AN_TRY_GOTO(st, INNER(be)->ops->conv_forward(INNER(be), out, in, weight, bias, s), done);
    FETCH(got, out, F(conv_out_floats(s)));          /* [B, Cout, Ho, Wo] */
    want = malloc(F(conv_out_floats(s) + 1));        /* [B, Cout, Ho, Wo] */
    if (!want) { st = error_set(AN_ERR_NOMEM, "twin check: out of memory"); goto done; }
    AN_TRY_GOTO(st, conv_workspace(s, &ws, &ws_floats), done);
    AN_TRY_GOTO(st, conv_forward_cpu(want, h_in, h_w, h_b, s, ws, ws_floats), done);
    st = compare_close(be, "conv_forward", call, "out", got, want, conv_out_floats(s), twin_of(be)->sum_rtol,
                       SUM_FLOOR);
done:
    free(h_in), free(h_w), free(h_b), free(got), free(want), free(ws);
    return st;
}

static an_status tw_conv_backward(backend *be, float *dinput, float *dweight, float *dbias, const float *doutput,
                                  const float *in, const float *weight, const conv_shape *s)
{
    const long call = CALL(K_CONV_B);
    an_status st = AN_OK;
    float *h_dout = NULL, *h_in = NULL, *h_w = NULL, *g_din = NULL, *g_dw = NULL, *g_db = NULL;
    float *c_din = NULL, *c_dw = NULL, *c_db = NULL, *ws = NULL;
    size_t ws_floats = 0;
    const size_t n_in = conv_in_floats(s), n_w = conv_weight_floats(s), n_out = conv_out_floats(s);
    AN_TRY_GOTO(st, conv_shape_check(s), done);
    FETCH(h_dout, doutput, F(n_out)); /* [B, Cout, Ho, Wo] */
    FETCH(h_in, in, F(n_in));         /* [B, Cin, H, W] */
    FETCH(h_w, weight, F(n_w));       /* [Cout, Cin/G, K, K] */
    AN_TRY_GOTO(st, INNER(be)->ops->conv_backward(INNER(be), dinput, dweight, dbias, doutput, in, weight, s), done);
    FETCH(g_din, dinput, F(n_in));            /* [B, Cin, H, W] or NULL */
    FETCH(g_dw, dweight, F(n_w));             /* [Cout, Cin/G, K, K] */
    FETCH(g_db, dbias, F(s->out_channels));   /* [Cout] */
    c_din = dinput ? malloc(F(n_in + 1)) : NULL; /* [B, Cin, H, W] */
    c_dw = malloc(F(n_w + 1));                   /* [Cout, Cin/G, K, K] */
    c_db = malloc(F(s->out_channels + 1));       /* [Cout] */
    if ((dinput && !c_din) || !c_dw || !c_db) { st = error_set(AN_ERR_NOMEM, "twin check: out of memory"); goto done; }
    AN_TRY_GOTO(st, conv_workspace(s, &ws, &ws_floats), done);
    AN_TRY_GOTO(st, conv_backward_cpu(c_din, c_dw, c_db, h_dout, h_in, h_w, s, ws, ws_floats), done);
    const double rtol = twin_of(be)->sum_rtol;
    if (dinput)
        AN_TRY_GOTO(st, compare_close(be, "conv_backward", call, "dinput", g_din, c_din, n_in, rtol, SUM_FLOOR), done);
    AN_TRY_GOTO(st, compare_close(be, "conv_backward", call, "dweight", g_dw, c_dw, n_w, rtol, SUM_FLOOR), done);
    st = compare_close(be, "conv_backward", call, "dbias", g_db, c_db, (size_t)s->out_channels, rtol, SUM_FLOOR);
done:
    free(h_dout), free(h_in), free(h_w), free(g_din), free(g_dw), free(g_db);
    free(c_din), free(c_dw), free(c_db), free(ws);
    return st;
}

static an_status tw_relu_forward(backend *be, float *out, const float *in, size_t n)
{
    const long call = CALL(K_RELU_F);
    an_status st = AN_OK;
    float *h_in = NULL, *got = NULL;
    FETCH(h_in, in, F(n)); /* [n] */
    AN_TRY_GOTO(st, INNER(be)->ops->relu_forward(INNER(be), out, in, n), done);
    FETCH(got, out, F(n)); /* [n] */
    relu_forward_cpu(h_in, h_in, n);
    st = compare_bits(be, "relu_forward", call, "out", got, h_in, F(n), 4);
done:
    free(h_in), free(got);
    return st;
}

static an_status tw_relu_backward(backend *be, float *dinput, const float *doutput, const float *out, size_t n)
{
    const long call = CALL(K_RELU_B);
    an_status st = AN_OK;
    float *h_dout = NULL, *h_out = NULL, *got = NULL;
    FETCH(h_dout, doutput, F(n)); /* [n] */
    FETCH(h_out, out, F(n));      /* [n] the forward output: the GPU's own mask */
    AN_TRY_GOTO(st, INNER(be)->ops->relu_backward(INNER(be), dinput, doutput, out, n), done);
    FETCH(got, dinput, F(n)); /* [n] */
    relu_backward_cpu(h_dout, h_dout, h_out, n);
    st = compare_bits(be, "relu_backward", call, "dinput", got, h_dout, F(n), 4);
done:
    free(h_dout), free(h_out), free(got);
    return st;
}

static an_status tw_tanh_forward(backend *be, float *out, const float *in, size_t n)
{
    const long call = CALL(K_TANH_F);
    an_status st = AN_OK;
    float *h_in = NULL, *got = NULL;
    FETCH(h_in, in, F(n)); /* [n] */
    AN_TRY_GOTO(st, INNER(be)->ops->tanh_forward(INNER(be), out, in, n), done);
    FETCH(got, out, F(n)); /* [n] */
    tanh_forward_cpu(h_in, h_in, n);
    st = compare_close(be, "tanh_forward", call, "out", got, h_in, n, TANH_RTOL, TANH_FLOOR);
done:
    free(h_in), free(got);
    return st;
}

static an_status tw_tanh_backward(backend *be, float *dinput, const float *doutput, const float *out, size_t n)
{
    const long call = CALL(K_TANH_B);
    an_status st = AN_OK;
    float *h_dout = NULL, *h_out = NULL, *got = NULL;
    FETCH(h_dout, doutput, F(n)); /* [n] */
    FETCH(h_out, out, F(n));      /* [n] the GPU's own forward output: the same expression, bitwise */
    AN_TRY_GOTO(st, INNER(be)->ops->tanh_backward(INNER(be), dinput, doutput, out, n), done);
    FETCH(got, dinput, F(n)); /* [n] */
    tanh_backward_cpu(h_dout, h_dout, h_out, n);
    st = compare_bits(be, "tanh_backward", call, "dinput", got, h_dout, F(n), 4);
done:
    free(h_dout), free(h_out), free(got);
    return st;
}

static an_status tw_lrn_forward(backend *be, float *out, float *scale, const float *in, int batch, int channels,
                                int height, int width, const lrn_params *p)
{
    const long call = CALL(K_LRN_F);
    an_status st = AN_OK;
    const size_t n = (size_t)batch * channels * height * width;
    float *h_in = NULL, *got = NULL, *want = NULL;
    FETCH(h_in, in, F(n)); /* [B, C, H, W] */
    AN_TRY_GOTO(st, INNER(be)->ops->lrn_forward(INNER(be), out, scale, in, batch, channels, height, width, p), done);
    FETCH(got, out, F(n)); /* [B, C, H, W] */
    want = malloc(F(n + 1)); /* [B, C, H, W] */
    if (!want) { st = error_set(AN_ERR_NOMEM, "twin check: out of memory"); goto done; }
    /* scale: the CUDA backend keeps none (backend.h), so only out is compared */
    lrn_forward_cpu(want, NULL, h_in, batch, channels, height, width, p);
    st = compare_close(be, "lrn_forward", call, "out", got, want, n, LRN_FORWARD_RTOL, SUM_FLOOR);
done:
    free(h_in), free(got), free(want);
    return st;
}

static an_status tw_lrn_backward(backend *be, float *dinput, const float *doutput, const float *in,
                                 const float *out, const float *scale, int batch, int channels, int height,
                                 int width, const lrn_params *p)
{
    const long call = CALL(K_LRN_B);
    an_status st = AN_OK;
    const size_t n = (size_t)batch * channels * height * width;
    float *h_dout = NULL, *h_in = NULL, *h_out = NULL, *got = NULL, *c_scale = NULL, *c_out = NULL;
    FETCH(h_dout, doutput, F(n)); /* [B, C, H, W] */
    FETCH(h_in, in, F(n));        /* [B, C, H, W] */
    FETCH(h_out, out, F(n));      /* [B, C, H, W] the inner's forward output */
    AN_TRY_GOTO(st, INNER(be)->ops->lrn_backward(INNER(be), dinput, doutput, in, out, scale, batch, channels, height,
                                                 width, p), done);
    FETCH(got, dinput, F(n)); /* [B, C, H, W] */
    c_scale = malloc(F(n + 1)); /* [B, C, H, W] the CPU's denominators of the same input */
    c_out = malloc(F(n + 1));   /* [B, C, H, W] */
    if (!c_scale || !c_out) { st = error_set(AN_ERR_NOMEM, "twin check: out of memory"); goto done; }
    lrn_forward_cpu(c_out, c_scale, h_in, batch, channels, height, width, p);
    lrn_backward_cpu(c_out, h_dout, h_in, h_out, c_scale, batch, channels, height, width, p);
    st = compare_close(be, "lrn_backward", call, "dinput", got, c_out, n, LRN_BACKWARD_RTOL, SUM_FLOOR);
done:
    free(h_dout), free(h_in), free(h_out), free(got), free(c_scale), free(c_out);
    return st;
}

static size_t pool_out_floats(const pool_shape *s)
{
    return (size_t)s->batch * s->channels * pool_out_size(s->in_h, s->size, s->stride, s->ceil_mode) *
           pool_out_size(s->in_w, s->size, s->stride, s->ceil_mode);
}

static an_status tw_maxpool_forward(backend *be, float *out, int32_t *argmax, const float *in, const pool_shape *s)
{
    const long call = CALL(K_POOL_F);
    an_status st = AN_OK;
    const size_t n_in = (size_t)s->batch * s->channels * s->in_h * s->in_w, n_out = pool_out_floats(s);
    float *h_in = NULL, *got = NULL, *want = NULL;
    int32_t *g_arg = NULL, *c_arg = NULL;
    FETCH(h_in, in, F(n_in)); /* [B, C, H, W] */
    AN_TRY_GOTO(st, INNER(be)->ops->maxpool_forward(INNER(be), out, argmax, in, s), done);
    FETCH(got, out, F(n_out));                    /* [B, C, Ho, Wo] */
    FETCH(g_arg, argmax, n_out * sizeof(int32_t)); /* [B, C, Ho, Wo] or NULL */
    want = malloc(F(n_out + 1));                  /* [B, C, Ho, Wo] */
    c_arg = malloc((n_out + 1) * sizeof(int32_t)); /* [B, C, Ho, Wo] */
    if (!want || !c_arg) { st = error_set(AN_ERR_NOMEM, "twin check: out of memory"); goto done; }
    AN_TRY_GOTO(st, maxpool_forward_cpu(want, c_arg, h_in, s), done);
    AN_TRY_GOTO(st, compare_bits(be, "maxpool_forward", call, "out", got, want, F(n_out), 4), done);
    if (argmax) st = compare_bits(be, "maxpool_forward", call, "argmax", g_arg, c_arg, n_out * sizeof(int32_t), 4);
done:
    free(h_in), free(got), free(want), free(g_arg), free(c_arg);
    return st;
}

static an_status tw_maxpool_backward(backend *be, float *dinput, const float *doutput, const int32_t *argmax,
                                     const pool_shape *s)
{
    const long call = CALL(K_POOL_B);
    an_status st = AN_OK;
    const size_t n_in = (size_t)s->batch * s->channels * s->in_h * s->in_w, n_out = pool_out_floats(s);
    float *h_dout = NULL, *got = NULL, *want = NULL;
    int32_t *h_arg = NULL;
    FETCH(h_dout, doutput, F(n_out));              /* [B, C, Ho, Wo] */
    FETCH(h_arg, argmax, n_out * sizeof(int32_t)); /* [B, C, Ho, Wo] the GPU's own winners */
    AN_TRY_GOTO(st, INNER(be)->ops->maxpool_backward(INNER(be), dinput, doutput, argmax, s), done);
    FETCH(got, dinput, F(n_in)); /* [B, C, H, W] */
    want = malloc(F(n_in + 1)); /* [B, C, H, W] */
    if (!want) { st = error_set(AN_ERR_NOMEM, "twin check: out of memory"); goto done; }
    AN_TRY_GOTO(st, maxpool_backward_cpu(want, h_dout, h_arg, s), done);
    st = compare_bits(be, "maxpool_backward", call, "dinput", got, want, F(n_in), 4);
done:
    free(h_dout), free(h_arg), free(got), free(want);
    return st;
}

static an_status tw_fc_forward(backend *be, float *out, const float *in, const float *weight, const float *bias,
                               int batch, int in_features, int out_features)
{
    const long call = CALL(K_FC_F);
    an_status st = AN_OK;
    const size_t n_in = (size_t)batch * in_features, n_w = (size_t)out_features * in_features,
                 n_out = (size_t)batch * out_features;
    float *h_in = NULL, *h_w = NULL, *h_b = NULL, *got = NULL, *want = NULL;
    FETCH(h_in, in, F(n_in));         /* [B, I] */
    FETCH(h_w, weight, F(n_w));       /* [O, I] */
    FETCH(h_b, bias, F(out_features)); /* [O] */
    AN_TRY_GOTO(st, INNER(be)->ops->fc_forward(INNER(be), out, in, weight, bias, batch, in_features, out_features),
                done);
    FETCH(got, out, F(n_out)); /* [B, O] */
    want = malloc(F(n_out + 1)); /* [B, O] */
    if (!want) { st = error_set(AN_ERR_NOMEM, "twin check: out of memory"); goto done; }
    fc_forward_cpu(want, h_in, h_w, h_b, batch, in_features, out_features);
    st = compare_close(be, "fc_forward", call, "out", got, want, n_out, twin_of(be)->sum_rtol, SUM_FLOOR);
done:
    free(h_in), free(h_w), free(h_b), free(got), free(want);
    return st;
}

static an_status tw_fc_backward(backend *be, float *dinput, float *dweight, float *dbias, const float *doutput,
                                const float *in, const float *weight, int batch, int in_features, int out_features)
{
    const long call = CALL(K_FC_B);
    an_status st = AN_OK;
    const size_t n_in = (size_t)batch * in_features, n_w = (size_t)out_features * in_features,
                 n_out = (size_t)batch * out_features;
    float *h_dout = NULL, *h_in = NULL, *h_w = NULL, *g_din = NULL, *g_dw = NULL, *g_db = NULL;
    float *c_din = NULL, *c_dw = NULL, *c_db = NULL;
    FETCH(h_dout, doutput, F(n_out)); /* [B, O] */
    FETCH(h_in, in, F(n_in));         /* [B, I] */
    FETCH(h_w, weight, F(n_w));       /* [O, I] */
    AN_TRY_GOTO(st, INNER(be)->ops->fc_backward(INNER(be), dinput, dweight, dbias, doutput, in, weight, batch,
                                                in_features, out_features), done);
    FETCH(g_din, dinput, F(n_in));      /* [B, I] or NULL */
    FETCH(g_dw, dweight, F(n_w));       /* [O, I] */
    FETCH(g_db, dbias, F(out_features)); /* [O] */
    c_din = dinput ? malloc(F(n_in + 1)) : NULL; /* [B, I] */
    c_dw = malloc(F(n_w + 1));                   /* [O, I] */
    c_db = malloc(F(out_features + 1));          /* [O] */
    if ((dinput && !c_din) || !c_dw || !c_db) { st = error_set(AN_ERR_NOMEM, "twin check: out of memory"); goto done; }
    fc_backward_cpu(c_din, c_dw, c_db, h_dout, h_in, h_w, batch, in_features, out_features);
    const double rtol = twin_of(be)->sum_rtol;
    if (dinput)
        AN_TRY_GOTO(st, compare_close(be, "fc_backward", call, "dinput", g_din, c_din, n_in, rtol, SUM_FLOOR), done);
    AN_TRY_GOTO(st, compare_close(be, "fc_backward", call, "dweight", g_dw, c_dw, n_w, rtol, SUM_FLOOR), done);
    st = compare_close(be, "fc_backward", call, "dbias", g_db, c_db, (size_t)out_features, rtol, SUM_FLOOR);
done:
    free(h_dout), free(h_in), free(h_w), free(g_din), free(g_dw), free(g_db), free(c_din), free(c_dw), free(c_db);
    return st;
}

static an_status tw_dropout_forward(backend *be, float *out, uint8_t *mask, const float *in, int batch,
                                    int n_per_image, float rate, uint64_t seed, uint32_t purpose, uint32_t step,
                                    const uint32_t *image_ids)
{
    const long call = CALL(K_DROP_F);
    an_status st = AN_OK;
    const size_t n = (size_t)batch * n_per_image;
    float *h_in = NULL, *got = NULL;
    uint32_t *h_ids = NULL;
    uint8_t *g_mask = NULL, *c_mask = NULL;
    FETCH(h_in, in, F(n));                               /* [B, N] */
    FETCH(h_ids, image_ids, (size_t)batch * sizeof(uint32_t)); /* [B] */
    AN_TRY_GOTO(st, INNER(be)->ops->dropout_forward(INNER(be), out, mask, in, batch, n_per_image, rate, seed, purpose,
                                                    step, image_ids), done);
    FETCH(got, out, F(n));   /* [B, N] */
    FETCH(g_mask, mask, n);  /* [B, N] */
    c_mask = malloc(n + 1);  /* [B, N] */
    if (!c_mask) { st = error_set(AN_ERR_NOMEM, "twin check: out of memory"); goto done; }
    dropout_forward_cpu(h_in, c_mask, h_in, batch, n_per_image, rate, seed, purpose, step, h_ids);
    AN_TRY_GOTO(st, compare_bits(be, "dropout_forward", call, "mask", g_mask, c_mask, n, 1), done);
    st = compare_bits(be, "dropout_forward", call, "out", got, h_in, F(n), 4);
done:
    free(h_in), free(got), free(h_ids), free(g_mask), free(c_mask);
    return st;
}

static an_status tw_dropout_backward(backend *be, float *dinput, const float *doutput, const uint8_t *mask,
                                     int batch, int n_per_image, float rate)
{
    const long call = CALL(K_DROP_B);
    an_status st = AN_OK;
    const size_t n = (size_t)batch * n_per_image;
    float *h_dout = NULL, *got = NULL;
    uint8_t *h_mask = NULL;
    FETCH(h_dout, doutput, F(n)); /* [B, N] */
    FETCH(h_mask, mask, n);       /* [B, N] the inner's own mask */
    AN_TRY_GOTO(st, INNER(be)->ops->dropout_backward(INNER(be), dinput, doutput, mask, batch, n_per_image, rate),
                done);
    FETCH(got, dinput, F(n)); /* [B, N] */
    dropout_backward_cpu(h_dout, h_dout, h_mask, batch, n_per_image, rate);
    st = compare_bits(be, "dropout_backward", call, "dinput", got, h_dout, F(n), 4);
done:
    free(h_dout), free(h_mask), free(got);
    return st;
}

static an_status tw_softmax_forward(backend *be, float *probs, const float *logits, int batch, int classes)
{
    const long call = CALL(K_SOFTMAX);
    an_status st = AN_OK;
    const size_t n = (size_t)batch * classes;
    float *h_logits = NULL, *got = NULL;
    FETCH(h_logits, logits, F(n)); /* [B, K] */
    AN_TRY_GOTO(st, INNER(be)->ops->softmax_forward(INNER(be), probs, logits, batch, classes), done);
    FETCH(got, probs, F(n)); /* [B, K] */
    softmax_forward_cpu(h_logits, h_logits, batch, classes);
    st = compare_close(be, "softmax_forward", call, "probs", got, h_logits, n, SOFTMAX_RTOL, SOFTMAX_FLOOR);
done:
    free(h_logits), free(got);
    return st;
}

static an_status tw_softmax_loss(backend *be, double *loss_host, const float *probs, const int32_t *labels,
                                 int batch, int classes)
{
    const long call = CALL(K_LOSS);
    an_status st = AN_OK;
    float *h_probs = NULL;
    int32_t *h_labels = NULL;
    FETCH(h_probs, probs, F((size_t)batch * classes));             /* [B, K] */
    FETCH(h_labels, labels, (size_t)batch * sizeof(int32_t));       /* [B] */
    AN_TRY_GOTO(st, INNER(be)->ops->softmax_loss(INNER(be), loss_host, probs, labels, batch, classes), done);
    double want = 0.0;
    AN_TRY_GOTO(st, softmax_loss_cpu(&want, h_probs, h_labels, batch, classes), done);
    twin_of(be)->comparisons++;
    note(twin_of(be), "softmax_loss #%ld: inner %.17g, CPU twin %.17g", call, *loss_host, want);
    const int both_nan = isnan(*loss_host) && isnan(want);
    if (!both_nan && !(fabs(*loss_host - want) <= LOSS_RTOL * fabs(want)))
        st = error_set(AN_ERR_INTERNAL, "twin check: softmax_loss #%ld: inner %.17g, CPU twin %.17g", call,
                       *loss_host, want);
done:
    free(h_probs), free(h_labels);
    return st;
}

static an_status tw_softmax_loss_backward(backend *be, float *dlogits, const float *probs, const int32_t *labels,
                                          int batch, int classes, float normalizer)
{
    const long call = CALL(K_LOSS_B);
    an_status st = AN_OK;
    const size_t n = (size_t)batch * classes;
    float *h_probs = NULL, *got = NULL, *want = NULL;
    int32_t *h_labels = NULL;
    FETCH(h_probs, probs, F(n));                               /* [B, K] */
    FETCH(h_labels, labels, (size_t)batch * sizeof(int32_t)); /* [B] */
    AN_TRY_GOTO(st, INNER(be)->ops->softmax_loss_backward(INNER(be), dlogits, probs, labels, batch, classes,
                                                          normalizer), done);
    FETCH(got, dlogits, F(n)); /* [B, K] */
    want = malloc(F(n + 1));   /* [B, K] */
    if (!want) { st = error_set(AN_ERR_NOMEM, "twin check: out of memory"); goto done; }
    AN_TRY_GOTO(st, softmax_loss_backward_cpu(want, h_probs, h_labels, batch, classes, normalizer), done);
    st = compare_bits(be, "softmax_loss_backward", call, "dlogits", got, want, F(n), 4);
done:
    free(h_probs), free(h_labels), free(got), free(want);
    return st;
}

static an_status tw_sgd_update(backend *be, float *weights, float *velocity, const float *grads, size_t n, float lr,
                               float momentum, float weight_decay)
{
    const long call = CALL(K_SGD);
    an_status st = AN_OK;
    float *h_w = NULL, *h_v = NULL, *h_g = NULL, *g_w = NULL, *g_v = NULL;
    FETCH(h_w, weights, F(n));  /* [n] before the update */
    FETCH(h_v, velocity, F(n)); /* [n] */
    FETCH(h_g, grads, F(n));    /* [n] */
    AN_TRY_GOTO(st, INNER(be)->ops->sgd_update(INNER(be), weights, velocity, grads, n, lr, momentum, weight_decay),
                done);
    FETCH(g_w, weights, F(n));  /* [n] after */
    FETCH(g_v, velocity, F(n)); /* [n] */
    sgd_update_cpu(h_w, h_v, h_g, n, lr, momentum, weight_decay);
    AN_TRY_GOTO(st, compare_bits(be, "sgd_update", call, "velocity", g_v, h_v, F(n), 4), done);
    st = compare_bits(be, "sgd_update", call, "weights", g_w, h_w, F(n), 4);
done:
    free(h_w), free(h_v), free(h_g), free(g_w), free(g_v);
    return st;
}

static an_status tw_topk_errors(backend *be, int64_t *errors1_host, int64_t *errors5_host, const float *scores,
                                const int32_t *labels, int batch, int classes)
{
    const long call = CALL(K_TOPK);
    an_status st = AN_OK;
    float *h_scores = NULL;
    int32_t *h_labels = NULL;
    FETCH(h_scores, scores, F((size_t)batch * classes));       /* [B, K] */
    FETCH(h_labels, labels, (size_t)batch * sizeof(int32_t)); /* [B] */
    AN_TRY_GOTO(st, INNER(be)->ops->topk_errors(INNER(be), errors1_host, errors5_host, scores, labels, batch, classes),
                done);
    int64_t e1 = -1, e5 = -1;
    topk_errors_cpu(&e1, &e5, h_scores, h_labels, batch, classes);
    twin_of(be)->comparisons++;
    note(twin_of(be), "topk_errors #%ld: inner %lld/%lld, CPU twin %lld/%lld", call, (long long)*errors1_host,
         (long long)*errors5_host, (long long)e1, (long long)e5);
    if (e1 != *errors1_host || e5 != *errors5_host)
        st = error_set(AN_ERR_INTERNAL, "twin check: topk_errors #%ld: inner %lld/%lld errors, CPU twin %lld/%lld",
                       call, (long long)*errors1_host, (long long)*errors5_host, (long long)e1, (long long)e5);
done:
    free(h_scores), free(h_labels);
    return st;
}

static void tw_destroy(backend *be)
{
    backend_twin *t = twin_of(be);
    free(t->lines);
    free(t);
}

static const backend_ops twin_ops = {
    .alloc = tw_alloc,
    .free = tw_free,
    .upload = tw_upload,
    .download = tw_download,
    .upload_view = tw_upload_view,
    .download_view = tw_download_view,
    .zero = tw_zero,
    .discard = tw_discard,
    .synchronize = tw_synchronize,
    .conv_forward = tw_conv_forward,
    .conv_backward = tw_conv_backward,
    .relu_forward = tw_relu_forward,
    .relu_backward = tw_relu_backward,
    .tanh_forward = tw_tanh_forward,
    .tanh_backward = tw_tanh_backward,
    .lrn_forward = tw_lrn_forward,
    .lrn_backward = tw_lrn_backward,
    .maxpool_forward = tw_maxpool_forward,
    .maxpool_backward = tw_maxpool_backward,
    .fc_forward = tw_fc_forward,
    .fc_backward = tw_fc_backward,
    .dropout_forward = tw_dropout_forward,
    .dropout_backward = tw_dropout_backward,
    .softmax_forward = tw_softmax_forward,
    .softmax_loss = tw_softmax_loss,
    .softmax_loss_backward = tw_softmax_loss_backward,
    .sgd_update = tw_sgd_update,
    .topk_errors = tw_topk_errors,
    .destroy = tw_destroy,
};

an_status backend_twin_create(backend **out, backend *inner, double sum_rtol)
{
    *out = NULL;
    backend_twin *t = calloc(1, sizeof *t);
    AN_CHECK_ALLOC(t, sizeof *t);
    t->lines = calloc(REPORT_LINES, sizeof *t->lines);
    if (!t->lines) {
        free(t);
        return error_set(AN_ERR_NOMEM, "twin check: out of memory for the report");
    }
    t->base.ops = &twin_ops;
    t->base.kind = inner->kind;
    snprintf(t->base.description, sizeof t->base.description, "twin-checked %.200s", inner->description);
    t->inner = inner;
    t->sum_rtol = sum_rtol;
    *out = &t->base;
    return AN_OK;
}

long backend_twin_comparisons(const backend *be)
{
    return ((const backend_twin *)be)->comparisons;
}

void backend_twin_report(backend *be, FILE *out)
{
    backend_twin *t = twin_of(be);
    for (int i = 0; i < t->line_count; i++) fprintf(out, "  %s\n", t->lines[i].text);
    if (t->line_count == REPORT_LINES) fprintf(out, "  (report full: later lines dropped)\n");
    t->line_count = 0;
}
