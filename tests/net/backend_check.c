/* backend_check.c: the checking backend of backend_check.h. Every op is
 * wrapped as: locate its arguments in the allocations, check its inputs were
 * produced, snapshot every allocation, poison its outputs, call the inner
 * backend, then compare and mark what it produced. */
#include "backend_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GUARD 64                  /* bytes before and after every allocation */
#define POISON_WORD 0x7FBADBADu   /* a NaN no op computes; bytes AD DB BA 7F in memory */

typedef struct allocation {
    uint8_t *base;       /* inner memory [GUARD + bytes + GUARD] */
    size_t bytes;        /* the caller's part */
    char name[96];
    uint8_t *produced;   /* host [bytes]: 1 where written since alloc or discard */
    uint8_t *before;     /* host [GUARD + bytes + GUARD]: the snapshot */
    uint8_t *after;      /* host [GUARD + bytes + GUARD] */
} allocation;

typedef struct backend_check {
    backend base;        /* first: a backend_check * is a backend * */
    backend *inner;
    allocation *allocs;  /* [count] */
    int count, capacity;
    long calls;
    uint8_t *pattern;    /* host [pattern_bytes + 4]: the poison, repeated */
    size_t pattern_bytes;
} backend_check;

typedef enum arg_role { ARG_IN, ARG_OUT, ARG_INOUT } arg_role;

/* One tensor argument of an op: where, how many bytes, its element size. */
typedef struct op_arg {
    const void *p;       /* NULL: not used in this call */
    size_t bytes;
    size_t element;      /* 4 for float and int32, 1 for masks */
    arg_role role;
    const char *what;    /* "out", "dweight", ... */
    allocation *alloc;   /* located */
    size_t offset;       /* from the allocation's start */
} op_arg;

#define MAX_ARGS 8

static backend_check *check_of(backend *be) { return (backend_check *)be; }
static uint8_t *user(const allocation *a) { return a->base + GUARD; }

static an_status violation(const char *op, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return error_set(AN_ERR_INTERNAL, "checking backend: %s: %s", op, text);
}

static allocation *find(backend_check *c, const void *p)
{
    const uint8_t *q = p;
    for (int i = 0; i < c->count; i++)
        if (q >= user(&c->allocs[i]) && q < user(&c->allocs[i]) + (c->allocs[i].bytes ? c->allocs[i].bytes : 1))
            return &c->allocs[i];
    return NULL;
}

/* Locates arg in the allocations; it must lie inside one. */
static an_status locate(backend_check *c, const char *op, op_arg *a)
{
    a->alloc = find(c, a->p);
    if (!a->alloc) return violation(op, "%s %p is not memory of this backend", a->what, a->p);
    a->offset = (size_t)((const uint8_t *)a->p - user(a->alloc));
    if (a->offset + a->bytes > a->alloc->bytes)
        return violation(op, "%s covers bytes %zu..%zu of %s, which has %zu", a->what, a->offset,
                         a->offset + a->bytes, a->alloc->name, a->alloc->bytes);
    return AN_OK;
}

static an_status require_produced(const char *op, const allocation *a, size_t offset, size_t bytes, const char *what)
{
    for (size_t i = 0; i < bytes; i++)
        if (!a->produced[offset + i])
            return violation(op, "reads %s (%s, byte %zu of %zu) before anything wrote it", what, a->name,
                             offset + i, a->bytes);
    return AN_OK;
}

/* Poisons [offset, offset + bytes) of a with the pattern, in phase with the
 * allocation's words. */
static an_status poison(backend_check *c, allocation *a, size_t offset, size_t bytes)
{
    if (bytes == 0) return AN_OK;
    if (bytes > c->pattern_bytes) {
        size_t size = bytes < 64 ? 64 : bytes;
        uint8_t *bigger = realloc(c->pattern, size + 4);
        AN_CHECK_ALLOC(bigger, size + 4);
        const uint32_t word = POISON_WORD;
        for (size_t i = 0; i < size + 4; i += 4) memcpy(bigger + i, &word, 4);
        c->pattern = bigger;
        c->pattern_bytes = size;
    }
    return c->inner->ops->upload(c->inner, user(a) + offset, c->pattern + (offset % 4), bytes);
}

/* Every allocation, guards included, into its `before`. */
static an_status snapshot(backend_check *c)
{
    for (int i = 0; i < c->count; i++) {
        allocation *a = &c->allocs[i];
        AN_TRY(c->inner->ops->download(c->inner, a->before, a->base, GUARD + a->bytes + GUARD));
    }
    return AN_OK;
}

