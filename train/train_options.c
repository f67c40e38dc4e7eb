/* train_options.c: defaults (§5) and the command line of alexnet-train. */
#include "train_options.h"

#include <getopt.h>
#include <string.h>

#include "backend_select.h"
#include "log.h"

const cli_program train_program = {
    "alexnet-train",
    "Usage: alexnet-train --data DIR --run DIR [options]\n"
    "Trains the network of Krizhevsky et al. (2012) on a dataset directory made by alexnet-prep.\n"
    "Several processes: mpirun -np N alexnet-train ... (the global batch is split across them).\n"
    "\n"
    "  --data DIR             dataset directory (dataset.h5 and shards)\n"
    "  --run DIR              run directory: config.json, metrics.csv, event file, log, checkpoints/\n"
    "  --resume               continue the run from checkpoints/latest, exactly\n"
    "  --epochs N             epochs to train (default 90)\n"
    "  --batch N              global batch size (default 128)\n"
    "  --width W              channel multiplier, 1.0 is the paper's network (default 1.0)\n"
    "  --devices LIST         where to train, one replica each: auto (default: the GPUs if this build and\n"
    "                         machine have them, at most two, else the CPU), cpu, cuda (every GPU, at most\n"
    "                         two; under mpirun, process r takes GPU r mod count), cuda:N, or a list:\n"
    "                         cuda:0,cuda:1 or cpu,cpu. The global batch is split over the replicas and\n"
    "                         their gradients summed (--device is the same option)\n"
    "  --seed S               seed of every random number (default 1)\n"
    "  --lr R                 initial learning rate (default 0.01)\n"
    "  --patience N           divide the rate by 10 after N epochs without a better validation\n"
    "                         error, at most 3 times (default 2)\n"
    "  --lr-steps a,b,c       instead: divide the rate by 10 after epochs a, b and c\n"
    "  --momentum M           (default 0.9)\n"
    "  --weight-decay D       (default 0.0005)\n"
    "  --lrn divided_by_n|literal|off   LRN alpha convention (default divided_by_n, as cuda-convnet),\n"
    "                         or no LRN layers (§3.3's experiment)\n"
    "  --pool overlap|plain   max pooling 3x3 stride 2 (default, §3.4) or 2x2 stride 2\n"
    "  --towers 2|1           grouped conv2, conv4, conv5 (default 2, §3.2) or one tower\n"
    "  --activation relu|tanh the neurons' non-linearity (default relu, §3.1)\n"
    "  --augment full|no-lighting|centre   random crops, flips and PCA lighting (default full,\n"
    "                         §4.1), the same without lighting, or the centre crop only\n"
    "  --init paper|caffe|fan_in   initialisation (default paper: N(0, 0.01), biases 1 in conv2,4,5,\n"
    "                         fc6,7; below width 1 the std scaled by sqrt(paper fan-in / fan-in);\n"
    "                         fan_in: N(0, sqrt(2/fan-in)), biases 0, wants a lower --lr)\n"
    "  --dropout P            dropout rate of fc6 and fc7 (default 0.5)\n"
    "  --val-limit N          validate on the first N validation images only (default all)\n"
    "  --checkpoint-minutes M also checkpoint every M minutes (default 30; 0 for epoch ends only)\n"
    "  --checkpoint-steps N   also checkpoint every N steps (default 0: off)\n"
    "  --keep K               checkpoints kept besides best.h5, at least 2 (default 3)\n"
    "  --threads N            compute threads (default: all cores)\n"
    "  --loader-threads N     image loading and augmentation threads (default 2)\n"
    "  --queue-depth N        batches prepared ahead (default 3)\n"
    "  --log-every N          steps between rows of metrics.csv (default 20)\n"
    "  --max-steps N          stop after global step N, with a checkpoint (default: no limit)\n"
    "  --no-events            no TensorBoard event file (RUN/events.out.tfevents.*; metrics.csv's rows)\n"
    "  --quiet, --verbose, --version, --help\n"
    "\n"
    "SIGINT or SIGTERM finishes the current step, writes a checkpoint and exits 0; a second one aborts.\n"
};

void train_options_default(train_options *o)
{
    memset(o, 0, sizeof *o);
    o->epochs = 90;                /* §5: "roughly 90 cycles" */
    o->batch = 128;                /* §5 */
    o->width = 1.0;
    o->device = "auto";
    o->seed = 1;
    o->lr = 0.01;                  /* §5 */
    o->patience = 2;
    o->momentum = 0.9;             /* §5 */
    o->weight_decay = 0.0005;      /* §5 */
    o->checkpoint_minutes = 30.0;
    o->keep = 3;
    o->loader_threads = 2;
    o->queue_depth = 3;
    o->log_every = 20;
    net_config_default(&o->net);
}

