/* bench_train_gpu.c: training images/s of the full network (width 1.0, 1000
 * classes) on one GPU, built the way alexnet-train builds it: net_create_on
 * over a CUDA backend (kernels/cuda/backend_cuda.h), steps of net_forward,
 * net_loss, net_backward and net_update on synthetic batches uploaded from
 * the host every step (as the loader's batches are), in deterministic cuDNN
 * mode (what training runs) unless --nondeterministic. For each precision
 * and batch: images/s, the fraction of the card's measured matrix rate that
 * reaches (6 x the plan's multiply-adds per image: forward, and two GEMMs
 * per layer backward, 2 FLOP each), and the peak device memory in use
 * (cuda_memory_peak_bytes: sampled after every allocation and every step,
 * all processes on the device; not the matrix-rate probe's matrices).
 * bench/gpu/bench_torch.py runs the same network in PyTorch on the same
 * machine; scripts/device-check.sh runs both and prints the ratios.
 *
 * Output: one line per configuration, "key=value" pairs, e.g.
 *   ours row=host-fed precision=bf16 computes=bf16-conv+bf16-fc batch=128 images_per_s=...
 *        step_ms=... gflops=... matrix_gflops=... fraction_of_peak=... peak_mib=... mode=deterministic
 * "computes" says what runs (backend_precision_computes): bf16 is bf16 in the
 * convolutions and fc layers with float activations between layers and NCHW
 * tensors (docs/cuda.md, "Precision"), close to but not PyTorch's AMP bf16.
 * The row is host-fed: the batch crosses from the host every step and the
 * loss is read back every step, as alexnet-train did before the input op.
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
    "                       [--nondeterministic]\n"
    "Training images/s of AlexNet on GPU 0 (net_create_on a CUDA backend), and the fraction of the\n"
    "card's matrix rate. Precisions: fp32, tf32, bf16, fp32-pedantic (kernels/precision.h).\n"};

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

static an_status bench_one(backend_precision precision, int deterministic, int batch, int warmup, int steps,
                           bench_result *r)
{
    backend *be = NULL;
    net *n = NULL;
    float *input = NULL;    /* [batch, 3, 224, 224] host */
    uint32_t *ids = NULL;   /* [batch] */
    int32_t *labels = NULL; /* [batch] */
    an_status st = AN_OK;
    net_config cfg;
    net_config_default(&cfg); /* width 1.0, 1000 classes: the paper's network */
    memset(r, 0, sizeof *r);
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
    AN_TRY_GOTO(st, net_create_on(&n, &cfg, batch, be), done);
    AN_TRY_GOTO(st, net_init_params(n, 1), done);
    r->gflop_per_image = 6.0 * (double)net_macs_per_image(n) / 1e9;
    AN_TRY_GOTO(st, measure_matrix_rate(backend_cuda_context(be), &r->matrix_gflops), done);
    /* The peak from here: the net and backend as they stand, then every step (not the probe's matrices). */
    cuda_memory_peak_reset();
    cuda_memory_note_use();

    double start = 0.0, loss = 0.0;
    for (int s = -warmup; s < steps; s++) {
        if (s == 0) {
            AN_TRY_GOTO(st, be->ops->synchronize(be), done);
            start = now_seconds();
        }
        const uint32_t step = (uint32_t)(s + warmup);
        AN_TRY_GOTO(st, net_forward(n, input, batch, ids, step, 1, 1), done);
        AN_TRY_GOTO(st, net_loss(n, labels, batch, &loss), done); /* read back every step, as training does */
        AN_TRY_GOTO(st, net_backward(n, labels, batch, (float)batch), done);
        AN_TRY_GOTO(st, net_update(n, 0.01f, SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY), done);
        cuda_memory_note_use();
    }
    AN_TRY_GOTO(st, be->ops->synchronize(be), done);
    r->step_ms = (now_seconds() - start) * 1e3 / steps;
    r->images_per_s = batch * 1000.0 / r->step_ms;
    r->peak_mib = (double)cuda_memory_peak_bytes() / 1048576.0; /* cuda_memory.h: sampled at every allocation and step */
done:
    net_destroy(n);
    backend_destroy(be);
    free(input), free(ids), free(labels);
    return st == AN_OK ? st : error_context(st, "%s at batch %d", backend_precision_name(precision), batch);
}

int main(int argc, char **argv)
{
    long steps = 20, warmup = 5;
    int deterministic = 1;
    const char *batches = "128", *precisions = "fp32,tf32,bf16";
    static const struct option options[] = {
        {"steps", required_argument, NULL, 's'}, {"warmup", required_argument, NULL, 'w'},
        {"batches", required_argument, NULL, 'b'}, {"precisions", required_argument, NULL, 'p'},
        {"nondeterministic", no_argument, NULL, 'n'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 's': steps = atol(optarg); break;
        case 'w': warmup = atol(optarg); break;
        case 'b': batches = optarg; break;
        case 'p': precisions = optarg; break;
        case 'n': deterministic = 0; break;
        case 'h': cli_print_help(&program); return 0;
        default: return cli_usage_error(&program, "unknown option");
        }
    }
    if (steps < 1 || warmup < 0) return cli_usage_error(&program, "--steps must be >= 1 and --warmup >= 0");
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
            if (bench_one(precision, deterministic, atoi(b), (int)warmup, (int)steps, &r) != AN_OK) {
                log_error("%s", error_message());
                return 1;
            }
            double gflops = r.images_per_s * r.gflop_per_image;
            printf("ours row=host-fed precision=%s computes=%s batch=%s images_per_s=%.1f step_ms=%.2f gflops=%.0f "
                   "matrix_gflops=%.0f fraction_of_peak=%.3f peak_mib=%.0f mode=%s\n",
                   p, backend_precision_computes(precision), b, r.images_per_s, r.step_ms, gflops, r.matrix_gflops,
                   gflops / r.matrix_gflops, r.peak_mib, deterministic ? "deterministic" : "normal");
            fflush(stdout);
        }
    }
    return 0;
}
