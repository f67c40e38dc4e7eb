/* conv_cpu.c: grouped 2-D convolution (§3.5, Figure 2) by im2col and
 * OpenBLAS sgemm. The batch is cut into chunks of a few images whose columns
 * sit side by side, so the GEMMs of the small 13x13 layers are wide enough
 * to run at the BLAS's speed; chunks are split over OpenMP threads, each
 * running single-threaded GEMMs with its own buffers.
 *
 * The bits do not depend on the thread count (docs/RELIABILITY.md, "Thread
 * counts"): every GEMM is a single-threaded call on a chunk, and the weight
 * gradient is summed in an order fixed by the batch, chunk c into partial
 * c mod CONV_WGRAD_SLOTS (chunks in increasing order), the partials added in
 * slot order, whichever thread computed them. One image alone is split
 * inside the image instead (conv_forward_split), into slices of columns
 * fixed by the shape, so its bits do not depend on the thread count either. */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "ops_cpu.h"

/* The per-image sizes every function below uses. */
typedef struct conv_dims {
    int ho, wo;
    size_t out_plane;  /* Ho * Wo */
    size_t in_image;   /* Cin * H * W */
    size_t out_image;  /* Cout * Ho * Wo */
    int cin_g, cout_g; /* channels per group */
    size_t k_g;        /* Cin/G * K * K: GEMM inner size per group */
    size_t col;        /* Cin * K * K * Ho * Wo: one image's columns */
    size_t wgrad;      /* Cout * Cin/G * K * K: one weight gradient */
    int chunk;         /* images per GEMM */
} conv_dims;

/* Columns of one chunk stay under this many floats (8 MiB), except that a
 * chunk always holds one image. */
#define CONV_CHUNK_FLOATS ((size_t)1 << 21)
#define CONV_CHUNK_MAX 16
/* Partial weight gradients (fewer when the batch has fewer chunks): the most
 * threads the backward pass is spread over. */
#define CONV_WGRAD_SLOTS 32
/* One image's output columns per single-threaded GEMM (conv_forward_split):
 * fixed, so the bits do not depend on the thread count; a multiple of 16
 * floats, so slices share no cache line. */
#define CONV_SPLIT_COLUMNS 64

static conv_dims conv_dims_of(const conv_shape *s)
{
    conv_dims d;
    d.ho = conv_out_size(s->in_h, s->kernel, s->stride, s->pad);
    d.wo = conv_out_size(s->in_w, s->kernel, s->stride, s->pad);
    d.out_plane = (size_t)d.ho * d.wo;
    d.in_image = (size_t)s->in_channels * s->in_h * s->in_w;
    d.out_image = (size_t)s->out_channels * d.out_plane;
    d.cin_g = s->in_channels / s->groups;
    d.cout_g = s->out_channels / s->groups;
    d.k_g = (size_t)d.cin_g * s->kernel * s->kernel;
    d.col = (size_t)s->in_channels * s->kernel * s->kernel * d.out_plane;
    d.wgrad = (size_t)s->out_channels * d.k_g;
    size_t chunk = CONV_CHUNK_FLOATS / (d.col ? d.col : 1);
    if (chunk > CONV_CHUNK_MAX) chunk = CONV_CHUNK_MAX;
    if (chunk > (size_t)s->batch) chunk = (size_t)s->batch;
    d.chunk = chunk < 1 ? 1 : (int)chunk;
    return d;
}

/* Per thread, for one chunk: columns, column gradients, outputs (or output
 * gradients) side by side. */
static size_t conv_thread_floats(const conv_dims *d)
{
    return (size_t)d->chunk * (2 * d->col + (size_t)d->out_image);
}

/* Chunks of a batch, and the partial weight gradients they are summed into. */
static int conv_chunks(const conv_shape *s, const conv_dims *d) { return (s->batch + d->chunk - 1) / d->chunk; }
static int conv_wgrad_slots(const conv_shape *s, const conv_dims *d)
{
    const int chunks = conv_chunks(s, d);
    return chunks < CONV_WGRAD_SLOTS ? chunks : CONV_WGRAD_SLOTS;
}

size_t conv_workspace_floats(const conv_shape *s, int threads)
{
    if (conv_shape_check(s) != AN_OK) {
        error_clear();
        return 0;
    }
    conv_dims d = conv_dims_of(s);
    return conv_thread_floats(&d) * (size_t)(threads < 1 ? 1 : threads) +
           (size_t)conv_wgrad_slots(s, &d) * d.wgrad;
}

