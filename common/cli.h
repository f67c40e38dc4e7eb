/* cli.h: the command-line conventions shared by alexnet-prep, -train and -eval.
 *
 * Every program takes --help, --version, --quiet and --verbose, uses long
 * options (getopt_long), and exits with:
 *   0  success;  1  a runtime failure (message on stderr);
 *   2  a usage error: an unknown or malformed option prints a one-line reason
 *      and the usage.
 */
#ifndef ALEXNET_CLI_H
#define ALEXNET_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "status.h"

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

struct cli_table;

typedef struct cli_program {
    const char *name;  /* "alexnet-prep" */
    const char *usage; /* the --help text before the options, starting with "Usage: ..." */
    const struct cli_table *options; /* the option lines of --help (cli_options.h); NULL: none */
    const char *epilogue;            /* the --help text after the options; NULL: none */
} cli_program;

/* Prints "NAME: <reason>" and the usage (the --help text) to stderr; returns EXIT_USAGE for main() to return. */
int cli_usage_error(const cli_program *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* From now on cli_usage_error prints the reason line alone (brief 1), or with the usage (0, the default):
 * the processes of an mpirun other than rank 0, whose usage would repeat rank 0's. */
void cli_usage_brief(int brief);
/* Prints the usage to stdout (for --help). */
void cli_print_help(const cli_program *prog);
/* Prints "NAME VERSION" and the build's backends to stdout (for --version). */
void cli_print_version(const cli_program *prog);

/* Strict number parsers for option values: the whole text must be a number
 * in [min, max]; otherwise AN_ERR_ARG with a message naming the option. */
an_status cli_parse_long(const char *option, const char *text, long min, long max, long *out);
an_status cli_parse_u64(const char *option, const char *text, uint64_t *out);
an_status cli_parse_double(const char *option, const char *text, double min, double max, double *out);

#endif
