/* backend.h: the contract between the network (net/) and the op libraries
 * below it: a backend is a table of functions (backend_ops) and the state
 * they share, chosen at run time. kernels/cpu (backend_cpu.h) and
 * kernels/cuda (backend_cuda.h) each provide one instance; the network walks
 * its plan and calls nothing else, so every test of the network on the CPU
 * also tests the sequence the GPU executes (docs/ARCHITECTURE.md).
 *
 * Conventions, for every op:
 *   - tensors are float32, NCHW, contiguous, in BACKEND memory (from alloc);
 *     host pointers are named *_host. The shape comment on each argument says
 *     what it holds; B = batch.
 *   - a forward op OVERWRITES its outputs; a backward op OVERWRITES its
 *     gradient outputs (never accumulates); a gradient output passed as NULL
 *     is not computed (conv1's and fc's dinput).
 *   - `out` may be `in` only where the comment says "in place allowed".
 *   - ops are ordered: each sees the results of every op called before it on
 *     the same backend (the CUDA backend queues them on one stream). Only
 *     download, download_view, softmax_loss and topk_errors wait for results.
 *   - every op returns an_status with a message (bad shapes, a failed library
 *     call); nothing prints or exits.
 *   - the ops are listed once, in backend_ops.def, each with its contract,
 *     its parameters and the roles of its tensor arguments. The twins behind
 *     one entry take the table's signature and compute the same function:
 *     kernels/cpu's <op>_cpu and kernels/cuda's <op>_cuda, which the two
 *     tables name directly. They are tested against each other (tests/gpu)
 *     and through the checking backend (tests/net).
 * A backend is used by one host thread at a time.
 */
#ifndef ALEXNET_BACKEND_H
#define ALEXNET_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "image_geometry.h"
#include "op_shapes.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct backend backend;

/* ---------------------------------------------------------------- the op list */

/* The op list is kernels/backend_ops.def: one BACKEND_OP(name, (parameters),
 * (names), tensor arguments) per op. An includer defines BACKEND_OP, includes
 * the list and undefines it; BACKEND_UNPAREN strips a parenthesised list. */
#define BACKEND_UNPAREN(...) __VA_ARGS__

/* Tensor arguments. Each entry of the list names its tensor arguments, in
 * order, with a role and an element count (the byte size is the count times
 * the pointer's element size), so that a backend wrapping another (the
 * checking backend of tests/net, the twin backend of tests/gpu) knows what
 * every op reads and writes without code of its own per op:
 *   BACKEND_IN(p, count)            read
 *   BACKEND_OUT(p, count)           overwritten, every element (NULL: not computed)
 *   BACKEND_OUT_INPLACE(p, in, count) overwritten; may be the input `in` (in place)
 *   BACKEND_INOUT(p, count)         read, then overwritten
 *   BACKEND_KEEP(p, count)          kept for the backward pass where the backend
 *                                   keeps it: all elements written, or none
 *   BACKEND_KEPT(p, count)          what BACKEND_KEEP left: read when it was written
 *   BACKEND_HOST_OUT(p, count)      host memory, written (a loss, counts)
 * Each expands to a backend_arg initializer; `slot` is the address of the
 * wrapper's own parameter, so a wrapper can point it at a host copy and call
 * the op again with the same names (tests/gpu/backend_twin.c). */
typedef enum backend_arg_role {
    BACKEND_ARG_IN,
    BACKEND_ARG_OUT,
    BACKEND_ARG_INOUT,
    BACKEND_ARG_KEEP,
    BACKEND_ARG_KEPT,
    BACKEND_ARG_HOST_OUT
} backend_arg_role;

typedef struct backend_arg {
    const char *name;      /* the parameter's name: "out", "dweight" */
    backend_arg_role role;
    const void *p;         /* the argument; NULL: not used in this call */
    size_t bytes;          /* count * element */
    size_t element;        /* the size of one element: 4 for float and int32, 1 for masks */
    void *slot;            /* the address of the parameter variable holding p */
    const void *inplace;   /* BACKEND_OUT_INPLACE: the input p may equal; else NULL */
} backend_arg;

