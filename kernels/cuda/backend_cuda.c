/* backend_cuda.c: the CUDA instance of backend_ops (kernels/backend.h). See
 * backend_cuda.h.
 *
 * The memory entries are here; each op's entry is the CUDA twin of the same
 * name (ops_cuda.h), which first makes the backend's device current
 * (backend_cuda_use: cudaSetDevice is a thread-local store when it already
 * is), so several CUDA backends on different GPUs may be driven from one
 * thread in turn. All work goes on ctx->compute, in call order, except the
 * DMA of an upload_view from host_alloc's memory, which goes on ctx->copy
 * and is ordered with ctx->compute by events (below).
 *
 * Pinned staging of host data (how upload and upload_view stay asynchronous).
 * A cudaMemcpyAsync from pageable memory is not asynchronous: the runtime may
 * first wait for the stream and then stage the bytes itself (CUDA runtime
 * API, "API synchronization behavior"), so the host would stall until the
 * GPU had finished everything queued before the copy. The backend therefore
 * copies host bytes into page-locked memory of its own (a host memcpy, which
 * never waits for the GPU) and queues the DMA from there, recording an event
 * after it; a page-locked buffer is refilled only once its event says the
 * DMA out of it is done.
 *   - upload_view (the batch input, labels, image ids: every step): one
 *     pinned MIRROR per staging buffer, as large as the largest view uploaded
 *     through it (77 MB for a batch of 128 float images). Refilling it waits
 *     only for the previous DMA into the same staging buffer, which was
 *     queued a step earlier, so the host prepares batch t+1 while the GPU
 *     computes batch t. The mirror is freed with its staging buffer (free)
 *     or with the backend.
 *   - upload (parameters and other whole blocks: seldom): through two
 *     BOUNCE chunks of 4 MiB used in turn, so memory stays bounded for any
 *     size; a copy of up to 8 MiB returns without waiting, a larger one waits
 *     for its own earlier chunks.
 *   - upload_view from host_alloc's memory (the loader's input ring, itself
 *     page-locked): no mirror, and not on the compute stream: the DMA reads
 *     it in place on the context's COPY stream (cuda_upload.h), so the next
 *     step's images go up while the GPU computes this one; the compute
 *     stream waits on the copy's event, not the host. Before the copy
 *     overwrites the staging buffer, the copy stream waits for the ops that
 *     read its previous contents: the point the network marks with
 *     `discard` right after its input op (net_pass.c), or, where nothing
 *     was discarded since the last copy, everything queued on the compute
 *     stream so far (correct, not overlapped). The caller keeps the host
 *     memory unchanged until the step's ops are done (backend.h).
 * If page-locked memory cannot be had (cudaMallocHost fails, e.g. under a low
 * memlock limit), both fall back to a cudaMemcpyAsync from the caller's
 * buffer followed by a wait for the stream: correct, not overlapped.
 */
#include "backend_cuda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_check.h"
#include "cuda_context.h"
#include "cuda_memory.h"
#include "cuda_upload.h"
#include "ops_cuda.h"

#define BOUNCE_CHUNKS 2
#define BOUNCE_CHUNK_BYTES ((size_t)4 << 20) /* 4 MiB */

/* What upload_view keeps for one staging buffer: the page-locked copy of
 * what it last sent from pageable memory, and the events of the copy
 * stream's uploads from page-locked memory into it. */
typedef struct pinned_mirror {
    const void *staging; /* the device buffer it feeds (the key) */
    void *host;          /* [bytes] page-locked; NULL until a pageable upload needs it */
    size_t bytes;
    cudaEvent_t copied;  /* recorded on ctx->compute after the last DMA out of `host` */
    cuda_upload up;      /* the copy stream's upload into `staging` and its release */
    int released;        /* 1: discard marked, since the last such upload, where its readers end */
} pinned_mirror;

