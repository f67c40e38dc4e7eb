/* prep_main.c: the alexnet-prep command line (see docs/prep.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "h5_error.h"
#include "log.h"
#include "prep_finalize.h"
#include "prep_inspect.h"
#include "prep_run.h"
#include "prep_source.h"

static const cli_program program = {
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

static an_status parse_max_bad(const char *text, prep_max_bad *out)
{
    size_t n = strlen(text);
    if (n > 0 && text[n - 1] == '%') {
        char number[64];
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
    case OPT_RESIZE:
        if (strcmp(arg, "crop") == 0) o->decode.resize = PREP_RESIZE_CROP;
        else if (strcmp(arg, "squash") == 0) o->decode.resize = PREP_RESIZE_SQUASH;
        else return error_set(AN_ERR_ARG, "--resize must be crop or squash, got '%s'", arg);
        return AN_OK;
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

static an_status load_listing(prep_listing *l, const prep_options *o)
{
    if (strcmp(o->source, "idx") == 0) AN_TRY(prep_source_idx(l, o->input, o->classes_file));
    else if (strcmp(o->source, "folder") == 0) AN_TRY(prep_source_folder(l, o->input, o->classes_file));
    else if (strcmp(o->source, "manifest") == 0) AN_TRY(prep_source_manifest(l, o->input, o->classes_file));
    else {
        const char *classes = o->classes_file ? o->classes_file : ALEXNET_MANIFEST_DIR "/ilsvrc2012_synset_words.txt";
        const char *devkit = o->devkit_file ? o->devkit_file : ALEXNET_MANIFEST_DIR "/ilsvrc2012_devkit_ids.txt";
        AN_TRY(prep_source_imagenet(l, o->input, classes, devkit));
    }
    if (o->train_limit) AN_TRY(prep_listing_limit(&l->split[PREP_TRAIN], o->train_limit, l->num_classes));
    if (o->val_limit) AN_TRY(prep_listing_limit(&l->split[PREP_VAL], o->val_limit, l->num_classes));
    if (l->split[PREP_TRAIN].count == 0)
        return error_set(AN_ERR_ARG, "no training images found under %s", o->input);
    return AN_OK;
}

static an_status make_dir(const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return error_set(AN_ERR_IO, "cannot create output directory %s: %s", dir, strerror(errno));
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return error_set(AN_ERR_IO, "%s is not a directory", dir);
    return AN_OK;
}

static void print_summary(const prep_plan *plan, const prep_run_summary *run, const prep_final_summary *fin,
                          const prep_options *o, int finished)
{
    double rate = run->seconds > 0 ? (double)run->decoded / run->seconds : 0;
    log_info("dataset %s (%s): %d train + %d val shards; written %llu, kept %llu (verified)", o->output,
             plan->dataset_id, plan->shards[PREP_TRAIN], plan->shards[PREP_VAL],
             (unsigned long long)run->written_shards, (unsigned long long)run->kept_shards);
    log_info("decoded %llu images in %.1f s: %.1f images/s, %.1f per worker (%d workers); refused %llu",
             (unsigned long long)run->decoded, run->seconds, rate, rate / o->jobs, o->jobs,
             (unsigned long long)run->refused);
    if (finished)
        log_info("train %llu images, val %llu images, %d classes; refused %llu (bad-files.tsv), skipped %llu "
                 "non-image files", (unsigned long long)fin->images[0], (unsigned long long)fin->images[1],
                 plan->num_classes, (unsigned long long)fin->refused, (unsigned long long)fin->skipped);
}

static an_status run_prep(const prep_options *o, int argc0)
{
    (void)argc0;
    prep_listing listing;
    prep_plan plan;
    memset(&listing, 0, sizeof listing);
    memset(&plan, 0, sizeof plan);
    prep_run_summary run;
    prep_final_summary fin;
    memset(&fin, 0, sizeof fin);
    an_status st = AN_OK;
    AN_TRY_GOTO(st, load_listing(&listing, o), done);
    AN_TRY_GOTO(st, prep_plan_make(&plan, &listing, o), done);
    log_info("%s: %zu train + %zu val images, %d classes, dataset id %s", o->input, plan.count[PREP_TRAIN],
             plan.count[PREP_VAL], plan.num_classes, plan.dataset_id);
    AN_TRY_GOTO(st, make_dir(o->output), done);
    AN_TRY_GOTO(st, prep_plan_store(&plan, o->output), done);
    AN_TRY_GOTO(st, prep_run(&listing, &plan, o, &run), done);
    int whole = o->range_end < 0 || (o->range_begin == 0 && o->range_end >= prep_plan_total_shards(&plan));
    if (whole) AN_TRY_GOTO(st, prep_finalize(o->output, &fin), done);
    print_summary(&plan, &run, &fin, o, whole);
    if (!whole) log_info("shards %d..%d done; run 'alexnet-prep merge %s' when every range is done", o->range_begin,
                         o->range_end - 1, o->output);
done:
    prep_plan_free(&plan);
    prep_listing_free(&listing);
    return st;
}

static int subcommand(const char *name, const char *dir)
{
    an_status st;
    if (strcmp(name, "verify") == 0) {
        st = prep_verify(dir, stdout);
    } else if (strcmp(name, "info") == 0) {
        st = prep_info(dir, stdout);
    } else {
        prep_final_summary fin;
        st = prep_finalize(dir, &fin);
        if (st == AN_OK)
            log_info("merged %s: train %llu, val %llu images, refused %llu", dir, (unsigned long long)fin.images[0],
                     (unsigned long long)fin.images[1], (unsigned long long)fin.refused);
    }
    if (st != AN_OK) {
        log_error("%s", error_message());
        return EXIT_RUNTIME;
    }
    return 0;
}

int main(int argc, char **argv)
{
    /* No blas_runtime_select() here, unlike the other programs: alexnet-prep's
     * only BLAS/LAPACK work is one 3x3 eigen-decomposition, and restarting to
     * pick faster kernels would cost more than it could save. */
    log_set_program(program.name);
    h5_error_init();
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
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    prep_options o = {.shard_size = 1024, .jobs = cores > 0 ? (int)cores : 1, .seed = 1,
                      .max_bad = {1, 1.0}, .range_begin = 0, .range_end = -1,
                      .store = SHARD_STORE_RAW, .jpeg_quality = SHARD_JPEG_DEFAULT_QUALITY,
                      .jpeg_subsampling = SHARD_JPEG_420,
                      .decode = {PREP_RESIZE_CROP, PREP_DEFAULT_MAX_PIXELS, PREP_DEFAULT_MAX_FILE_BYTES}};
    int c;
    while ((c = getopt_long(argc, argv, "qvhV", long_options, NULL)) != -1) {
        switch (c) {
        case 'q': log_set_level(LOG_WARN); break;
        case 'v': log_set_level(LOG_VERBOSE); break;
        case 'h': cli_print_help(&program); return 0;
        case 'V': cli_print_version(&program); return 0;
        case '?': return cli_usage_error(&program, "unknown option or missing value");
        default:
            if (parse_option(c, optarg, &o) != AN_OK) return cli_usage_error(&program, "%s", error_message());
        }
    }
    if (optind < argc) {
        const char *cmd = argv[optind];
        if (strcmp(cmd, "verify") != 0 && strcmp(cmd, "info") != 0 && strcmp(cmd, "merge") != 0)
            return cli_usage_error(&program, "unknown subcommand '%s'", cmd);
        if (optind + 2 != argc) return cli_usage_error(&program, "%s takes exactly one DIR", cmd);
        return subcommand(cmd, argv[optind + 1]);
    }
    if (!o.source || !o.input || !o.output) return cli_usage_error(&program, "--source, --input and --output are required");
    if (strcmp(o.source, "idx") && strcmp(o.source, "folder") && strcmp(o.source, "imagenet") &&
        strcmp(o.source, "manifest"))
        return cli_usage_error(&program, "--source must be idx, folder, imagenet or manifest, got '%s'", o.source);
    if (prep_decode_init(argv[0]) != AN_OK) {
        log_error("%s", error_message());
        return EXIT_RUNTIME;
    }
    an_status st = run_prep(&o, argc);
    prep_decode_shutdown();
    if (st != AN_OK) {
        log_error("%s", error_message());
        return EXIT_RUNTIME;
    }
    return 0;
}
