/* main.c: alexnet-eval, scores a checkpoint on a dataset split the way the
 * paper reports it (§4.1, §6: ten-crop and centre-crop top-1/top-5 error),
 * writes RUN/eval/report.json and the HTML tables, optionally the §6.1
 * figures, and RUN/report.html. `alexnet-eval report RUN` redraws the page
 * alone (after more training, say). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blas_runtime.h"
#include "cli.h"
#include "compare.h"
#include "dataset.h"
#include "backend_select.h"
#include "eval_model.h"
#include "eval_report.h"
#include "eval_score.h"
#include "h5_error.h"
#include "log.h"
#include "ops_cpu.h"
#include "progress.h"
#include "report_html.h"
#include "ten_crop.h"
#ifdef ALEXNET_EVAL_HAVE_FIGURES
#include <vips/vips.h>

#include "eval_figures.h"
#endif
#ifdef ALEXNET_EVAL_HAVE_CLASSIFY
#include "classify.h"
#endif

static const cli_program PROGRAM = {
    "alexnet-eval",
    "Usage: alexnet-eval --data DIR (--run RUN | --checkpoint FILE) [options]\n"
    "       alexnet-eval report RUN\n"
    "       alexnet-eval compare [--out DIR] RUN RUN...\n"
    "       alexnet-eval classify --checkpoint FILE --data DIR [--json] [--device D] IMAGE...\n"
    "Scores a checkpoint on a dataset split: the four corner and the centre 224x224\n"
    "crops of every 256x256 image and their mirrors, softmax outputs averaged over\n"
    "the ten (ten-crop), and the centre crop alone; top-1 and top-5 error, per class\n"
    "accuracy and the most confused classes. 'report RUN' only redraws RUN/report.html.\n"
    "'compare' puts scored runs side by side: DIR/compare.html and DIR/compare.json\n"
    "(default DIR: the current directory); runs scored on different data are refused.\n"
    "'classify' prints the five most probable classes of each image file (any JPEG, PNG,\n"
    "WebP, TIFF; decoded and resized as alexnet-prep does, ten crops, DIR's mean image);\n"
    "--json prints one JSON list. Exit status 1 when a file could not be classified.\n"
    "\n"
    "  --data DIR            dataset directory written by alexnet-prep\n"
    "  --run RUN             run directory: checkpoint RUN/checkpoints/best.h5 (or the\n"
    "                        'latest' one), output RUN/eval/, page RUN/report.html\n"
    "  --checkpoint FILE     checkpoint to score (default: from --run)\n"
    "  --split NAME          val (default) or train\n"
    "  --device D            cpu (default), cuda, cuda:N or auto: where the network runs;\n"
    "                        cuda needs a build with the CUDA backend and a GPU, else it is an error\n"
    "  --batch N             images per forward pass, each 10 views (default 8)\n"
    "  --limit N             score only the first N images of the split\n"
    "  --out DIR             where report.json, tables.html and figures/ go\n"
    "                        (default RUN/eval)\n"
    "  --figures             also draw the §6.1 figures (needs a build with libvips)\n"
    "  --train-sample N      training images searched for fc7 neighbours (default 1000)\n"
    "  --threads N           CPU threads (default: all cores)\n"
    "  --quiet, --verbose    less or more logging\n"
    "  --help, --version\n"};

typedef struct eval_cli {
    const char *data, *run, *checkpoint, *split, *device, *out;
    long batch, threads, train_sample;
    uint64_t limit;
    int figures;
} eval_cli;

static int parse_args(int argc, char **argv, eval_cli *a, int *exit_now)
{
    static const struct option options[] = {
        {"data", required_argument, 0, 'd'},   {"run", required_argument, 0, 'r'},
        {"checkpoint", required_argument, 0, 'c'}, {"split", required_argument, 0, 's'},
        {"device", required_argument, 0, 'D'}, {"batch", required_argument, 0, 'b'},
        {"limit", required_argument, 0, 'l'},  {"out", required_argument, 0, 'o'},
        {"figures", no_argument, 0, 'f'},      {"train-sample", required_argument, 0, 'T'},
        {"threads", required_argument, 0, 't'}, {"quiet", no_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'v'},      {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},      {0, 0, 0, 0}};
    *a = (eval_cli){.split = "val", .device = "cpu", .batch = 8, .train_sample = 1000};
    *exit_now = 0;
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        an_status st = AN_OK;
        switch (opt) {
        case 'd': a->data = optarg; break;
        case 'r': a->run = optarg; break;
        case 'c': a->checkpoint = optarg; break;
        case 's': a->split = optarg; break;
        case 'D': a->device = optarg; break;
        case 'b': st = cli_parse_long("batch", optarg, 1, 4096, &a->batch); break;
        case 'l': st = cli_parse_u64("limit", optarg, &a->limit); break;
        case 'o': a->out = optarg; break;
        case 'f': a->figures = 1; break;
        case 'T': st = cli_parse_long("train-sample", optarg, 1, 10000000, &a->train_sample); break;
        case 't': st = cli_parse_long("threads", optarg, 1, 4096, &a->threads); break;
        case 'q': log_set_level(LOG_WARN); break;
        case 'v': log_set_level(LOG_VERBOSE); break;
        case 'h': cli_print_help(&PROGRAM); *exit_now = 1; return 0;
        case 'V': cli_print_version(&PROGRAM); *exit_now = 1; return 0;
        default: return cli_usage_error(&PROGRAM, "unknown or incomplete option '%s'", argv[optind - 1]);
        }
        if (st != AN_OK) return cli_usage_error(&PROGRAM, "%s", error_message());
    }
    if (optind < argc) return cli_usage_error(&PROGRAM, "unexpected argument '%s'", argv[optind]);
    if (!a->data) return cli_usage_error(&PROGRAM, "--data DIR is required");
    if (!a->run && !a->checkpoint) return cli_usage_error(&PROGRAM, "give --run RUN or --checkpoint FILE");
    if (strcmp(a->split, "val") != 0 && strcmp(a->split, "train") != 0)
        return cli_usage_error(&PROGRAM, "--split must be val or train, got '%s'", a->split);
    if (backend_device_check(a->device) != AN_OK) return cli_usage_error(&PROGRAM, "%s", error_message());
#ifndef ALEXNET_EVAL_HAVE_FIGURES
    if (a->figures)
        return cli_usage_error(&PROGRAM, "--figures needs libvips, and this alexnet-eval was built without it");
#endif
    return 0;
}

/* mkdir -p */
static an_status make_dirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) return error_set(AN_ERR_ARG, "path too long: %s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return error_set(AN_ERR_IO, "cannot create directory %s: %s", buf, strerror(errno));
            *p = saved;
            if (saved == '\0') break;
        }
    }
    return AN_OK;
}

