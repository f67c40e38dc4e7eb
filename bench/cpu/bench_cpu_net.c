/* bench_cpu_net.c: how fast the CPU network runs on this machine.
 *   train  one SGD step (forward, backward, update) at --batch (128): images/s,
 *          GFLOP/s (3 x 2 x multiply-adds per image), peak resident memory
 *   infer  forward of --batch images (1): images/s and milliseconds per batch
 *   sgemm  OpenBLAS sgemm at a large square size: the practical limit here
 *   layers forward and backward time of each layer at its width-1 shape at --batch
 * Prints `key value` lines that bench/cpu/run_bench.sh compares with the
 * peers. Not a test: timings are never asserted. */
#include <getopt.h>
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "blas_runtime.h"
#include "cli.h"
#include "log.h"
#include "net.h"
#include "philox.h"
#include "ops_cpu.h"
#include "net_cpu.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double peak_rss_mib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

static void fill_uniform(float *x, size_t n, float scale, uint32_t stream)
{
    for (size_t i = 0; i < n; i += 4) {
        philox_block b = philox_draw(1, PHILOX_PURPOSE_TEST, stream, (uint32_t)(i / 4), 0);
        for (size_t j = 0; j < 4 && i + j < n; j++) x[i + j] = scale * (2.0f * philox_uniform(b.v[j]) - 1.0f);
    }
}

typedef struct bench_opts {
    const char *mode;
    int batch, threads, steps;
    double width;
} bench_opts;

static an_status bench_net(const bench_opts *o, int train)
{
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = o->width;
    net *n = NULL;
    an_status st = AN_OK;
    float *x = NULL;
    uint32_t *ids = NULL;
    int32_t *labels = NULL;
    AN_TRY(net_create_cpu(&n, &cfg, o->batch));
    size_t in_floats = (size_t)o->batch * IMAGE_CROP_FLOATS;
    x = malloc(in_floats * sizeof(float));
    ids = malloc((size_t)o->batch * sizeof(uint32_t));
    labels = malloc((size_t)o->batch * sizeof(int32_t));
    if (!x || !ids || !labels) {
        st = error_set(AN_ERR_NOMEM, "out of memory for the benchmark's batch");
        goto done;
    }
    AN_TRY_GOTO(st, net_init_params(n, 1), done);
    fill_uniform(x, in_floats, 100.0f, 1);
    for (int b = 0; b < o->batch; b++) { ids[b] = (uint32_t)b; labels[b] = b % cfg.num_classes; }
    double best = 1e30, total = 0;
    for (int s = 0; s <= o->steps; s++) { /* step 0 warms up */
        double t0 = now_s();
        AN_TRY_GOTO(st, net_forward(n, x, o->batch, ids, (uint32_t)s, 1, train), done);
        if (train) {
            AN_TRY_GOTO(st, net_backward(n, labels, o->batch, (float)o->batch), done);
            AN_TRY_GOTO(st, net_update(n, 1e-5f, SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY), done);
        }
        double dt = now_s() - t0;
        if (s > 0) { total += dt; best = dt < best ? dt : best; }
    }
    double mean = total / o->steps;
    double flop = 2.0 * (double)net_macs_per_image(n) * (train ? 3.0 : 1.0) * o->batch;
    printf("mode %s\nbatch %d\nthreads %d\nwidth %g\n", train ? "train" : "infer", o->batch,
           cpu_threads_get(), o->width);
    printf("seconds_per_batch_mean %.4f\nseconds_per_batch_best %.4f\n", mean, best);
    printf("images_per_s %.2f\nimages_per_s_best %.2f\n", o->batch / mean, o->batch / best);
    printf("gflops %.1f\npeak_rss_mib %.0f\n", flop / mean * 1e-9, peak_rss_mib());
done:
    free(x); free(ids); free(labels);
    net_destroy(n);
    return st;
}

static an_status bench_sgemm(const bench_opts *o)
{
    const int size = 2048;
    size_t nn = (size_t)size * size;
    float *a = malloc(nn * sizeof(float)), *b = malloc(nn * sizeof(float)), *c = malloc(nn * sizeof(float));
    if (!a || !b || !c) {
        free(a); free(b); free(c);
        return error_set(AN_ERR_NOMEM, "out of memory for sgemm %d", size);
    }
    fill_uniform(a, nn, 1.0f, 2);
    fill_uniform(b, nn, 1.0f, 3);
    double best = 1e30;
    for (int s = 0; s <= o->steps; s++) {
        double t0 = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, size, size, size, 1.0f, a, size, b,
                    size, 0.0f, c, size);
        double dt = now_s() - t0;
        if (s > 0 && dt < best) best = dt;
    }
    printf("mode sgemm\nsize %d\nthreads %d\nsgemm_gflops %.1f\n", size, cpu_threads_get(),
           2.0 * size * (double)size * size / best * 1e-9);
    free(a); free(b); free(c);
    return AN_OK;
}

/* Per-layer times of whole passes through the network's own sequence: the
 * trace hook (net.h) is called after each layer, so the time since the
 * previous call is that layer's. */
typedef struct layer_clock {
    const net_layer_info *first; /* net_layer_at(n, 0): layer i is first + i */
    double last;                 /* seconds at the previous call */
    double forward[64];          /* seconds per layer, summed over the timed steps */
    double backward[64];
} layer_clock;

