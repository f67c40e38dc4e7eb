/* prep_options.c: alexnet-prep's command line (docs/prep.md) as one table
 * (common/cli_options.h): options, defaults and --help; kept out of
 * prep_main.c so that the parser can be tested and fuzzed
 * (tests/fuzz/fuzz_prep_cli.c). */
#include "prep_options.h"

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>


/* The named settings: text -> field. */
static an_status resize_parse(const char *text, void *field) { return image_resize_parse(text, field); }
static an_status store_parse(const char *text, void *field) { return shard_store_parse(text, field); }
static an_status subsampling_parse(const char *text, void *field)
{
    if (strcmp(text, "420") == 0) *(shard_jpeg_subsampling *)field = SHARD_JPEG_420;
    else if (strcmp(text, "444") == 0) *(shard_jpeg_subsampling *)field = SHARD_JPEG_444;
    else return error_set(AN_ERR_ARG, "--jpeg-subsampling must be 420 or 444, got '%s'", text);
    return AN_OK;
}

static an_status parse_max_bad(const char *text, void *field)
{
    prep_max_bad *out = field;
    size_t n = strlen(text);
    if (n > 0 && text[n - 1] == '%') {
        char number[64];
        if (n > sizeof number) return error_set(AN_ERR_ARG, "--max-bad %.20s... is too long", text);
        snprintf(number, sizeof number, "%.*s", (int)(n - 1), text);
        out->is_percent = 1;
        return cli_parse_double("max-bad", number, 0.0, 100.0, &out->value);
    }
    long v = 0;
    out->is_percent = 0;
    AN_TRY(cli_parse_long("max-bad", text, 0, 2000000000L, &v));
    out->value = (double)v;
    return AN_OK;
}

/* --shard-range A:B into range_begin, range_end (adjacent ints of prep_options). */
static an_status parse_range(const char *text, void *field)
{
    int *begin = field, *end = begin + 1;
    const char *colon = strchr(text, ':');
    if (!colon) return error_set(AN_ERR_ARG, "--shard-range must be A:B, got '%s'", text);
    char a[32];
    if ((size_t)(colon - text) >= sizeof a) return error_set(AN_ERR_ARG, "--shard-range start in '%.40s' is too long", text);
    snprintf(a, sizeof a, "%.*s", (int)(colon - text), text);
    long lo = 0, hi = 0;
    AN_TRY(cli_parse_long("shard-range start", a, 0, 1000000, &lo));
    AN_TRY(cli_parse_long("shard-range end", colon + 1, 1, 1000000, &hi));
    if (hi <= lo) return error_set(AN_ERR_ARG, "--shard-range %s is empty", text);
    *begin = (int)lo;
    *end = (int)hi;
    return AN_OK;
}

#define AT(field) offsetof(prep_options, field)

