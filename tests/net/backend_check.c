/* backend_check.c: the checking backend of backend_check.h. Every op of
 * kernels/backend_ops.def is wrapped, from the roles its entry gives its
 * tensor arguments, as: locate its arguments in the allocations, check its
 * inputs were produced, snapshot every allocation, poison its outputs, call
 * the inner backend, then compare and mark what it produced. */
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

/* One tensor argument of an op (backend.h's backend_arg) where it lies: the
 * allocation and the offset from its start. */
typedef struct op_arg {
    backend_arg arg;
    allocation *alloc;   /* located */
    size_t offset;       /* from the allocation's start */
} op_arg;


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

/* Locates a in the allocations; it must lie inside one. */
static an_status locate(backend_check *c, const char *op, op_arg *a)
{
    a->alloc = find(c, a->arg.p);
    if (!a->alloc) return violation(op, "%s %p is not memory of this backend", a->arg.name, a->arg.p);
    a->offset = (size_t)((const uint8_t *)a->arg.p - user(a->alloc));
    if (a->offset + a->arg.bytes > a->alloc->bytes)
        return violation(op, "%s covers bytes %zu..%zu of %s, which has %zu", a->arg.name, a->offset,
                         a->offset + a->arg.bytes, a->alloc->name, a->alloc->bytes);
    return AN_OK;
}

/* A byte range of memory a copy or memset reads or writes. */
static an_status locate_range(backend_check *c, const char *op, const char *what, const void *p, size_t bytes,
                              op_arg *a)
{
    memset(a, 0, sizeof *a);
    a->arg.name = what;
    a->arg.p = p;
    a->arg.bytes = bytes;
    a->arg.element = 1;
    return locate(c, op, a);
}

static an_status require_produced(const char *op, const allocation *a, size_t offset, size_t bytes, const char *what)
{
    for (size_t i = 0; i < bytes; i++)
        if (!a->produced[offset + i])
            return violation(op, "reads %s (%s, byte %zu of %zu) before anything wrote it", what, a->name,
                             offset + i, a->bytes);
    return AN_OK;
}

static int any_produced(const allocation *a, size_t offset, size_t bytes)
{
    for (size_t i = 0; i < bytes; i++)
        if (a->produced[offset + i]) return 1;
    return 0;
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

static int writes(backend_arg_role role)
{
    return role == BACKEND_ARG_OUT || role == BACKEND_ARG_INOUT || role == BACKEND_ARG_KEEP;
}

/* Before an op: the roles of this call (an output that is its in-place
 * input is read and written, and that input is not checked twice; host
 * outputs are not backend memory), inputs produced, everything snapshotted,
 * outputs poisoned. */
static an_status before_op(backend_check *c, const char *op, op_arg *args, int n)
{
    c->calls++;
    for (int i = 0; i < n; i++) {
        backend_arg *a = &args[i].arg;
        if (a->role == BACKEND_ARG_HOST_OUT) a->p = NULL;
        if (!a->p || !a->inplace || a->p != a->inplace) continue;
        a->role = BACKEND_ARG_INOUT;
        for (int j = 0; j < n; j++)
            if (args[j].arg.role == BACKEND_ARG_IN && args[j].arg.p == a->p) args[j].arg.p = NULL;
    }
    for (int i = 0; i < n; i++) {
        const backend_arg *a = &args[i].arg;
        if (!a->p) continue;
        AN_TRY(locate(c, op, &args[i]));
        if (a->role == BACKEND_ARG_KEPT && !any_produced(args[i].alloc, args[i].offset, a->bytes))
            continue; /* the backend keeps none: nothing to read */
        if (a->role == BACKEND_ARG_IN || a->role == BACKEND_ARG_INOUT || a->role == BACKEND_ARG_KEPT)
            AN_TRY(require_produced(op, args[i].alloc, args[i].offset, a->bytes, a->name));
    }
    AN_TRY(snapshot(c));
    for (int i = 0; i < n; i++) {
        const backend_arg *a = &args[i].arg;
        if (a->p && (a->role == BACKEND_ARG_OUT || a->role == BACKEND_ARG_KEEP))
            AN_TRY(poison(c, args[i].alloc, args[i].offset, a->bytes));
    }
    return AN_OK;
}

/* Elements of an output still holding the poison: *first the first of them. */
static size_t unwritten(const backend_check *c, const op_arg *a, const uint8_t *got, size_t *first)
{
    size_t count = 0;
    for (size_t k = 0; k < a->arg.bytes; k += a->arg.element) /* the pattern holds the poisoned bytes, and more */
        if (memcmp(got + k, c->pattern + ((a->offset + k) % 4), a->arg.element) == 0 && count++ == 0)
            *first = k / a->arg.element;
    return count;
}

/* After an op: outputs fully written (a kept buffer fully or not at all),
 * nothing else changed; marks what it produced. */
static an_status after_op(backend_check *c, const char *op, op_arg *args, int n)
{
    for (int i = 0; i < n; i++) {
        op_arg *a = &args[i];
        if (!a->arg.p || !writes(a->arg.role)) continue;
        AN_TRY(c->inner->ops->download(c->inner, a->alloc->after, a->alloc->base, GUARD + a->alloc->bytes + GUARD));
        const uint8_t *got = a->alloc->after + GUARD + a->offset;
        size_t first = 0, left = a->arg.role == BACKEND_ARG_INOUT ? 0 : unwritten(c, a, got, &first);
        size_t elements = a->arg.bytes / a->arg.element;
        if (a->arg.role == BACKEND_ARG_KEEP && left == elements) {
            a->arg.p = NULL; /* not kept: still unproduced */
            memset(a->alloc->produced + a->offset, 0, a->arg.bytes);
            continue;
        }
        if (left > 0)
            return violation(op, "left element %zu of %s (%s) unwritten", first, a->arg.name, a->alloc->name);
    }
    for (int j = 0; j < c->count; j++) {
        allocation *al = &c->allocs[j];
        size_t total = GUARD + al->bytes + GUARD;
        AN_TRY(c->inner->ops->download(c->inner, al->after, al->base, total));
        for (int i = 0; i < n; i++) /* what the op owns may change */
            if (writes(args[i].arg.role) && args[i].alloc == al)
                memcpy(al->before + GUARD + args[i].offset, al->after + GUARD + args[i].offset, args[i].arg.bytes);
        if (memcmp(al->before, al->after, total) != 0) {
            size_t k = 0;
            while (al->before[k] == al->after[k]) k++;
            if (k < GUARD || k >= GUARD + al->bytes)
                return violation(op, "wrote into the guard region %s %s", k < GUARD ? "before" : "after", al->name);
            return violation(op, "changed byte %zu of %s, which it does not own", k - GUARD, al->name);
        }
    }
    for (int i = 0; i < n; i++)
        if (args[i].arg.p && writes(args[i].arg.role))
            memset(args[i].alloc->produced + args[i].offset, 1, args[i].arg.bytes);
    return AN_OK;
}

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
    op_arg a;
    AN_TRY(locate_range(c, "upload", "dst", dst, bytes, &a));
    AN_TRY(c->inner->ops->upload(c->inner, dst, src_host, bytes));
    memset(a.alloc->produced + a.offset, 1, bytes);
    return AN_OK;
}