/* Rows [r0, r1) of one image x [Cin, H, W] as columns col [Cin*K*K, Ho*Wo]
 * whose rows, r = (c*K + ky)*K + kx, are `ld` floats apart (the chunk's
 * width). */
static void im2col_rows(float *col, size_t ld, const float *x, const conv_shape *s,
                        const conv_dims *d, int r0, int r1)
{
    const int k = s->kernel, h = s->in_h, w = s->in_w;
    for (int r = r0; r < r1; r++) {
        const int c = r / (k * k), ky = r / k % k, kx = r % k;
        float *row = col + (size_t)r * ld;
        const float *plane = x + (size_t)c * h * w;
        for (int oy = 0; oy < d->ho; oy++) {
            int iy = oy * s->stride - s->pad + ky;
            float *dst = row + (size_t)oy * d->wo;
            if (iy < 0 || iy >= h) {
                memset(dst, 0, sizeof(float) * (size_t)d->wo);
                continue;
            }
            const float *src = plane + (size_t)iy * w;
            for (int ox = 0; ox < d->wo; ox++) {
                int ix = ox * s->stride - s->pad + kx;
                dst[ox] = (ix >= 0 && ix < w) ? src[ix] : 0.0f;
            }
        }
    }
}

/* All rows of one image: col [Cin*K*K, Ho*Wo], rows `ld` apart. */
static void im2col(float *col, size_t ld, const float *x, const conv_shape *s, const conv_dims *d)
{
    im2col_rows(col, ld, x, s, d, 0, s->in_channels * s->kernel * s->kernel);
}

/* dx [Cin, H, W] = sum of the column gradients dcol [Cin*K*K, Ho*Wo] (rows
 * `ld` floats apart) at their sources. */
static void col2im(float *dx, const float *dcol, size_t ld, const conv_shape *s, const conv_dims *d)
{
    const int k = s->kernel, h = s->in_h, w = s->in_w;
    memset(dx, 0, sizeof(float) * d->in_image);
    for (int c = 0; c < s->in_channels; c++)
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++) {
                const float *row = dcol + ((size_t)(c * k + ky) * k + kx) * ld;
                float *plane = dx + (size_t)c * h * w;
                for (int oy = 0; oy < d->ho; oy++) {
                    int iy = oy * s->stride - s->pad + ky;
                    if (iy < 0 || iy >= h) continue;
                    const float *r = row + (size_t)oy * d->wo;
                    float *dst = plane + (size_t)iy * w;
                    for (int ox = 0; ox < d->wo; ox++) {
                        int ix = ox * s->stride - s->pad + kx;
                        if (ix >= 0 && ix < w) dst[ix] += r[ox];
                    }
                }
            }
}

/* y [n, Cout, Ho*Wo] = ybuf [Cout, n * Ho*Wo] + bias, for output channels
 * [o0, o1). */
static void conv_unpack_bias(float *y, const float *ybuf, const float *bias, int n, int o0, int o1,
                             const conv_dims *d)
{
    const size_t ld = (size_t)n * d->out_plane;
    for (int j = 0; j < n; j++)
        for (int o = o0; o < o1; o++) {
            const float *src = ybuf + (size_t)o * ld + (size_t)j * d->out_plane;
            float *yo = y + (size_t)j * d->out_image + (size_t)o * d->out_plane;
            for (size_t i = 0; i < d->out_plane; i++) yo[i] = src[i] + bias[o];
        }
}

/* The batch in chunks, one chunk per thread at a time, single-threaded GEMMs. */
static void conv_forward_by_chunk(float *out, const float *in, const float *weight,
                                  const float *bias, const conv_shape *s, const conv_dims *d,
                                  float *workspace, int threads)
{
    const int chunks = conv_chunks(s, d);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int ch = 0; ch < chunks; ch++) {
        float *col = workspace + conv_thread_floats(d) * (size_t)omp_get_thread_num();
        float *ybuf = col + 2 * (size_t)d->chunk * d->col; /* [Cout, n * Ho*Wo] */
        const int b0 = ch * d->chunk;
        const int n = s->batch - b0 < d->chunk ? s->batch - b0 : d->chunk;
        const size_t ld = (size_t)n * d->out_plane; /* col [Cin*K*K, n * Ho*Wo] */
        for (int j = 0; j < n; j++)
            im2col(col + (size_t)j * d->out_plane, ld, in + (size_t)(b0 + j) * d->in_image, s, d);
        for (int g = 0; g < s->groups; g++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->cout_g, (int)ld,
                        (int)d->k_g, 1.0f, weight + (size_t)g * d->cout_g * d->k_g, (int)d->k_g,
                        col + (size_t)g * d->k_g * ld, (int)ld, 0.0f,
                        ybuf + (size_t)g * d->cout_g * ld, (int)ld);
        conv_unpack_bias(out + (size_t)b0 * d->out_image, ybuf, bias, n, 0, s->out_channels, d);
    }
}