typedef struct backend_cuda {
    backend base; /* first: a backend * of this kind is a backend_cuda * */
    cuda_context *ctx;
    pinned_mirror *mirrors; /* [mirror_count] */
    int mirror_count, mirror_capacity;
    void *bounce[BOUNCE_CHUNKS];               /* each [BOUNCE_CHUNK_BYTES] page-locked; NULL until used */
    cudaEvent_t bounce_copied[BOUNCE_CHUNKS];  /* recorded after the last DMA out of each chunk */
    int bounce_next;                           /* the chunk to fill next */
    int bounce_unavailable;                    /* 1: cudaMallocHost failed, use the fallback */
} backend_cuda;

static const backend_ops cuda_ops;

static backend_cuda *as_cuda(backend *be)
{
    return (backend_cuda *)be;
}

/* Makes the backend's device the calling thread's current one. */
static an_status use(backend *be)
{
    CUDA_TRY(cudaSetDevice(as_cuda(be)->ctx->device));
    return AN_OK;
}

an_status backend_cuda_use(backend *be, struct cuda_context **ctx)
{
    *ctx = NULL;
    if (!be || be->ops != &cuda_ops) return error_set(AN_ERR_ARG, "a CUDA op called on a backend that is not CUDA's");
    AN_TRY(use(be));
    *ctx = as_cuda(be)->ctx;
    return AN_OK;
}

/* ---------------------------------------------------------------- memory */

static an_status cuda_be_alloc(backend *be, void **out, size_t bytes, const char *what)
{
    *out = NULL;
    AN_TRY(use(be));
    void *p = NULL; /* [bytes] device */
    AN_TRY(cuda_malloc(&p, bytes, what ? what : "a backend buffer"));
    /* backend.h leaves a new block's contents undefined (the network zeroes
     * what it needs, and the checking backend catches a read before a write);
     * zeroed here all the same, so that a read the CPU's tests cannot see
     * gives zeros on a GPU, not a previous run's data. cudaMalloc's blocks
     * are 256-byte aligned (>= 64). */
    an_status st = cuda_zero(as_cuda(be)->ctx, p, bytes);
    if (st != AN_OK) {
        cuda_free(p);
        return st;
    }
    *out = p;
    return AN_OK;
}

/* Index of staging's mirror, or -1. */
static int mirror_find(const backend_cuda *b, const void *staging)
{
    for (int i = 0; i < b->mirror_count; i++)
        if (b->mirrors[i].staging == staging) return i;
    return -1;
}

/* Frees mirror i (after its last DMA) and removes it from the table. */
static void mirror_release(backend_cuda *b, int i)
{
    pinned_mirror *m = &b->mirrors[i];
    if (m->copied) {
        if (cudaEventSynchronize(m->copied) != cudaSuccess) cudaGetLastError();
        cudaEventDestroy(m->copied);
    }
    if (m->up.copied && cuda_upload_sync_host(&m->up) != AN_OK) cudaGetLastError(); /* the copy stream's DMA */
    cuda_upload_destroy(&m->up);
    cuda_free_host(m->host);
    b->mirrors[i] = b->mirrors[b->mirror_count - 1];
    b->mirror_count--;
}

static void cuda_be_free(backend *be, void *p)
{
    if (!p) return;
    backend_cuda *b = as_cuda(be);
    /* free cannot fail and must not replace the message of an error being
     * cleaned up after, so the runtime's errors are dropped here unrecorded. */
    if (cudaSetDevice(b->ctx->device) != cudaSuccess) cudaGetLastError();
    /* Queued work may still read p. */
    if (cudaStreamSynchronize(b->ctx->compute) != cudaSuccess) cudaGetLastError();
    int i = mirror_find(b, p);
    if (i >= 0) mirror_release(b, i);
    cuda_free(p);
}

/* dst [bytes] (device) = src_host [bytes], queued, src_host reusable on
 * return, without page-locked memory: wait for the copy. */
static an_status upload_unstaged(backend_cuda *b, void *dst, const void *src_host, size_t bytes)
{
    CUDA_TRY(cudaMemcpyAsync(dst, src_host, bytes, cudaMemcpyHostToDevice, b->ctx->compute));
    CUDA_TRY(cudaStreamSynchronize(b->ctx->compute));
    return AN_OK;
}

