/* compare.c: several runs side by side, one page and one JSON file (compare.h). */
#include "compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "run_dir.h"
#include "run_records.h"
#include "json_writer.h"
#include "report_html.h"
#include "svg_chart.h"
#include "text_buffer.h"

#define COMPARE_MAX_EPOCHS 10000

/* What one run contributes. */
typedef struct compare_run {
    const char *dir;
    char label[256];     /* the directory's last component, or dir itself when two runs share it */
    json_flat config, report;
    const char *dataset_id, *split;
    double images;
    double error[4];     /* ten-crop top-1, top-5, centre-crop top-1, top-5 */
    int epochs;          /* the last epoch with a metrics row */
    double *val_error;   /* [COMPARE_MAX_EPOCHS] validation top-1 by epoch (index epoch - 1), NaN where none */
    double *train_error; /* [COMPARE_MAX_EPOCHS] training top-1 by epoch, NaN where none */
    int epochs_to_target; /* first epoch with training error <= 25 %; 0: never */
    double train_seconds; /* time_s of the last metrics row */
} compare_run;

static const char *const error_paths[4] = {"ten_crop.top1_error", "ten_crop.top5_error", "centre_crop.top1_error",
                                           "centre_crop.top5_error"};
static const char *const error_titles[4] = {"ten-crop top-1", "ten-crop top-5", "centre top-1", "centre top-5"};

void compare_train_error_per_epoch(const metrics_table *t, double *per_epoch, int max_epochs, int *epochs)
{
    int ce = metrics_table_column(t, "epoch"), cs = metrics_table_column(t, "step"),
        c1 = metrics_table_column(t, "top1_error");
    double *weight = calloc((size_t)max_epochs, sizeof *weight);
    for (int e = 0; e < max_epochs; e++) per_epoch[e] = NAN;
    *epochs = 0;
    if (!weight || ce < 0 || cs < 0 || c1 < 0 || !t->row_split) {
        free(weight);
        return;
    }
    double previous_step = 0.0;
    for (size_t r = 0; r < t->num_rows; r++) {
        if (strcmp(t->row_split[r], "train") != 0) continue;
        double epoch = metrics_table_at(t, r, ce), step = metrics_table_at(t, r, cs),
               error = metrics_table_at(t, r, c1);
        if (!(epoch >= 1 && epoch <= max_epochs) || !isfinite(step) || !isfinite(error)) continue;
        double steps = step - previous_step; /* the steps this row's window covers */
        previous_step = step;
        if (!(steps > 0)) continue;
        int e = (int)epoch - 1;
        per_epoch[e] = (isnan(per_epoch[e]) ? 0.0 : per_epoch[e]) + error * steps;
        weight[e] += steps;
        if ((int)epoch > *epochs) *epochs = (int)epoch;
    }
    for (int e = 0; e < max_epochs; e++)
        if (weight[e] > 0) per_epoch[e] /= weight[e];
    free(weight);
}

int compare_epochs_to_error(const double *per_epoch, int epochs, double target)
{
    for (int e = 0; e < epochs; e++)
        if (per_epoch[e] <= target) return e + 1; /* NaN compares false */
    return 0;
}

static an_status load_metrics(compare_run *r)
{
    metrics_table t;
    AN_TRY(run_read_metrics(r->dir, &t));
    int train_epochs = 0;
    compare_train_error_per_epoch(&t, r->train_error, COMPARE_MAX_EPOCHS, &train_epochs);
    int ce = metrics_table_column(&t, "epoch"), c1 = metrics_table_column(&t, "top1_error"),
        ct = metrics_table_column(&t, "time_s");
    r->epochs = train_epochs;
    for (size_t row = 0; row < t.num_rows; row++) {
        if (ct >= 0 && isfinite(metrics_table_at(&t, row, ct))) r->train_seconds = metrics_table_at(&t, row, ct);
        if (!t.row_split || strcmp(t.row_split[row], "val") != 0 || ce < 0 || c1 < 0) continue;
        double epoch = metrics_table_at(&t, row, ce);
        if (!(epoch >= 1 && epoch <= COMPARE_MAX_EPOCHS)) continue;
        r->val_error[(int)epoch - 1] = metrics_table_at(&t, row, c1);
        if ((int)epoch > r->epochs) r->epochs = (int)epoch;
    }
    metrics_table_free(&t);
    r->epochs_to_target = compare_epochs_to_error(r->train_error, train_epochs, COMPARE_TARGET_TRAIN_ERROR);
    return AN_OK;
}

