/* trainer.h: the training loop of alexnet-train (§5): SGD with momentum and
 * weight decay over the loader's batches, validation every epoch driving the
 * learning-rate schedule, checkpoints (every epoch, every --checkpoint-minutes,
 * on a stop signal) that resume exactly, and data parallelism across MPI
 * processes. Only rank 0 writes the run directory. */
#ifndef ALEXNET_TRAINER_H
#define ALEXNET_TRAINER_H

#include <stdint.h>

#include "replicas.h"
#include "run_dir.h"
#include "status.h"
#include "train_options.h"

typedef struct train_summary {
    uint64_t steps;              /* global steps at the end */
    uint64_t steps_this_run;     /* steps taken by this process invocation */
    uint32_t epochs_done;
    double seconds;              /* wall time of this invocation's training loop */
    double images_per_s;
    double loader_wait_fraction; /* share of the loop spent waiting for batches */
    double best_val_error;       /* top-1, centre crop; 2.0 if never validated */
    int best_epoch;
    int interrupted;             /* stopped by SIGINT/SIGTERM */
    char last_checkpoint[RUN_PATH_MAX];
} train_summary;

/* On --resume, before any device is opened: the run's precision, from its
 * latest checkpoint's trainer state, is the one it resumes with. A
 * --precision on the command line that differs is refused (AN_ERR_ARG), as is
 * the run's precision on a device that cannot compute it (AN_ERR_UNSUPPORTED,
 * backend_precision_check); without --precision, opt->precision becomes the
 * run's. Both are usage errors (main exits 2). A run without a readable
 * `latest` is left to train_run, which says so. Without --resume: AN_OK. */
an_status train_resume_precision(train_options *opt, const replicas *world);

an_status train_run(const train_options *opt, const replicas *world, train_summary *summary);

#endif