/* Before an op: inputs produced, everything snapshotted, outputs poisoned. */
static an_status before_op(backend_check *c, const char *op, op_arg *args, int n)
{
    c->calls++;
    for (int i = 0; i < n; i++) {
        if (!args[i].p) continue;
        AN_TRY(locate(c, op, &args[i]));
        if (args[i].role != ARG_OUT)
            AN_TRY(require_produced(op, args[i].alloc, args[i].offset, args[i].bytes, args[i].what));
    }
    AN_TRY(snapshot(c));
    for (int i = 0; i < n; i++)
        if (args[i].p && args[i].role == ARG_OUT) AN_TRY(poison(c, args[i].alloc, args[i].offset, args[i].bytes));
    return AN_OK;
}

/* After an op: outputs fully written, nothing else changed; marks what it produced. */
static an_status after_op(backend_check *c, const char *op, op_arg *args, int n)
{
    for (int i = 0; i < n; i++) {
        const op_arg *a = &args[i];
        if (!a->p || a->role == ARG_IN) continue;
        AN_TRY(c->inner->ops->download(c->inner, a->alloc->after, a->alloc->base, GUARD + a->alloc->bytes + GUARD));
        const uint8_t *got = a->alloc->after + GUARD + a->offset;
        if (a->role == ARG_OUT)
            for (size_t k = 0; k < a->bytes; k += a->element) {
                uint32_t word;
                memcpy(&word, c->pattern + ((a->offset + k) % 4), 4);
                if (memcmp(got + k, &word, a->element) == 0)
                    return violation(op, "left element %zu of %s (%s) unwritten", k / a->element, a->what,
                                     a->alloc->name);
            }
    }
    for (int j = 0; j < c->count; j++) {
        allocation *al = &c->allocs[j];
        size_t total = GUARD + al->bytes + GUARD;
        AN_TRY(c->inner->ops->download(c->inner, al->after, al->base, total));
        for (int i = 0; i < n; i++) /* what the op owns may change */
            if (args[i].p && args[i].role != ARG_IN && args[i].alloc == al)
                memcpy(al->before + GUARD + args[i].offset, al->after + GUARD + args[i].offset, args[i].bytes);
        if (memcmp(al->before, al->after, total) != 0) {
            size_t k = 0;
            while (al->before[k] == al->after[k]) k++;
            if (k < GUARD || k >= GUARD + al->bytes)
                return violation(op, "wrote into the guard region %s %s", k < GUARD ? "before" : "after", al->name);
            return violation(op, "changed byte %zu of %s, which it does not own", k - GUARD, al->name);
        }
    }
    for (int i = 0; i < n; i++)
        if (args[i].p && args[i].role != ARG_IN) memset(args[i].alloc->produced + args[i].offset, 1, args[i].bytes);
    return AN_OK;
}

#define F(n) ((size_t)(n) * sizeof(float))
#define IN(ptr, bytes, name) {(ptr), (bytes), 4, ARG_IN, (name), NULL, 0}
#define OUT(ptr, bytes, name) {(ptr), (bytes), 4, ARG_OUT, (name), NULL, 0}
#define INOUT(ptr, bytes, name) {(ptr), (bytes), 4, ARG_INOUT, (name), NULL, 0}
/* out, or in-and-out when the op works in place */
#define OUT_OR_INPLACE(ptr, in, bytes, name) {(ptr), (bytes), 4, (const void *)(ptr) == (const void *)(in) ? ARG_INOUT : ARG_OUT, (name), NULL, 0}
#define NARGS(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Runs call between the checks. */
#define CHECKED(opname, args, call)                                   \
    do {                                                              \
        backend_check *c_ = check_of(be);                             \
        AN_TRY(before_op(c_, opname, args, NARGS(args)));             \
        backend *in_ = c_->inner;                                     \
        (void)in_;                                                    \
        an_status st_ = (call);                                       \
        if (st_ != AN_OK) return st_;                                 \
        return after_op(c_, opname, args, NARGS(args));               \
    } while (0)

/* ------------------------------------------------------------ memory */