static an_status load_run(compare_run *r, const char *dir)
{
    char path[4096];
    r->dir = dir;
    r->val_error = malloc(COMPARE_MAX_EPOCHS * sizeof *r->val_error);
    r->train_error = malloc(COMPARE_MAX_EPOCHS * sizeof *r->train_error);
    AN_CHECK_ALLOC(r->val_error, COMPARE_MAX_EPOCHS * sizeof *r->val_error);
    AN_CHECK_ALLOC(r->train_error, COMPARE_MAX_EPOCHS * sizeof *r->train_error);
    for (int e = 0; e < COMPARE_MAX_EPOCHS; e++) r->val_error[e] = r->train_error[e] = NAN;
    AN_TRY(run_dir_check(dir));
    AN_TRY(run_read_config(dir, &r->config));
    AN_TRY(run_read_report(dir, &r->report));
    AN_TRY(run_dir_file(dir, RUN_REPORT_FILE, path, sizeof path));
    AN_TRY(json_flat_string(&r->report, "dataset_id", path, &r->dataset_id));
    AN_TRY(json_flat_string(&r->report, "split", path, &r->split));
    AN_TRY(json_flat_number(&r->report, "images", path, &r->images));
    for (int k = 0; k < 4; k++) AN_TRY(json_flat_number(&r->report, error_paths[k], path, &r->error[k]));
    return load_metrics(r);
}

/* The name of the run's directory ("runs/x/paper/" -> "paper"), or the whole
 * path where another run's directory has the same name. */
static an_status set_labels(compare_run *runs, int count)
{
    for (int i = 0; i < count; i++) {
        char path[sizeof runs[i].label];
        snprintf(path, sizeof path, "%s", runs[i].dir);
        size_t len = strlen(path);
        while (len > 1 && path[len - 1] == '/') path[--len] = '\0';
        const char *slash = strrchr(path, '/');
        snprintf(runs[i].label, sizeof runs[i].label, "%s", slash && slash[1] ? slash + 1 : path);
    }
    unsigned char *same = calloc((size_t)count, 1); /* [count] 1: another run has the same name */
    AN_CHECK_ALLOC(same, (size_t)count);
    for (int i = 0; i < count; i++)
        for (int j = 0; j < count; j++) same[i] |= i != j && strcmp(runs[i].label, runs[j].label) == 0;
    for (int i = 0; i < count; i++)
        if (same[i]) snprintf(runs[i].label, sizeof runs[i].label, "%s", runs[i].dir);
    free(same);
    return AN_OK;
}

static void free_run(compare_run *r)
{
    json_flat_free(&r->config);
    json_flat_free(&r->report);
    free(r->val_error);
    free(r->train_error);
}

/* Scores compare only on the same images: same dataset, split and count. */
static an_status check_same_scoring(const compare_run *runs, int count)
{
    const compare_run *a = &runs[0];
    for (int i = 1; i < count; i++) {
        const compare_run *b = &runs[i];
        if (strcmp(a->dataset_id, b->dataset_id) != 0 || strcmp(a->split, b->split) != 0 || a->images != b->images)
            return error_set(AN_ERR_ARG,
                             "runs scored on different data do not compare: %s was scored on dataset %s (%s split, "
                             "%.0f images), %s on dataset %s (%s split, %.0f images); score every run on the same "
                             "dataset directory and split (alexnet-eval --data DATA --run RUN)",
                             a->dir, a->dataset_id, a->split, a->images, b->dir, b->dataset_id, b->split, b->images);
    }
    return AN_OK;
}

static const char *value_of(const compare_run *r, const char *path)
{
    const json_leaf *l = json_flat_find(&r->config, path);
    return l ? l->value : "-";
}

/* Paths (pointers into the runs' configs) of the settings in which runs differ, in first-seen order. */
static an_status differing_settings(const compare_run *runs, int count, const char ***out, int *n_out)
{
    int cap = 0, n = 0;
    const char **paths = NULL;
    for (int i = 0; i < count; i++)
        for (int k = 0; k < runs[i].config.count; k++) {
            const char *path = runs[i].config.leaves[k].path;
            if (!run_config_is_setting(path)) continue;
            int seen = 0, differs = 0;
            for (int j = 0; j < n && !seen; j++) seen = strcmp(paths[j], path) == 0;
            for (int j = 1; j < count && !differs; j++) differs = strcmp(value_of(&runs[0], path), value_of(&runs[j], path)) != 0;
            if (seen || !differs) continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                const char **grown = realloc(paths, (size_t)cap * sizeof *grown);
                if (!grown) {
                    free(paths);
                    return error_set(AN_ERR_NOMEM, "out of memory comparing settings");
                }
                paths = grown;
            }
            paths[n++] = path;
        }
    *out = paths;
    *n_out = n;
    return AN_OK;
}