static const cli_option rows[] = {
    /* flag, config.json key (prep writes none), type, field, min, max, default, value name, help; then .parse */
    CLI_OPTION("source", NULL, CLI_STRING, AT(source), 0, 0, NULL, "KIND",
               "idx (MNIST/Fashion-MNIST files), folder (DIR/train/<class>/,\n"
               "DIR/val/<class>/), imagenet (ILSVRC2012 layout), manifest (a TSV file)"),
    CLI_OPTION("input", NULL, CLI_STRING, AT(input), 0, 0, NULL, "PATH", "the input directory (or manifest file)"),
    CLI_OPTION("output", NULL, CLI_STRING, AT(output), 0, 0, NULL, "DIR",
               "the dataset directory to write (created if missing)"),
    CLI_OPTION("classes", NULL, CLI_STRING, AT(classes_file), 0, 0, NULL, "FILE",
               "class list: one 'id [words]' per line (imagenet: synset words)"),
    CLI_OPTION("devkit", NULL, CLI_STRING, AT(devkit_file), 0, 0, NULL, "FILE",
               "imagenet: the devkit id table 'WNID ID name' (flat val folder)"),
    CLI_OPTION("shard-size", NULL, CLI_SIZE, AT(shard_size), 1, 100000, "1024", "N", "images per shard (default %D)"),
    CLI_OPTION("jobs", NULL, CLI_INT, AT(jobs), 1, 4096, NULL, "N", "worker threads (default: all cores)"),
    CLI_OPTION("resize", NULL, CLI_CUSTOM, AT(decode.resize), 0, 0, "crop", "crop|squash",
               "crop: shorter side to 256, central 256x256 (paper, default);\n"
               "squash: both sides to 256", .parse = resize_parse),
    CLI_OPTION("train-limit", NULL, CLI_U64, AT(train_limit), 0, 0, NULL, "N",
               "keep N training images, class-balanced (default all)"),
    CLI_OPTION("val-limit", NULL, CLI_U64, AT(val_limit), 0, 0, NULL, "N",
               "keep N validation images, class-balanced (default all)"),
    CLI_OPTION("seed", NULL, CLI_U64, AT(seed), 0, 0, "1", "S", "seed of the shard order (default %D)"),
    CLI_OPTION("max-bad", NULL, CLI_CUSTOM, AT(max_bad), 0, 0, "1%", "N|P%",
               "refused images allowed before failing (default %D)", .parse = parse_max_bad),
    CLI_OPTION("max-pixels", NULL, CLI_U64, AT(decode.max_pixels), 0, 0, "100000000", "N",
               "refuse images whose header declares more pixels (default %D)"),
    CLI_OPTION("store", NULL, CLI_CUSTOM, AT(store), 0, 0, "raw", "raw|jpeg",
               "how shards store each 256x256 image: raw pixels (196,608 bytes, default)\n"
               "or re-encoded as JPEG, decoded by the loader (about 8x smaller)", .parse = store_parse),
    CLI_OPTION("jpeg-quality", NULL, CLI_INT, AT(jpeg_quality), 1, 100, "90", "Q",
               "jpeg store: quality 1..100 (default %D)"),
    CLI_OPTION("jpeg-subsampling", NULL, CLI_CUSTOM, AT(jpeg_subsampling), 0, 0, "420", "420|444",
               "jpeg store: chroma subsampling (default %D)", .parse = subsampling_parse),
    CLI_OPTION("shard-range", NULL, CLI_CUSTOM, AT(range_begin), 0, 0, NULL, "A:B",
               "write only global shards A..B-1 (train first, then val); finish\n"
               "with 'alexnet-prep merge DIR' once every range is done", .parse = parse_range),
    CLI_OPTION("quiet", NULL, CLI_QUIET, 0, 0, 0, NULL, NULL, NULL),
    CLI_OPTION("verbose", NULL, CLI_VERBOSE, 0, 0, 0, NULL, NULL, NULL),
    CLI_OPTION("help", NULL, CLI_HELP, 0, 0, 0, NULL, NULL, "--quiet, --verbose, --help, --version"),
    CLI_OPTION("version", NULL, CLI_VERSION, 0, 0, 0, NULL, NULL, NULL),
};

const cli_table prep_option_table = {rows, sizeof rows / sizeof rows[0], CLI_NO_GIVEN, 23};

const cli_program prep_program = {
    "alexnet-prep",
    "Usage: alexnet-prep --source idx|folder|imagenet|manifest --input PATH --output DIR [options]\n"
    "       alexnet-prep verify DIR | info DIR | merge DIR\n"
    "\n"
    "Turns an image collection into a dataset directory: 256x256 RGB images in HDF5\n"
    "shards, with the training set's mean image and RGB eigen decomposition.\n"
    "\n",
    &prep_option_table,
    "\n"
    "Subcommands: verify DIR (every checksum and count), info DIR (summary),\n"
    "merge DIR (statistics and metadata from the shards of all --shard-range runs).\n"};

uint64_t prep_max_bad_allowed(const prep_max_bad *m, uint64_t listed)
{
    if (m->is_percent) return (uint64_t)((double)listed * m->value / 100.0);
    return (uint64_t)m->value;
}

an_status prep_options_default(prep_options *o, int cores)
{
    *o = (prep_options){.range_end = -1, .decode = {.max_file_bytes = IMAGE_DEFAULT_MAX_FILE_BYTES}};
    AN_TRY(cli_options_defaults(&prep_option_table, o));
    o->jobs = cores > 0 ? cores : 1;
    return AN_OK;
}

int prep_options_parse(prep_options *o, int argc, char **argv)
{
    int rc = cli_options_parse(&prep_program, &prep_option_table, 0, "", o, argc, argv);
    if (rc != 0) return rc;
    o->command = PREP_COMMAND_RUN;
    if (optind < argc) {
        const char *cmd = argv[optind];
        if (strcmp(cmd, "verify") == 0) o->command = PREP_COMMAND_VERIFY;
        else if (strcmp(cmd, "info") == 0) o->command = PREP_COMMAND_INFO;
        else if (strcmp(cmd, "merge") == 0) o->command = PREP_COMMAND_MERGE;
        else return cli_usage_error(&prep_program, "unknown subcommand '%s'", cmd);
        if (optind + 2 != argc) return cli_usage_error(&prep_program, "%s takes exactly one DIR", cmd);
        o->output = argv[optind + 1];
        return 0;
    }
    if (!o->source || !o->input || !o->output)
        return cli_usage_error(&prep_program, "--source, --input and --output are required");
    if (strcmp(o->source, "idx") && strcmp(o->source, "folder") && strcmp(o->source, "imagenet") &&
        strcmp(o->source, "manifest"))
        return cli_usage_error(&prep_program, "--source must be idx, folder, imagenet or manifest, got '%s'",
                               o->source);
    return 0;
}
