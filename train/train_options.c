/* train_options.c: alexnet-train's options as one table (common/cli_options.h):
 * the command line, the defaults (§5), --help and what config.json records. */
#include "train_options.h"

#include <getopt.h>
#include <stddef.h>
#include <string.h>

#include "backend_select.h"
#include "grad_tree.h"
#include "run_records.h"

/* --devices LIST: each comma-separated name is one backend_select.h accepts. */
static an_status devices_parse(const char *list, void *field)
{
    char name[64];
    for (const char *p = list;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof name) return error_set(AN_ERR_ARG,
     "--devices '%s': an empty or too long name", list);
        memcpy(name, p, len);
        name[len] = '\0';
        AN_TRY(backend_device_check(name));
        if (p[len] == '\0') break;
        p += len + 1;
    }
    *(const char **)field = list;
    return AN_OK;
}

/* The named settings: the field's parser and the name config.json records. */
static an_status lrn_parse(const char *text, void *field) { return net_lrn_parse(text, field); }
static const char *lrn_name(const void *field) { return net_lrn_name(field); }
static an_status pooling_parse(const char *text, void *field) { return net_pooling_parse(text, field); }
static const char *pooling_name(const void *field) { return net_pooling_name(*(const net_pooling *)field); }
static an_status activation_parse(const char *text, void *field) { return net_activation_parse(text, field); }
static const char *activation_name(const void *field) { return net_activation_name(*(const net_activation *)field); }
static an_status init_parse(const char *text, void *field) { return net_init_scheme_parse(text, field); }
static const char *init_name(const void *field) { return net_init_scheme_name(*(const net_init_scheme *)field); }
static an_status augment_parse(const char *text, void *field) { return augment_mode_parse(text, field); }
static const char *augment_name(const void *field) { return augment_mode_name(*(const augment_mode *)field); }
/* fp32, tf32 or bf16: fp32-pedantic (precision.h) is for the GPU tests and the benchmark, not training. */
static an_status precision_parse(const char *text, void *field)
{
    backend_precision p = BACKEND_PRECISION_FP32;
    if (backend_precision_parse(text, &p) != AN_OK || p == BACKEND_PRECISION_FP32_PEDANTIC)
        return error_set(AN_ERR_ARG, "precision '%s': use fp32, tf32 or bf16", text);
    *(backend_precision *)field = p;
    return AN_OK;
}
static an_status parallel_parse(const char *text, void *field) { return parallel_mode_parse(text, field); }
static const char *parallel_name(const void *field) { return parallel_mode_name(*(const parallel_mode *)field); }
static const char *precision_name(const void *field)
{
    return backend_precision_name(*(const backend_precision *)field);
}

#define AT(field) offsetof(train_options, field)
#define NETWORK(name) RUN_CONFIG_NETWORK "." name
#define TRAINING(name) RUN_CONFIG_TRAINING "." name
#define EXECUTION(name) RUN_CONFIG_EXECUTION "." name

