/* bench_train_gpu.c: training images/s of the full network (width 1.0, 1000
 * classes unless --classes) on one GPU, built the way alexnet-train builds
 * it: net_create_on over a CUDA backend (kernels/cuda/backend_cuda.h), steps
 * of net_forward, net_backward and net_update.
 *
 * The row is DEVICE-RESIDENT: the same work as the PyTorch peer
 * (bench/gpu/bench_torch.py), whose batch lives on the GPU and which reads
 * nothing back. The synthetic batch (images, labels, image ids) crosses to
 * the device once, at the first step; later steps find it there (the net
 * runs on a backend that passes every op to the CUDA backend but sends a
 * host buffer already sent into the same staging only once:
 * resident_upload_view),
 * and no loss is read back (net_loss is not called: the backward pass needs
 * only the labels). What is left per step is the network's forward, backward
 * and update as net/ queues them, with whatever waits the net itself makes.
 * The end-to-end row (the real alexnet-train from shards on disk) is the
 * device check's (scripts/device-check-run.sh), and bench_table.py compares
 * the two and the peers.
 *
 * cuDNN mode: normal (cudnnFind, timed, like PyTorch's cudnn.benchmark) with
 * --nondeterministic, else deterministic (what alexnet-train runs).
 * For each precision and batch: images/s, the fraction of the card's
 * measured matrix rate that reaches (6 x the plan's multiply-adds per image:
 * forward, and two GEMMs per layer backward, 2 FLOP each), and the peak
 * device memory in use (cuda_memory_peak_bytes: sampled after every
 * allocation and every step, all processes on the device; not the
 * matrix-rate probe's matrices).
 *
 * Output: one line per configuration, "key=value" pairs, e.g.
 *   ours row=device-resident precision=bf16 computes=bf16-conv+bf16-fc batch=128 classes=1000
 *        images_per_s=... step_ms=... gflops=... matrix_gflops=... fraction_of_peak=... peak_mib=... mode=normal
 * "computes" is the backend's own account of what runs
 * (backend_precision_computes), so a row never claims more than it does.
 * Without a usable GPU it says so and exits 1. Not a test: it asserts
 * nothing about time.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend_cuda.h"
#include "cli.h"
#include "cuda_check.h"
#include "cuda_context.h"
#include "cuda_memory.h"
#include "log.h"
#include "net.h"
#include "philox.h"

static const cli_program program = {
    .name = "bench_train_gpu",
    .usage =
    "Usage: bench_train_gpu [--steps N] [--warmup N] [--batches 128] [--precisions fp32,tf32,bf16]\n"
    "                       [--classes 1000] [--nondeterministic]\n"
    "Training images/s of AlexNet on GPU 0 (net_create_on a CUDA backend), the batch resident on the\n"
    "device, and the fraction of the card's matrix rate. Precisions: fp32, tf32, bf16, fp32-pedantic\n"
    "(kernels/precision.h). --nondeterministic: cuDNN's timed search, as cudnn.benchmark.\n"};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The card's matrix rate in GFLOP/s for a large square GEMM with this
 * precision's compute type, on the context's compute stream. */