static void percent_cell(text_buffer *b, double v, double first, int is_first)
{
    if (is_first) text_printf(b, "<td>%.2f</td>", 100.0 * v);
    else text_printf(b, "<td>%.2f <small>(%+.2f)</small></td>", 100.0 * v, 100.0 * (v - first));
}

/* One chart of a per-epoch series of every run, x = epoch 1..E. */
static void append_chart(text_buffer *b, const compare_run *runs, int count, int use_val, const char *title)
{
    int epochs = 0;
    for (int i = 0; i < count; i++)
        if (runs[i].epochs > epochs) epochs = runs[i].epochs;
    if (epochs < 1) {
        text_printf(b, "<p class=\"missing\">No epochs in the runs' metrics.csv.</p>\n");
        return;
    }
    double *x = malloc((size_t)epochs * sizeof *x);
    svg_series *series = calloc((size_t)count, sizeof *series);
    if (!x || !series) {
        free(x);
        free(series);
        b->status = error_set(AN_ERR_NOMEM, "out of memory drawing %s", title);
        return;
    }
    for (int e = 0; e < epochs; e++) x[e] = e + 1;
    for (int i = 0; i < count; i++)
        series[i] = (svg_series){.name = runs[i].label, .y = use_val ? runs[i].val_error : runs[i].train_error, .stride = 1};
    svg_chart c = {.title = title, .x_label = "epoch", .x = x, .x_stride = 1, .n = (size_t)epochs,
                   .num_series = count, .series = series, .y_scale = 100.0, .y_unit = "%"};
    svg_chart_append(b, &c);
    free(x);
    free(series);
}

static an_status write_html(const compare_run *runs, int count, const char **diff, int n_diff, const char *path)
{
    text_buffer b;
    text_init(&b);
    text_printf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>alexnet: %d runs "
                "compared</title>\n<style>body{font-family:sans-serif;max-width:1100px;margin:24px auto;color:#222}"
                "table{border-collapse:collapse;margin:8px 0 18px}td,th{border:1px solid #ccc;padding:3px 8px;"
                "text-align:right}th{background:#f0f0f0}td:first-child{text-align:left}small{color:#666}"
                ".chart{margin:6px 12px 6px 0;border:1px solid #ddd}.missing{color:#a00}</style></head>\n<body>\n",
                count);
    text_printf(&b, "<h1>%d runs compared</h1>\n<p>Scored on dataset <code>", count);
    text_html(&b, runs[0].dataset_id);
    text_printf(&b, "</code>, %s split, %.0f images. Errors in %%; in brackets the difference from the first run, "
                "<code>", runs[0].split, runs[0].images);
    text_html(&b, runs[0].label);
    text_printf(&b, "</code>. Runs:");
    for (int i = 0; i < count; i++) {
        text_printf(&b, "%s <code>", i ? "," : "");
        text_html(&b, runs[i].label);
        text_printf(&b, "</code> = <code>");
        text_html(&b, runs[i].dir);
        text_printf(&b, "</code>");
    }
    text_printf(&b, ".</p>\n<h2>Scores</h2>\n<table><tr><th>run</th>");
    for (int k = 0; k < 4; k++) text_printf(&b, "<th>%s</th>", error_titles[k]);
    text_printf(&b, "<th>epochs</th><th>epochs to %.0f %% training error</th><th>training time</th></tr>\n",
                100.0 * COMPARE_TARGET_TRAIN_ERROR);
    for (int i = 0; i < count; i++) {
        text_printf(&b, "<tr><td title=\"");
        text_html(&b, runs[i].dir);
        text_printf(&b, "\">");
        text_html(&b, runs[i].label);
        text_printf(&b, "</td>");
        for (int k = 0; k < 4; k++) percent_cell(&b, runs[i].error[k], runs[0].error[k], i == 0);
        text_printf(&b, "<td>%d</td>", runs[i].epochs);
        if (runs[i].epochs_to_target) text_printf(&b, "<td>%d</td>", runs[i].epochs_to_target);
        else text_printf(&b, "<td>not reached</td>");
        text_printf(&b, "<td>%.0f s</td></tr>\n", runs[i].train_seconds);
    }
    text_printf(&b, "</table>\n<h2>Settings that differ</h2>\n");
    if (n_diff == 0) {
        text_printf(&b, "<p>None: the runs have the same network and training settings (config.json).</p>\n");
    } else {
        text_printf(&b, "<table><tr><th>setting (config.json)</th>");
        for (int i = 0; i < count; i++) {
            text_printf(&b, "<th>");
            text_html(&b, runs[i].label);
            text_printf(&b, "</th>");
        }
        text_printf(&b, "</tr>\n");
        for (int d = 0; d < n_diff; d++) {
            text_printf(&b, "<tr><td>");
            text_html(&b, diff[d]);
            text_printf(&b, "</td>");
            for (int i = 0; i < count; i++) {
                text_printf(&b, "<td>");
                text_html(&b, value_of(&runs[i], diff[d]));
                text_printf(&b, "</td>");
            }
            text_printf(&b, "</tr>\n");
        }
        text_printf(&b, "</table>\n");
    }
    text_printf(&b, "<h2>Curves</h2>\n");
    append_chart(&b, runs, count, 1, "validation top-1 error (%, centre crop) per epoch");
    append_chart(&b, runs, count, 0, "training top-1 error (%) per epoch (Figure 1)");
    text_printf(&b, "\n<p>Training error: the mean over each epoch of the training batches' top-1 error, "
                "with dropout and augmentation as trained (metrics.csv).</p>\n</body></html>\n");
    an_status st = text_write_file(&b, path);
    text_free(&b);
    return st;
}