/* RUN/checkpoints/best.h5, else the file named by RUN/checkpoints/latest. */
static an_status find_checkpoint(const char *run, char *out, size_t size)
{
    snprintf(out, size, "%s/checkpoints/best.h5", run);
    if (access(out, R_OK) == 0) return AN_OK;
    char pointer[4096], name[4096] = "";
    snprintf(pointer, sizeof pointer, "%s/checkpoints/latest", run);
    FILE *f = fopen(pointer, "r");
    if (!f) return error_set(AN_ERR_IO, "run %s has neither checkpoints/best.h5 nor checkpoints/latest: train first", run);
    char *got = fgets(name, sizeof name, f);
    fclose(f);
    if (!got || name[0] == '\0' || name[0] == '\n') return error_set(AN_ERR_FORMAT, "%s is empty", pointer);
    name[strcspn(name, "\r\n")] = '\0';
    if (name[0] == '/') snprintf(out, size, "%s", name);
    else if (strchr(name, '/')) snprintf(out, size, "%s/%s", run, name);
    else snprintf(out, size, "%s/checkpoints/%s", run, name);
    return AN_OK;
}

static an_status evaluate(const eval_cli *a)
{
    an_status st = AN_OK;
    dataset *d = NULL;
    net *n = NULL;
    eval_split split = {0};
    tally t = {0};
    eval_image *images = NULL;
    checkpoint_meta meta;
    char checkpoint[4096], out_dir[4096] = "", path[4096];
    const int views = (int)a->batch * TEN_CROP_VIEWS;
    backend *be = NULL; /* where the network runs (--device) */
    if (a->checkpoint) snprintf(checkpoint, sizeof checkpoint, "%s", a->checkpoint);
    else AN_TRY_GOTO(st, find_checkpoint(a->run, checkpoint, sizeof checkpoint), done);
    if (a->out) snprintf(out_dir, sizeof out_dir, "%s", a->out);
    else if (a->run) snprintf(out_dir, sizeof out_dir, "%s/eval", a->run);
    if (a->threads > 0) cpu_threads_set((int)a->threads);
    backend_request request = {.device = a->device, .rank = 0, .deterministic = 1};
    AN_TRY_GOTO(st, backend_open(&be, &request), done);
    log_info("scoring on %s", be->description);
    AN_TRY_GOTO(st, dataset_open(&d, a->data), done);
    AN_TRY_GOTO(st, eval_model_load(checkpoint, d, views, be, &n, &meta), done);
    char network[128];
    net_describe(n, network, sizeof network);
    log_verbose("network: %s", network);
    AN_TRY_GOTO(st, eval_split_open(&split, d, a->split), done);
    AN_TRY_GOTO(st, tally_init(&t, d->num_classes, split.id_count), done);
    uint64_t total = a->limit && a->limit < split.num_images ? a->limit : split.num_images;
    images = calloc(total ? total : 1, sizeof *images);
    if (!images) {
        st = error_set(AN_ERR_NOMEM, "out of memory for %llu image records", (unsigned long long)total);
        goto done;
    }
    progress bar;
    progress_start(&bar, "ten-crop", total);
    eval_score_options so = {.batch_images = (int)a->batch, .limit = total, .probs_out = NULL, .bar = &bar};
    uint64_t scored = 0;
    double start = progress_now();
    st = eval_score_split(n, &split, d->mean_image, &so, &t, images, &scored);
    double seconds = progress_now() - start;
    progress_finish(&bar);
    if (st != AN_OK) goto done;

    const char *figure_names[8];
    char figure_paths[8][64];
    const char *figure_list[8];
    int num_figures = 0;
    if (out_dir[0]) AN_TRY_GOTO(st, make_dirs(out_dir), done);
#ifdef ALEXNET_EVAL_HAVE_FIGURES
    if (a->figures && out_dir[0]) {
        eval_figure_options fo;
        eval_figure_options_default(&fo);
        snprintf(path, sizeof path, "%s/figures", out_dir);
        fo.dir = path;
        fo.train_sample = (int)a->train_sample;
        fo.batch_views = views;
        int with_text = 0;
        AN_TRY_GOTO(st, eval_figures_draw(&fo, n, d, &split, images, scored, figure_names, &num_figures,
                                          &with_text), done);
        for (int i = 0; i < num_figures; i++) {
            snprintf(figure_paths[i], sizeof figure_paths[i], "figures/%s", figure_names[i]);
            figure_list[i] = figure_paths[i];
        }
    }
#else
    (void)figure_names;
    (void)figure_paths;
#endif
    eval_report r = {.checkpoint = checkpoint, .data_dir = a->data, .dataset_id = d->dataset_id, .split = a->split,
                     .device = be->kind, .step = meta.step, .epoch = meta.epoch,
                     .width = net_get_config(n)->width, .batch = (int)a->batch,
                     .images_in_split = (int64_t)split.num_images, .seconds = seconds,
                     .num_classes = d->num_classes, .class_ids = (const char *const *)d->class_ids,
                     .class_names = (const char *const *)d->class_names, .counts = &t,
                     .num_figures = num_figures, .figures = figure_list};
    eval_report_print(&r, stdout);
    if (out_dir[0]) {
        snprintf(path, sizeof path, "%s/report.json", out_dir);
        AN_TRY_GOTO(st, eval_report_write_json(&r, path), done);
        snprintf(path, sizeof path, "%s/tables.html", out_dir);
        AN_TRY_GOTO(st, eval_report_write_tables(&r, path), done);
        log_info("wrote %s/report.json", out_dir);
    }
    if (a->run) {
        AN_TRY_GOTO(st, report_html_write(a->run), done);
        log_info("report: %s/report.html", a->run);
    }
done:
    free(images);
    tally_free(&t);
    eval_split_close(&split);
    net_destroy(n);
    backend_destroy(be);
    dataset_close(d);
    return st;
}