/* One image: the threads share its chunk, each building a share of its
 * column rows and then computing slices of CONV_SPLIT_COLUMNS output columns
 * with single-threaded GEMMs, the slices fixed by the shape whatever the
 * thread count (one image of a short last batch of training takes this path
 * too, so a run's bits do not depend on --threads). Splitting the work here
 * instead of handing the threads to OpenBLAS keeps one thread pool busy:
 * OpenBLAS's own threads spin against OpenMP's between calls. */
static void conv_forward_split(float *out, const float *in, const float *weight, const float *bias,
                               const conv_shape *s, const conv_dims *d, float *workspace,
                               int threads)
{
    float *col = workspace;                          /* [Cin*K*K, n * Ho*Wo] */
    float *ybuf = col + 2 * (size_t)d->chunk * d->col; /* [Cout, n * Ho*Wo] */
    const int rows = s->in_channels * s->kernel * s->kernel;
    for (int b0 = 0; b0 < s->batch; b0 += d->chunk) {
        const int n = s->batch - b0 < d->chunk ? s->batch - b0 : d->chunk;
        const size_t ld = (size_t)n * d->out_plane;
#pragma omp parallel num_threads(threads)
        {
            const int t = omp_get_thread_num(), nt = omp_get_num_threads();
            for (int j = 0; j < n; j++) {
                const float *x = in + (size_t)(b0 + j) * d->in_image;
                im2col_rows(col + (size_t)j * d->out_plane, ld, x, s, d, rows * t / nt,
                            rows * (t + 1) / nt);
            }
#pragma omp barrier
            const int slices = (int)((ld + CONV_SPLIT_COLUMNS - 1) / CONV_SPLIT_COLUMNS);
#pragma omp for schedule(static)
            for (int slice = 0; slice < slices; slice++) {
                /* columns [c0, c1) */
                const size_t c0 = (size_t)slice * CONV_SPLIT_COLUMNS;
                const size_t c1 = c0 + CONV_SPLIT_COLUMNS < ld ? c0 + CONV_SPLIT_COLUMNS : ld;
                for (int g = 0; g < s->groups; g++)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d->cout_g,
                                (int)(c1 - c0), (int)d->k_g, 1.0f,
                                weight + (size_t)g * d->cout_g * d->k_g, (int)d->k_g,
                                col + (size_t)g * d->k_g * ld + c0, (int)ld, 0.0f,
                                ybuf + (size_t)g * d->cout_g * ld + c0, (int)ld);
            } /* the implicit barrier of omp for: every slice is done */
            conv_unpack_bias(out + (size_t)b0 * d->out_image, ybuf, bias, n,
                             s->out_channels * t / nt, s->out_channels * (t + 1) / nt, d);
        }
    }
}

/* The start of both directions: be's thread count on this thread, the shape
 * checked, be's workspace for it. */
static an_status conv_begin(backend *be, const conv_shape *s, int *threads, float **workspace)
{
    cpu_use(be);
    *threads = cpu_threads_get();
    AN_TRY(conv_shape_check(s));
    return cpu_workspace(be, conv_workspace_floats(s, *threads), workspace);
}

an_status conv_forward_cpu(backend *be, float *out, const float *in, const float *weight, const float *bias,
                           const conv_shape *s)
{
    int threads;
    float *workspace; /* [conv_workspace_floats(s, threads)] */
    AN_TRY(conv_begin(be, s, &threads, &workspace));
    const conv_dims d = conv_dims_of(s);
    openblas_set_num_threads(1);
    if (s->batch > 1) /* chunks over threads: the same GEMMs whatever the thread count */
        conv_forward_by_chunk(out, in, weight, bias, s, &d, workspace, threads);
    else
        conv_forward_split(out, in, weight, bias, s, &d, workspace, threads);
    openblas_set_num_threads(threads);
    return AN_OK;
}

