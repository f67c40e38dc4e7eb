/* eval_cli.c: alexnet-eval's command line (eval_cli.h): one option table
 * (common/cli_options.h) for the scorer and classify, each option marked with
 * the commands that take it, and the subcommands. */
#include "eval_cli.h"

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "backend_select.h"

/* --split: the two splits a dataset has. */
static an_status split_parse(const char *text, void *field)
{
    if (strcmp(text, "val") != 0 && strcmp(text, "train") != 0)
        return error_set(AN_ERR_ARG, "--split must be val or train, got '%s'", text);
    *(const char **)field = text;
    return AN_OK;
}

/* --device: a name backend_select.h accepts. */
static an_status device_parse(const char *text, void *field)
{
    AN_TRY(backend_device_check(text));
    *(const char **)field = text;
    return AN_OK;
}

/* Which commands take an option (cli_option.scope). */
enum { SCORE = 1 << 0, CLASSIFY = 1 << 1 };

#define AT(field) offsetof(eval_cli, field)

static const cli_option rows[] = {
    /* flag, config.json key (eval writes none), type, field, min, max, default, value name, help; then
     * .parse, .scope */
    CLI_OPTION("data", NULL, CLI_STRING, AT(data), 0, 0, NULL, "DIR", "dataset directory written by alexnet-prep",
               .scope = SCORE | CLASSIFY),
    CLI_OPTION("run", NULL, CLI_STRING, AT(run), 0, 0, NULL, "RUN",
               "run directory: checkpoint RUN/checkpoints/best.h5 (or the\n"
               "'latest' one), output RUN/eval/, page RUN/report.html", .scope = SCORE),
    CLI_OPTION("checkpoint", NULL, CLI_STRING, AT(checkpoint), 0, 0, NULL, "FILE",
               "checkpoint to score (default: from --run)", .scope = SCORE | CLASSIFY),
    CLI_OPTION("split", NULL, CLI_CUSTOM, AT(split), 0, 0, "val", "NAME", "val (default) or train",
               .parse = split_parse, .scope = SCORE),
    CLI_OPTION("device", NULL, CLI_CUSTOM, AT(device), 0, 0, "cpu", "D",
               "cpu (default), cuda, cuda:N or auto: where the network runs;\n"
               "cuda needs a build with the CUDA backend and a GPU, else it is an error",
               .parse = device_parse, .scope = SCORE | CLASSIFY),
    CLI_OPTION("batch", NULL, CLI_INT, AT(batch), 1, 4096, "8", "N",
               "images per forward pass, each 10 views (default %D)", .scope = SCORE),
    CLI_OPTION("limit", NULL, CLI_U64, AT(limit), 0, 0, NULL, "N", "score only the first N images of the split",
               .scope = SCORE),
    CLI_OPTION("out", NULL, CLI_STRING, AT(out), 0, 0, NULL, "DIR",
               "where report.json, tables.html and figures/ go\n"
               "(default RUN/eval)", .scope = SCORE),
    CLI_OPTION("figures", NULL, CLI_FLAG, AT(figures), 0, 0, NULL, NULL,
               "also draw the §6.1 figures (needs a build with libvips)", .scope = SCORE),
    CLI_OPTION("train-sample", NULL, CLI_INT, AT(train_sample), 1, 10000000, "1000", "N",
               "training images searched for fc7 neighbours (default %D)", .scope = SCORE),
    CLI_OPTION("threads", NULL, CLI_INT, AT(threads), 1, 4096, NULL, "N", "CPU threads (default: all cores)",
               .scope = SCORE | CLASSIFY),
    CLI_OPTION("json", NULL, CLI_FLAG, AT(json), 0, 0, NULL, NULL, NULL, .scope = CLASSIFY),
    CLI_OPTION("quiet", NULL, CLI_QUIET, 0, 0, 0, NULL, NULL, NULL, .scope = SCORE | CLASSIFY),
    CLI_OPTION("verbose", NULL, CLI_VERBOSE, 0, 0, 0, NULL, NULL, NULL, .scope = SCORE | CLASSIFY),
    CLI_OPTION("help", NULL, CLI_HELP, 0, 0, 0, NULL, NULL,
               "--quiet, --verbose    less or more logging\n  --help, --version",
               .scope = SCORE),
    CLI_OPTION("version", NULL, CLI_VERSION, 0, 0, 0, NULL, NULL, NULL, .scope = SCORE),
};

const cli_table eval_option_table = {rows, sizeof rows / sizeof rows[0], CLI_NO_GIVEN, 24};

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
    "\n",
    &eval_option_table, NULL};

static int parse_score(eval_cli *a, int argc, char **argv, const eval_features *have)
{
    int rc = cli_options_parse(&eval_program, &eval_option_table, SCORE, "", a, argc, argv);
    if (rc != 0) return rc;
    if (optind < argc) return cli_usage_error(&eval_program, "unexpected argument '%s'", argv[optind]);
    if (!a->data) return cli_usage_error(&eval_program, "--data DIR is required");
    if (!a->run && !a->checkpoint) return cli_usage_error(&eval_program, "give --run RUN or --checkpoint FILE");
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
    int rc = cli_options_parse(&eval_program, &eval_option_table, CLASSIFY, "classify: ", a, argc - 1, argv + 1);
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
    *a = (eval_cli){0};
    if (cli_options_defaults(&eval_option_table, a) != AN_OK) {
        fprintf(stderr, "%s: %s\n", eval_program.name, error_message());
        return EXIT_RUNTIME;
    }
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