static an_status chk_alloc(backend *be, void **out, size_t bytes, const char *what)
{
    backend_check *c = check_of(be);
    *out = NULL;
    if (c->count == c->capacity) {
        int cap = c->capacity ? 2 * c->capacity : 32;
        allocation *grown = realloc(c->allocs, (size_t)cap * sizeof *grown);
        AN_CHECK_ALLOC(grown, (size_t)cap * sizeof *grown);
        c->allocs = grown;
        c->capacity = cap;
    }
    allocation a;
    memset(&a, 0, sizeof a);
    a.bytes = bytes;
    snprintf(a.name, sizeof a.name, "%s", what);
    size_t total = GUARD + bytes + GUARD;
    void *base;
    AN_TRY(c->inner->ops->alloc(c->inner, &base, total, what));
    a.base = base;
    a.produced = calloc(bytes ? bytes : 1, 1);
    a.before = malloc(total);
    a.after = malloc(total);
    if (!a.produced || !a.before || !a.after) {
        free(a.produced), free(a.before), free(a.after);
        c->inner->ops->free(c->inner, base);
        return error_set(AN_ERR_NOMEM, "checking backend: out of memory tracking %s", what);
    }
    /* the whole block, guards included, starts as poison */
    uint8_t *whole = malloc(total);
    an_status st = whole ? AN_OK : error_set(AN_ERR_NOMEM, "checking backend: out of memory poisoning %s", what);
    if (st == AN_OK) {
        const uint32_t word = POISON_WORD;
        for (size_t i = 0; i < total; i++) whole[i] = ((const uint8_t *)&word)[i % 4];
        st = c->inner->ops->upload(c->inner, base, whole, total);
    }
    free(whole);
    if (st != AN_OK) {
        free(a.produced), free(a.before), free(a.after);
        c->inner->ops->free(c->inner, base);
        return st;
    }
    c->allocs[c->count++] = a;
    allocation *mine = &c->allocs[c->count - 1];
    *out = user(mine);
    return AN_OK;
}

static void chk_free(backend *be, void *p)
{
    backend_check *c = check_of(be);
    if (!p) return;
    for (int i = 0; i < c->count; i++)
        if (user(&c->allocs[i]) == p) {
            allocation *a = &c->allocs[i];
            c->inner->ops->free(c->inner, a->base);
            free(a->produced), free(a->before), free(a->after);
            c->allocs[i] = c->allocs[--c->count];
            return;
        }
}

static an_status chk_upload(backend *be, void *dst, const void *src_host, size_t bytes)
{
    backend_check *c = check_of(be);
    op_arg a = {dst, bytes, 1, ARG_OUT, "dst", NULL, 0};
    AN_TRY(locate(c, "upload", &a));
    AN_TRY(c->inner->ops->upload(c->inner, dst, src_host, bytes));
    memset(a.alloc->produced + a.offset, 1, bytes);
    return AN_OK;
}

static an_status chk_download(backend *be, void *dst_host, const void *src, size_t bytes)
{
    backend_check *c = check_of(be);
    op_arg a = {src, bytes, 1, ARG_IN, "src", NULL, 0};
    AN_TRY(locate(c, "download", &a));
    AN_TRY(require_produced("download", a.alloc, a.offset, bytes, "src"));
    return c->inner->ops->download(c->inner, dst_host, src, bytes);
}

static an_status chk_upload_view(backend *be, const void **view, void *staging, const void *src_host, size_t bytes)
{
    AN_TRY(chk_upload(be, staging, src_host, bytes)); /* always a copy: ops read checked memory */
    *view = staging;
    return AN_OK;
}

static an_status chk_download_view(backend *be, const void **view_host, void *mirror_host, const void *src,
                                   size_t bytes)
{
    AN_TRY(chk_download(be, mirror_host, src, bytes));
    *view_host = mirror_host;
    return AN_OK;
}

static an_status chk_zero(backend *be, void *dst, size_t bytes)
{
    backend_check *c = check_of(be);
    op_arg a = {dst, bytes, 1, ARG_OUT, "dst", NULL, 0};
    AN_TRY(locate(c, "zero", &a));
    AN_TRY(c->inner->ops->zero(c->inner, dst, bytes));
    memset(a.alloc->produced + a.offset, 1, bytes);
    return AN_OK;
}

static an_status chk_discard(backend *be, void *p, size_t bytes)
{
    backend_check *c = check_of(be);
    op_arg a = {p, bytes, 1, ARG_OUT, "discarded", NULL, 0};
    AN_TRY(locate(c, "discard", &a));
    AN_TRY(poison(c, a.alloc, a.offset, bytes));
    memset(a.alloc->produced + a.offset, 0, bytes);
    return c->inner->ops->discard(c->inner, p, bytes);
}

