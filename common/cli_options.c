/* cli_options.c: options from one table (cli_options.h). */
#include "cli_options.h"

#include <getopt.h>
#include <string.h>

#include "log.h"

#define CLI_MAX_FLAGS 96 /* getopt_long entries (flags and aliases) of one program */

static void *field_of(void *settings, const cli_option *o) { return (char *)settings + o->offset; }
static const void *const_field_of(const void *settings, const cli_option *o)
{
    return (const char *)settings + o->offset;
}

static int takes_value(cli_type type)
{
    return type != CLI_FLAG && type != CLI_HELP && type != CLI_VERSION && type != CLI_QUIET && type != CLI_VERBOSE;
}

/* One value into the row's field; AN_ERR_ARG naming the flag when malformed or out of range. */
static an_status parse_value(const cli_option *o, const char *text, void *settings)
{
    void *field = field_of(settings, o);
    const char *name = o->flag ? o->flag : o->key;
    long n = 0;
    double d = 0;
    switch (o->type) {
    case CLI_FLAG: *(int *)field = 1; return AN_OK;
    case CLI_STRING: *(const char **)field = text; return AN_OK;
    case CLI_INT:
        AN_TRY(cli_parse_long(name, text, (long)o->min, (long)o->max, &n));
        *(int *)field = (int)n;
        return AN_OK;
    case CLI_U32:
        AN_TRY(cli_parse_long(name, text, (long)o->min, (long)o->max, &n));
        *(uint32_t *)field = (uint32_t)n;
        return AN_OK;
    case CLI_SIZE:
        AN_TRY(cli_parse_long(name, text, (long)o->min, (long)o->max, &n));
        *(size_t *)field = (size_t)n;
        return AN_OK;
    case CLI_U64:
        if (!(o->max > o->min)) return cli_parse_u64(name, text, (uint64_t *)field); /* any */
        AN_TRY(cli_parse_long(name, text, (long)o->min, (long)o->max, &n));
        *(uint64_t *)field = (uint64_t)n;
        return AN_OK;
    case CLI_DOUBLE: return cli_parse_double(name, text, o->min, o->max, (double *)field);
    case CLI_FLOAT:
        AN_TRY(cli_parse_double(name, text, o->min, o->max, &d));
        *(float *)field = (float)d;
        return AN_OK;
    case CLI_CUSTOM: return o->parse(text, field);
    case CLI_HELP: case CLI_VERSION: case CLI_QUIET: case CLI_VERBOSE: return AN_OK;
    }
    return error_set(AN_ERR_INTERNAL, "option --%s has an unknown type %d", name, (int)o->type);
}

an_status cli_options_defaults(const cli_table *t, void *settings)
{
    for (size_t i = 0; i < t->count; i++) {
        const cli_option *o = &t->rows[i];
        if (!o->fallback) continue;
        an_status st = parse_value(o, o->fallback, settings);
        if (st != AN_OK)
            return error_set(AN_ERR_INTERNAL, "the default of --%s does not parse: %s", o->flag ? o->flag : o->key,
                             error_message());
    }
    return AN_OK;
}

static int in_scope(const cli_option *o, unsigned scope)
{
    return o->flag && (!scope || !o->scope || (o->scope & scope));
}

int cli_options_parse(const cli_program *prog, const cli_table *t, unsigned scope, const char *what, void *settings,
                      int argc, char **argv)
{
    struct option longopts[CLI_MAX_FLAGS + 1];
    int n = 0;
    for (size_t i = 0; i < t->count; i++) {
        const cli_option *o = &t->rows[i];
        if (!in_scope(o, scope)) continue;
        for (int k = 0; k < 2; k++) {
            const char *flag = k == 0 ? o->flag : o->alias;
            if (!flag) continue;
            if (n == CLI_MAX_FLAGS) return cli_usage_error(prog, "internal error: more than %d options", CLI_MAX_FLAGS);
            longopts[n++] = (struct option){flag, takes_value(o->type) ? required_argument : no_argument, NULL,
                                            256 + (int)i};
        }
    }
    longopts[n] = (struct option){NULL, 0, NULL, 0};
    optind = 0; /* start afresh, forgetting any earlier parse (glibc and musl); 1 would keep
                 * glibc's pointer into the previous argv after a bad "-ab" */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c < 256 || c >= 256 + (int)t->count) {
            const char *bad = argv[optind - 1];
            return cli_usage_error(prog, "%sunknown option or missing value: %s", what, bad ? bad : "?");
        }
        const cli_option *o = &t->rows[c - 256];
        switch (o->type) {
        case CLI_HELP: cli_print_help(prog); return -1;
        case CLI_VERSION: cli_print_version(prog); return -1;
        case CLI_QUIET: log_set_level(LOG_WARN); continue;
        case CLI_VERBOSE: log_set_level(LOG_VERBOSE); continue;
        default: break;
        }
        if (parse_value(o, optarg, settings) != AN_OK) return cli_usage_error(prog, "%s%s", what, error_message());
        if (t->given_offset != CLI_NO_GIVEN) *(unsigned *)((char *)settings + t->given_offset) |= o->given;
    }
    return 0;
}

void cli_options_print(const cli_table *t, FILE *out)
{
    for (size_t i = 0; i < t->count; i++) {
        const cli_option *o = &t->rows[i];
        if (!o->flag || !o->help) continue;
        if (o->type == CLI_HELP) { /* the line of the common options, as the table words it */
            fprintf(out, "  %s\n", o->help);
            continue;
        }
        int width = fprintf(out, "  --%s%s%s", o->flag, o->value_name ? " " : "", o->value_name ? o->value_name : "");
        fprintf(out, "%*s", width < t->help_column ? t->help_column - width : 3, "");
        for (const char *p = o->help; *p; p++) {
            if (p[0] == '%' && p[1] == 'D') {
                fputs(o->fallback ? o->fallback : "", out);
                p++;
            } else if (*p == '\n') {
                fprintf(out, "\n%*s", t->help_column, "");
            } else {
                fputc(*p, out);
            }
        }
        fputc('\n', out);
    }
}

void cli_options_record(const cli_table *t, const char *section, const void *settings, json_writer *w)
{
    size_t len = strlen(section);
    for (size_t i = 0; i < t->count; i++) {
        const cli_option *o = &t->rows[i];
        if (!o->key || strncmp(o->key, section, len) != 0 || o->key[len] != '.') continue;
        const char *name = o->key + len + 1;
        const void *field = const_field_of(settings, o);
        switch (o->type) {
        case CLI_FLAG: json_kv_bool(w, name, *(const int *)field); break;
        case CLI_STRING:
            if (*(const char *const *)field) json_kv_string(w, name, *(const char *const *)field);
            else {
                json_key(w, name);
                json_null(w);
            }
            break;
        case CLI_INT: json_kv_int(w, name, *(const int *)field); break;
        case CLI_U32: json_kv_int(w, name, *(const uint32_t *)field); break;
        case CLI_SIZE: json_kv_int(w, name, (int64_t)*(const size_t *)field); break;
        case CLI_U64: json_kv_int(w, name, (int64_t)*(const uint64_t *)field); break;
        case CLI_DOUBLE: json_kv_double(w, name, *(const double *)field); break;
        case CLI_FLOAT: json_kv_float(w, name, *(const float *)field); break;
        case CLI_CUSTOM:
            if (o->name) json_kv_string(w, name, o->name(field));
            break;
        case CLI_HELP: case CLI_VERSION: case CLI_QUIET: case CLI_VERBOSE: break;
        }
    }
}
