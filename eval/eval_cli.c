/* eval_cli.c: alexnet-eval's command line (eval_cli.h): the usage text and
 * one parser for the scorer and its subcommands. */
#include "eval_cli.h"

#include <getopt.h>
#include <string.h>

#include "backend_select.h"
#include "log.h"

const cli_program eval_program = {
    "alexnet-eval",
    "Usage: alexnet-eval --data DIR (--run RUN | --checkpoint FILE) [options]\n"
    "       alexnet-eval report RUN\n"
    "       alexnet-eval compare [--out DIR] RUN RUN...\n"
    "       alexnet-eval classify --checkpoint FILE --data DIR [--json] [--device D] IMAGE...\n"
    "Scores a checkpoint on a dataset split: the four corner and the centre 224x224\n"
    "crops of every 256x256 image and their mirrors, softmax outputs averaged over\n"
    "the ten (ten-crop), and the centre crop alone; top-1 and top-5 error, per class\n"
    "accuracy and the most confused classes. 'report RUN' only redraws RUN/report.html.\n"
    "'compare' puts scored runs side by side: DIR/compare.html and DIR/compare.json\n"
    "(default DIR: the current directory); runs scored on different data are refused.\n"
    "'classify' prints the five most probable classes of each image file (any JPEG, PNG,\n"
    "WebP, TIFF; decoded and resized as alexnet-prep does, ten crops, DIR's mean image);\n"
    "--json prints one JSON list. Exit status 1 when a file could not be classified.\n"
    "\n"
    "  --data DIR            dataset directory written by alexnet-prep\n"
    "  --run RUN             run directory: checkpoint RUN/checkpoints/best.h5 (or the\n"
    "                        'latest' one), output RUN/eval/, page RUN/report.html\n"
    "  --checkpoint FILE     checkpoint to score (default: from --run)\n"
    "  --split NAME          val (default) or train\n"
    "  --device D            cpu (default), cuda, cuda:N or auto: where the network runs;\n"
    "                        cuda needs a build with the CUDA backend and a GPU, else it is an error\n"
    "  --batch N             images per forward pass, each 10 views (default 8)\n"
    "  --limit N             score only the first N images of the split\n"
    "  --out DIR             where report.json, tables.html and figures/ go\n"
    "                        (default RUN/eval)\n"
    "  --figures             also draw the §6.1 figures (needs a build with libvips)\n"
    "  --train-sample N      training images searched for fc7 neighbours (default 1000)\n"
    "  --threads N           CPU threads (default: all cores)\n"
    "  --quiet, --verbose    less or more logging\n"
    "  --help, --version\n"};

enum { OPT_DATA = 256, OPT_RUN, OPT_CHECKPOINT, OPT_SPLIT, OPT_DEVICE, OPT_BATCH, OPT_LIMIT, OPT_OUT, OPT_FIGURES,
       OPT_TRAIN_SAMPLE, OPT_THREADS, OPT_JSON, OPT_QUIET, OPT_VERBOSE, OPT_HELP, OPT_VERSION };

static const struct option score_options[] = {
    {"data", required_argument, 0, OPT_DATA},          {"run", required_argument, 0, OPT_RUN},
    {"checkpoint", required_argument, 0, OPT_CHECKPOINT}, {"split", required_argument, 0, OPT_SPLIT},
    {"device", required_argument, 0, OPT_DEVICE},      {"batch", required_argument, 0, OPT_BATCH},
    {"limit", required_argument, 0, OPT_LIMIT},        {"out", required_argument, 0, OPT_OUT},
    {"figures", no_argument, 0, OPT_FIGURES},          {"train-sample", required_argument, 0, OPT_TRAIN_SAMPLE},
    {"threads", required_argument, 0, OPT_THREADS},    {"quiet", no_argument, 0, OPT_QUIET},
    {"verbose", no_argument, 0, OPT_VERBOSE},          {"help", no_argument, 0, OPT_HELP},
    {"version", no_argument, 0, OPT_VERSION},          {0, 0, 0, 0}};

static const struct option classify_options[] = {
    {"checkpoint", required_argument, 0, OPT_CHECKPOINT}, {"data", required_argument, 0, OPT_DATA},
    {"json", no_argument, 0, OPT_JSON},                {"device", required_argument, 0, OPT_DEVICE},
    {"threads", required_argument, 0, OPT_THREADS},    {"quiet", no_argument, 0, OPT_QUIET},
    {"verbose", no_argument, 0, OPT_VERBOSE},          {0, 0, 0, 0}};