static an_status measure_matrix_rate(cuda_context *ctx, double *gflops)
{
    const int n = 8192;
    void *a = NULL, *b = NULL, *c = NULL; /* [n, n] each */
    an_status st = AN_OK;
    cudaEvent_t start = NULL, stop = NULL;
    size_t bytes = (size_t)n * n * sizeof(float);
    AN_TRY_GOTO(st, cuda_malloc(&a, bytes, "the matrix-rate probe"), done);
    AN_TRY_GOTO(st, cuda_malloc(&b, bytes, "the matrix-rate probe"), done);
    AN_TRY_GOTO(st, cuda_malloc(&c, bytes, "the matrix-rate probe"), done);
    /* Non-zero operands (0x3C bytes: about 0.0115 as float and as bf16): zeros draw less power.
     * On the compute stream, like every memset (cuda_context.h). */
    CUDA_TRY_GOTO(st, cudaMemsetAsync(a, 0x3C, bytes, ctx->compute), done);
    CUDA_TRY_GOTO(st, cudaMemsetAsync(b, 0x3C, bytes, ctx->compute), done);
    CUDA_TRY_GOTO(st, cudaEventCreate(&start), done);
    CUDA_TRY_GOTO(st, cudaEventCreate(&stop), done);
    /* bf16 storage for the bf16 probe (what bf16 tensor cores reach), float otherwise;
     * the compute types of fc_cuda.c. */
    cudaDataType_t type = ctx->precision == BACKEND_PRECISION_BF16 ? CUDA_R_16BF : CUDA_R_32F;
    cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
    if (ctx->precision == BACKEND_PRECISION_TF32) compute = CUBLAS_COMPUTE_32F_FAST_TF32;
    if (ctx->precision == BACKEND_PRECISION_FP32_PEDANTIC) compute = CUBLAS_COMPUTE_32F_PEDANTIC;
    const float one = 1.0f, zero = 0.0f;
    const int reps = 10;
    for (int r = -2; r < reps; r++) {
        if (r == 0) CUDA_TRY_GOTO(st, cudaEventRecord(start, ctx->compute), done);
        CUBLAS_TRY_GOTO(st, cublasGemmEx(ctx->cublas, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &one, a, type, n, b, type,
                                         n, &zero, c, CUDA_R_32F, n, compute, CUBLAS_GEMM_DEFAULT), done);
    }
    CUDA_TRY_GOTO(st, cudaEventRecord(stop, ctx->compute), done);
    CUDA_TRY_GOTO(st, cudaEventSynchronize(stop), done);
    float ms = 0.0f;
    CUDA_TRY_GOTO(st, cudaEventElapsedTime(&ms, start, stop), done);
    *gflops = 2.0 * n * (double)n * n * reps / (ms * 1e-3) / 1e9;
done:
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    /* cuda_free (cudaFree) waits for the device: the probe's work is done or failed */
    cuda_free(a), cuda_free(b), cuda_free(c);
    return st;
}

typedef struct bench_result {
    double images_per_s, step_ms, peak_mib, matrix_gflops, gflop_per_image;
} bench_result;

/* The device-resident backend: every entry of the table passed through to
 * the CUDA backend, but upload_view, which sends a host buffer into a
 * staging buffer once: when the same buffer of the same size went into the
 * same staging before (and nothing else writes a staging buffer: net_pass.c
 * only uploads into it), the staging buffer still holds it and is the view
 * (backend.h: the CUDA backend's view is its staging). A wrapper, not a
 * change of the CUDA backend's own table, which its ops check (backend_cuda_use). */
typedef struct resident_view {
    const void *src_host, *staging;
    size_t bytes;
} resident_view;
typedef struct resident_backend {
    backend base;              /* first: a backend * of this kind is a resident_backend * */
    backend *cuda;             /* where every op goes */
    resident_view views[8];    /* [view_count] sent once */
    int view_count;
} resident_backend;

static backend *cuda_of(backend *be)
{
    return ((resident_backend *)be)->cuda;
}

static an_status resident_upload_view(backend *be, const void **view, void *staging, const void *src_host,
                                      size_t bytes)
{
    resident_backend *r = (resident_backend *)be;
    for (int i = 0; i < r->view_count; i++) {
        if (r->views[i].staging == staging && r->views[i].src_host == src_host && r->views[i].bytes == bytes) {
            *view = staging;
            return AN_OK;
        }
    }
    AN_TRY(r->cuda->ops->upload_view(r->cuda, view, staging, src_host, bytes));
    if (*view != staging) return error_set(AN_ERR_INTERNAL, "the CUDA backend's view is not its staging buffer");
    if (r->view_count == (int)(sizeof r->views / sizeof r->views[0]))
        return error_set(AN_ERR_INTERNAL, "more than %d resident views", r->view_count);
    r->views[r->view_count++] = (resident_view){src_host, staging, bytes};
    return AN_OK;
}

#define BACKEND_OP(name, params, names, tensors)                                                   \
    static an_status resident_##name(backend *be, BACKEND_UNPAREN params)                         \
    {                                                                                              \
        return cuda_of(be)->ops->name(cuda_of(be), BACKEND_UNPAREN names);                         \
    }
