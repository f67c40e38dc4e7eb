/* main.c: alexnet-eval, scores a checkpoint on a dataset split the way the
 * paper reports it (§4.1, §6: ten-crop and centre-crop top-1/top-5 error),
 * writes RUN/eval/report.json and the HTML tables, optionally the §6.1
 * figures, and RUN/report.html. `alexnet-eval report RUN` redraws the page
 * alone (after more training, say). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "blas_runtime.h"
#include "cli.h"
#include "compare.h"
#include "dataset.h"
#include "directory.h"
#include "backend_select.h"
#include "eval_cli.h"
#include "eval_features.h"
#include "eval_model.h"
#include "eval_report.h"
#include "eval_score.h"
#include "h5_error.h"
#include "log.h"
#include "progress.h"
#include "report_html.h"
#include "run_dir.h"
#include "ten_crop.h"

static an_status evaluate(const eval_cli *a, const eval_features *have)
{
    an_status st = AN_OK;
    dataset *d = NULL;
    net *n = NULL;
    eval_split split = {0};
    tally t = {0};
    eval_image *images = NULL;
    checkpoint_meta meta;
    char checkpoint[4096], out_dir[4096] = "", path[4096];
    const int views = a->batch * TEN_CROP_VIEWS;
    backend *be = NULL; /* where the network runs (--device) */
    if (a->checkpoint) snprintf(checkpoint, sizeof checkpoint, "%s", a->checkpoint);
    else AN_TRY_GOTO(st, run_dir_scored_checkpoint(a->run, checkpoint, sizeof checkpoint), done);
    if (a->out) snprintf(out_dir, sizeof out_dir, "%s", a->out);
    else if (a->run) AN_TRY_GOTO(st, run_dir_file(a->run, RUN_EVAL_DIR, out_dir, sizeof out_dir), done);
    if (a->threads > 0) omp_set_num_threads((int)a->threads); /* the scorer's own loops (eval_score.c) */
    backend_request request = {.device = a->device, .rank = 0, .deterministic = 1, .threads = (int)a->threads};
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
    eval_score_options so = {.batch_images = a->batch, .limit = total, .probs_out = NULL, .bar = &bar};
    uint64_t scored = 0;
    double start = progress_now();
    st = eval_score_split(n, &split, d->mean_image, &so, &t, images, &scored);
    double seconds = progress_now() - start;
    progress_finish(&bar);
    if (st != AN_OK) goto done;

    eval_figure_list figures = {0};
    if (out_dir[0]) AN_TRY_GOTO(st, directory_make(out_dir), done);
    if (a->figures && out_dir[0])
        AN_TRY_GOTO(st, have->figures->draw(out_dir, a, views, n, d, &split, images, scored, &figures), done);
    eval_report r = {.checkpoint = checkpoint, .data_dir = a->data, .dataset_id = d->dataset_id, .split = a->split,
                     .device = be->kind, .step = meta.step, .epoch = meta.epoch,
                     .width = net_get_config(n)->width, .batch = a->batch,
                     .images_in_split = (int64_t)split.num_images, .seconds = seconds,
                     .num_classes = d->num_classes, .class_ids = (const char *const *)d->class_ids,
                     .class_names = (const char *const *)d->class_names, .counts = &t,
                     .num_figures = figures.count, .figures = figures.list};
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
    AN_TRY(directory_make(a->out));
    AN_TRY(compare_runs((const char *const *)a->paths, a->num_paths, a->out));
    printf("%s/compare.html\n%s/compare.json\n", a->out, a->out);
    return AN_OK;
}

/* alexnet-eval classify: exit status 1 when a file could not be classified. */
static an_status classify(const eval_cli *a, const eval_features *have, const char *argv0)
{
    if (a->threads > 0) omp_set_num_threads((int)a->threads); /* the CPU backend follows this thread's count */
    int refused = 0;
    an_status st = have->classify->run(a, argv0, &refused);
    if (st == AN_OK && refused)
        st = error_set(AN_ERR_ARG, "%d of %d files could not be classified (reasons above)", refused, a->num_paths);
    return st;
}

int main(int argc, char **argv)
{
    blas_runtime_select(argc, argv); /* first: may re-execute with OPENBLAS_CORETYPE set */
    log_set_program(eval_program.name);
    h5_error_init();
    eval_features have = {eval_figures_feature(), eval_classify_feature()};
    eval_cli a;
    int rc = eval_cli_parse(&a, argc, argv, &have);
    if (rc != 0) return rc < 0 ? 0 : rc;
    an_status st = AN_OK;
    switch (a.command) {
    case EVAL_COMMAND_REPORT:
        st = run_dir_check(a.run);
        if (st == AN_OK) st = report_html_write(a.run);
        if (st == AN_OK) printf("%s/report.html\n", a.run);
        break;
    case EVAL_COMMAND_COMPARE: st = compare(&a); break;
    case EVAL_COMMAND_CLASSIFY: st = classify(&a, &have, argv[0]); break;
    case EVAL_COMMAND_SCORE:
        log_verbose("%s", blas_runtime_describe());
        if (a.figures) st = have.figures->start(argv[0]);
        if (st != AN_OK) break;
        st = evaluate(&a, &have);
        if (a.figures) have.figures->stop();
        break;
    }
    if (st != AN_OK) {
        log_error("%s", error_message());
        return EXIT_RUNTIME;
    }
    return 0;
}
