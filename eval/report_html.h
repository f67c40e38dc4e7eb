/* report_html.h: RUN/report.html, one static page that needs no network:
 * the training curves from RUN/metrics.csv drawn as inline SVG (loss; top-1
 * and top-5 error; learning rate), the evaluation tables from
 * RUN/eval/tables.html, and the figures the PNG files in RUN/eval/figures embedded as
 * base64 data URIs, so the page can be copied alone. Parts that do not exist
 * yet (no evaluation, no figures) are said to be missing on the page. */
#ifndef ALEXNET_EVAL_REPORT_HTML_H
#define ALEXNET_EVAL_REPORT_HTML_H

#include "status.h"
#include "text_buffer.h"

/* The figures the page knows, in order: file name under RUN/eval/figures and caption. */
typedef struct report_figure {
    const char *file;
    const char *caption;
} report_figure;

extern const report_figure report_figures[];
extern const int report_figure_count;


/* Writes RUN/report.html (atomic). */
an_status report_html_write(const char *run_dir);

/* Appends the training-curve charts for the metrics.csv at path (tests). */
an_status report_html_append_curves(text_buffer *b, const char *metrics_path);

/* Appends the base64 encoding of the file at path. */
an_status report_html_append_base64_file(text_buffer *b, const char *path);

#endif
