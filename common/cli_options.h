/* cli_options.h: a program's options as one table, in the manner of darknet's
 * option lists. Each row is one option: its flag, where config.json records
 * it, its type and range, its default and its help. From the table come
 * getopt_long's option array (cli_options_parse), the defaults
 * (cli_options_defaults), the option lines of --help (cli_options_print), and
 * the settings written to config.json (cli_options_record). Adding an option
 * is adding a row (docs/ARCHITECTURE.md, "Options").
 *
 * Values live in the program's own settings struct; a row names its field by
 * offset. A default is text parsed by the row's own parser, so a default
 * outside its range cannot build a program that starts (tests/common/
 * test_cli_options.c runs every table's defaults). */
#ifndef ALEXNET_CLI_OPTIONS_H
#define ALEXNET_CLI_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "json_writer.h"
#include "status.h"

typedef enum cli_type {
    CLI_FLAG,    /* no value: the int field becomes 1 */
    CLI_STRING,  /* const char *, pointing into argv (or at the default's text) */
    CLI_INT,     /* int in [min, max] */
    CLI_U32,     /* uint32_t in [min, max] */
    CLI_U64,     /* uint64_t: any (a seed, a count, a limit), or in [min, max] when max > min */
    CLI_SIZE,    /* size_t in [min, max] */
    CLI_DOUBLE,  /* double in [min, max] */
    CLI_FLOAT,   /* float in [min, max]; config.json: the shortest text of the float */
    CLI_CUSTOM,  /* the row's parse(), and name() for config.json */
    CLI_HELP,    /* --help: prints the usage, the parse returns -1 */
    CLI_VERSION, /* --version: likewise */
    CLI_QUIET,   /* --quiet: warnings and errors only */
    CLI_VERBOSE  /* --verbose */
} cli_type;

typedef struct cli_option {
    const char *flag;       /* "batch" for --batch; NULL: a config.json setting only (never parsed) */
    const char *alias;      /* another flag for the same option, or NULL */
    const char *key;        /* where config.json records it ("training.batch"); NULL: not recorded */
    cli_type type;
    size_t offset;          /* of the field in the settings struct */
    double min, max;        /* CLI_INT, CLI_U32, CLI_SIZE, CLI_DOUBLE, CLI_FLOAT: the accepted range */
    const char *fallback;   /* the default as the text a user would type; NULL: the field's zero */
    const char *value_name; /* "N" of "--batch N"; NULL for options without a value */
    const char *help;       /* --help text; "%D" stands for the default, '\n' starts a continued line;
                             * CLI_HELP: the whole line of the common options ("--quiet, --verbose, ...") */
    /* CLI_CUSTOM: text -> field (AN_ERR_ARG naming the flag on a bad value)... */
    an_status (*parse)(const char *text, void *field);
    /* ...and field -> the text config.json records (NULL: the row is not recorded). */
    const char *(*name)(const void *field);
    unsigned given;         /* bits or-ed into the struct's `given` when the option is on the command line */
    unsigned scope;         /* the program's commands that take it (bits); 0: every command */
} cli_option;

/* One row: the columns every row has, then any of .alias, .parse, .name,
 * .given and .scope as designated initialisers. */
#define CLI_OPTION(flag_, key_, type_, offset_, min_, max_, fallback_, value_name_, help_, ...)                       \
    {.flag = (flag_), .key = (key_), .type = (type_), .offset = (offset_), .min = (min_), .max = (max_),               \
     .fallback = (fallback_), .value_name = (value_name_), .help = (help_), __VA_ARGS__}

#define CLI_NO_GIVEN ((size_t)-1)

typedef struct cli_table {
    const cli_option *rows;
    size_t count;
    size_t given_offset; /* of an `unsigned given` in the settings struct, or CLI_NO_GIVEN */
    int help_column;     /* the column where help texts start */
} cli_table;

/* Every row's default into settings (which the caller zeroes first, for the
 * rows without one); AN_ERR_INTERNAL when a default does not parse (a broken
 * table). */
an_status cli_options_defaults(const cli_table *t, void *settings);

/* getopt_long over argv with the rows whose scope includes `scope` (0: all).
 * Returns 0 to go on, with the operands from optind on; -1 when --help or
 * --version was printed (exit 0); EXIT_USAGE after printing "<what><reason>"
 * and the usage. */
int cli_options_parse(const cli_program *prog, const cli_table *t, unsigned scope, const char *what, void *settings,
                      int argc, char **argv);

/* The option lines of --help: "  --flag VALUE" then the help at help_column. */
void cli_options_print(const cli_table *t, FILE *out);

/* Writes, as members of the object being written, the rows whose key is
 * "<section>.<name>", each as "<name>": value. */
void cli_options_record(const cli_table *t, const char *section, const void *settings, json_writer *w);

#endif