#include "backend_ops.def"
#undef BACKEND_OP
static an_status resident_alloc(backend *be, void **out, size_t bytes, const char *what)
{
    return cuda_of(be)->ops->alloc(cuda_of(be), out, bytes, what);
}
static void resident_free(backend *be, void *p)
{
    cuda_of(be)->ops->free(cuda_of(be), p);
}
static an_status resident_upload(backend *be, void *dst, const void *src_host, size_t bytes)
{
    return cuda_of(be)->ops->upload(cuda_of(be), dst, src_host, bytes);
}
static an_status resident_download(backend *be, void *dst_host, const void *src, size_t bytes)
{
    return cuda_of(be)->ops->download(cuda_of(be), dst_host, src, bytes);
}
static an_status resident_download_view(backend *be, const void **view_host, void *mirror_host, const void *src,
                                        size_t bytes)
{
    return cuda_of(be)->ops->download_view(cuda_of(be), view_host, mirror_host, src, bytes);
}
static an_status resident_zero(backend *be, void *dst, size_t bytes)
{
    return cuda_of(be)->ops->zero(cuda_of(be), dst, bytes);
}
static an_status resident_discard(backend *be, void *p, size_t bytes)
{
    return cuda_of(be)->ops->discard(cuda_of(be), p, bytes);
}
static an_status resident_synchronize(backend *be)
{
    return cuda_of(be)->ops->synchronize(cuda_of(be));
}
static an_status resident_host_alloc(backend *be, void **out, size_t bytes, const char *what)
{
    return cuda_of(be)->ops->host_alloc(cuda_of(be), out, bytes, what);
}
static void resident_host_free(backend *be, void *p)
{
    cuda_of(be)->ops->host_free(cuda_of(be), p);
}
/* The wrapper owns nothing (it lives on bench_one's stack, and bench_one
 * destroys the CUDA backend it created). */
static void resident_destroy(backend *be)
{
    (void)be;
}
static const backend_ops resident_ops = {
    .alloc = resident_alloc, .free = resident_free, .upload = resident_upload, .download = resident_download,
    .upload_view = resident_upload_view, .download_view = resident_download_view, .zero = resident_zero,
    .discard = resident_discard, .synchronize = resident_synchronize, .host_alloc = resident_host_alloc,
    .host_free = resident_host_free,
#define BACKEND_OP(name, params, names, tensors) .name = resident_##name,
#include "backend_ops.def"
#undef BACKEND_OP
    .destroy = resident_destroy};

static an_status bench_one(backend_precision precision, int deterministic, int batch, int classes, int warmup, int steps,
                           bench_result *r)
{
    backend *be = NULL;          /* the CUDA backend */
    resident_backend resident;   /* around it: the net's backend */
    net *n = NULL;
    float *input = NULL;    /* [batch, 3, 224, 224] host */
    uint32_t *ids = NULL;   /* [batch] */
    int32_t *labels = NULL; /* [batch] */
    an_status st = AN_OK;
    net_config cfg;
    net_config_default(&cfg); /* width 1.0: the paper's network */
    cfg.num_classes = classes;
    memset(r, 0, sizeof *r);
    memset(&resident, 0, sizeof resident);
    if (batch < 1) return error_set(AN_ERR_ARG, "batch %d: must be >= 1", batch);

    const size_t input_floats = (size_t)batch * IMAGE_CROP_FLOATS;
    input = malloc(input_floats * sizeof *input);
    ids = malloc((size_t)batch * sizeof *ids);
    labels = malloc((size_t)batch * sizeof *labels);
    if (!input || !ids || !labels) {
        st = error_set(AN_ERR_NOMEM, "out of memory for a synthetic batch of %d images", batch);
        goto done;
    }
    /* Synthetic images in byte units, mean subtracted: the arithmetic does not depend on the values. */
    for (size_t i = 0; i < input_floats; i += 4) {
        philox_block blk = philox_draw(1, PHILOX_PURPOSE_TEST, 0, 0, (uint32_t)(i / 4));
        for (size_t j = 0; j < 4 && i + j < input_floats; j++)
            input[i + j] = 240.0f * philox_uniform(blk.v[j]) - 120.0f;
    }
    for (int b = 0; b < batch; b++) {
        ids[b] = (uint32_t)b;
        labels[b] = (b * 7) % cfg.num_classes;
    }
    backend_cuda_options o = backend_cuda_options_default();
    o.precision = precision;
    o.deterministic = deterministic;
    AN_TRY_GOTO(st, backend_cuda_create(&be, &o), done);
    resident.base = *be; /* kind, ordinal, description, keeps_lrn_scale */
    resident.base.ops = &resident_ops;
    resident.cuda = be;
    AN_TRY_GOTO(st, net_create_on(&n, &cfg, batch, &resident.base), done);
    AN_TRY_GOTO(st, net_init_params(n, 1), done);
    r->gflop_per_image = 6.0 * (double)net_macs_per_image(n) / 1e9;
    AN_TRY_GOTO(st, measure_matrix_rate(backend_cuda_context(be), &r->matrix_gflops), done);
    /* The peak from here: the net and backend as they stand, then every step (not the probe's matrices). */
    cuda_memory_peak_reset();
    cuda_memory_note_use();

    double start = 0.0;
    for (int s = -warmup; s < steps; s++) {
        if (s == 0) {
            AN_TRY_GOTO(st, be->ops->synchronize(be), done);
            start = now_seconds();
        }
        const uint32_t step = (uint32_t)(s + warmup);
        AN_TRY_GOTO(st, net_forward(n, input, batch, ids, step, 1, 1), done);
        AN_TRY_GOTO(st, net_backward(n, labels, batch, (float)batch), done);
        AN_TRY_GOTO(st, net_update(n, 0.01f, SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY), done);
        cuda_memory_note_use();
    }
    AN_TRY_GOTO(st, be->ops->synchronize(be), done);
    r->step_ms = (now_seconds() - start) * 1e3 / steps;
    r->images_per_s = batch * 1000.0 / r->step_ms;
    r->peak_mib = (double)cuda_memory_peak_bytes() / 1048576.0; /* cuda_memory.h: sampled at every allocation and step */
    /* The last step's update was applied: its gradients were finite. */
    int applied = 0;
    AN_TRY_GOTO(st, net_update_applied(n, &applied), done);
    if (!applied) st = error_set(AN_ERR_INTERNAL, "the last update was skipped: non-finite gradients");
done:
    net_destroy(n);
    backend_destroy(be);
    free(input), free(ids), free(labels);
    return st == AN_OK ? st : error_context(st, "%s at batch %d", backend_precision_name(precision), batch);
}