/* Allocates the bounce chunks and their events on first use; 0 when
 * page-locked memory cannot be had (the fallback is used from then on). */
static int bounce_ready(backend_cuda *b)
{
    if (b->bounce_unavailable) return 0;
    if (b->bounce[0]) return 1;
    for (int i = 0; i < BOUNCE_CHUNKS; i++) {
        if (cudaMallocHost(&b->bounce[i], BOUNCE_CHUNK_BYTES) != cudaSuccess ||
            cudaEventCreateWithFlags(&b->bounce_copied[i], cudaEventDisableTiming) != cudaSuccess) {
            cudaGetLastError();
            for (int j = 0; j <= i; j++) {
                cuda_free_host(b->bounce[j]);
                b->bounce[j] = NULL;
                if (b->bounce_copied[j]) cudaEventDestroy(b->bounce_copied[j]);
                b->bounce_copied[j] = NULL;
            }
            b->bounce_unavailable = 1;
            return 0;
        }
    }
    return 1;
}

static an_status cuda_be_upload(backend *be, void *dst, const void *src_host, size_t bytes)
{
    backend_cuda *b = as_cuda(be);
    AN_TRY(use(be));
    if (bytes == 0) return AN_OK;
    if (!bounce_ready(b)) return upload_unstaged(b, dst, src_host, bytes);
    for (size_t done = 0; done < bytes; done += BOUNCE_CHUNK_BYTES) {
        size_t n = bytes - done < BOUNCE_CHUNK_BYTES ? bytes - done : BOUNCE_CHUNK_BYTES;
        int i = b->bounce_next;
        b->bounce_next = (i + 1) % BOUNCE_CHUNKS;
        /* An event never recorded counts as complete: the first fill does not wait. */
        CUDA_TRY(cudaEventSynchronize(b->bounce_copied[i]));
        memcpy(b->bounce[i], (const char *)src_host + done, n);
        CUDA_TRY(cudaMemcpyAsync((char *)dst + done, b->bounce[i], n, cudaMemcpyHostToDevice,
                                 b->ctx->compute));
        CUDA_TRY(cudaEventRecord(b->bounce_copied[i], b->ctx->compute));
    }
    return AN_OK;
}

static an_status cuda_be_download(backend *be, void *dst_host, const void *src, size_t bytes)
{
    AN_TRY(use(be));
    return cuda_copy_to_host(as_cuda(be)->ctx, dst_host, src, bytes);
}

/* The entry of `staging`, created (with its events) on first use. */
static an_status staging_entry(backend_cuda *b, const void *staging, pinned_mirror **out)
{
    *out = NULL;
    int i = mirror_find(b, staging);
    if (i >= 0) {
        *out = &b->mirrors[i];
        return AN_OK;
    }
    if (b->mirror_count == b->mirror_capacity) {
        int capacity = b->mirror_capacity ? 2 * b->mirror_capacity : 8;
        pinned_mirror *grown = realloc(b->mirrors, (size_t)capacity * sizeof *grown);
        AN_CHECK_ALLOC(grown, (size_t)capacity * sizeof *grown);
        b->mirrors = grown;
        b->mirror_capacity = capacity;
    }
    pinned_mirror *m = &b->mirrors[b->mirror_count++];
    memset(m, 0, sizeof *m);
    m->staging = staging;
    an_status st;
    CUDA_TRY_GOTO(st, cudaEventCreateWithFlags(&m->copied, cudaEventDisableTiming), failed);
    AN_TRY_GOTO(st, cuda_upload_create(&m->up), failed);
    *out = m;
    return AN_OK;
failed:
    mirror_release(b, b->mirror_count - 1); /* frees what was made */
    return st;
}

/* The mirror of `staging`, able to hold `bytes`; *out = NULL when
 * page-locked memory cannot be had (the caller falls back). */