static void json_number_or_null(json_writer *w, const char *key, double v)
{
    if (isfinite(v)) json_kv_double(w, key, v);
    else {
        json_key(w, key);
        json_null(w);
    }
}

static an_status write_json(const compare_run *runs, int count, const char **diff, int n_diff, const char *path)
{
    static const char *const keys[4] = {"ten_crop_top1_error", "ten_crop_top5_error", "centre_crop_top1_error",
                                        "centre_crop_top5_error"};
    json_writer w;
    json_init(&w);
    json_begin_object(&w);
    json_kv_string(&w, "dataset_id", runs[0].dataset_id);
    json_kv_string(&w, "split", runs[0].split);
    json_kv_int(&w, "images", (int64_t)runs[0].images);
    json_kv_double(&w, "target_train_error", COMPARE_TARGET_TRAIN_ERROR);
    json_key(&w, "runs");
    json_begin_array(&w);
    for (int i = 0; i < count; i++) {
        const compare_run *r = &runs[i];
        json_begin_object(&w);
        json_kv_string(&w, "run", r->dir);
        json_kv_string(&w, "label", r->label);
        for (int k = 0; k < 4; k++) json_kv_double(&w, keys[k], r->error[k]);
        json_key(&w, "difference_from_first");
        json_begin_object(&w);
        for (int k = 0; k < 4; k++) json_kv_double(&w, keys[k], r->error[k] - runs[0].error[k]);
        json_end_object(&w);
        json_key(&w, "settings");
        json_begin_object(&w);
        for (int d = 0; d < n_diff; d++) json_kv_string(&w, diff[d], value_of(r, diff[d]));
        json_end_object(&w);
        json_kv_int(&w, "epochs", r->epochs);
        json_kv_int(&w, "epochs_to_target_train_error", r->epochs_to_target);
        json_kv_double(&w, "train_seconds", r->train_seconds);
        json_key(&w, "epoch");
        json_begin_array(&w);
        for (int e = 0; e < r->epochs; e++) {
            json_begin_object(&w);
            json_kv_int(&w, "epoch", e + 1);
            json_number_or_null(&w, "train_top1_error", r->train_error[e]);
            json_number_or_null(&w, "val_top1_error", r->val_error[e]);
            json_end_object(&w);
        }
        json_end_array(&w);
        json_end_object(&w);
    }
    json_end_array(&w);
    json_end_object(&w);
    an_status st = json_finish(&w);
    if (st == AN_OK) st = atomic_write_file(path, w.data, w.length);
    json_free(&w);
    return st;
}

an_status compare_runs(const char *const *run_dirs, int count, const char *out_dir)
{
    if (count < 2) return error_set(AN_ERR_ARG, "compare needs at least two runs, got %d", count);
    compare_run *runs = calloc((size_t)count, sizeof *runs);
    AN_CHECK_ALLOC(runs, (size_t)count * sizeof *runs);
    const char **diff = NULL;
    int n_diff = 0;
    char path[4096];
    an_status st = AN_OK;
    for (int i = 0; i < count && st == AN_OK; i++) {
        st = load_run(&runs[i], run_dirs[i]);
        if (st != AN_OK) st = error_context(st, "comparing run %s", run_dirs[i]);
    }
    if (st == AN_OK) st = check_same_scoring(runs, count);
    if (st == AN_OK) st = set_labels(runs, count);
    if (st == AN_OK) st = differing_settings(runs, count, &diff, &n_diff);
    if (st == AN_OK) {
        snprintf(path, sizeof path, "%s/compare.json", out_dir);
        st = write_json(runs, count, diff, n_diff, path);
    }
    if (st == AN_OK) {
        snprintf(path, sizeof path, "%s/compare.html", out_dir);
        st = write_html(runs, count, diff, n_diff, path);
    }
    free(diff);
    for (int i = 0; i < count; i++) free_run(&runs[i]);
    free(runs);
    return st;
}