enum {
    OPT_DATA = 1000, OPT_RUN, OPT_RESUME, OPT_EPOCHS, OPT_BATCH, OPT_WIDTH, OPT_DEVICE, OPT_SEED, OPT_LR,
    OPT_PATIENCE, OPT_LR_STEPS, OPT_MOMENTUM, OPT_WEIGHT_DECAY, OPT_LRN, OPT_POOL, OPT_TOWERS, OPT_ACTIVATION,
    OPT_AUGMENT, OPT_INIT, OPT_DROPOUT, OPT_VAL_LIMIT,
    OPT_CKPT_MINUTES, OPT_CKPT_STEPS, OPT_KEEP, OPT_THREADS, OPT_LOADER_THREADS, OPT_QUEUE_DEPTH,
    OPT_LOG_EVERY, OPT_MAX_STEPS, OPT_NO_EVENTS, OPT_QUIET, OPT_VERBOSE, OPT_VERSION, OPT_HELP
};

static const struct option long_options[] = {
    { "data", required_argument, NULL, OPT_DATA },
    { "run", required_argument, NULL, OPT_RUN },
    { "resume", no_argument, NULL, OPT_RESUME },
    { "epochs", required_argument, NULL, OPT_EPOCHS },
    { "batch", required_argument, NULL, OPT_BATCH },
    { "width", required_argument, NULL, OPT_WIDTH },
    { "device", required_argument, NULL, OPT_DEVICE },
    { "devices", required_argument, NULL, OPT_DEVICE },
    { "seed", required_argument, NULL, OPT_SEED },
    { "lr", required_argument, NULL, OPT_LR },
    { "patience", required_argument, NULL, OPT_PATIENCE },
    { "lr-steps", required_argument, NULL, OPT_LR_STEPS },
    { "momentum", required_argument, NULL, OPT_MOMENTUM },
    { "weight-decay", required_argument, NULL, OPT_WEIGHT_DECAY },
    { "lrn", required_argument, NULL, OPT_LRN },
    { "pool", required_argument, NULL, OPT_POOL },
    { "towers", required_argument, NULL, OPT_TOWERS },
    { "activation", required_argument, NULL, OPT_ACTIVATION },
    { "augment", required_argument, NULL, OPT_AUGMENT },
    { "init", required_argument, NULL, OPT_INIT },
    { "dropout", required_argument, NULL, OPT_DROPOUT },
    { "val-limit", required_argument, NULL, OPT_VAL_LIMIT },
    { "checkpoint-minutes", required_argument, NULL, OPT_CKPT_MINUTES },
    { "checkpoint-steps", required_argument, NULL, OPT_CKPT_STEPS },
    { "keep", required_argument, NULL, OPT_KEEP },
    { "threads", required_argument, NULL, OPT_THREADS },
    { "loader-threads", required_argument, NULL, OPT_LOADER_THREADS },
    { "queue-depth", required_argument, NULL, OPT_QUEUE_DEPTH },
    { "log-every", required_argument, NULL, OPT_LOG_EVERY },
    { "max-steps", required_argument, NULL, OPT_MAX_STEPS },
    { "no-events", no_argument, NULL, OPT_NO_EVENTS },
    { "quiet", no_argument, NULL, OPT_QUIET },
    { "verbose", no_argument, NULL, OPT_VERBOSE },
    { "version", no_argument, NULL, OPT_VERSION },
    { "help", no_argument, NULL, OPT_HELP },
    { NULL, 0, NULL, 0 }
};

/* One option's value into o; AN_ERR_ARG with a message when malformed. */
/* --devices LIST: each comma-separated name is one backend_select.h accepts. */
static an_status devices_check(const char *list)
{
    char name[64];
    for (const char *p = list;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof name) return error_set(AN_ERR_ARG, "--devices '%s': an empty or too long name", list);
        memcpy(name, p, len);
        name[len] = '\0';
        AN_TRY(backend_device_check(name));
        if (p[len] == '\0') return AN_OK;
        p += len + 1;
    }
}

