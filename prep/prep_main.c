/* prep_main.c: alexnet-prep's main: parses the command line (prep_options.c)
 * and runs a prep or one of the subcommands verify, info, merge (docs/prep.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "directory.h"
#include "h5_error.h"
#include "log.h"
#include "prep_finalize.h"
#include "prep_inspect.h"
#include "prep_options.h"
#include "prep_run.h"
#include "prep_source.h"

static an_status load_listing(prep_listing *l, const prep_options *o)
{
    if (strcmp(o->source, "idx") == 0) AN_TRY(prep_source_idx(l, o->input, o->classes_file));
    else if (strcmp(o->source, "folder") == 0) AN_TRY(prep_source_folder(l, o->input, o->classes_file));
    else if (strcmp(o->source, "manifest") == 0) AN_TRY(prep_source_manifest(l, o->input, o->classes_file));
    else {
        const char *classes = o->classes_file ? o->classes_file : ALEXNET_MANIFEST_DIR "/ilsvrc2012_synset_words.txt";
        const char *devkit = o->devkit_file ? o->devkit_file : ALEXNET_MANIFEST_DIR "/ilsvrc2012_devkit_ids.txt";
        AN_TRY(prep_source_imagenet(l, o->input, classes, devkit));
    }
    if (o->train_limit) AN_TRY(prep_listing_limit(&l->split[PREP_TRAIN], o->train_limit, l->num_classes));
    if (o->val_limit) AN_TRY(prep_listing_limit(&l->split[PREP_VAL], o->val_limit, l->num_classes));
    if (l->split[PREP_TRAIN].count == 0)
        return error_set(AN_ERR_ARG, "no training images found under %s", o->input);
    return AN_OK;
}

static void print_summary(const prep_plan *plan, const prep_run_summary *run, const prep_final_summary *fin,
                          const prep_options *o, int finished)
{
    double rate = run->seconds > 0 ? (double)run->decoded / run->seconds : 0;
    log_info("dataset %s (%s): %d train + %d val shards; written %llu, kept %llu (verified)", o->output,
             plan->dataset_id, plan->shards[PREP_TRAIN], plan->shards[PREP_VAL],
             (unsigned long long)run->written_shards, (unsigned long long)run->kept_shards);
    log_info("decoded %llu images in %.1f s: %.1f images/s, %.1f per worker (%d workers); refused %llu",
             (unsigned long long)run->decoded, run->seconds, rate, rate / o->jobs, o->jobs,
             (unsigned long long)run->refused);
    if (finished)
        log_info("train %llu images, val %llu images, %d classes; refused %llu (bad-files.tsv), skipped %llu "
                 "non-image files", (unsigned long long)fin->images[0], (unsigned long long)fin->images[1],
                 plan->num_classes, (unsigned long long)fin->refused, (unsigned long long)fin->skipped);
}

static an_status run_prep(const prep_options *o)
{
    prep_listing listing;
    prep_plan plan;
    memset(&listing, 0, sizeof listing);
    memset(&plan, 0, sizeof plan);
    prep_run_summary run;
    prep_final_summary fin;
    memset(&fin, 0, sizeof fin);
    an_status st = AN_OK;
    AN_TRY_GOTO(st, load_listing(&listing, o), done);
    AN_TRY_GOTO(st, prep_plan_make(&plan, &listing, o), done);
    log_info("%s: %zu train + %zu val images, %d classes, dataset id %s", o->input, plan.count[PREP_TRAIN],
             plan.count[PREP_VAL], plan.num_classes, plan.dataset_id);
    AN_TRY_GOTO(st, directory_make(o->output), done);
    AN_TRY_GOTO(st, prep_plan_store(&plan, o->output), done);
    AN_TRY_GOTO(st, prep_run(&listing, &plan, o, &run), done);
    int whole = o->range_end < 0 || (o->range_begin == 0 && o->range_end >= prep_plan_total_shards(&plan));
    if (whole) AN_TRY_GOTO(st, prep_finalize(o->output, &fin), done);
    print_summary(&plan, &run, &fin, o, whole);
    if (!whole) log_info("shards %d..%d done; run 'alexnet-prep merge %s' when every range is done", o->range_begin,
                         o->range_end - 1, o->output);
done:
    prep_plan_free(&plan);
    prep_listing_free(&listing);
    return st;
}

static int subcommand(prep_command command, const char *dir)
{
    an_status st;
    if (command == PREP_COMMAND_VERIFY) {
        st = prep_verify(dir, stdout);
    } else if (command == PREP_COMMAND_INFO) {
        st = prep_info(dir, stdout);
    } else {
        prep_final_summary fin;
        st = prep_finalize(dir, &fin);
        if (st == AN_OK)
            log_info("merged %s: train %llu, val %llu images, refused %llu", dir, (unsigned long long)fin.images[0],
                     (unsigned long long)fin.images[1], (unsigned long long)fin.refused);
    }
    if (st != AN_OK) {
        log_error("%s", error_message());
        return EXIT_RUNTIME;
    }
    return 0;
}

int main(int argc, char **argv)
{
    /* No blas_runtime_select() here, unlike the other programs: alexnet-prep's
     * only BLAS/LAPACK work is one 3x3 eigen-decomposition, and restarting to
     * pick faster kernels would cost more than it could save. */
    log_set_program(prep_program.name);
    h5_error_init();
    prep_options o;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (prep_options_default(&o, cores > 0 && cores < 4096 ? (int)cores : 1) != AN_OK) {
        log_error("%s", error_message());
        return EXIT_RUNTIME;
    }
    int rc = prep_options_parse(&o, argc, argv);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (o.command != PREP_COMMAND_RUN) return subcommand(o.command, o.output);
    if (image_decode_init(argv[0]) != AN_OK) {
        log_error("%s", error_message());
        return EXIT_RUNTIME;
    }
    an_status st = run_prep(&o);
    image_decode_shutdown();
    if (st != AN_OK) {
        log_error("%s", error_message());
        return EXIT_RUNTIME;
    }
    return 0;
}
