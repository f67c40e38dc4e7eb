/* bench_train_gpu.c: training images/s of the full network (width 1.0, 1000
 * classes) on one GPU at batch 128 and 256 in fp32, tf32 and bf16, the
 * fraction of the card's measured matrix rate that reaches (4.35 GFLOP per
 * training image: 3 x 724 M multiply-adds x 2), and peak memory at batch 128.
 * bench/gpu/bench_torch.py runs the same network in PyTorch on the same
 * machine; scripts/device-check.sh runs both and prints the ratios.
 *
 * Output: one line per configuration, "key=value" pairs, e.g.
 *   ours precision=tf32 batch=128 images_per_s=... gflops=... fraction_of_peak=... peak_mib=...
 * Not a test: it asserts nothing about time.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cuda_check.h"
#include "cuda_memory.h"
#include "log.h"
#include "net.h"
#include "net_cuda.h"
#include "sgd.h"
#include "train_ops_cuda.h"

#define GFLOP_PER_TRAINING_IMAGE 4.35 /* forward + two backward GEMMs per layer, 724 M MACs each */

static const cli_program program = {
    "bench_train_gpu",
    "Usage: bench_train_gpu [--steps N] [--warmup N] [--batches 128,256] [--precisions fp32,tf32,bf16]\n"
    "Training images/s of AlexNet on GPU 0, and the fraction of the card's matrix rate.\n"};

/* The card's matrix rate in GFLOP/s for a large square GEMM with this precision's compute type. */
static an_status measure_matrix_rate(cuda_context *ctx, double *gflops)
{
    const int n = 8192;
    void *a = NULL, *b = NULL, *c = NULL;
    an_status st = AN_OK;
    cudaEvent_t start = NULL, stop = NULL;
    size_t bytes = (size_t)n * n * sizeof(float);
    AN_TRY_GOTO(st, cuda_malloc(&a, bytes, "the matrix-rate probe"), done);
    AN_TRY_GOTO(st, cuda_malloc(&b, bytes, "the matrix-rate probe"), done);
    AN_TRY_GOTO(st, cuda_malloc(&c, bytes, "the matrix-rate probe"), done);
    /* Non-zero operands (0x3C bytes: about 0.0115 as float and as bf16): zeros draw less power. */
    CUDA_TRY_GOTO(st, cudaMemset(a, 0x3C, bytes), done);
    CUDA_TRY_GOTO(st, cudaMemset(b, 0x3C, bytes), done);
    CUDA_TRY_GOTO(st, cudaEventCreate(&start), done);
    CUDA_TRY_GOTO(st, cudaEventCreate(&stop), done);
    /* bf16 storage for the bf16 probe (what bf16 tensor cores reach), float otherwise. */
    cudaDataType_t type = ctx->precision == CUDA_PRECISION_BF16 ? CUDA_R_16BF : CUDA_R_32F;
    cublasComputeType_t compute = ctx->precision == CUDA_PRECISION_FP32   ? CUBLAS_COMPUTE_32F_PEDANTIC
                                  : ctx->precision == CUDA_PRECISION_TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32
                                                                          : CUBLAS_COMPUTE_32F;
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
    cuda_free(a), cuda_free(b), cuda_free(c);
    return st;
}

typedef struct bench_result {
    double images_per_s, step_ms, peak_mib, matrix_gflops;
} bench_result;

