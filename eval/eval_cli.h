/* eval_cli.h: alexnet-eval's command line: scoring (the default), `report
 * RUN`, `compare [--out DIR] RUN RUN...` and `classify ... IMAGE...`, parsed
 * into one record (docs/eval.md). Kept out of main.c so that the parser can
 * be tested and fuzzed (tests/fuzz/fuzz_eval_cli.c). */
#ifndef ALEXNET_EVAL_CLI_H
#define ALEXNET_EVAL_CLI_H

#include <stdint.h>

#include "cli.h"
#include "cli_options.h"
#include "eval_features.h" /* what this build has: the parser refuses what it lacks */

typedef enum eval_command {
    EVAL_COMMAND_SCORE = 0, /* alexnet-eval --data DIR (--run RUN | --checkpoint FILE) [options] */
    EVAL_COMMAND_REPORT,    /* alexnet-eval report RUN */
    EVAL_COMMAND_COMPARE,   /* alexnet-eval compare [--out DIR] RUN RUN... */
    EVAL_COMMAND_CLASSIFY   /* alexnet-eval classify --checkpoint FILE --data DIR [...] IMAGE... */
} eval_command;

typedef struct eval_cli {
    eval_command command;
    const char *data;       /* score, classify: the dataset directory */
    const char *run;        /* score (optional), report: the run directory */
    const char *checkpoint; /* score (optional), classify */
    const char *split;      /* score: "val" (default) or "train" */
    const char *device;     /* score, classify: "cpu" (default), "cuda", "cuda:N", "auto" */
    const char *out;        /* score: default RUN/eval (NULL here); compare: default "." */
    int batch;              /* score: images per forward pass (default 8) */
    int threads;            /* score, classify: CPU threads; 0: all cores */
    int train_sample;       /* score: training images searched for fc7 neighbours (default 1000) */
    uint64_t limit;         /* score: 0, the whole split */
    int figures;            /* score: draw the §6.1 figures */
    int json;               /* classify: one JSON list */
    char **paths;           /* compare: the runs; classify: the image files (point into argv) */
    int num_paths;
} eval_cli;

extern const cli_program eval_program;
/* The options, one row each (flag, type, range, default, help, the commands that take it). */
extern const cli_table eval_option_table;

/* Parses argv (argv[1] may name a subcommand). Returns 0 to go on, -1 when
 * --help or --version was printed (exit 0), EXIT_USAGE after printing a
 * usage error, or EXIT_RUNTIME when a default does not parse (a broken
 * table). Strings in `a` point into argv. */
int eval_cli_parse(eval_cli *a, int argc, char **argv, const eval_features *have);

#endif