static an_status mirror_for(backend_cuda *b, const void *staging, size_t bytes, pinned_mirror **out)
{
    *out = NULL;
    pinned_mirror *m = NULL;
    AN_TRY(staging_entry(b, staging, &m));
    /* The previous DMA out of the mirror must be done before it is refilled or replaced. */
    CUDA_TRY(cudaEventSynchronize(m->copied));
    if (m->bytes < bytes) {
        cuda_free_host(m->host);
        m->host = NULL;
        m->bytes = 0;
        if (cudaMallocHost(&m->host, bytes) != cudaSuccess) {
            cudaGetLastError();
            m->host = NULL;
            return AN_OK; /* no page-locked memory: the caller copies unstaged */
        }
        m->bytes = bytes;
    }
    *out = m;
    return AN_OK;
}

/* 1 when p is page-locked host memory (host_alloc's): a DMA may read it in place. */
static int host_is_page_locked(const void *p)
{
    struct cudaPointerAttributes a;
    if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
        cudaGetLastError(); /* ordinary pageable memory may report an error on older runtimes */
        return 0;
    }
    return a.type == cudaMemoryTypeHost;
}

/* Page-locked and portable (every device's DMA reads it: the replicas share
 * one process), so upload_view sends it without a bounce copy. */
static an_status cuda_be_host_alloc(backend *be, void **out, size_t bytes, const char *what)
{
    (void)be;
    *out = NULL;
    cudaError_t e = cudaHostAlloc(out, bytes == 0 ? 1 : bytes, cudaHostAllocPortable);
    if (e != cudaSuccess) {
        cudaGetLastError();
        *out = NULL;
        return error_set(AN_ERR_NOMEM, "cannot page-lock %zu bytes of host memory for %s: %s (raise the "
                         "locked-memory limit, ulimit -l, or lower --queue-depth)", bytes, what ? what : "input",
                         cudaGetErrorString(e));
    }
    return AN_OK;
}

static void cuda_be_host_free(backend *be, void *p)
{
    (void)be;
    cuda_free_host(p);
}

static an_status cuda_be_upload_view(backend *be, const void **view, void *staging, const void *src_host,
                                     size_t bytes)
{
    backend_cuda *b = as_cuda(be);
    *view = NULL;
    AN_TRY(use(be));
    if (bytes > 0 && !staging)
        return error_set(AN_ERR_ARG, "upload_view of %zu bytes without a staging buffer", bytes);
    if (bytes > 0 && host_is_page_locked(src_host)) {
        /* From host_alloc's memory (the loader's ring): the DMA reads it in
         * place on the copy stream, after the readers of the staging
         * buffer's previous contents; the compute stream waits for it. The
         * caller keeps the host memory unchanged until the ops reading the
         * view are done (backend.h, host_alloc). */
        pinned_mirror *m = NULL;
        AN_TRY(staging_entry(b, staging, &m));
        if (!m->released) AN_TRY(cuda_upload_release(b->ctx, &m->up)); /* no discard: after all queued work */
        AN_TRY(cuda_upload_async(b->ctx, &m->up, staging, src_host, bytes));
        AN_TRY(cuda_upload_wait(b->ctx, &m->up));
        m->released = 0;
    } else if (bytes > 0) {
        pinned_mirror *m = NULL;
        AN_TRY(mirror_for(b, staging, bytes, &m));
        if (!m) {
            AN_TRY(upload_unstaged(b, staging, src_host, bytes));
        } else {
            memcpy(m->host, src_host, bytes);
            CUDA_TRY(cudaMemcpyAsync(staging, m->host, bytes, cudaMemcpyHostToDevice, b->ctx->compute));
            CUDA_TRY(cudaEventRecord(m->copied, b->ctx->compute));
        }
    }
    *view = staging;
    return AN_OK;
}

static an_status cuda_be_download_view(backend *be, const void **view_host, void *mirror_host,
                                       const void *src, size_t bytes)
{
    *view_host = NULL;
    AN_TRY(use(be));
    AN_TRY(cuda_copy_to_host(as_cuda(be)->ctx, mirror_host, src, bytes));
    *view_host = mirror_host;
    return AN_OK;
}

static an_status cuda_be_zero(backend *be, void *dst, size_t bytes)
{
    AN_TRY(use(be));
    return cuda_zero(as_cuda(be)->ctx, dst, bytes);
}

