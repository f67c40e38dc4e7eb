/* prep_options.c: alexnet-prep's command line (docs/prep.md): its usage
 * text, defaults and parser, kept out of prep_main.c so that the parser can
 * be tested and fuzzed (tests/fuzz/fuzz_prep_cli.c). */
#include "prep_options.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

const cli_program prep_program = {
    "alexnet-prep",
    "Usage: alexnet-prep --source idx|folder|imagenet|manifest --input PATH --output DIR [options]\n"
    "       alexnet-prep verify DIR | info DIR | merge DIR\n"
    "\n"
    "Turns an image collection into a dataset directory: 256x256 RGB images in HDF5\n"
    "shards, with the training set's mean image and RGB eigen decomposition.\n"
    "\n"
    "  --source KIND        idx (MNIST/Fashion-MNIST files), folder (DIR/train/<class>/,\n"
    "                       DIR/val/<class>/), imagenet (ILSVRC2012 layout), manifest (a TSV file)\n"
    "  --input PATH         the input directory (or manifest file)\n"
    "  --output DIR         the dataset directory to write (created if missing)\n"
    "  --classes FILE       class list: one 'id [words]' per line (imagenet: synset words)\n"
    "  --devkit FILE        imagenet: the devkit id table 'WNID ID name' (flat val folder)\n"
    "  --shard-size N       images per shard (default 1024)\n"
    "  --jobs N             worker threads (default: all cores)\n"
    "  --resize crop|squash crop: shorter side to 256, central 256x256 (paper, default);\n"
    "                       squash: both sides to 256\n"
    "  --train-limit N      keep N training images, class-balanced (default all)\n"
    "  --val-limit N        keep N validation images, class-balanced (default all)\n"
    "  --seed S             seed of the shard order (default 1)\n"
    "  --max-bad N|P%       refused images allowed before failing (default 1%)\n"
    "  --max-pixels N       refuse images whose header declares more pixels (default 100000000)\n"
    "  --store raw|jpeg     how shards store each 256x256 image: raw pixels (196,608 bytes, default)\n"
    "                       or re-encoded as JPEG, decoded by the loader (about 8x smaller)\n"
    "  --jpeg-quality Q     jpeg store: quality 1..100 (default 90)\n"
    "  --jpeg-subsampling 420|444  jpeg store: chroma subsampling (default 420)\n"
    "  --shard-range A:B    write only global shards A..B-1 (train first, then val); finish\n"
    "                       with 'alexnet-prep merge DIR' once every range is done\n"
    "  --quiet, --verbose, --help, --version\n"
    "\n"
    "Subcommands: verify DIR (every checksum and count), info DIR (summary),\n"
    "merge DIR (statistics and metadata from the shards of all --shard-range runs).\n"};

enum { OPT_SOURCE = 256, OPT_INPUT, OPT_OUTPUT, OPT_CLASSES, OPT_DEVKIT, OPT_SHARD_SIZE, OPT_JOBS, OPT_RESIZE,
       OPT_TRAIN_LIMIT, OPT_VAL_LIMIT, OPT_SEED, OPT_MAX_BAD, OPT_MAX_PIXELS, OPT_RANGE, OPT_STORE,
       OPT_JPEG_QUALITY, OPT_JPEG_SUBSAMPLING };

