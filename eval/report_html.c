/* report_html.c: the run's static report page (curves, tables, figures). */
#include "report_html.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "metrics_csv.h"
#include "svg_chart.h"

const report_figure report_figures[] = {
    {"predictions.png", "Validation images with their five most probable classes (ten-crop); the bar of the true "
                        "class is red (compare Figure 4, left, §6.1)."},
    {"neighbours.png", "Query images (left of the red line) and the training images whose fc7 activations are "
                       "nearest in Euclidean distance (compare Figure 4, right, §6.1)."},
    {"conv1.png", "The first convolutional layer's kernels, each scaled to its own range (compare Figure 3)."},
};
const int report_figure_count = (int)(sizeof report_figures / sizeof report_figures[0]);

static const char *STYLE =
    "body{font-family:sans-serif;max-width:1100px;margin:24px auto;color:#222}"
    "table{border-collapse:collapse;margin:8px 0 18px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
    "th{background:#f0f0f0}td:nth-child(2){text-align:left}.summary td:first-child{text-align:left}"
    "figure{margin:16px 0}img{max-width:100%;border:1px solid #ddd}.missing{color:#a00}"
    ".chart{margin:6px 12px 6px 0;border:1px solid #ddd}";

an_status report_html_append_base64_file(text_buffer *b, const char *path)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    FILE *f = fopen(path, "rb");
    if (!f) return error_set(AN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    unsigned char in[3 * 1024];
    char out[4 * 1024];
    size_t n;
    /* full 3-byte groups only, except at the end of the file */
    while ((n = fread(in, 1, sizeof in, f)) > 0) {
        size_t o = 0;
        for (size_t i = 0; i < n; i += 3) {
            unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
            out[o++] = alphabet[(v >> 18) & 63];
            out[o++] = alphabet[(v >> 12) & 63];
            out[o++] = i + 1 < n ? alphabet[(v >> 6) & 63] : '=';
            out[o++] = i + 2 < n ? alphabet[v & 63] : '=';
        }
        text_append(b, out, o);
        if (n < sizeof in) break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) return error_set(AN_ERR_IO, "reading %s failed", path);
    return b->status;
}

/* Does the column's name contain any of the words? */
static int name_has(const char *name, const char *const *words)
{
    for (; *words; words++)
        if (strstr(name, *words)) return 1;
    return 0;
}

enum { MAX_SERIES = 16, MAX_SPLITS = 4 };

/* The distinct values of the split column in first-seen order ("" alone when none). */
static int distinct_splits(const metrics_table *t, const char **splits)
{
    if (!t->row_split) {
        splits[0] = "";
        return 1;
    }
    int n = 0;
    for (size_t r = 0; r < t->num_rows; r++) {
        int known = 0;
        for (int i = 0; i < n; i++) known |= strcmp(splits[i], t->row_split[r]) == 0;
        if (!known && n < MAX_SPLITS) splits[n++] = t->row_split[r];
    }
    return n;
}

/* One chart of report.html: the columns it draws and how. */
typedef struct chart_group {
    const char *title;
    const char *const *words;    /* columns whose name has one of these... */
    const char *const *excluded; /* ...and none of these (NULL: none) */
    const char *one_split;       /* only this split's rows when the table has it ("train" for the rate, a
                                  * training setting that every row repeats); NULL: one series per split */
    int log_y;
    double y_scale;              /* 100: fractions drawn as percent; 0: as they are */
    const char *y_unit;
} chart_group;

/* One chart: every column of the group, one series per split; values
 * [MAX_SERIES, rows] is scratch. */
static void append_group(text_buffer *b, const metrics_table *t, int x, const char *x_label, const chart_group *g,
                         double *values)
{
    const char *splits[MAX_SPLITS];
    int num_splits = distinct_splits(t, splits);
    for (int sp = 0; g->one_split && sp < num_splits; sp++)
        if (strcmp(splits[sp], g->one_split) == 0) {
            splits[0] = splits[sp];
            num_splits = 1;
        }
    svg_series series[MAX_SERIES];
    char names[MAX_SERIES][96];
    int m = 0;
    for (int col = 0; col < t->num_columns; col++) {
        if (col == x || !name_has(t->names[col], g->words) || (g->excluded && name_has(t->names[col], g->excluded)))
            continue;
        for (int sp = 0; sp < num_splits && m < MAX_SERIES; sp++) {
            double *y = values + (size_t)m * t->num_rows; /* [rows] this split's values, NaN elsewhere */
            int any = 0;
            for (size_t r = 0; r < t->num_rows; r++) {
                int mine = !t->row_split || strcmp(t->row_split[r], splits[sp]) == 0;
                y[r] = mine ? metrics_table_at(t, r, col) : NAN;
                any |= mine && isfinite(y[r]);
            }
            if (!any) continue;
            snprintf(names[m], sizeof names[m], "%s%s%s", splits[sp], splits[sp][0] ? " " : "", t->names[col]);
            series[m] = (svg_series){.name = names[m], .y = y, .stride = 1};
            m++;
        }
    }
    if (m == 0) return;
    svg_chart c = {.title = g->title, .x_label = x_label, .x = t->values + x, .x_stride = (size_t)t->num_columns,
                   .n = t->num_rows, .num_series = m, .series = series, .log_y = g->log_y, .y_scale = g->y_scale,
                   .y_unit = g->y_unit};
    svg_chart_append(b, &c);
}