/* Nothing reads p before it is written again: for a staging buffer that
 * upload_view fills on the copy stream, the point after the ops queued so
 * far, where its next upload may begin; nothing to do for other memory. */
static an_status cuda_be_discard(backend *be, void *p, size_t bytes)
{
    (void)bytes;
    backend_cuda *b = as_cuda(be);
    int i = mirror_find(b, p);
    if (i < 0) return AN_OK;
    AN_TRY(use(be));
    AN_TRY(cuda_upload_release(b->ctx, &b->mirrors[i].up));
    b->mirrors[i].released = 1;
    return AN_OK;
}

static an_status cuda_be_synchronize(backend *be)
{
    AN_TRY(use(be));
    return cuda_context_sync(as_cuda(be)->ctx);
}

static void cuda_be_destroy(backend *be)
{
    if (!be) return;
    backend_cuda *b = as_cuda(be);
    if (b->ctx) {
        if (cudaSetDevice(b->ctx->device) != cudaSuccess) cudaGetLastError();
        if (cudaStreamSynchronize(b->ctx->compute) != cudaSuccess) cudaGetLastError();
    }
    while (b->mirror_count > 0) mirror_release(b, b->mirror_count - 1);
    free(b->mirrors);
    for (int i = 0; i < BOUNCE_CHUNKS; i++) {
        if (b->bounce_copied[i]) cudaEventDestroy(b->bounce_copied[i]);
        cuda_free_host(b->bounce[i]);
    }
    cuda_context_destroy(b->ctx);
    free(b);
}

static const backend_ops cuda_ops = {
    .alloc = cuda_be_alloc,
    .free = cuda_be_free,
    .upload = cuda_be_upload,
    .download = cuda_be_download,
    .upload_view = cuda_be_upload_view,
    .download_view = cuda_be_download_view,
    .zero = cuda_be_zero,
    .discard = cuda_be_discard,
    .synchronize = cuda_be_synchronize,
    .host_alloc = cuda_be_host_alloc,
    .host_free = cuda_be_host_free,
#define BACKEND_OP(name, params, names, tensors) .name = name##_cuda,
#include "backend_ops.def"
#undef BACKEND_OP
    .destroy = cuda_be_destroy,
};

backend_cuda_options backend_cuda_options_default(void)
{
    /* the context's defaults, but deterministic: train and eval repeat bitwise */
    cuda_context_options c = cuda_context_options_default();
    backend_cuda_options o = {.device = c.device, .precision = c.precision, .deterministic = 1,
                              .workspace_limit_bytes = c.workspace_limit_bytes};
    return o;
}

int backend_cuda_device_count(void)
{
    return cuda_device_count();
}

an_status backend_cuda_create(backend **out, const backend_cuda_options *o)
{
    *out = NULL;
    backend_cuda_options defaults = backend_cuda_options_default();
    if (!o) o = &defaults;
    cuda_context_options co = cuda_context_options_default();
    co.device = o->device;
    co.precision = o->precision;
    co.deterministic = o->deterministic;
    co.workspace_limit_bytes = o->workspace_limit_bytes;

    backend_cuda *b = calloc(1, sizeof *b);
    AN_CHECK_ALLOC(b, sizeof *b);
    an_status st = cuda_context_create(&b->ctx, &co);
    if (st != AN_OK) {
        free(b);
        return st;
    }
    b->base.ops = &cuda_ops;
    b->base.kind = "cuda";
    b->base.keeps_lrn_scale = 0; /* cuDNN keeps no LRN scale (lrn_cuda.c) */
    b->base.ordinal = b->ctx->device;
    snprintf(b->base.description, sizeof b->base.description, "%.160s (CUDA device %d, %s, %s)",
             b->ctx->device_name, b->ctx->device, backend_precision_name(b->ctx->precision),
             b->ctx->deterministic ? "deterministic" : "non-deterministic");
    *out = &b->base;
    return AN_OK;
}

struct cuda_context *backend_cuda_context(backend *be)
{
    if (!be || be->ops != &cuda_ops) return NULL;
    return as_cuda(be)->ctx;
}
