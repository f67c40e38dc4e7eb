/* bench_eval.c: ten-crop scoring throughput of alexnet-eval's scorer on the
 * CPU (images/s; each image is 10 views of 224x224 through the network),
 * on synthetic 256x256 images held in memory, so the number is the scorer's
 * (cutting views, forward, softmax averaging, counting), not the disk's.
 * bench/eval/run.sh runs it beside PyTorch doing the same evaluation.
 *
 *   bench_eval [--width W] [--classes K] [--batch B] [--images N] [--threads T]
 * Prints one line: "alexnet-eval ten-crop: N images in S s = R images/s (...)". */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas_runtime.h"
#include "cli.h"
#include "eval_score.h"
#include "log.h"
#include "ops_cpu.h"
#include "philox.h"
#include "progress.h"
#include "ten_crop.h"
#include "net_cpu.h"

static const cli_program PROGRAM = {
    .name = "bench_eval",
    .usage =
    "Usage: bench_eval [--width W] [--classes K] [--batch B] [--images N] [--threads T]\n"
    "Ten-crop images/s of alexnet-eval's scorer on synthetic images (defaults: width 1.0,\n"
    "1000 classes, batch 8 images = 80 views, 32 images, all threads).\n"};

int main(int argc, char **argv)
{
    blas_runtime_select(argc, argv); /* the kernels alexnet-eval itself would run */
    static const struct option options[] = {{"width", required_argument, 0, 'w'},
                                            {"classes", required_argument, 0, 'k'},
                                            {"batch", required_argument, 0, 'b'},
                                            {"images", required_argument, 0, 'n'},
                                            {"threads", required_argument, 0, 't'},
                                            {"help", no_argument, 0, 'h'},
                                            {0, 0, 0, 0}};
    double width = 1.0;
    long classes = 1000, batch = 8, images = 32, threads = 0;
    int opt;
    opterr = 0;
    log_set_program(PROGRAM.name);
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        an_status st = AN_OK;
        switch (opt) {
        case 'w': st = cli_parse_double("width", optarg, 0.01, 4.0, &width); break;
        case 'k': st = cli_parse_long("classes", optarg, 2, 100000, &classes); break;
        case 'b': st = cli_parse_long("batch", optarg, 1, 1024, &batch); break;
        case 'n': st = cli_parse_long("images", optarg, 1, 1000000, &images); break;
        case 't': st = cli_parse_long("threads", optarg, 1, 1024, &threads); break;
        case 'h': cli_print_help(&PROGRAM); return 0;
        default: return cli_usage_error(&PROGRAM, "unknown option '%s'", argv[optind - 1]);
        }
        if (st != AN_OK) return cli_usage_error(&PROGRAM, "%s", error_message());
    }
    if (threads > 0) cpu_threads_set((int)threads);
    an_status st = AN_OK;
    net *n = NULL;
    tally t = {0};
    eval_score_scratch scratch = {0};
    uint8_t *raw = malloc((size_t)batch * IMAGE_STORED_BYTES);       /* [B,256,256,3] */
    float *mean = malloc((size_t)IMAGE_STORED_BYTES * sizeof(float)); /* [256,256,3] */
    eval_image *info = calloc((size_t)batch, sizeof *info);
    if (!raw || !mean || !info) {
        st = error_set(AN_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < (size_t)IMAGE_STORED_BYTES; i++) {
        raw[i % ((size_t)batch * IMAGE_STORED_BYTES)] =
            (uint8_t)(philox_draw(1, PHILOX_PURPOSE_TEST, 0, 0, (uint32_t)i).v[0]);
        mean[i] = 120.0f;
    }
    for (size_t i = IMAGE_STORED_BYTES; i < (size_t)batch * IMAGE_STORED_BYTES; i++)
        raw[i] = (uint8_t)(raw[i - IMAGE_STORED_BYTES] * 7 + 3);
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = width;
    cfg.num_classes = (int)classes;
    AN_TRY_GOTO(st, net_create_cpu(&n, &cfg, (int)batch * TEN_CROP_VIEWS), done);
    AN_TRY_GOTO(st, net_init_params(n, 1), done);
    AN_TRY_GOTO(st, tally_init(&t, (int)classes, (uint32_t)images + (uint32_t)batch), done);
    AN_TRY_GOTO(st, eval_score_scratch_alloc(&scratch, (int)batch, (int)classes), done);
    /* one warm-up batch (not timed: first-touch of the activations) */
    uint32_t next_id = 0;
    for (int b = 0; b < batch; b++) info[b] = (eval_image){.image_id = next_id++, .label = b % (int)classes};
    AN_TRY_GOTO(st, eval_score_images(n, raw, (int)batch, mean, &scratch, &t, info, NULL), done);
    double start = progress_now();
    long done_images = 0;
    while (done_images < images) {
        int m = images - done_images < batch ? (int)(images - done_images) : (int)batch;
        for (int b = 0; b < m; b++) info[b] = (eval_image){.image_id = next_id++, .label = b % (int)classes};
        AN_TRY_GOTO(st, eval_score_images(n, raw, m, mean, &scratch, &t, info, NULL), done);
        done_images += m;
    }
    double seconds = progress_now() - start;
    printf("alexnet-eval ten-crop: %ld images in %.2f s = %.2f images/s (width %g, %ld classes, batch %ld images, "
           "%d threads, %.1f GMAC/s)\n",
           done_images, seconds, (double)done_images / seconds, width, classes, batch, cpu_threads_get(),
           (double)net_macs_per_image(n) * TEN_CROP_VIEWS * (double)done_images / seconds * 1e-9);
done:
    eval_score_scratch_free(&scratch);
    tally_free(&t);
    net_destroy(n);
    free(raw);
    free(mean);
    free(info);
    if (st != AN_OK) {
        log_error("%s", error_message());
        return 1;
    }
    return 0;
}
