/* run_dir.h: the run directory of one experiment (docs/FORMAT.md §3), which
 * alexnet-train writes and alexnet-eval reads and adds to.
 *
 *   RUN/config.json            every setting, the dataset id, the program version
 *   RUN/metrics.csv            one row per --log-every steps (split "train") and per epoch ("val")
 *   RUN/log                    the program's log, appended
 *   RUN/checkpoints/ckpt-EEEE-SSSSSSSSS.h5   E = epochs completed, S = global step
 *   RUN/checkpoints/best.h5    a hard link to the checkpoint of the best validation error
 *   RUN/checkpoints/latest     the file name of the newest complete checkpoint, one line
 *   RUN/eval/                  alexnet-eval's report.json, tables.html, figures/
 *   RUN/report.html            the page alexnet-eval draws from all of the above
 *
 * `latest` is replaced atomically, and only after its checkpoint has been
 * written, fsynced and renamed into place: whatever stops the program (kill
 * -9, power loss, a full disk), `latest` names a complete file.
 */
#ifndef ALEXNET_RUN_DIR_H
#define ALEXNET_RUN_DIR_H

#include <stdint.h>
#include <stdio.h>

#include "status.h"

#define RUN_PATH_MAX 4096

/* The names of the run's files, relative to RUN. */
#define RUN_CONFIG_FILE "config.json"
#define RUN_METRICS_FILE "metrics.csv"
#define RUN_LOG_FILE "log"
#define RUN_EVAL_DIR "eval"
#define RUN_REPORT_FILE "eval/report.json"
#define RUN_TABLES_FILE "eval/tables.html"
#define RUN_FIGURES_DIR "eval/figures"
#define RUN_PAGE_FILE "report.html"

/* "RUN/NAME" into out (NAME one of the RUN_*_FILE names above, or below them). */
an_status run_dir_file(const char *run, const char *name, char *out, size_t size);

/* AN_OK when dir is a run directory (it has config.json); else an error
 * saying that it is not one (`alexnet-eval report DIR`, `compare`). */
an_status run_dir_check(const char *dir);

/* Creates RUN and RUN/checkpoints. A run that already has a checkpoint is
 * refused unless resuming (so a typo cannot overwrite an experiment). */
an_status run_dir_prepare(const char *run, int resume);

/* "RUN/checkpoints/NAME" into out. */
an_status run_dir_checkpoint_path(const char *run, const char *name, char *out, size_t size);

/* The checkpoint `latest` names, as a full path. AN_ERR_IO when there is none. */
an_status run_dir_latest(const char *run, char *path, size_t size);

/* The checkpoint a run is scored with: RUN/checkpoints/best.h5, else the one
 * `latest` names. AN_ERR_IO saying to train first when there is neither. */
an_status run_dir_scored_checkpoint(const char *run, char *path, size_t size);

/* After checkpoint_save wrote RUN/checkpoints/NAME completely: points
 * `latest` at it, links best.h5 to it when is_best, and removes the oldest
 * ckpt-*.h5 beyond `keep` (never the ones `latest` or best.h5 name). */
an_status run_dir_commit_checkpoint(const char *run, const char *name, int is_best, int keep);

/* "ckpt-EEEE-SSSSSSSSS.h5" for (epochs completed, global step). */
void run_dir_checkpoint_name(uint32_t epochs_done, uint64_t global_step, char *out, size_t size);

/* Opens RUN/metrics.csv for appending, writing the header if the file is new.
 * On a resume, rows of steps after `keep_through_step` (written by the
 * interrupted process after its last checkpoint) are dropped first. */
an_status run_dir_open_metrics(const char *run, int resume, uint64_t keep_through_step, FILE **out);

/* The CSV header (documented in docs/FORMAT.md §3). */
extern const char run_dir_metrics_header[];

#endif