an_status report_html_append_curves(text_buffer *b, const char *metrics_path)
{
    metrics_table t;
    AN_TRY(metrics_table_read(&t, metrics_path));
    if (t.num_rows == 0) {
        text_printf(b, "<p class=\"missing\">metrics.csv has no rows yet.</p>\n");
        metrics_table_free(&t);
        return b->status;
    }
    int x = metrics_table_column(&t, "step");
    const char *x_label = "SGD step";
    if (x < 0) { x = metrics_table_column(&t, "epoch"); x_label = "epoch"; }
    if (x < 0) { x = 0; x_label = t.names[0]; }
    double *values = malloc((size_t)MAX_SERIES * t.num_rows * sizeof(double)); /* [MAX_SERIES, rows] */
    if (!values) {
        metrics_table_free(&t);
        return error_set(AN_ERR_NOMEM, "out of memory drawing %s", metrics_path);
    }
    static const char *const loss_words[] = {"loss", NULL};
    static const char *const error_words[] = {"top1", "top5", "error", "acc", NULL};
    static const char *const lr_words[] = {"lr", "learning_rate", NULL};
    const chart_group groups[] = {
        {"Loss (multinomial logistic, §5)", loss_words, NULL, NULL, 0, 0.0, NULL},
        {"Top-1 and top-5 error (%)", error_words, loss_words, NULL, 0, 100.0, "%"},
        {"Learning rate ε (§5)", lr_words, loss_words, "train", 1, 0.0, NULL},
    };
    for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) append_group(b, &t, x, x_label, &groups[g], values);
    free(values);
    metrics_table_free(&t);
    return b->status;
}

/* Appends the whole file at path, or a "missing" note. */
static void append_file_or_note(text_buffer *b, const char *path, const char *note)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        text_printf(b, "<p class=\"missing\">%s</p>\n", note);
        return;
    }
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) text_append(b, chunk, n);
    fclose(f);
}

an_status report_html_write(const char *run_dir)
{
    char path[4096];
    text_buffer b;
    text_init(&b);
    text_printf(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>alexnet run ");
    text_html(&b, run_dir);
    text_printf(&b, "</title>\n<style>%s</style></head>\n<body>\n<h1>alexnet run <code>", STYLE);
    text_html(&b, run_dir);
    text_printf(&b, "</code></h1>\n<h2>Training</h2>\n");
    snprintf(path, sizeof path, "%s/metrics.csv", run_dir);
    if (access(path, R_OK) == 0) {
        an_status st = report_html_append_curves(&b, path);
        if (st != AN_OK) {
            text_free(&b);
            return error_context(st, "drawing the training curves");
        }
    } else {
        text_printf(&b, "<p class=\"missing\">No metrics.csv in this run directory.</p>\n");
    }
    snprintf(path, sizeof path, "%s/eval/tables.html", run_dir);
    append_file_or_note(&b, path, "Not evaluated yet: run alexnet-eval --run on this directory.");
    text_printf(&b, "<h2>Figures (§6.1)</h2>\n");
    int shown = 0;
    for (int i = 0; i < report_figure_count; i++) {
        snprintf(path, sizeof path, "%s/eval/figures/%s", run_dir, report_figures[i].file);
        if (access(path, R_OK) != 0) continue;
        text_printf(&b, "<figure><img alt=\"%s\" src=\"data:image/png;base64,", report_figures[i].file);
        an_status st = report_html_append_base64_file(&b, path);
        if (st != AN_OK) {
            text_free(&b);
            return st;
        }
        text_printf(&b, "\"><figcaption>%s</figcaption></figure>\n", report_figures[i].caption);
        shown++;
    }
    if (!shown) text_printf(&b, "<p class=\"missing\">No figures: run alexnet-eval with --figures.</p>\n");
    text_printf(&b, "</body></html>\n");
    snprintf(path, sizeof path, "%s/report.html", run_dir);
    an_status st = text_write_file(&b, path);
    if (st != AN_OK) error_context(st, "writing %s", path);
    text_free(&b);
    return st;
}