static const cli_option rows[] = {
    /* flag, config.json key, type, field, min, max, default, value name, help; then .alias, .parse,
               * .name (custom types), .given (the TRAIN_GIVEN_* bit a resume checks) */
    CLI_OPTION("data", RUN_CONFIG_DATASET ".dir", CLI_STRING, AT(data_dir), 0, 0, NULL, "DIR",
               "dataset directory (dataset.h5 and shards)"),
    CLI_OPTION("run", NULL, CLI_STRING, AT(run_dir), 0, 0, NULL, "DIR",
               "run directory: config.json, metrics.csv, event file, log, checkpoints/"),
    CLI_OPTION("resume", NULL, CLI_FLAG, AT(resume), 0, 0, NULL, NULL,
               "continue the run from checkpoints/latest, exactly"),
    CLI_OPTION("epochs", TRAINING("epochs"), CLI_INT, AT(epochs), 1, 100000, "90", "N",
               "epochs to train (default %D)"),
    CLI_OPTION("batch", TRAINING("batch"), CLI_U32, AT(batch), 1, 1 << 20, "128", "N",
               "global batch size (default %D)", .given = TRAIN_GIVEN_BATCH),
    CLI_OPTION("width", NETWORK("width"), CLI_DOUBLE, AT(net.width), NET_WIDTH_MIN, NET_WIDTH_MAX, "1.0", "W",
               "channel multiplier, 1.0 is the paper's network (default %D)", .given = TRAIN_GIVEN_WIDTH),
    CLI_OPTION("devices", NULL, CLI_CUSTOM, AT(device), 0, 0, "auto", "LIST",
               "where to train, one replica each: auto (default: the GPUs if this build and\n"
               "machine have them, at most two, else the CPU), cpu, cuda (every GPU, at most\n"
               "two; under mpirun, process r takes GPU r mod count), cuda:N, or a list:\n"
               "cuda:0,cuda:1 or cpu,cpu. The global batch is split over the replicas and\n"
               "their gradients summed (--device is the same option)", .parse = devices_parse, .alias = "device"),
    CLI_OPTION("parallel", EXECUTION("parallel"), CLI_CUSTOM, AT(parallel), 0, 0, "data", "data|towers|hybrid",
               "how the devices of a process share the work (default %D): data, each\n"
               "device a whole network and a slice of the batch; towers, exactly two\n"
               "devices, one of the network's two towers each (§3.2, needs --towers 2);\n"
               "hybrid, 2 or more devices, the conv layers as data, the fc layers'\n"
               "outputs split over the devices. A run may resume under another mode",
               .parse = parallel_parse, .name = parallel_name),
    CLI_OPTION("print-parallel-plan", NULL, CLI_FLAG, AT(print_parallel_plan), 0, 0, NULL, NULL,
               "print, for this network and --batch, each mode's parameter memory and\n"
               "bytes moved per device on 1, 2, 4 and 8 devices, and exit (no --data, --run)"),
    CLI_OPTION("precision", EXECUTION("precision"), CLI_CUSTOM, AT(precision), 0, 0, "fp32", "fp32|tf32|bf16",
               "arithmetic of the convolutions and fc layers (default %D, the paper's):\n"
               "tf32 or bf16 tensor cores on a GPU, with fp32 master weights and\n"
               "fp32 accumulation; the CPU computes in fp32 only",
               .parse = precision_parse, .name = precision_name, .given = TRAIN_GIVEN_PRECISION),
    CLI_OPTION("reproducible", TRAINING("reproducible"), CLI_FLAG, AT(reproducible), 0, 0, NULL, NULL,
               "the same weights, to the bit, on 1, 2, 4 or 8 replicas x processes, in\n"
               "every --parallel mode: each batch in 8 fixed chunks whose gradients are\n"
               "summed in one binary tree; conv layers as the two towers' halves, fc\n"
               "layers as 8 output parts (--batch a multiple of 8; slower: docs/train.md)",
               .given = TRAIN_GIVEN_REPRODUCIBLE),
    CLI_OPTION("seed", TRAINING("seed"), CLI_U64, AT(seed), 0, 0, "1", "S",
               "seed of every random number (default %D)", .given = TRAIN_GIVEN_SEED),
    CLI_OPTION("lr", TRAINING("lr"), CLI_DOUBLE, AT(lr), 1e-12, 100.0, "0.01", "R",
               "initial learning rate (default %D)", .given = TRAIN_GIVEN_LR),
    CLI_OPTION("patience", TRAINING("patience"), CLI_INT, AT(patience), 1, 100000, "2", "N",
               "divide the rate by 10 after N epochs without a better validation\n"
               "error, at most 3 times (default %D)", .given = TRAIN_GIVEN_PATIENCE),
    CLI_OPTION("lr-steps", NULL, CLI_STRING, AT(lr_steps), 0, 0, NULL, "a,b,c",
               "instead: divide the rate by 10 after epochs a, b and c", .given = TRAIN_GIVEN_LR_STEPS),
    CLI_OPTION("momentum", TRAINING("momentum"), CLI_FLOAT, AT(momentum), 0.0, 0.999999, "0.9", "M", "(default %D)",
               .given = TRAIN_GIVEN_MOMENTUM),
    CLI_OPTION("weight-decay", TRAINING("weight_decay"), CLI_FLOAT, AT(weight_decay), 0.0, 1.0, "0.0005", "D",
               "(default %D)", .given = TRAIN_GIVEN_WEIGHT_DECAY),
    CLI_OPTION("lrn", NETWORK("lrn"), CLI_CUSTOM, AT(net), 0, 0, "divided_by_n", "divided_by_n|literal|off",
               "LRN alpha convention (default %D, as cuda-convnet),\n"
               "or no LRN layers (§3.3's experiment)", .parse = lrn_parse, .name = lrn_name, .given = TRAIN_GIVEN_NET),
    CLI_OPTION("pool", NETWORK("pooling"), CLI_CUSTOM, AT(net.pooling), 0, 0, "overlap", "overlap|plain",
               "max pooling 3x3 stride 2 (default, §3.4) or 2x2 stride 2", .parse = pooling_parse, .name = pooling_name,
               .given = TRAIN_GIVEN_NET),
    CLI_OPTION("towers", NETWORK("towers"), CLI_INT, AT(net.towers), 1, 2, "2", "2|1",
               "grouped conv2, conv4, conv5 (default %D, §3.2) or one tower", .given = TRAIN_GIVEN_NET),
    CLI_OPTION("activation", NETWORK("activation"), CLI_CUSTOM, AT(net.activation), 0, 0, "relu", "relu|tanh",
               "the neurons' non-linearity (default %D, §3.1)", .parse = activation_parse, .name = activation_name,
               .given = TRAIN_GIVEN_NET),
    CLI_OPTION("augment", TRAINING("augment"), CLI_CUSTOM, AT(augment), 0, 0, "full", "full|no-lighting|centre",
               "random crops, flips and PCA lighting (default %D,\n"
               "§4.1), the same without lighting, or the centre crop only",
               .parse = augment_parse, .name = augment_name, .given = TRAIN_GIVEN_AUGMENT),
    CLI_OPTION("init", NETWORK("init"), CLI_CUSTOM, AT(net.init), 0, 0, "paper", "paper|caffe|fan_in",
               "initialisation (default %D: N(0, 0.01), biases 1 in conv2,4,5,\n"
               "fc6,7; below width 1 the std scaled by sqrt(paper fan-in / fan-in);\n"
               "fan_in: N(0, sqrt(2/fan-in)), biases 0, wants a lower --lr)",
               .parse = init_parse, .name = init_name, .given = TRAIN_GIVEN_NET),
    CLI_OPTION("dropout", NETWORK("dropout"), CLI_FLOAT, AT(net.dropout_rate), 0.0, 0.95, "0.5", "P",
               "dropout rate of fc6 and fc7 (default %D)", .given = TRAIN_GIVEN_NET),
    CLI_OPTION("val-limit", TRAINING("val_limit"), CLI_U32, AT(val_limit), 1, UINT32_MAX, NULL, "N",
               "validate on the first N validation images only (default all)"),
    CLI_OPTION("checkpoint-minutes", EXECUTION("checkpoint_minutes"), CLI_DOUBLE, AT(checkpoint_minutes), 0.0, 1e6,
               "30",
               "M", "also checkpoint every M minutes (default %D; 0 for epoch ends only)"),
    CLI_OPTION("checkpoint-steps", EXECUTION("checkpoint_steps"), CLI_U64, AT(checkpoint_steps), 0, 0, NULL, "N",
               "also checkpoint every N steps (default 0: off)"),
    CLI_OPTION("keep", EXECUTION("keep"), CLI_INT, AT(keep), 2, 100000, "3", "K",
               "checkpoints kept besides best.h5, at least 2 (default %D)"),
    CLI_OPTION("threads", EXECUTION("threads"), CLI_INT, AT(threads), 1, 4096, NULL, "N",
               "compute threads (default: all cores)"),
    CLI_OPTION("loader-threads", EXECUTION("loader_threads"), CLI_INT, AT(loader_threads), 1, 1024, "2", "N",
               "image loading and augmentation threads (default %D)"),
    CLI_OPTION("queue-depth", EXECUTION("queue_depth"), CLI_INT, AT(queue_depth), 1, 64, "3", "N",
               "batches prepared ahead (default %D); 2 or more also lets the next\n"
               "step's upload to a GPU overlap this step's compute"),
    CLI_OPTION("log-every", EXECUTION("log_every"), CLI_U64, AT(log_every), 1, 1000000000, "20", "N",
               "steps between rows of metrics.csv (default %D)"),
    CLI_OPTION("max-steps", TRAINING("max_steps"), CLI_U64, AT(max_steps), 0, 0, NULL, "N",
               "stop after global step N, with a checkpoint (default: no limit)"),
    CLI_OPTION("no-events", EXECUTION("no_events"), CLI_FLAG, AT(no_events), 0, 0, NULL, NULL,
               "no TensorBoard event file (RUN/events.out.tfevents.*: metrics.csv's rows)"),
    CLI_OPTION("quiet", NULL, CLI_QUIET, 0, 0, 0, NULL, NULL, NULL),
    CLI_OPTION("verbose", NULL, CLI_VERBOSE, 0, 0, 0, NULL, NULL, NULL),
    CLI_OPTION("version", NULL, CLI_VERSION, 0, 0, 0, NULL, NULL, NULL),
    CLI_OPTION("help", NULL, CLI_HELP, 0, 0, 0, NULL, NULL, "--quiet, --verbose, --version, --help"),
};

