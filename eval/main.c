/* main.c: alexnet-eval, scores a checkpoint on a dataset split the way the
 * paper reports it (§4.1, §6: ten-crop and centre-crop top-1/top-5 error),
 * writes RUN/eval/report.json and the HTML tables, optionally the §6.1
 * figures, and RUN/report.html. `alexnet-eval report RUN` redraws the page
 * alone (after more training, say). */
#include <errno.h>
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
#include "eval_cli.h"
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
        if (scored == split.num_images) /* the whole split: its scores join the run's curves in TensorBoard */
            AN_TRY_GOTO(st, eval_report_write_events(&r, a->run, out_dir), done);
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
static an_status compare(const eval_cli *a)
{
    AN_TRY(make_dirs(a->out));
    AN_TRY(compare_runs((const char *const *)a->paths, a->num_paths, a->out));
    printf("%s/compare.html\n%s/compare.json\n", a->out, a->out);
    return AN_OK;
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

/* alexnet-eval classify: exit status 1 when a file could not be classified. */
static an_status classify(const eval_cli *a, const char *argv0)
{
    if (a->threads > 0) cpu_threads_set((int)a->threads);
    AN_TRY(prep_decode_init(argv0));
    int refused = 0;
    an_status st = classify_files(a->checkpoint, a->data, a->device, a->json, a->paths, a->num_paths, &refused);
    prep_decode_shutdown();
    if (st == AN_OK && refused)
        st = error_set(AN_ERR_ARG, "%d of %d files could not be classified (reasons above)", refused, a->num_paths);
    return st;
}
#endif

int main(int argc, char **argv)
{
    blas_runtime_select(argc, argv); /* first: may re-execute with OPENBLAS_CORETYPE set */
    log_set_program(eval_program.name);
    h5_error_init();
    eval_features have = {0, 0};
#ifdef ALEXNET_EVAL_HAVE_FIGURES
    have.figures = 1;
#endif
#ifdef ALEXNET_EVAL_HAVE_CLASSIFY
    have.classify = 1;
#endif
    eval_cli a;
    int rc = eval_cli_parse(&a, argc, argv, &have);
    if (rc != 0) return rc < 0 ? 0 : rc;
    an_status st = AN_OK;
    switch (a.command) {
    case EVAL_COMMAND_REPORT:
        st = report_html_check_run(a.run);
        if (st == AN_OK) st = report_html_write(a.run);
        if (st == AN_OK) printf("%s/report.html\n", a.run);
        break;
    case EVAL_COMMAND_COMPARE: st = compare(&a); break;
    case EVAL_COMMAND_CLASSIFY:
#ifdef ALEXNET_EVAL_HAVE_CLASSIFY
        st = classify(&a, argv[0]);
#endif
        break;
    case EVAL_COMMAND_SCORE:
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
        break;
    }
    if (st != AN_OK) {
        log_error("%s", error_message());
        return EXIT_RUNTIME;
    }
    return 0;
}