static const struct option long_options[] = {
    {"source", required_argument, 0, OPT_SOURCE}, {"input", required_argument, 0, OPT_INPUT},
    {"output", required_argument, 0, OPT_OUTPUT}, {"classes", required_argument, 0, OPT_CLASSES},
    {"devkit", required_argument, 0, OPT_DEVKIT}, {"shard-size", required_argument, 0, OPT_SHARD_SIZE},
    {"jobs", required_argument, 0, OPT_JOBS}, {"resize", required_argument, 0, OPT_RESIZE},
    {"train-limit", required_argument, 0, OPT_TRAIN_LIMIT}, {"val-limit", required_argument, 0, OPT_VAL_LIMIT},
    {"seed", required_argument, 0, OPT_SEED}, {"max-bad", required_argument, 0, OPT_MAX_BAD},
    {"max-pixels", required_argument, 0, OPT_MAX_PIXELS}, {"shard-range", required_argument, 0, OPT_RANGE},
    {"store", required_argument, 0, OPT_STORE}, {"jpeg-quality", required_argument, 0, OPT_JPEG_QUALITY},
    {"jpeg-subsampling", required_argument, 0, OPT_JPEG_SUBSAMPLING},
    {"quiet", no_argument, 0, 'q'}, {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'},
    {"version", no_argument, 0, 'V'}, {0, 0, 0, 0}};

static an_status parse_max_bad(const char *text, prep_max_bad *out)
{
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

static an_status parse_range(const char *text, int *begin, int *end)
{
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

static an_status parse_option(int c, const char *arg, prep_options *o)
{
    long v = 0;
    uint64_t u = 0;
    switch (c) {
    case OPT_SOURCE: o->source = arg; return AN_OK;
    case OPT_INPUT: o->input = arg; return AN_OK;
    case OPT_OUTPUT: o->output = arg; return AN_OK;
    case OPT_CLASSES: o->classes_file = arg; return AN_OK;
    case OPT_DEVKIT: o->devkit_file = arg; return AN_OK;
    case OPT_SHARD_SIZE: AN_TRY(cli_parse_long("shard-size", arg, 1, 100000, &v)); o->shard_size = (size_t)v; return AN_OK;
    case OPT_JOBS: AN_TRY(cli_parse_long("jobs", arg, 1, 4096, &v)); o->jobs = (int)v; return AN_OK;
    case OPT_RESIZE: return image_resize_parse(arg, &o->decode.resize);
    case OPT_TRAIN_LIMIT: AN_TRY(cli_parse_u64("train-limit", arg, &u)); o->train_limit = u; return AN_OK;
    case OPT_VAL_LIMIT: AN_TRY(cli_parse_u64("val-limit", arg, &u)); o->val_limit = u; return AN_OK;
    case OPT_SEED: return cli_parse_u64("seed", arg, &o->seed);
    case OPT_MAX_BAD: return parse_max_bad(arg, &o->max_bad);
    case OPT_MAX_PIXELS: return cli_parse_u64("max-pixels", arg, &o->decode.max_pixels);
    case OPT_RANGE: return parse_range(arg, &o->range_begin, &o->range_end);
    case OPT_STORE: return shard_store_parse(arg, &o->store);
    case OPT_JPEG_QUALITY: AN_TRY(cli_parse_long("jpeg-quality", arg, 1, 100, &v)); o->jpeg_quality = (int)v; return AN_OK;
    case OPT_JPEG_SUBSAMPLING:
        if (strcmp(arg, "420") == 0) o->jpeg_subsampling = SHARD_JPEG_420;
        else if (strcmp(arg, "444") == 0) o->jpeg_subsampling = SHARD_JPEG_444;
        else return error_set(AN_ERR_ARG, "--jpeg-subsampling must be 420 or 444, got '%s'", arg);
        return AN_OK;
    }
    return error_set(AN_ERR_ARG, "unknown option");
}

uint64_t prep_max_bad_allowed(const prep_max_bad *m, uint64_t listed)
{
    if (m->is_percent) return (uint64_t)((double)listed * m->value / 100.0);
    return (uint64_t)m->value;
}

void prep_options_default(prep_options *o, int cores)
{
    *o = (prep_options){.shard_size = 1024, .jobs = cores > 0 ? cores : 1, .seed = 1,
                        .max_bad = {1, 1.0}, .range_begin = 0, .range_end = -1,
                        .store = SHARD_STORE_RAW, .jpeg_quality = SHARD_JPEG_DEFAULT_QUALITY,
                        .jpeg_subsampling = SHARD_JPEG_420,
                        .decode = {.resize = IMAGE_RESIZE_CROP, .max_pixels = IMAGE_DEFAULT_MAX_PIXELS,
                                   .max_file_bytes = IMAGE_DEFAULT_MAX_FILE_BYTES}};
}

int prep_options_parse(prep_options *o, int argc, char **argv)
{
    optind = 0; /* start afresh, forgetting any earlier parse (glibc and musl) */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "qvhV", long_options, NULL)) != -1) {
        switch (c) {
        case 'q': log_set_level(LOG_WARN); break;
        case 'v': log_set_level(LOG_VERBOSE); break;
        case 'h': cli_print_help(&prep_program); return -1;
        case 'V': cli_print_version(&prep_program); return -1;
        case '?': return cli_usage_error(&prep_program, "unknown option or missing value: %s", argv[optind - 1]);
        default:
            if (parse_option(c, optarg, o) != AN_OK) return cli_usage_error(&prep_program, "%s", error_message());
        }
    }
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