#define BACKEND_ARG_(role, ptr, count, alias) \
    {#ptr, role, (ptr), (size_t)(count) * sizeof *(ptr), sizeof *(ptr), (void *)&(ptr), (alias)},
#define BACKEND_IN(ptr, count) BACKEND_ARG_(BACKEND_ARG_IN, ptr, count, NULL)
#define BACKEND_OUT(ptr, count) BACKEND_ARG_(BACKEND_ARG_OUT, ptr, count, NULL)
#define BACKEND_OUT_INPLACE(ptr, in, count) BACKEND_ARG_(BACKEND_ARG_OUT, ptr, count, (const void *)(in))
#define BACKEND_INOUT(ptr, count) BACKEND_ARG_(BACKEND_ARG_INOUT, ptr, count, NULL)
#define BACKEND_KEEP(ptr, count) BACKEND_ARG_(BACKEND_ARG_KEEP, ptr, count, NULL)
#define BACKEND_KEPT(ptr, count) BACKEND_ARG_(BACKEND_ARG_KEPT, ptr, count, NULL)
#define BACKEND_HOST_OUT(ptr, count) BACKEND_ARG_(BACKEND_ARG_HOST_OUT, ptr, count, NULL)


typedef struct backend_ops {
    /* ------------------------------------------------------------ memory */

    /* *out = `bytes` of backend memory, 64-byte aligned, contents undefined
     * (the network zeroes what it needs); `what` names it in an
     * out-of-memory message ("conv1 activations"). */
    an_status (*alloc)(backend *be, void **out, size_t bytes, const char *what);
    /* Frees a block from alloc; NULL is fine. */
    void (*free)(backend *be, void *p);
    /* dst [bytes] (backend) = src_host [bytes], in order with the ops. */
    an_status (*upload)(backend *be, void *dst, const void *src_host, size_t bytes);
    /* dst_host [bytes] = src [bytes] (backend), once every earlier op is done. */
    an_status (*download)(backend *be, void *dst_host, const void *src, size_t bytes);
    /* *view: backend memory holding src_host's bytes, for ops to read until
     * the next call with the same staging. A backend whose memory is the
     * host's returns src_host itself (no copy); others upload into staging
     * [bytes] (from alloc) and return it. */
    an_status (*upload_view)(backend *be, const void **view, void *staging, const void *src_host,
                             size_t bytes);
    /* *view_host: host memory holding src's bytes once every earlier op is
     * done. A backend whose memory is the host's returns src itself; others
     * download into mirror_host [bytes] and return it. */
    an_status (*download_view)(backend *be, const void **view_host, void *mirror_host, const void *src,
                               size_t bytes);
    /* dst [bytes] = 0. */
    an_status (*zero)(backend *be, void *dst, size_t bytes);
    /* From now on nobody reads p [bytes] before writing it (a new pass
     * starts; the input op has read a staging buffer). The CPU backend does
     * nothing; the CUDA backend marks, for a staging buffer that upload_view
     * fills from host_alloc's memory on its copy stream, the point after
     * which the next such upload may overwrite it (and does nothing for
     * other memory); a checking backend poisons it, so a read before the
     * next write is caught. */
    an_status (*discard)(backend *be, void *p, size_t bytes);
    /* Waits until every queued op has finished (timing, before a host read
     * outside this table). */
    an_status (*synchronize)(backend *be);
    /* *out = `bytes` of HOST memory that upload_view reads fastest (the
     * input ring the loader writes into: page-locked on CUDA, so its DMA
     * needs no bounce copy; ordinary memory on the CPU), 64-byte aligned,
     * contents undefined; `what` names it in an out-of-memory message. Such
     * memory, passed to upload_view, must stay unchanged until the ops
     * reading the view have finished (a wait such as softmax_loss's). */
    an_status (*host_alloc)(backend *be, void **out, size_t bytes, const char *what);
    /* Frees a block from host_alloc; NULL is fine. */
    void (*host_free)(backend *be, void *p);

    /* ------------------------------------------------------------ the ops */

    /* One entry per op of backend_ops.def, where each op's contract is:
     *   an_status (*conv_forward)(backend *be, float *out, const float *in, ...); */
#define BACKEND_OP(name, params, names, tensors) an_status (*name)(backend * be, BACKEND_UNPAREN params);
#include "backend_ops.def"
#undef BACKEND_OP

    /* ------------------------------------------------------------ lifetime */

    /* Frees the backend and everything it owns (not the blocks from alloc:
     * free those first). */
    void (*destroy)(backend *be);
} backend_ops;

/* The part every instance shares; an implementation embeds it as the first
 * member of its own struct. */
struct backend {
    const backend_ops *ops;
    const char *kind;         /* "cpu", "cuda" */
    int ordinal;              /* the device's number (cuda:N); 0 on the CPU */
    char description[256];    /* for the log: "CPU (2 threads, OpenBLAS SkylakeX)", "NVIDIA H200 (device 0)" */
    int keeps_lrn_scale;      /* 1: lrn_forward writes its `scale` (BACKEND_KEEP) and the network
                               * allocates it; 0: the backend recomputes it in lrn_backward, and
                               * the network allocates none (the CPU: 1, CUDA: 0) */
};

/* NULL is fine. */
static inline void backend_destroy(backend *be)
{
    if (be) be->ops->destroy(be);
}

#ifdef __cplusplus
}
#endif

#endif
