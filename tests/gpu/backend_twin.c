/* backend_twin.c: the cross-checking backend of backend_twin.h. Every op of
 * kernels/backend_ops.def is wrapped, from the roles its entry gives its
 * tensor arguments, as: download its inputs from the inner backend, call the
 * inner op, download its outputs, recompute them with the CPU twin (through
 * a CPU backend of its own, over host copies) from the downloaded inputs,
 * compare by the op's rule (the table `rules`). Inputs are downloaded BEFORE
 * the call, so an op working in place is recomputed from what it read.
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
#include "backend_cpu.h"

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
    backend *cpu;       /* the CPU twins' backend (host memory) */
    long calls[32]; /* per op, for the report's call numbers */
    report_line *lines; /* [REPORT_LINES] */
    int line_count;
} backend_twin;

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
static an_status tw_host_alloc(backend *be, void **out, size_t bytes, const char *what)
{
    return INNER(be)->ops->host_alloc(INNER(be), out, bytes, what);
}
static void tw_host_free(backend *be, void *p) { INNER(be)->ops->host_free(INNER(be), p); }
static an_status tw_zero(backend *be, void *dst, size_t bytes) { return INNER(be)->ops->zero(INNER(be), dst, bytes); }
static an_status tw_discard(backend *be, void *p, size_t bytes)
{
    return INNER(be)->ops->discard(INNER(be), p, bytes);
}
static an_status tw_synchronize(backend *be) { return INNER(be)->ops->synchronize(INNER(be)); }

/* ------------------------------------------------------------ ops */

/* How an op's outputs are compared with its CPU twin's. */
typedef enum twin_compare {
    TWIN_BITWISE = 1, /* the twins compute the same float operations */
    TWIN_SUMS,        /* sums of products: sum_rtol, floor SUM_FLOOR max|cpu| */
    TWIN_CLOSE,       /* rtol, floor max|cpu| as given */
    TWIN_LOSS         /* a double: rtol relative, both NaN equal */
} twin_compare;

typedef struct twin_rule {
    twin_compare compare;
    double rtol, floor;
} twin_rule;

enum twin_op {
#define BACKEND_OP(name, params, names, tensors) TWIN_OP_##name,
#include "backend_ops.def"
#undef BACKEND_OP
    TWIN_OPS
};
_Static_assert(TWIN_OPS <= 32, "backend_twin's calls[] counts every op");

static const char *const op_names[TWIN_OPS] = {
#define BACKEND_OP(name, params, names, tensors) #name,
#include "backend_ops.def"
#undef BACKEND_OP
};

/* Every op of backend_ops.def needs its rule: backend_twin_create refuses a
 * table without one. */
static const twin_rule rules[TWIN_OPS] = {
    [TWIN_OP_conv_forward] = {TWIN_SUMS, 0, 0},
    [TWIN_OP_conv_backward] = {TWIN_SUMS, 0, 0},
    [TWIN_OP_relu_forward] = {TWIN_BITWISE, 0, 0},
    [TWIN_OP_relu_backward] = {TWIN_BITWISE, 0, 0},
    [TWIN_OP_tanh_forward] = {TWIN_CLOSE, TANH_RTOL, TANH_FLOOR},
    [TWIN_OP_tanh_backward] = {TWIN_BITWISE, 0, 0}, /* the same expression, from the GPU's own output */
    [TWIN_OP_lrn_forward] = {TWIN_CLOSE, LRN_FORWARD_RTOL, SUM_FLOOR},
    [TWIN_OP_lrn_backward] = {TWIN_CLOSE, LRN_BACKWARD_RTOL, SUM_FLOOR},
    [TWIN_OP_maxpool_forward] = {TWIN_BITWISE, 0, 0},
    [TWIN_OP_maxpool_backward] = {TWIN_BITWISE, 0, 0}, /* from the GPU's own winners */
    [TWIN_OP_fc_forward] = {TWIN_SUMS, 0, 0},
    [TWIN_OP_fc_backward] = {TWIN_SUMS, 0, 0},
    [TWIN_OP_dropout_forward] = {TWIN_BITWISE, 0, 0},
    [TWIN_OP_dropout_backward] = {TWIN_BITWISE, 0, 0}, /* from the GPU's own mask */
    [TWIN_OP_softmax_forward] = {TWIN_CLOSE, SOFTMAX_RTOL, SOFTMAX_FLOOR},
    [TWIN_OP_softmax_loss] = {TWIN_LOSS, LOSS_RTOL, 0},
    [TWIN_OP_softmax_loss_backward] = {TWIN_BITWISE, 0, 0},
    [TWIN_OP_sgd_update] = {TWIN_BITWISE, 0, 0},
    [TWIN_OP_topk_errors] = {TWIN_BITWISE, 0, 0},
    [TWIN_OP_add] = {TWIN_BITWISE, 0, 0}, /* one IEEE addition per element (or a copy) on both */
    [TWIN_OP_join_parts] = {TWIN_BITWISE, 0, 0}, /* copies */
    [TWIN_OP_split_parts] = {TWIN_BITWISE, 0, 0},
    [TWIN_OP_crop_input] = {TWIN_BITWISE, 0, 0},
};

