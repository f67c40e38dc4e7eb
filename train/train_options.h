/* train_options.h: alexnet-train's settings, their command line and what
 * config.json records of them: one table (train_options.c, common/cli_options.h). */
#ifndef ALEXNET_TRAIN_OPTIONS_H
#define ALEXNET_TRAIN_OPTIONS_H

#include <stdint.h>

#include "augment.h"
#include "backend_select.h"
#include "cli.h"
#include "cli_options.h"
#include "net.h"
#include "parallel_mode.h"
#include "status.h"

/* Bits of train_options.given: options that shape the trajectory and so
 * must agree with the checkpoint on --resume. */
enum {
    TRAIN_GIVEN_BATCH = 1 << 0, TRAIN_GIVEN_WIDTH = 1 << 1, TRAIN_GIVEN_SEED = 1 << 2,
    TRAIN_GIVEN_LR = 1 << 3, TRAIN_GIVEN_PATIENCE = 1 << 4, TRAIN_GIVEN_LR_STEPS = 1 << 5,
    TRAIN_GIVEN_MOMENTUM = 1 << 6, TRAIN_GIVEN_WEIGHT_DECAY = 1 << 7, TRAIN_GIVEN_NET = 1 << 8,
    TRAIN_GIVEN_AUGMENT = 1 << 9, TRAIN_GIVEN_PRECISION = 1 << 10, TRAIN_GIVEN_REPRODUCIBLE = 1 << 11
};

typedef struct train_options {
    const char *data_dir, *run_dir;
    int epochs;              /* 90 (§5) */
    uint32_t batch;          /* global batch, 128 (§5) */
    const char *device;      /* --devices: auto, cpu, cuda, cuda:N or a list (kernels/backend_select.h) */
    int resume;
    uint64_t seed;
    double lr;               /* 0.01 (§5) */
    int patience;            /* epochs without improvement before lr /= 10 */
    const char *lr_steps;    /* "a,b,c" or NULL */
    float momentum;          /* 0.9 (§5) */
    float weight_decay;      /* 0.0005 (§5) */
    uint32_t val_limit;      /* 0: the whole validation split */
    double checkpoint_minutes; /* 0: only at epoch ends (and on stop) */
    uint64_t checkpoint_steps; /* 0: off */
    int keep;                /* last K checkpoints kept, >= 2 */
    int threads;             /* compute threads; 0: all cores */
    int loader_threads;
    int queue_depth;         /* batches prefetched */
    uint64_t log_every;      /* steps between metrics rows */
    uint64_t max_steps;      /* 0: no limit; stop (with a checkpoint) after this global step */
    int no_events;           /* --no-events: no TensorBoard event file */
    net_config net;          /* width (the channel multiplier, 1.0 = the paper), LRN, init, dropout, pooling,
                              * towers, activation; num_classes from the dataset */
    augment_mode augment;    /* §4.1: full (default), no-lighting or centre */
    backend_precision precision; /* --precision: fp32 (default, the CPU's only one), tf32 or bf16 on a GPU */
    int reproducible;        /* --reproducible: gradients summed in grad_tree.h's fixed tree */
    parallel_mode parallel;  /* --parallel: data (default), towers or hybrid (parallel_mode.h) */
    int print_parallel_plan; /* --print-parallel-plan: the table of the modes for this network and batch, then exit */
    unsigned given;          /* TRAIN_GIVEN_* bits of options on the command line */
} train_options;

extern const cli_program train_program;
/* The options, one row each: flag, config.json key, type, range, default, help. */
extern const cli_table train_option_table;

/* The defaults (§5, docs/train.md). */
an_status train_options_default(train_options *o);

/* Writes the settings config.json records under `section` (RUN_CONFIG_*,
 * run/run_config.h) as members of the object being written. */
void train_options_record(const train_options *o, const char *section, json_writer *w);

/* Parses argv. Returns 0 to go on, -1 when --help or --version was printed
 * (exit 0), or EXIT_USAGE after printing a usage error. */
int train_options_parse(train_options *o, int argc, char **argv);

/* With --reproducible, the checks that need the number of processes (and
 * of the devices --devices lists one by one): 0 to go on, or EXIT_USAGE
 * after printing a usage error. The devices of `cuda` or `auto` are counted
 * when they are opened (trainer_setup). */
int train_options_check_world(const train_options *o, int processes);

#endif