static an_status chk_synchronize(backend *be) { return check_of(be)->inner->ops->synchronize(check_of(be)->inner); }

/* ------------------------------------------------------------ ops */

static size_t conv_in_bytes(const conv_shape *s) { return F((size_t)s->batch * s->in_channels * s->in_h * s->in_w); }
static size_t conv_out_bytes(const conv_shape *s)
{
    return F((size_t)s->batch * s->out_channels * conv_out_size(s->in_h, s->kernel, s->stride, s->pad) *
             conv_out_size(s->in_w, s->kernel, s->stride, s->pad));
}
static size_t conv_weight_bytes(const conv_shape *s)
{
    return F((size_t)s->out_channels * (s->in_channels / s->groups) * s->kernel * s->kernel);
}
static size_t pool_in_bytes(const pool_shape *s) { return F((size_t)s->batch * s->channels * s->in_h * s->in_w); }
static size_t pool_out_bytes(const pool_shape *s)
{
    return F((size_t)s->batch * s->channels * pool_out_size(s->in_h, s->size, s->stride, s->ceil_mode) *
             pool_out_size(s->in_w, s->size, s->stride, s->ceil_mode));
}

static an_status chk_conv_forward(backend *be, float *out, const float *in, const float *weight, const float *bias,
                                  const conv_shape *s)
{
    op_arg args[] = {OUT(out, conv_out_bytes(s), "out"), IN(in, conv_in_bytes(s), "in"),
                     IN(weight, conv_weight_bytes(s), "weight"), IN(bias, F(s->out_channels), "bias")};
    CHECKED("conv_forward", args, in_->ops->conv_forward(in_, out, in, weight, bias, s));
}

static an_status chk_conv_backward(backend *be, float *dinput, float *dweight, float *dbias, const float *doutput,
                                   const float *in, const float *weight, const conv_shape *s)
{
    op_arg args[] = {OUT(dinput, conv_in_bytes(s), "dinput"), OUT(dweight, conv_weight_bytes(s), "dweight"),
                     OUT(dbias, F(s->out_channels), "dbias"), IN(doutput, conv_out_bytes(s), "doutput"),
                     IN(in, conv_in_bytes(s), "in"), IN(weight, conv_weight_bytes(s), "weight")};
    CHECKED("conv_backward", args, in_->ops->conv_backward(in_, dinput, dweight, dbias, doutput, in, weight, s));
}

static an_status chk_relu_forward(backend *be, float *out, const float *in, size_t n)
{
    op_arg args[] = {OUT_OR_INPLACE(out, in, F(n), "out"), IN(in, F(n), "in")};
    if (out == in) args[1].p = NULL; /* the one in-place argument */
    CHECKED("relu_forward", args, in_->ops->relu_forward(in_, out, in, n));
}

static an_status chk_relu_backward(backend *be, float *dinput, const float *doutput, const float *out, size_t n)
{
    op_arg args[] = {OUT_OR_INPLACE(dinput, doutput, F(n), "dinput"), IN(doutput, F(n), "doutput"),
                     IN(out, F(n), "out")};
    if (dinput == doutput) args[1].p = NULL;
    CHECKED("relu_backward", args, in_->ops->relu_backward(in_, dinput, doutput, out, n));
}

static an_status chk_tanh_forward(backend *be, float *out, const float *in, size_t n)
{
    op_arg args[] = {OUT_OR_INPLACE(out, in, F(n), "out"), IN(in, F(n), "in")};
    if (out == in) args[1].p = NULL; /* the one in-place argument */
    CHECKED("tanh_forward", args, in_->ops->tanh_forward(in_, out, in, n));
}

static an_status chk_tanh_backward(backend *be, float *dinput, const float *doutput, const float *out, size_t n)
{
    op_arg args[] = {OUT_OR_INPLACE(dinput, doutput, F(n), "dinput"), IN(doutput, F(n), "doutput"),
                     IN(out, F(n), "out")};
    if (dinput == doutput) args[1].p = NULL;
    CHECKED("tanh_backward", args, in_->ops->tanh_backward(in_, dinput, doutput, out, n));
}

static an_status chk_lrn_forward(backend *be, float *out, float *scale, const float *in, int batch, int channels,
                                 int height, int width, const lrn_params *p)
{
    size_t bytes = F((size_t)batch * channels * height * width);
    op_arg args[] = {OUT(out, bytes, "out"), OUT(scale, bytes, "scale"), IN(in, bytes, "in")};
    CHECKED("lrn_forward", args, in_->ops->lrn_forward(in_, out, scale, in, batch, channels, height, width, p));
}