/* alexnet-eval compare [--out DIR] RUN RUN... */
static int compare_main(int argc, char **argv)
{
    const char *out = ".";
    int first = 2;
    if (argc > 3 && strcmp(argv[2], "--out") == 0) {
        out = argv[3];
        first = 4;
    }
    if (argc - first < 2) return cli_usage_error(&PROGRAM, "usage: alexnet-eval compare [--out DIR] RUN RUN...");
    for (int i = first; i < argc; i++)
        if (argv[i][0] == '-') return cli_usage_error(&PROGRAM, "compare: unknown option '%s'", argv[i]);
    an_status st = make_dirs(out);
    if (st == AN_OK) st = compare_runs((const char *const *)argv + first, argc - first, out);
    if (st != AN_OK) {
        log_error("%s", error_message());
        return EXIT_RUNTIME;
    }
    printf("%s/compare.html\n%s/compare.json\n", out, out);
    return 0;
}

#ifdef ALEXNET_EVAL_HAVE_CLASSIFY
/* The files of alexnet-eval classify, each through prep's decode (classify.h). */
static an_status classify_files(const char *checkpoint, const char *data, const char *device, int json,
                                char **files, int count, int *refused)
{
    an_status st = AN_OK;
    dataset *d = NULL;
    net *n = NULL;
    backend *be = NULL;
    checkpoint_meta meta;
    prep_decode_options o;
    eval_score_scratch scratch = {0};
    classify_result *results = calloc((size_t)count, sizeof *results);
    uint8_t *raw = malloc(IMAGE_STORED_BYTES); /* [256, 256, 3] */
    *refused = 0;
    if (!results || !raw) {
        st = error_set(AN_ERR_NOMEM, "out of memory for %d results", count);
        goto done;
    }
    backend_request request = {.device = device, .rank = 0, .deterministic = 1};
    AN_TRY_GOTO(st, backend_open(&be, &request), done);
    AN_TRY_GOTO(st, dataset_open(&d, data), done);
    AN_TRY_GOTO(st, classify_decode_options(data, &o), done);
    AN_TRY_GOTO(st, eval_model_load(checkpoint, d, TEN_CROP_VIEWS, be, &n, &meta), done);
    AN_TRY_GOTO(st, eval_score_scratch_alloc(&scratch, 1, d->num_classes), done);
    for (int i = 0; i < count; i++) {
        AN_TRY_GOTO(st, classify_file(n, d, &o, files[i], &scratch, raw, &results[i]), done);
        if (!results[i].ok) {
            (*refused)++;
            log_warn("%s: cannot classify: %s", files[i], results[i].reason);
        }
        if (!json) classify_print_text(&results[i], d, stdout);
    }
    if (json) st = classify_print_json(results, count, d, stdout);
done:
    eval_score_scratch_free(&scratch);
    free(results);
    free(raw);
    net_destroy(n);
    backend_destroy(be);
    dataset_close(d);
    return st;
}

