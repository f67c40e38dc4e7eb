/* backend_cpu.c: the CPU backend: its memory entries, and each op's entry
 * the CPU twin of the same name (ops_cpu.h). The convolution workspace and
 * the thread count belong to the instance; the workspace grows to what the
 * largest shape needs. */
#include "backend_cpu.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops_cpu.h"

typedef struct backend_cpu {
    backend base;            /* first: a backend_cpu * is a backend * */
    float *workspace;        /* [workspace_floats] conv scratch */
    size_t workspace_floats;
    int threads;             /* OpenMP and OpenBLAS threads of every op (cpu_use) */
} backend_cpu;

static backend_cpu *cpu_of(backend *be) { return (backend_cpu *)be; }

static an_status cpu_alloc(backend *be, void **out, size_t bytes, const char *what)
{
    (void)be;
    size_t rounded = ((bytes ? bytes : 1) + 63) / 64 * 64;
    *out = aligned_alloc(64, rounded); /* untouched pages cost no memory until written */
    if (!*out) return error_set(AN_ERR_NOMEM, "out of memory: %zu bytes for %s", bytes, what);
    return AN_OK;
}

static void cpu_free(backend *be, void *p)
{
    (void)be;
    free(p);
}

static an_status cpu_copy(backend *be, void *dst, const void *src, size_t bytes)
{
    (void)be;
    if (dst != src && bytes) memcpy(dst, src, bytes);
    return AN_OK;
}

static an_status cpu_view(backend *be, const void **view, void *staging, const void *src, size_t bytes)
{
    (void)be, (void)staging, (void)bytes;
    *view = src;
    return AN_OK;
}

static an_status cpu_zero(backend *be, void *dst, size_t bytes)
{
    (void)be;
    memset(dst, 0, bytes);
    return AN_OK;
}

static an_status cpu_nothing(backend *be, void *p, size_t bytes)
{
    (void)be, (void)p, (void)bytes;
    return AN_OK;
}

static an_status cpu_synchronize(backend *be)
{
    (void)be;
    return AN_OK;
}

void cpu_use(backend *be)
{
    int threads = cpu_of(be)->threads;
    if (threads > 0 && cpu_threads_get() != threads) cpu_threads_set(threads);
}

void backend_cpu_set_threads(backend *be, int threads)
{
    cpu_of(be)->threads = threads > 0 ? threads : 1;
    snprintf(be->description, sizeof be->description, "the CPU (%d thread%s)", cpu_of(be)->threads,
             cpu_of(be)->threads == 1 ? "" : "s");
}

an_status cpu_workspace(backend *be, size_t floats, float **workspace)
{
    backend_cpu *c = cpu_of(be);
    *workspace = NULL;
    if (floats > c->workspace_floats) {
        free(c->workspace);
        c->workspace_floats = 0;
        size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
        c->workspace = aligned_alloc(64, bytes);
        if (!c->workspace)
            return error_set(AN_ERR_NOMEM, "out of memory: %zu bytes of convolution workspace", bytes);
        c->workspace_floats = floats;
    }
    *workspace = c->workspace;
    return AN_OK;
}

static void cpu_destroy(backend *be)
{
    backend_cpu *c = cpu_of(be);
    free(c->workspace);
    free(c);
}

/* The table: the memory entries above, then every op's CPU twin by name
 * (a twin missing from kernels/cpu fails the link). */
static const backend_ops cpu_ops = {
    .alloc = cpu_alloc, .free = cpu_free,
    .upload = cpu_copy, .download = cpu_copy,
    .upload_view = cpu_view, .download_view = cpu_view,
    .zero = cpu_zero, .discard = cpu_nothing, .synchronize = cpu_synchronize,
    .host_alloc = cpu_alloc, .host_free = cpu_free, /* the backend's memory is the host's */
#define BACKEND_OP(name, params, names, tensors) .name = name##_cpu,
#include "backend_ops.def"
#undef BACKEND_OP
    .destroy = cpu_destroy,
};

an_status backend_cpu_create(backend **out, int threads)
{
    *out = NULL;
    if (threads < 0)
        return error_set(AN_ERR_ARG, "CPU backend: %d threads (expected 1 or more, or 0: the default)", threads);
    backend_cpu *c = calloc(1, sizeof *c);
    AN_CHECK_ALLOC(c, sizeof *c);
    c->base.ops = &cpu_ops;
    c->base.kind = "cpu";
    c->base.keeps_lrn_scale = 1;
    c->threads = threads; /* 0: each op runs the calling thread's count */
    if (threads == 0) threads = cpu_threads_get();
    snprintf(c->base.description, sizeof c->base.description, "the CPU (%d thread%s)", threads, threads == 1 ? "" : "s");
    *out = &c->base;
    return AN_OK;
}