/* One option of the scorer or of classify into `a`; *printed set when --help or --version was printed. */
static an_status apply_option(eval_cli *a, int opt, const char *arg, int *printed)
{
    switch (opt) {
    case OPT_DATA: a->data = arg; return AN_OK;
    case OPT_RUN: a->run = arg; return AN_OK;
    case OPT_CHECKPOINT: a->checkpoint = arg; return AN_OK;
    case OPT_SPLIT: a->split = arg; return AN_OK;
    case OPT_DEVICE: a->device = arg; return backend_device_check(arg);
    case OPT_BATCH: return cli_parse_long("batch", arg, 1, 4096, &a->batch);
    case OPT_LIMIT: return cli_parse_u64("limit", arg, &a->limit);
    case OPT_OUT: a->out = arg; return AN_OK;
    case OPT_FIGURES: a->figures = 1; return AN_OK;
    case OPT_TRAIN_SAMPLE: return cli_parse_long("train-sample", arg, 1, 10000000, &a->train_sample);
    case OPT_THREADS: return cli_parse_long("threads", arg, 1, 4096, &a->threads);
    case OPT_JSON: a->json = 1; return AN_OK;
    case OPT_QUIET: log_set_level(LOG_WARN); return AN_OK;
    case OPT_VERBOSE: log_set_level(LOG_VERBOSE); return AN_OK;
    case OPT_HELP: cli_print_help(&eval_program); *printed = 1; return AN_OK;
    case OPT_VERSION: cli_print_version(&eval_program); *printed = 1; return AN_OK;
    }
    return error_set(AN_ERR_ARG, "unknown option");
}

/* getopt_long over argv: the options into `a`; the operands are left from optind on. */
static int parse_options(eval_cli *a, int argc, char **argv, const struct option *options, const char *what)
{
    optind = 0; /* start afresh, forgetting any earlier parse (glibc and musl) */
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        if (opt == '?')
            return cli_usage_error(&eval_program, "%sunknown or incomplete option '%s'", what, argv[optind - 1]);
        int printed = 0;
        if (apply_option(a, opt, optarg, &printed) != AN_OK)
            return cli_usage_error(&eval_program, "%s%s", what, error_message());
        if (printed) return -1;
    }
    return 0;
}

static int parse_score(eval_cli *a, int argc, char **argv, const eval_features *have)
{
    int rc = parse_options(a, argc, argv, score_options, "");
    if (rc != 0) return rc;
    if (optind < argc) return cli_usage_error(&eval_program, "unexpected argument '%s'", argv[optind]);
    if (!a->data) return cli_usage_error(&eval_program, "--data DIR is required");
    if (!a->run && !a->checkpoint) return cli_usage_error(&eval_program, "give --run RUN or --checkpoint FILE");
    if (strcmp(a->split, "val") != 0 && strcmp(a->split, "train") != 0)
        return cli_usage_error(&eval_program, "--split must be val or train, got '%s'", a->split);
    if (a->figures && !have->figures)
        return cli_usage_error(&eval_program, "--figures needs libvips, and this alexnet-eval was built without it");
    return 0;
}

/* compare [--out DIR] RUN RUN...: runs are operands, so a name starting with '-' is refused. */
static int parse_compare(eval_cli *a, int argc, char **argv)
{
    int first = 2;
    a->out = ".";
    if (argc > 3 && strcmp(argv[2], "--out") == 0) {
        a->out = argv[3];
        first = 4;
    }
    if (argc - first < 2) return cli_usage_error(&eval_program, "usage: alexnet-eval compare [--out DIR] RUN RUN...");
    for (int i = first; i < argc; i++)
        if (argv[i][0] == '-') return cli_usage_error(&eval_program, "compare: unknown option '%s'", argv[i]);
    a->paths = argv + first;
    a->num_paths = argc - first;
    return 0;
}

static int parse_classify(eval_cli *a, int argc, char **argv, const eval_features *have)
{
    if (!have->classify)
        return cli_usage_error(&eval_program, "classify needs libvips and libjpeg, and this alexnet-eval was built "
                               "without them");
    /* getopt sees "classify" as its program name and permutes the rest. */
    int rc = parse_options(a, argc - 1, argv + 1, classify_options, "classify: ");
    if (rc != 0) return rc;
    if (!a->checkpoint || !a->data)
        return cli_usage_error(&eval_program, "classify needs --checkpoint FILE and --data DIR");
    if (optind >= argc - 1) return cli_usage_error(&eval_program, "classify: give at least one image file");
    a->paths = argv + 1 + optind;
    a->num_paths = argc - 1 - optind;
    return 0;
}

int eval_cli_parse(eval_cli *a, int argc, char **argv, const eval_features *have)
{
    *a = (eval_cli){.split = "val", .device = "cpu", .batch = 8, .train_sample = 1000};
    const char *sub = argc >= 2 ? argv[1] : "";
    if (strcmp(sub, "report") == 0) {
        a->command = EVAL_COMMAND_REPORT;
        if (argc != 3) return cli_usage_error(&eval_program, "usage: alexnet-eval report RUN");
        a->run = argv[2];
        return 0;
    }
    if (strcmp(sub, "compare") == 0) {
        a->command = EVAL_COMMAND_COMPARE;
        return parse_compare(a, argc, argv);
    }
    if (strcmp(sub, "classify") == 0) {
        a->command = EVAL_COMMAND_CLASSIFY;
        return parse_classify(a, argc, argv, have);
    }
    a->command = EVAL_COMMAND_SCORE;
    return parse_score(a, argc, argv, have);
}