static an_status chk_lrn_backward(backend *be, float *dinput, const float *doutput, const float *in,
                                  const float *out, const float *scale, int batch, int channels, int height,
                                  int width, const lrn_params *p)
{
    size_t bytes = F((size_t)batch * channels * height * width);
    op_arg args[] = {OUT(dinput, bytes, "dinput"), IN(doutput, bytes, "doutput"), IN(in, bytes, "in"),
                     IN(out, bytes, "out"), IN(scale, bytes, "scale")};
    CHECKED("lrn_backward", args,
            in_->ops->lrn_backward(in_, dinput, doutput, in, out, scale, batch, channels, height, width, p));
}

static an_status chk_maxpool_forward(backend *be, float *out, int32_t *argmax, const float *in, const pool_shape *s)
{
    op_arg args[] = {OUT(out, pool_out_bytes(s), "out"), OUT(argmax, pool_out_bytes(s), "argmax"),
                     IN(in, pool_in_bytes(s), "in")};
    CHECKED("maxpool_forward", args, in_->ops->maxpool_forward(in_, out, argmax, in, s));
}

static an_status chk_maxpool_backward(backend *be, float *dinput, const float *doutput, const int32_t *argmax,
                                      const pool_shape *s)
{
    op_arg args[] = {OUT(dinput, pool_in_bytes(s), "dinput"), IN(doutput, pool_out_bytes(s), "doutput"),
                     IN(argmax, pool_out_bytes(s), "argmax")};
    CHECKED("maxpool_backward", args, in_->ops->maxpool_backward(in_, dinput, doutput, argmax, s));
}

static an_status chk_fc_forward(backend *be, float *out, const float *in, const float *weight, const float *bias,
                                int batch, int in_features, int out_features)
{
    op_arg args[] = {OUT(out, F((size_t)batch * out_features), "out"), IN(in, F((size_t)batch * in_features), "in"),
                     IN(weight, F((size_t)out_features * in_features), "weight"), IN(bias, F(out_features), "bias")};
    CHECKED("fc_forward", args, in_->ops->fc_forward(in_, out, in, weight, bias, batch, in_features, out_features));
}

static an_status chk_fc_backward(backend *be, float *dinput, float *dweight, float *dbias, const float *doutput,
                                 const float *in, const float *weight, int batch, int in_features, int out_features)
{
    op_arg args[] = {OUT(dinput, F((size_t)batch * in_features), "dinput"),
                     OUT(dweight, F((size_t)out_features * in_features), "dweight"), OUT(dbias, F(out_features), "dbias"),
                     IN(doutput, F((size_t)batch * out_features), "doutput"), IN(in, F((size_t)batch * in_features), "in"),
                     IN(weight, F((size_t)out_features * in_features), "weight")};
    CHECKED("fc_backward", args,
            in_->ops->fc_backward(in_, dinput, dweight, dbias, doutput, in, weight, batch, in_features, out_features));
}

static an_status chk_dropout_forward(backend *be, float *out, uint8_t *mask, const float *in, int batch,
                                     int n_per_image, float rate, uint64_t seed, uint32_t purpose, uint32_t step,
                                     const uint32_t *image_ids)
{
    size_t n = (size_t)batch * n_per_image;
    op_arg args[] = {OUT_OR_INPLACE(out, in, F(n), "out"), {mask, n, 1, ARG_OUT, "mask", NULL, 0},
                     IN(in, F(n), "in"), IN(image_ids, (size_t)batch * sizeof(uint32_t), "image_ids")};
    if ((const float *)out == in) args[2].p = NULL;
    CHECKED("dropout_forward", args,
            in_->ops->dropout_forward(in_, out, mask, in, batch, n_per_image, rate, seed, purpose, step, image_ids));
}

static an_status chk_dropout_backward(backend *be, float *dinput, const float *doutput, const uint8_t *mask,
                                      int batch, int n_per_image, float rate)
{
    size_t n = (size_t)batch * n_per_image;
    op_arg args[] = {OUT_OR_INPLACE(dinput, doutput, F(n), "dinput"), IN(doutput, F(n), "doutput"),
                     {mask, n, 1, ARG_IN, "mask", NULL, 0}};
    if ((const float *)dinput == doutput) args[1].p = NULL;
    CHECKED("dropout_backward", args, in_->ops->dropout_backward(in_, dinput, doutput, mask, batch, n_per_image, rate));
}

