/* eval_report.h: what one evaluation produced, and the files that carry
 * it: RUN/eval/report.json (docs/FORMAT.md, "report.json") for programs, and
 * RUN/eval/tables.html, the same numbers as HTML tables that report.html
 * includes, both written atomically; and the scores and figures in a
 * TensorBoard event file of the run.
 */
#ifndef ALEXNET_EVAL_REPORT_H
#define ALEXNET_EVAL_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include "status.h"
#include "tally.h"

#define EVAL_REPORT_FORMAT_VERSION 1
#define EVAL_REPORT_CONFUSED_PAIRS 20 /* most confused pairs listed */

typedef struct eval_report {
    const char *checkpoint;   /* path as given */
    const char *data_dir;
    const char *dataset_id;   /* 16 hex chars */
    const char *split;        /* "val" or "train" */
    const char *device;       /* "cpu" or "cuda" */
    uint64_t step;            /* the checkpoint's SGD step */
    uint32_t epoch;
    double width;             /* the network's width multiplier */
    int batch;                /* images per forward batch (x10 views) */
    int64_t images_in_split;  /* before --limit */
    double seconds;           /* wall time of the scoring loop */
    int num_classes;
    const char *const *class_ids;   /* [C] */
    const char *const *class_names; /* [C] */
    const tally *counts;
    int num_figures;
    const char *const *figures;     /* [num_figures] paths relative to RUN/eval */
} eval_report;

/* Writes the report as JSON into path (atomic). */
an_status eval_report_write_json(const eval_report *r, const char *path);

/* Writes the summary, per-class and most-confused tables as an HTML fragment
 * (no <html> wrapper) into path (atomic). */
an_status eval_report_write_tables(const eval_report *r, const char *path);

/* Writes the ten-crop and centre-crop top-1/top-5 errors at the checkpoint's
 * step, and each figure (a PNG under out_dir) as an image, into a new
 * TensorBoard event file in run_dir (common/tb_events.h; docs/train.md).
 * Tags "<split>/ten_crop_top1_error", ..., "<split>/figures/<name>". */
an_status eval_report_write_events(const eval_report *r, const char *run_dir, const char *out_dir);

/* Prints the summary table to out (stdout of alexnet-eval). */
void eval_report_print(const eval_report *r, FILE *out);

#endif
