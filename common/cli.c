/* cli.c: usage errors, --help, --version and strict option-value parsing. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>

#include "cli_options.h"
#include "version.h"

/* The --help text: the usage, the option lines, the epilogue. */
static void print_usage(const cli_program *prog, FILE *out)
{
    fputs(prog->usage, out);
    if (prog->options) cli_options_print(prog->options, out);
    if (prog->epilogue) fputs(prog->epilogue, out);
}

static int usage_brief; /* cli_usage_brief */

void cli_usage_brief(int brief) { usage_brief = brief != 0; }

int cli_usage_error(const cli_program *prog, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog->name);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (usage_brief) return EXIT_USAGE;
    print_usage(prog, stderr);
    fprintf(stderr, "Try '%s --help' for more information.\n", prog->name);
    return EXIT_USAGE;
}

void cli_print_help(const cli_program *prog) { print_usage(prog, stdout); }

void cli_print_version(const cli_program *prog)
{
    printf("%s %s (backends: %s)\n", prog->name, ALEXNET_VERSION, ALEXNET_BACKENDS);
}

an_status cli_parse_long(const char *option, const char *text, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || errno == ERANGE)
        return error_set(AN_ERR_ARG, "--%s expects a whole number, got '%s'", option, text);
    if (v < min || v > max)
        return error_set(AN_ERR_ARG, "--%s must be between %ld and %ld, got %ld", option, min, max, v);
    *out = v;
    return AN_OK;
}

an_status cli_parse_u64(const char *option, const char *text, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (text[0] == '-' || text[0] == '\0')
        return error_set(AN_ERR_ARG, "--%s expects a non-negative whole number, got '%s'", option, text);
    unsigned long long v = strtoull(text, &end, 0);
    if (*end != '\0' || errno == ERANGE)
        return error_set(AN_ERR_ARG, "--%s expects a non-negative whole number, got '%s'", option, text);
    *out = (uint64_t)v;
    return AN_OK;
}

an_status cli_parse_double(const char *option, const char *text, double min, double max, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (text[0] == '\0' || *end != '\0' || errno == ERANGE || !isfinite(v))
        return error_set(AN_ERR_ARG, "--%s expects a number, got '%s'", option, text);
    if (v < min || v > max)
        return error_set(AN_ERR_ARG, "--%s must be between %g and %g, got %g", option, min, max, v);
    *out = v;
    return AN_OK;
}