static an_status bench_one(cuda_precision precision, int batch, int warmup, int steps, bench_result *r)
{
    cuda_context *ctx = NULL;
    net *table = NULL;
    net_cuda *g = NULL;
    cudaEvent_t start = NULL, stop = NULL;
    uint32_t *ids = NULL;
    int32_t *labels = NULL;
    an_status st = AN_OK;
    cuda_context_options o = cuda_context_options_default();
    o.precision = precision;
    net_config cfg;
    net_config_default(&cfg);

    memset(r, 0, sizeof *r);
    ids = malloc((size_t)batch * sizeof *ids);
    labels = malloc((size_t)batch * sizeof *labels);
    if (!ids || !labels) {
        st = error_set(AN_ERR_NOMEM, "out of memory for %d ids and labels", batch);
        goto done;
    }
    for (int b = 0; b < batch; b++) {
        ids[b] = (uint32_t)b;
        labels[b] = (b * 7) % cfg.num_classes;
    }
    AN_TRY_GOTO(st, cuda_context_create(&ctx, &o), done);
    AN_TRY_GOTO(st, net_create(&table, &cfg, 1), done);
    AN_TRY_GOTO(st, net_init_params(table, 1), done);
    AN_TRY_GOTO(st, net_cuda_create(&g, ctx, table, batch), done);
    AN_TRY_GOTO(st, measure_matrix_rate(ctx, &r->matrix_gflops), done);
    /* A constant input: the arithmetic does not depend on the values. */
    CUDA_TRY_GOTO(st, cudaMemset(net_cuda_input(g), 0, (size_t)batch * 3 * 224 * 224 * sizeof(float)), done);
    CUDA_TRY_GOTO(st, cudaEventCreate(&start), done);
    CUDA_TRY_GOTO(st, cudaEventCreate(&stop), done);
    for (int s = -warmup; s < steps; s++) {
        if (s == 0) CUDA_TRY_GOTO(st, cudaEventRecord(start, ctx->compute), done);
        AN_TRY_GOTO(st, net_cuda_forward(g, net_cuda_input(g), batch, ids, (uint32_t)(s + warmup), 1, 1), done);
        AN_TRY_GOTO(st, net_cuda_backward(g, labels, batch, (float)batch), done);
        AN_TRY_GOTO(st, net_cuda_update(g, 0.01f, SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY), done);
    }
    CUDA_TRY_GOTO(st, cudaEventRecord(stop, ctx->compute), done);
    CUDA_TRY_GOTO(st, cudaEventSynchronize(stop), done);
    float ms = 0.0f;
    CUDA_TRY_GOTO(st, cudaEventElapsedTime(&ms, start, stop), done);
    r->step_ms = ms / steps;
    r->images_per_s = batch * 1000.0 / r->step_ms;
    size_t used = 0;
    AN_TRY_GOTO(st, cuda_memory_used_bytes(&used, NULL), done);
    r->peak_mib = (double)used / 1048576.0;
done:
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    net_cuda_destroy(g);
    net_destroy(table);
    cuda_context_destroy(ctx);
    free(ids);
    free(labels);
    return st == AN_OK ? st : error_context(st, "%s at batch %d", cuda_precision_name(precision), batch);
}

int main(int argc, char **argv)
{
    long steps = 20, warmup = 5;
    const char *batches = "128,256", *precisions = "fp32,tf32,bf16";
    static const struct option options[] = {
        {"steps", required_argument, NULL, 's'}, {"warmup", required_argument, NULL, 'w'},
        {"batches", required_argument, NULL, 'b'}, {"precisions", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (c) {
        case 's': steps = atol(optarg); break;
        case 'w': warmup = atol(optarg); break;
        case 'b': batches = optarg; break;
        case 'p': precisions = optarg; break;
        case 'h': cli_print_help(&program); return 0;
        default: return cli_usage_error(&program, "unknown option");
        }
    }
    if (steps < 1 || warmup < 0) return cli_usage_error(&program, "--steps must be >= 1 and --warmup >= 0");
    if (!cuda_device_available()) {
        fprintf(stderr, "bench_train_gpu: no CUDA device\n");
        return 1;
    }
    char plist[64], blist[64];
    snprintf(plist, sizeof plist, "%s", precisions);
    for (char *ps = NULL, *p = strtok_r(plist, ",", &ps); p; p = strtok_r(NULL, ",", &ps)) {
        cuda_precision precision;
        if (cuda_precision_parse(p, &precision) != AN_OK) return cli_usage_error(&program, "%s", error_message());
        snprintf(blist, sizeof blist, "%s", batches);
        for (char *bs = NULL, *b = strtok_r(blist, ",", &bs); b; b = strtok_r(NULL, ",", &bs)) {
            bench_result r;
            if (bench_one(precision, atoi(b), (int)warmup, (int)steps, &r) != AN_OK) {
                log_error("%s", error_message());
                return 1;
            }
            double gflops = r.images_per_s * GFLOP_PER_TRAINING_IMAGE;
            printf("ours precision=%s batch=%s images_per_s=%.1f step_ms=%.2f gflops=%.0f matrix_gflops=%.0f "
                   "fraction_of_peak=%.3f peak_mib=%.0f\n",
                   p, b, r.images_per_s, r.step_ms, gflops, r.matrix_gflops, gflops / r.matrix_gflops, r.peak_mib);
            fflush(stdout);
        }
    }
    return 0;
}
