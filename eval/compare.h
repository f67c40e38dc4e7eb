/* compare.h: `alexnet-eval compare RUN...`, runs side by side (the paper's
 * experiments, docs/experiments.md): for every run its ten-crop and
 * centre-crop top-1/top-5 error (RUN/eval/report.json) with the difference
 * from the first run, the settings of RUN/config.json in which the runs
 * differ, the validation error and training error per epoch overlaid
 * (RUN/metrics.csv), the epochs each needed to reach 25 % training error
 * (Figure 1, §3.1), and the training time. Writes OUT/compare.html (one
 * static page) and OUT/compare.json. Runs scored on different datasets,
 * splits or numbers of images are refused: their numbers do not compare. */
#ifndef ALEXNET_EVAL_COMPARE_H
#define ALEXNET_EVAL_COMPARE_H

#include <stddef.h>

#include "metrics_csv.h" /* run/ */
#include "status.h"

/* Figure 1's mark: "the number of epochs to reach 25 % training error" (§3.1). */
#define COMPARE_TARGET_TRAIN_ERROR 0.25

/* The training top-1 error of each epoch from a metrics table: the mean of
 * the epoch's "train" rows weighted by the steps each row covers (its step
 * minus the previous row's). per_epoch [max_epochs], NaN for an epoch without
 * rows; *epochs = the last epoch with a row. */
void compare_train_error_per_epoch(const metrics_table *t, double *per_epoch, int max_epochs, int *epochs);

/* The first epoch (1-based) whose training error is at most target; 0 when none is. */
int compare_epochs_to_error(const double *per_epoch, int epochs, double target);

/* Compares count >= 2 runs; writes out_dir/compare.html and out_dir/compare.json. */
an_status compare_runs(const char *const *run_dirs, int count, const char *out_dir);

#endif