/* alexnet-eval classify --checkpoint FILE --data DIR [--json] [--device D] [--threads N] IMAGE... */
static int classify_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"checkpoint", required_argument, 0, 'c'}, {"data", required_argument, 0, 'd'},
        {"json", no_argument, 0, 'j'},             {"device", required_argument, 0, 'D'},
        {"threads", required_argument, 0, 't'},    {"quiet", no_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'v'},          {0, 0, 0, 0}};
    const char *checkpoint = NULL, *data = NULL, *device = "cpu";
    int json = 0, opt;
    long threads = 0;
    optind = 2;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        an_status st = AN_OK;
        switch (opt) {
        case 'c': checkpoint = optarg; break;
        case 'd': data = optarg; break;
        case 'j': json = 1; break;
        case 'D': device = optarg; st = backend_device_check(optarg); break;
        case 't': st = cli_parse_long("threads", optarg, 1, 4096, &threads); break;
        case 'q': log_set_level(LOG_WARN); break;
        case 'v': log_set_level(LOG_VERBOSE); break;
        default: return cli_usage_error(&PROGRAM, "classify: unknown or incomplete option '%s'", argv[optind - 1]);
        }
        if (st != AN_OK) return cli_usage_error(&PROGRAM, "%s", error_message());
    }
    if (!checkpoint || !data) return cli_usage_error(&PROGRAM, "classify needs --checkpoint FILE and --data DIR");
    if (optind >= argc) return cli_usage_error(&PROGRAM, "classify: give at least one image file");
    if (threads > 0) cpu_threads_set((int)threads);
    if (prep_decode_init(argv[0]) != AN_OK) {
        log_error("%s", error_message());
        return EXIT_RUNTIME;
    }
    int refused = 0;
    an_status st = classify_files(checkpoint, data, device, json, argv + optind, argc - optind, &refused);
    prep_decode_shutdown();
    if (st != AN_OK) {
        log_error("%s", error_message());
        return EXIT_RUNTIME;
    }
    if (refused) {
        log_error("%d of %d files could not be classified (reasons above)", refused, argc - optind);
        return EXIT_RUNTIME;
    }
    return 0;
}
#endif