static an_status apply_option(train_options *o, int c, const char *name, const char *v)
{
    long n;
    double d;
    switch (c) {
    case OPT_DATA: o->data_dir = v; return AN_OK;
    case OPT_RUN: o->run_dir = v; return AN_OK;
    case OPT_RESUME: o->resume = 1; return AN_OK;
    case OPT_EPOCHS: AN_TRY(cli_parse_long(name, v, 1, 100000, &n)); o->epochs = (int)n; return AN_OK;
    case OPT_BATCH:
        AN_TRY(cli_parse_long(name, v, 1, 1 << 20, &n));
        o->batch = (uint32_t)n;
        o->given |= TRAIN_GIVEN_BATCH;
        return AN_OK;
    case OPT_WIDTH:
        AN_TRY(cli_parse_double(name, v, 1e-3, 8.0, &o->width));
        o->net.width = o->width;
        o->given |= TRAIN_GIVEN_WIDTH;
        return AN_OK;
    case OPT_DEVICE:
        o->device = v;
        return devices_check(v);
    case OPT_SEED: AN_TRY(cli_parse_u64(name, v, &o->seed)); o->given |= TRAIN_GIVEN_SEED; return AN_OK;
    case OPT_LR: AN_TRY(cli_parse_double(name, v, 1e-12, 100.0, &o->lr)); o->given |= TRAIN_GIVEN_LR; return AN_OK;
    case OPT_PATIENCE:
        AN_TRY(cli_parse_long(name, v, 1, 100000, &n));
        o->patience = (int)n;
        o->given |= TRAIN_GIVEN_PATIENCE;
        return AN_OK;
    case OPT_LR_STEPS: o->lr_steps = v; o->given |= TRAIN_GIVEN_LR_STEPS; return AN_OK;
    case OPT_MOMENTUM:
        AN_TRY(cli_parse_double(name, v, 0.0, 0.999999, &o->momentum));
        o->given |= TRAIN_GIVEN_MOMENTUM;
        return AN_OK;
    case OPT_WEIGHT_DECAY:
        AN_TRY(cli_parse_double(name, v, 0.0, 1.0, &o->weight_decay));
        o->given |= TRAIN_GIVEN_WEIGHT_DECAY;
        return AN_OK;
    case OPT_LRN: AN_TRY(net_lrn_parse(v, &o->net)); o->given |= TRAIN_GIVEN_NET; return AN_OK;
    case OPT_POOL: AN_TRY(net_pooling_parse(v, &o->net.pooling)); o->given |= TRAIN_GIVEN_NET; return AN_OK;
    case OPT_TOWERS:
        AN_TRY(cli_parse_long(name, v, 1, 2, &n));
        o->net.towers = (int)n;
        o->given |= TRAIN_GIVEN_NET;
        return AN_OK;
    case OPT_ACTIVATION:
        AN_TRY(net_activation_parse(v, &o->net.activation));
        o->given |= TRAIN_GIVEN_NET;
        return AN_OK;
    case OPT_AUGMENT: AN_TRY(augment_mode_parse(v, &o->augment)); o->given |= TRAIN_GIVEN_AUGMENT; return AN_OK;
    case OPT_INIT:
        o->given |= TRAIN_GIVEN_NET;
        return net_init_scheme_parse(v, &o->net.init);
    case OPT_DROPOUT:
        AN_TRY(cli_parse_double(name, v, 0.0, 0.95, &d));
        o->net.dropout_rate = (float)d;
        o->given |= TRAIN_GIVEN_NET;
        return AN_OK;
    case OPT_VAL_LIMIT: AN_TRY(cli_parse_long(name, v, 1, UINT32_MAX, &n)); o->val_limit = (uint32_t)n; return AN_OK;
    case OPT_CKPT_MINUTES: return cli_parse_double(name, v, 0.0, 1e6, &o->checkpoint_minutes);
    case OPT_CKPT_STEPS: return cli_parse_u64(name, v, &o->checkpoint_steps);
    case OPT_KEEP: AN_TRY(cli_parse_long(name, v, 2, 100000, &n)); o->keep = (int)n; return AN_OK;
    case OPT_THREADS: AN_TRY(cli_parse_long(name, v, 1, 4096, &n)); o->threads = (int)n; return AN_OK;
    case OPT_LOADER_THREADS: AN_TRY(cli_parse_long(name, v, 1, 1024, &n)); o->loader_threads = (int)n; return AN_OK;
    case OPT_QUEUE_DEPTH: AN_TRY(cli_parse_long(name, v, 1, 64, &n)); o->queue_depth = (int)n; return AN_OK;
    case OPT_LOG_EVERY:
        AN_TRY(cli_parse_long(name, v, 1, 1000000000L, &n));
        o->log_every = (uint64_t)n;
        return AN_OK;
    case OPT_MAX_STEPS: return cli_parse_u64(name, v, &o->max_steps);
    case OPT_NO_EVENTS: o->no_events = 1; return AN_OK;
    case OPT_QUIET: log_set_level(LOG_WARN); return AN_OK;
    case OPT_VERBOSE: log_set_level(LOG_VERBOSE); return AN_OK;
    default: return error_set(AN_ERR_INTERNAL, "unhandled option %d", c);
    }
}

int train_options_parse(train_options *o, int argc, char **argv)
{
    optind = 0; /* start afresh, forgetting any earlier parse (glibc and musl); 1 would keep
                 * glibc's pointer into the previous argv after a bad "-ab" */
    opterr = 0;
    for (;;) {
        int index = -1;
        int c = getopt_long(argc, argv, "", long_options, &index);
        if (c == -1) break;
        if (c == '?') {
            const char *bad = argv[optind - 1];
            return cli_usage_error(&train_program, "unknown option or missing value: %s", bad ? bad : "?");
        }
        if (c == OPT_HELP) { cli_print_help(&train_program); return -1; }
        if (c == OPT_VERSION) { cli_print_version(&train_program); return -1; }
        const char *name = index >= 0 ? long_options[index].name : "?";
        if (apply_option(o, c, name, optarg) != AN_OK)
            return cli_usage_error(&train_program, "%s", error_message());
    }
    if (optind < argc) return cli_usage_error(&train_program, "unexpected argument: %s", argv[optind]);
    if (!o->data_dir) return cli_usage_error(&train_program, "--data DIR is required");
    if (!o->run_dir) return cli_usage_error(&train_program, "--run DIR is required");
    if (o->lr_steps && (o->given & TRAIN_GIVEN_PATIENCE))
        return cli_usage_error(&train_program, "--lr-steps and --patience exclude each other");
    return 0;
}