/* One call in progress: per tensor argument, the CPU twin's host buffer and
 * what the inner op produced. */
#define TWIN_MAX_ARGS 12
typedef struct twin_call {
    int op;
    long number;
    backend_arg *args; /* [count], the op's list */
    int count;
    void *host[TWIN_MAX_ARGS]; /* the CPU's copy: inputs as the inner held them, its outputs */
    void *got[TWIN_MAX_ARGS];  /* the inner's outputs */
    int shared[TWIN_MAX_ARGS]; /* 1: host[i] belongs to another argument (in place) */
} twin_call;

static void twin_end(twin_call *t)
{
    for (int i = 0; i < t->count; i++) {
        if (!t->shared[i]) free(t->host[i]);
        free(t->got[i]);
    }
}

static int reads(backend_arg_role role) { return role == BACKEND_ARG_IN || role == BACKEND_ARG_INOUT; }
static int written(backend_arg_role role)
{
    return role == BACKEND_ARG_OUT || role == BACKEND_ARG_INOUT || role == BACKEND_ARG_HOST_OUT;
}

/* Before the inner op: an output that is its in-place input becomes read
 * and written, with one host buffer for both; inputs are fetched as the
 * inner holds them, outputs get host buffers of their size. */
static an_status twin_before(backend *be, int op, backend_arg *args, int count, twin_call *t)
{
    memset(t, 0, sizeof *t);
    t->op = op;
    t->number = ++twin_of(be)->calls[op];
    t->args = args;
    t->count = count;
    if (count > TWIN_MAX_ARGS) return error_set(AN_ERR_INTERNAL, "twin check: %s has %d tensors", op_names[op], count);
    for (int i = 0; i < count; i++)
        if (args[i].p && args[i].inplace && args[i].p == args[i].inplace) args[i].role = BACKEND_ARG_INOUT;
    for (int i = 0; i < count; i++) {
        backend_arg *a = &args[i];
        if (!a->p || a->role == BACKEND_ARG_KEPT) continue;
        if (reads(a->role)) AN_TRY(fetch(be, &t->host[i], a->p, a->bytes));
        else {
            t->host[i] = malloc(a->bytes ? a->bytes : 1); /* [bytes] */
            AN_CHECK_ALLOC(t->host[i], a->bytes ? a->bytes : 1);
        }
    }
    for (int i = 0; i < count; i++) /* an input that is an in-place output reads the output's copy */
        for (int j = 0; j < count; j++)
            if (args[i].role == BACKEND_ARG_IN && args[j].role == BACKEND_ARG_INOUT && args[i].p &&
                args[i].p == args[j].p && !t->shared[j]) {
                free(t->host[i]);
                t->host[i] = t->host[j];
                t->shared[i] = 1;
            }
    return AN_OK;
}

/* After the inner op: its outputs, fetched (host outputs copied). */
static an_status twin_after_inner(backend *be, twin_call *t)
{
    for (int i = 0; i < t->count; i++) {
        const backend_arg *a = &t->args[i];
        if (!a->p || !written(a->role)) continue;
        if (a->role != BACKEND_ARG_HOST_OUT) {
            AN_TRY(fetch(be, &t->got[i], a->p, a->bytes));
            continue;
        }
        t->got[i] = malloc(a->bytes);
        AN_CHECK_ALLOC(t->got[i], a->bytes);
        memcpy(t->got[i], a->p, a->bytes);
    }
    return AN_OK;
}

_Static_assert(sizeof(void *) == sizeof(float *), "a parameter slot holds a void pointer's bytes");