int main(int argc, char **argv)
{
    blas_runtime_select(argc, argv); /* first: may re-execute with OPENBLAS_CORETYPE set */
    log_set_program(PROGRAM.name);
    h5_error_init();
    an_status st;
    if (argc >= 2 && strcmp(argv[1], "report") == 0) {
        if (argc != 3) return cli_usage_error(&PROGRAM, "usage: alexnet-eval report RUN");
        st = report_html_write(argv[2]);
        if (st == AN_OK) printf("%s/report.html\n", argv[2]);
    } else if (argc >= 2 && strcmp(argv[1], "compare") == 0) {
        return compare_main(argc, argv);
    } else if (argc >= 2 && strcmp(argv[1], "classify") == 0) {
#ifdef ALEXNET_EVAL_HAVE_CLASSIFY
        return classify_main(argc, argv);
#else
        return cli_usage_error(&PROGRAM, "classify needs libvips and libjpeg, and this alexnet-eval was built "
                               "without them");
#endif
    } else {
        eval_cli a;
        int exit_now;
        int rc = parse_args(argc, argv, &a, &exit_now);
        if (rc != 0 || exit_now) return rc;
        log_verbose("%s", blas_runtime_describe());
#ifdef ALEXNET_EVAL_HAVE_FIGURES
        if (a.figures && VIPS_INIT(argv[0]) != 0) {
            log_error("cannot start libvips: %s", vips_error_buffer());
            return EXIT_RUNTIME;
        }
#endif
        st = evaluate(&a);
#ifdef ALEXNET_EVAL_HAVE_FIGURES
        if (a.figures) vips_shutdown();
#endif
    }
    if (st != AN_OK) {
        log_error("%s", error_message());
        return EXIT_RUNTIME;
    }
    return 0;
}