static an_status chk_download(backend *be, void *dst_host, const void *src, size_t bytes)
{
    backend_check *c = check_of(be);
    op_arg a;
    AN_TRY(locate_range(c, "download", "src", src, bytes, &a));
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
    op_arg a;
    AN_TRY(locate_range(c, "zero", "dst", dst, bytes, &a));
    AN_TRY(c->inner->ops->zero(c->inner, dst, bytes));
    memset(a.alloc->produced + a.offset, 1, bytes);
    return AN_OK;
}

static an_status chk_discard(backend *be, void *p, size_t bytes)
{
    backend_check *c = check_of(be);
    op_arg a;
    AN_TRY(locate_range(c, "discard", "discarded", p, bytes, &a));
    AN_TRY(poison(c, a.alloc, a.offset, bytes));
    memset(a.alloc->produced + a.offset, 0, bytes);
    return c->inner->ops->discard(c->inner, p, bytes);
}

static an_status chk_synchronize(backend *be) { return check_of(be)->inner->ops->synchronize(check_of(be)->inner); }

/* Host memory from the inner backend, poisoned, so that what the caller
 * uploads from it without writing it first shows up as poison in the ops. */
static an_status chk_host_alloc(backend *be, void **out, size_t bytes, const char *what)
{
    backend_check *c = check_of(be);
    AN_TRY(c->inner->ops->host_alloc(c->inner, out, bytes, what));
    const uint32_t word = POISON_WORD;
    for (size_t i = 0; i < bytes; i++) ((uint8_t *)*out)[i] = ((const uint8_t *)&word)[i % 4];
    return AN_OK;
}

static void chk_host_free(backend *be, void *p)
{
    backend_check *c = check_of(be);
    c->inner->ops->host_free(c->inner, p);
}

/* ------------------------------------------------------------ ops */

/* One wrapper per op of backend_ops.def, from its list of tensor arguments:
 * the checks before, the inner op, the checks after. */
/* The locals end in _ so that no parameter of an op (n, c, ...) hides them. */
#define BACKEND_OP(name, params, names, tensors)                                  \
    static an_status chk_##name(backend *be, BACKEND_UNPAREN params)              \
    {                                                                             \
        backend_check *check_ = check_of(be);                                     \
        const backend_arg list_[] = {tensors};                                    \
        const int count_ = (int)(sizeof list_ / sizeof list_[0]);                 \
        op_arg args_[sizeof list_ / sizeof list_[0]];                             \
        for (int i_ = 0; i_ < count_; i_++) args_[i_] = (op_arg){.arg = list_[i_]}; \
        AN_TRY(before_op(check_, #name, args_, count_));                          \
        AN_TRY(check_->inner->ops->name(check_->inner, BACKEND_UNPAREN names));   \
        return after_op(check_, #name, args_, count_);                            \
    }
#include "backend_ops.def"
#undef BACKEND_OP

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
    .host_alloc = chk_host_alloc,
    .host_free = chk_host_free,
#define BACKEND_OP(name, params, names, tensors) .name = chk_##name,
#include "backend_ops.def"
#undef BACKEND_OP
    .destroy = chk_destroy,
};

an_status backend_check_create(backend **out, backend *inner)
{
    *out = NULL;
    backend_check *c = calloc(1, sizeof *c);
    AN_CHECK_ALLOC(c, sizeof *c);
    c->base.ops = &check_ops;
    c->base.kind = inner->kind;
    c->base.keeps_lrn_scale = inner->keeps_lrn_scale;
    snprintf(c->base.description, sizeof c->base.description, "checked %.200s", inner->description);
    c->inner = inner;
    *out = &c->base;
    return AN_OK;
}

long backend_check_calls(const backend *be) { return ((const backend_check *)be)->calls; }

size_t backend_check_bytes_named(const backend *be, const char *suffix)
{
    const backend_check *c = (const backend_check *)be;
    const size_t k = strlen(suffix);
    size_t total = 0;
    for (int i = 0; i < c->count; i++) {
        const size_t n = strlen(c->allocs[i].name);
        if (n >= k && strcmp(c->allocs[i].name + n - k, suffix) == 0) total += c->allocs[i].bytes;
    }
    return total;
}
