/* prep_options.h: alexnet-prep's settings and their command line, one table (prep_options.c). */
#ifndef ALEXNET_PREP_OPTIONS_H
#define ALEXNET_PREP_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "cli_options.h"
#include "image_decode.h"
#include "shard_format.h"
#include "shard_jpeg.h"

typedef struct prep_max_bad {
    int is_percent;    /* 1: `value` is a percentage of the listed images */
    double value;      /* a count or a percentage */
} prep_max_bad;

/* What the command line asks for: a prep, or a subcommand on a dataset directory. */
typedef enum prep_command {
    PREP_COMMAND_RUN = 0, PREP_COMMAND_VERIFY, PREP_COMMAND_INFO, PREP_COMMAND_MERGE
} prep_command;

typedef struct prep_options {
    prep_command command;
    const char *source;        /* idx, folder, imagenet, manifest */
    const char *input;
    const char *output;        /* the dataset directory (also the subcommands' DIR) */
    const char *classes_file;  /* optional */
    const char *devkit_file;   /* imagenet: devkit id table (optional, default manifests/) */
    size_t shard_size;         /* images per shard (default 1024) */
    int jobs;                  /* worker threads (default: all cores) */
    image_decode_options decode;
    uint64_t train_limit, val_limit; /* 0: all */
    uint64_t seed;
    prep_max_bad max_bad;
    int range_begin, range_end;      /* global shard range [begin, end); end < 0: all */
    shard_store store;               /* raw pixels (default) or JPEG streams (docs/prep.md, "Stores") */
    int jpeg_quality;                /* jpeg store: 1..100 (default SHARD_JPEG_DEFAULT_QUALITY) */
    shard_jpeg_subsampling jpeg_subsampling; /* jpeg store: 4:2:0 (default) or 4:4:4 */
} prep_options;

extern const cli_program prep_program;
/* The options, one row each: flag, type, range, default, help (common/cli_options.h). */
extern const cli_table prep_option_table;

/* The defaults (docs/prep.md), with `cores` worker threads. */
an_status prep_options_default(prep_options *o, int cores);

/* Parses argv into `o` (which holds the defaults), checking each value and
 * that a prep names --source, --input and --output. Returns 0 to go on, -1
 * when --help or --version was printed (exit 0), or EXIT_USAGE after printing
 * a usage error. Strings in `o` point into argv. */
int prep_options_parse(prep_options *o, int argc, char **argv);

/* The refusal limit for `listed` images: the largest allowed refused count. */
uint64_t prep_max_bad_allowed(const prep_max_bad *m, uint64_t listed);

#endif