int main(int argc, char **argv)
{
    long steps = 20, warmup = 5;
    int deterministic = 1, classes = 1000;
    const char *batches = "128", *precisions = "fp32,tf32,bf16";
    static const struct option options[] = {
        {"steps", required_argument, NULL, 's'}, {"warmup", required_argument, NULL, 'w'},
        {"batches", required_argument, NULL, 'b'}, {"precisions", required_argument, NULL, 'p'},
        {"classes", required_argument, NULL, 'c'}, {"nondeterministic", no_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 's': steps = atol(optarg); break;
        case 'w': warmup = atol(optarg); break;
        case 'b': batches = optarg; break;
        case 'p': precisions = optarg; break;
        case 'c': classes = atoi(optarg); break;
        case 'n': deterministic = 0; break;
        case 'h': cli_print_help(&program); return 0;
        default: return cli_usage_error(&program, "unknown option");
        }
    }
    if (steps < 1 || warmup < 0 || classes < 1)
        return cli_usage_error(&program, "--steps and --classes must be >= 1 and --warmup >= 0");
    if (backend_cuda_device_count() < 1) {
        fprintf(stderr, "bench_train_gpu: no usable CUDA device (no GPU, no driver, or a driver older than this "
                        "build's CUDA runtime: see nvidia-smi); nothing to measure\n");
        return 1;
    }
    char plist[128], blist[128];
    snprintf(plist, sizeof plist, "%s", precisions);
    for (char *ps = NULL, *p = strtok_r(plist, ",", &ps); p; p = strtok_r(NULL, ",", &ps)) {
        backend_precision precision = BACKEND_PRECISION_FP32;
        if (backend_precision_parse(p, &precision) != AN_OK) return cli_usage_error(&program, "%s", error_message());
        snprintf(blist, sizeof blist, "%s", batches);
        for (char *bs = NULL, *b = strtok_r(blist, ",", &bs); b; b = strtok_r(NULL, ",", &bs)) {
            bench_result r;
            if (bench_one(precision, deterministic, atoi(b), classes, (int)warmup, (int)steps, &r) != AN_OK) {
                log_error("%s", error_message());
                return 1;
            }
            double gflops = r.images_per_s * r.gflop_per_image;
            printf("ours row=device-resident precision=%s computes=%s batch=%s classes=%d images_per_s=%.1f "
                   "step_ms=%.2f gflops=%.0f matrix_gflops=%.0f fraction_of_peak=%.3f peak_mib=%.0f mode=%s\n",
                   p, backend_precision_computes(precision), b, classes, r.images_per_s, r.step_ms, gflops, r.matrix_gflops,
                   gflops / r.matrix_gflops, r.peak_mib, deterministic ? "deterministic" : "normal");
            fflush(stdout);
        }
    }
    return 0;
}