static an_status chk_softmax_forward(backend *be, float *probs, const float *logits, int batch, int classes)
{
    size_t n = (size_t)batch * classes;
    op_arg args[] = {OUT_OR_INPLACE(probs, logits, F(n), "probs"), IN(logits, F(n), "logits")};
    if ((const float *)probs == logits) args[1].p = NULL;
    CHECKED("softmax_forward", args, in_->ops->softmax_forward(in_, probs, logits, batch, classes));
}

static an_status chk_softmax_loss(backend *be, double *loss_host, const float *probs, const int32_t *labels,
                                  int batch, int classes)
{
    op_arg args[] = {IN(probs, F((size_t)batch * classes), "probs"), IN(labels, (size_t)batch * 4, "labels")};
    CHECKED("softmax_loss", args, in_->ops->softmax_loss(in_, loss_host, probs, labels, batch, classes));
}

static an_status chk_softmax_loss_backward(backend *be, float *dlogits, const float *probs, const int32_t *labels,
                                           int batch, int classes, float normalizer)
{
    size_t n = (size_t)batch * classes;
    op_arg args[] = {OUT(dlogits, F(n), "dlogits"), IN(probs, F(n), "probs"), IN(labels, (size_t)batch * 4, "labels")};
    CHECKED("softmax_loss_backward", args,
            in_->ops->softmax_loss_backward(in_, dlogits, probs, labels, batch, classes, normalizer));
}

static an_status chk_sgd_update(backend *be, float *weights, float *velocity, const float *grads, size_t n, float lr,
                                float momentum, float weight_decay)
{
    op_arg args[] = {INOUT(weights, F(n), "weights"), INOUT(velocity, F(n), "velocity"), IN(grads, F(n), "grads")};
    CHECKED("sgd_update", args,
            in_->ops->sgd_update(in_, weights, velocity, grads, n, lr, momentum, weight_decay));
}

static an_status chk_topk_errors(backend *be, int64_t *errors1_host, int64_t *errors5_host, const float *scores,
                                 const int32_t *labels, int batch, int classes)
{
    op_arg args[] = {IN(scores, F((size_t)batch * classes), "scores"), IN(labels, (size_t)batch * 4, "labels")};
    CHECKED("topk_errors", args,
            in_->ops->topk_errors(in_, errors1_host, errors5_host, scores, labels, batch, classes));
}

static void chk_destroy(backend *be)
{
    backend_check *c = check_of(be);
    while (c->count > 0) chk_free(be, user(&c->allocs[0]));
    free(c->allocs);
    free(c->pattern);
    free(c);
}

static const backend_ops check_ops = {
    .alloc = chk_alloc,
    .free = chk_free,
    .upload = chk_upload,
    .download = chk_download,
    .upload_view = chk_upload_view,
    .download_view = chk_download_view,
    .zero = chk_zero,
    .discard = chk_discard,
    .synchronize = chk_synchronize,
    .conv_forward = chk_conv_forward,
    .conv_backward = chk_conv_backward,
    .relu_forward = chk_relu_forward,
    .relu_backward = chk_relu_backward,
    .tanh_forward = chk_tanh_forward,
    .tanh_backward = chk_tanh_backward,
    .lrn_forward = chk_lrn_forward,
    .lrn_backward = chk_lrn_backward,
    .maxpool_forward = chk_maxpool_forward,
    .maxpool_backward = chk_maxpool_backward,
    .fc_forward = chk_fc_forward,
    .fc_backward = chk_fc_backward,
    .dropout_forward = chk_dropout_forward,
    .dropout_backward = chk_dropout_backward,
    .softmax_forward = chk_softmax_forward,
    .softmax_loss = chk_softmax_loss,
    .softmax_loss_backward = chk_softmax_loss_backward,
    .sgd_update = chk_sgd_update,
    .topk_errors = chk_topk_errors,
    .destroy = chk_destroy,
};

an_status backend_check_create(backend **out, backend *inner)
{
    *out = NULL;
    backend_check *c = calloc(1, sizeof *c);
    AN_CHECK_ALLOC(c, sizeof *c);
    c->base.ops = &check_ops;
    c->base.kind = inner->kind;
    snprintf(c->base.description, sizeof c->base.description, "checked %.200s", inner->description);
    c->inner = inner;
    *out = &c->base;
    return AN_OK;
}

long backend_check_calls(const backend *be) { return ((const backend_check *)be)->calls; }