an_status conv_backward_cpu(backend *be, float *dinput, float *dweight, float *dbias, const float *doutput,
                            const float *in, const float *weight, const conv_shape *s)
{
    int threads;
    float *workspace; /* [conv_workspace_floats(s, threads)] */
    AN_TRY(conv_begin(be, s, &threads, &workspace));
    const conv_dims d = conv_dims_of(s);
    const size_t per_thread = conv_thread_floats(&d);

    /* dbias [Cout] = sum over images and positions of doutput */
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int o = 0; o < s->out_channels; o++) {
        double sum = 0.0;
        for (int b = 0; b < s->batch; b++) {
            const float *dy = doutput + (size_t)b * d.out_image + (size_t)o * d.out_plane;
            float part = 0.0f;
            for (size_t i = 0; i < d.out_plane; i++) part += dy[i];
            sum += part;
        }
        dbias[o] = (float)sum;
    }

    const int chunks = conv_chunks(s, &d), slots = conv_wgrad_slots(s, &d);
    float *partials = workspace + per_thread * (size_t)threads; /* [slots, Cout, Cin/G*K*K] */
    openblas_set_num_threads(1);
#pragma omp parallel num_threads(threads)
    {
        const int t = omp_get_thread_num();
        float *col = workspace + per_thread * (size_t)t;       /* [Cin*K*K, n * Ho*Wo] */
        float *dcol = col + (size_t)d.chunk * d.col;           /* [Cin*K*K, n * Ho*Wo] */
        float *dybuf = dcol + (size_t)d.chunk * d.col;         /* [Cout, n * Ho*Wo] */
#pragma omp for schedule(static)
        for (int slot = 0; slot < slots; slot++) {
            float *dw = partials + (size_t)slot * d.wgrad;     /* [Cout, Cin/G*K*K] */
            memset(dw, 0, sizeof(float) * d.wgrad);
            for (int ch = slot; ch < chunks; ch += slots) {
                const int b0 = ch * d.chunk;
                const int n = s->batch - b0 < d.chunk ? s->batch - b0 : d.chunk;
                const size_t ld = (size_t)n * d.out_plane;
                for (int j = 0; j < n; j++) {
                    const float *dy = doutput + (size_t)(b0 + j) * d.out_image; /* [Cout, Ho*Wo] */
                    for (int o = 0; o < s->out_channels; o++)
                        memcpy(dybuf + (size_t)o * ld + (size_t)j * d.out_plane,
                               dy + (size_t)o * d.out_plane, sizeof(float) * d.out_plane);
                    im2col(col + (size_t)j * d.out_plane, ld, in + (size_t)(b0 + j) * d.in_image, s, &d);
                }
                for (int g = 0; g < s->groups; g++) {
                    const float *dy_g = dybuf + (size_t)g * d.cout_g * ld;
                    /* dw_g [Cout/G, k_g] += dy_g [Cout/G, n*HoWo] · col_gᵀ [n*HoWo, k_g] */
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d.cout_g, (int)d.k_g, (int)ld,
                                1.0f, dy_g, (int)ld, col + (size_t)g * d.k_g * ld, (int)ld, 1.0f,
                                dw + (size_t)g * d.cout_g * d.k_g, (int)d.k_g);
                    if (dinput)
                        /* dcol_g [k_g, n*HoWo] = w_gᵀ [k_g, Cout/G] · dy_g [Cout/G, n*HoWo] */
                        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d.k_g, (int)ld,
                                    d.cout_g, 1.0f, weight + (size_t)g * d.cout_g * d.k_g, (int)d.k_g,
                                    dy_g, (int)ld, 0.0f, dcol + (size_t)g * d.k_g * ld, (int)ld);
                }
                if (dinput)
                    for (int j = 0; j < n; j++)
                        col2im(dinput + (size_t)(b0 + j) * d.in_image, dcol + (size_t)j * d.out_plane,
                               ld, s, &d);
            }
        }
        /* implicit barrier: every partial is complete; sum them in slot order */
#pragma omp for schedule(static)
        for (size_t i = 0; i < d.wgrad; i++) {
            float sum = partials[i];
            for (int slot = 1; slot < slots; slot++) sum += partials[(size_t)slot * d.wgrad + i];
            dweight[i] = sum;
        }
    }
    openblas_set_num_threads(threads);
    return AN_OK;
}