const cli_table train_option_table = {rows, sizeof rows / sizeof rows[0], AT(given), 25};

const cli_program train_program = {
    "alexnet-train",
    "Usage: alexnet-train --data DIR --run DIR [options]\n"
    "Trains the network of Krizhevsky et al. (2012) on a dataset directory made by alexnet-prep.\n"
    "Several processes: mpirun -np N alexnet-train ... (the global batch is split across them).\n"
    "\n",
    &train_option_table,
    "\n"
    "SIGINT or SIGTERM finishes the current step, writes a checkpoint and exits 0; a second one aborts.\n"};

an_status train_options_default(train_options *o)
{
    memset(o, 0, sizeof *o);
    return cli_options_defaults(&train_option_table, o);
}

void train_options_record(const train_options *o, const char *section, json_writer *w)
{
    cli_options_record(&train_option_table, section, o, w);
}

int train_options_parse(train_options *o, int argc, char **argv)
{
    int rc = cli_options_parse(&train_program, &train_option_table, 0, "", o, argc, argv);
    if (rc != 0) return rc;
    if (optind < argc) return cli_usage_error(&train_program, "unexpected argument: %s", argv[optind]);
    if (o->print_parallel_plan) return 0;
    if (!o->data_dir) return cli_usage_error(&train_program, "--data DIR is required");
    if (!o->run_dir) return cli_usage_error(&train_program, "--run DIR is required");
    if (o->lr_steps && (o->given & TRAIN_GIVEN_PATIENCE))
        return cli_usage_error(&train_program, "--lr-steps and --patience exclude each other");
    if (backend_precision_check(o->device, o->precision) != AN_OK)
        return cli_usage_error(&train_program, "%s", error_message());
    if (parallel_mode_check_list(o->parallel, o->device, o->net.towers) != AN_OK)
        return cli_usage_error(&train_program, "%s", error_message());
    if (o->reproducible && grad_tree_check_batch(o->batch) != AN_OK)
        return cli_usage_error(&train_program, "%s", error_message());
    return 0;
}

int train_options_check_world(const train_options *o, int processes)
{
    if (!o->reproducible) return 0;
    int devices = 1; /* a list names one device per entry (devices_parse) */
    for (const char *p = o->device; *p; p++) devices += *p == ',';
    if (o->parallel == PARALLEL_TOWERS) devices = 1; /* the two towers pass the same chunks: one part of the tree */
    if (grad_tree_check_parts(processes * devices) != AN_OK)
        return cli_usage_error(&train_program, "%s (%d process%s x %d device%s)", error_message(), processes,
                               processes == 1 ? "" : "es", devices, devices == 1 ? "" : "s");
    return 0;
}
