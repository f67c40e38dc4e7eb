/* main.c: alexnet-train, the command. Parses options, starts MPI when run by
 * mpirun, trains, prints the summary; exit 0 (done, or stopped cleanly by a
 * signal), 1 (a runtime failure), 2 (a usage error). */
#include <stdio.h>

#include "blas_runtime.h"
#include "log.h"
#include "backend_select.h"
#include "replicas.h"
#include "trainer.h"
#include "train_options.h"

static int fail(replicas *world, int code)
{
    log_error("%s", error_message());
    replicas_abort(world, code);
    replicas_finalize(world);
    return code;
}

int main(int argc, char **argv)
{
    blas_runtime_select(argc, argv); /* first: may re-execute with OPENBLAS_CORETYPE set */
    log_set_program(train_program.name);
    replicas world;
    if (replicas_init(&world, &argc, &argv) != AN_OK) {
        log_error("%s", error_message());
        return EXIT_RUNTIME;
    }
    if (world.rank != 0) cli_usage_brief(1); /* rank 0 prints the usage of a usage error, once */
    train_options opt;
    if (train_options_default(&opt) != AN_OK) return fail(&world, EXIT_RUNTIME);
    int parsed = train_options_parse(&opt, argc, argv);
    if (parsed != 0) {
        replicas_finalize(&world);
        return parsed < 0 ? 0 : parsed;
    }
    if (opt.print_parallel_plan) {
        opt.net.num_classes = 1000; /* ILSVRC's; the dataset is not read */
        an_status st = parallel_plan_print(stdout, &opt.net, (int)opt.batch);
        replicas_finalize(&world);
        if (st != AN_OK) log_error("%s", error_message());
        return st == AN_OK ? 0 : EXIT_RUNTIME;
    }
    parsed = train_options_check_world(&opt, world.size);
    if (parsed != 0) {
        replicas_finalize(&world);
        return parsed;
    }
    if (world.rank != 0 && log_get_level() > LOG_WARN) log_set_level(LOG_WARN); /* rank 0 speaks for all */
    log_verbose("%s", blas_runtime_describe());

    opt.threads = backend_cpu_threads_each(opt.threads, 1); /* 0: all cores; the backends take it (device_group.c) */

    /* before any device opens: a resume runs at its run's precision (a usage error otherwise) */
    an_status resumed = train_resume_precision(&opt, &world);
    if (resumed != AN_OK)
        return fail(&world, resumed == AN_ERR_ARG || resumed == AN_ERR_UNSUPPORTED ? EXIT_USAGE : EXIT_RUNTIME);
    train_summary summary;
    if (train_run(&opt, &world, &summary) != AN_OK) {
        if (world.rank == 0 && summary.last_checkpoint[0])
            log_info("the last complete checkpoint is %s", summary.last_checkpoint);
        return fail(&world, EXIT_RUNTIME);
    }
    if (world.rank == 0) {
        if (summary.interrupted)
            log_info("stopped by a signal after step %llu; checkpoint %s; continue with --resume",
                     (unsigned long long)summary.steps, summary.last_checkpoint);
        char best[96] = "no validation yet";
        if (summary.best_epoch > 0)
            snprintf(best, sizeof best, "best validation top-1 error %.4f (epoch %d)", summary.best_val_error,
                     summary.best_epoch);
        log_info("done: %llu steps this run (global step %llu, %u epochs) in %.1f s, %.1f images/s, "
                 "%.1f%% of the time waiting for data; %s; last checkpoint %s",
                 (unsigned long long)summary.steps_this_run, (unsigned long long)summary.steps, summary.epochs_done,
                 summary.seconds, summary.images_per_s, 100.0 * summary.loader_wait_fraction, best,
                 summary.last_checkpoint[0] ? summary.last_checkpoint : "(none)");
    }
    replicas_finalize(&world);
    return 0;
}