static an_status clock_layer(void *ctx, const net_layer_info *layer, int backward)
{
    layer_clock *c = ctx;
    double t = now_s();
    (backward ? c->backward : c->forward)[layer - c->first] += t - c->last;
    c->last = t;
    return AN_OK;
}

/* Each layer of the plan, forward and backward, at --width and --batch. */
static an_status bench_layers(const bench_opts *o)
{
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = o->width;
    net *n = NULL;
    float *x = NULL;
    uint32_t *ids = NULL;
    int32_t *labels = NULL;
    an_status st = AN_OK;
    AN_TRY(net_create_cpu(&n, &cfg, o->batch));
    size_t in_floats = (size_t)o->batch * IMAGE_CROP_FLOATS;
    x = malloc(in_floats * sizeof(float));
    ids = malloc((size_t)o->batch * sizeof(uint32_t));
    labels = malloc((size_t)o->batch * sizeof(int32_t));
    layer_clock *clock = calloc(1, sizeof *clock);
    if (!x || !ids || !labels || !clock || net_layer_count(n) > 64) {
        st = error_set(AN_ERR_NOMEM, "out of memory for the layer benchmark");
        goto done;
    }
    AN_TRY_GOTO(st, net_init_params(n, 1), done);
    fill_uniform(x, in_floats, 100.0f, 1);
    for (int b = 0; b < o->batch; b++) { ids[b] = (uint32_t)b; labels[b] = b % cfg.num_classes; }
    AN_TRY_GOTO(st, net_forward(n, x, o->batch, ids, 0, 1, 1), done); /* warm-up, not timed */
    AN_TRY_GOTO(st, net_backward(n, labels, o->batch, (float)o->batch), done);
    clock->first = net_layer_at(n, 0);
    net_set_trace(n, clock_layer, clock);
    for (int s = 1; s <= o->steps; s++) {
        clock->last = now_s();
        AN_TRY_GOTO(st, net_forward(n, x, o->batch, ids, (uint32_t)s, 1, 1), done);
        clock->last = now_s(); /* the loss between the passes is not a layer's */
        AN_TRY_GOTO(st, net_backward(n, labels, o->batch, (float)o->batch), done);
    }
    printf("mode layers\nbatch %d\nthreads %d\nwidth %g\n", o->batch, cpu_threads_get(), o->width);
    for (int i = 0; i < net_layer_count(n); i++)
        printf("%s_forward_ms %.2f\n%s_backward_ms %.2f\n", net_layer_at(n, i)->name,
               1e3 * clock->forward[i] / o->steps, net_layer_at(n, i)->name, 1e3 * clock->backward[i] / o->steps);
done:
    free(clock);
    free(x); free(ids); free(labels);
    net_destroy(n);
    return st;
}

static const cli_program program = {
    .name = "bench_cpu_net",
    .usage = "Usage: bench_cpu_net [--mode train|infer|sgemm|layers] [--batch N] [--threads N]\n"
             "                     [--steps N] [--width W] [--quiet] [--verbose] [--help] [--version]\n",
};

int main(int argc, char **argv)
{
    blas_runtime_select(argc, argv); /* first: may re-execute with OPENBLAS_CORETYPE set */
    bench_opts o = {.mode = "train", .batch = 128, .threads = 2, .steps = 3, .width = 1.0};
    static const struct option longopts[] = {
        {"mode", required_argument, 0, 'm'}, {"batch", required_argument, 0, 'b'},
        {"threads", required_argument, 0, 't'}, {"steps", required_argument, 0, 's'},
        {"width", required_argument, 0, 'w'}, {"help", no_argument, 0, 'h'},
        {"quiet", no_argument, 0, 'q'}, {"verbose", no_argument, 0, 'v'},
        {"version", no_argument, 0, 'V'}, {0, 0, 0, 0}};
    int c;
    long value = 0;
    an_status parsed = AN_OK;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': o.mode = optarg; break;
        case 'b': parsed = cli_parse_long("--batch", optarg, 1, 4096, &value); o.batch = (int)value; break;
        case 't': parsed = cli_parse_long("--threads", optarg, 1, 1024, &value); o.threads = (int)value; break;
        case 's': parsed = cli_parse_long("--steps", optarg, 1, 100000, &value); o.steps = (int)value; break;
        case 'w': parsed = cli_parse_double("--width", optarg, 1e-3, 64.0, &o.width); break;
        case 'q': log_set_level(LOG_ERROR); break;
        case 'v': log_set_level(LOG_VERBOSE); break;
        case 'h': cli_print_help(&program); return 0;
        case 'V': cli_print_version(&program); return 0;
        default: return cli_usage_error(&program, "unknown option");
        }
        if (parsed != AN_OK) return cli_usage_error(&program, "%s", error_message());
    }
    cpu_threads_set(o.threads);
    log_verbose("%s", blas_runtime_describe());
    printf("blas_core %s\n", openblas_get_corename());
    an_status st;
    if (strcmp(o.mode, "train") == 0) st = bench_net(&o, 1);
    else if (strcmp(o.mode, "infer") == 0) st = bench_net(&o, 0);
    else if (strcmp(o.mode, "sgemm") == 0) st = bench_sgemm(&o);
    else if (strcmp(o.mode, "layers") == 0) st = bench_layers(&o);
    else return cli_usage_error(&program, "--mode is train, infer, sgemm or layers");
    if (st != AN_OK) {
        log_error("%s", error_message());
        return 1;
    }
    return 0;
}