/* Points each tensor parameter of the wrapper at its host buffer, so that
 * the same names call the CPU twin; a kept buffer the inner may not have
 * written goes as NULL (the CPU recomputes it, backend_ops.def). */
static void twin_rebind(twin_call *t)
{
    for (int i = 0; i < t->count; i++) {
        const backend_arg *a = &t->args[i];
        if (!a->p) continue;
        void *host = a->role == BACKEND_ARG_KEPT ? NULL : t->host[i];
        memcpy(a->slot, &host, sizeof host);
    }
}

/* Each output of the inner against the CPU twin's, by the op's rule. */
static an_status compare_outputs(backend *be, twin_call *t)
{
    const twin_rule *r = &rules[t->op];
    const char *op = op_names[t->op];
    for (int i = 0; i < t->count; i++) {
        const backend_arg *a = &t->args[i];
        if (!a->p || !written(a->role)) continue;
        const size_t n = a->bytes / a->element;
        if (r->compare == TWIN_BITWISE) {
            AN_TRY(compare_bits(be, op, t->number, a->name, t->got[i], t->host[i], a->bytes, a->element));
        } else if (r->compare == TWIN_LOSS) {
            double got, want;
            memcpy(&got, t->got[i], sizeof got);
            memcpy(&want, t->host[i], sizeof want);
            twin_of(be)->comparisons++;
            note(twin_of(be), "%s #%ld: inner %.17g, CPU twin %.17g", op, t->number, got, want);
            if (!(isnan(got) && isnan(want)) && !(fabs(got - want) <= r->rtol * fabs(want)))
                return error_set(AN_ERR_INTERNAL, "twin check: %s #%ld: inner %.17g, CPU twin %.17g", op, t->number,
                                 got, want);
        } else {
            const double rtol = r->compare == TWIN_SUMS ? twin_of(be)->sum_rtol : r->rtol;
            const double floor_fraction = r->compare == TWIN_SUMS ? SUM_FLOOR : r->floor;
            AN_TRY(compare_close(be, op, t->number, a->name, t->got[i], t->host[i], n, rtol, floor_fraction));
        }
    }
    return AN_OK;
}

/* One wrapper per op of backend_ops.def: inputs fetched, the inner op, its
 * outputs fetched, the same names pointed at host copies for the CPU twin,
 * compared. The locals end in _ so that no parameter hides them. */
#define BACKEND_OP(name, params, names, tensors)                                     \
    static an_status tw_##name(backend *be, BACKEND_UNPAREN params)                  \
    {                                                                                \
        backend_arg list_[] = {tensors};                                             \
        twin_call call_;                                                             \
        an_status st_ = twin_before(be, TWIN_OP_##name, list_,                       \
                                    (int)(sizeof list_ / sizeof list_[0]), &call_);  \
        if (st_ == AN_OK) st_ = INNER(be)->ops->name(INNER(be), BACKEND_UNPAREN names); \
        if (st_ == AN_OK) st_ = twin_after_inner(be, &call_);                        \
        if (st_ == AN_OK) {                                                          \
            twin_rebind(&call_);                                                     \
            backend *cpu_ = twin_of(be)->cpu;                                        \
            st_ = cpu_->ops->name(cpu_, BACKEND_UNPAREN names);                      \
        }                                                                            \
        if (st_ == AN_OK) st_ = compare_outputs(be, &call_);                          \
        twin_end(&call_);                                                            \
        return st_;                                                                  \
    }
#include "backend_ops.def"
#undef BACKEND_OP

static void tw_destroy(backend *be)
{
    backend_twin *t = twin_of(be);
    backend_destroy(t->cpu);
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
    .host_alloc = tw_host_alloc,
    .host_free = tw_host_free,
#define BACKEND_OP(name, params, names, tensors) .name = tw_##name,
#include "backend_ops.def"
#undef BACKEND_OP
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
    for (int op = 0; op < TWIN_OPS; op++)
        if (!rules[op].compare) {
            free(t->lines);
            free(t);
            return error_set(AN_ERR_INTERNAL, "twin check: no comparison rule for %s (backend_twin.c)", op_names[op]);
        }
    an_status st = backend_cpu_create(&t->cpu, 0);
    if (st != AN_OK) {
        free(t->lines);
        free(t);
        return st;
    }
    t->base.ops = &twin_ops;
    t->base.kind = inner->kind;
    t->base.keeps_lrn_scale = inner->keeps_lrn_scale;
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
