/* trainer_setup.c: opening everything the training loop needs, fresh or
 * resumed. See trainer_internal.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkpoint.h"
#include "h5_error.h"
#include "json_writer.h"
#include "atomic_file.h"
#include "log.h"
#include "backend_select.h"
#include "run_records.h"
#include "trainer_internal.h"
#include "version.h"

an_status trainer_agree(const trainer *t, an_status st)
{
    int failed = st != AN_OK;
    an_status mpi = replicas_max_int(t->world, &failed);
    if (st != AN_OK) return st;
    if (mpi != AN_OK) return mpi;
    if (failed) return error_set(AN_ERR_MPI, "another process failed (see its message)");
    return AN_OK;
}

static an_status open_shards(const dataset_split *split, const char *name, shard_reader ***out)
{
    if (split->num_shards < 1) return error_set(AN_ERR_FORMAT, "the dataset has no %s shards", name);
    *out = calloc((size_t)split->num_shards, sizeof **out);
    AN_CHECK_ALLOC(*out, (size_t)split->num_shards * sizeof **out);
    for (int s = 0; s < split->num_shards; s++) AN_TRY(shard_reader_open(&(*out)[s], split->shard_paths[s]));
    return AN_OK;
}

static void close_shards(shard_reader **shards, int count)
{
    if (!shards) return;
    for (int s = 0; s < count; s++) shard_reader_close(shards[s]);
    free(shards);
}

/* Checks every shard belongs to this dataset (store and id) and the labels fit the classes. */
static an_status check_shards(const trainer *t, shard_reader **shards, int count)
{
    for (int s = 0; s < count; s++) {
        const shard_reader *r = shards[s];
        AN_TRY(dataset_check_shard(t->data, r));
        for (size_t i = 0; i < r->count; i++)
            if (r->labels[i] < 0 || r->labels[i] >= t->data->num_classes)
                return error_set(AN_ERR_FORMAT, "%s: image %zu has label %d, outside 0..%d", r->path, i,
                                 r->labels[i], t->data->num_classes - 1);
    }
    return AN_OK;
}

static an_status open_dataset(trainer *t)
{
    const char *dir = t->opt->data_dir;
    AN_TRY(dataset_open(&t->data, dir));
    AN_TRY(open_shards(&t->data->train, "train", &t->train_shards));
    AN_TRY(open_shards(&t->data->val, "val", &t->val_shards));
    AN_TRY(check_shards(t, t->train_shards, t->data->train.num_shards));
    AN_TRY(check_shards(t, t->val_shards, t->data->val.num_shards));
    augment_params *a = &t->augment;
    a->mean_image = t->data->mean_image;
    a->lighting_std = AUGMENT_LIGHTING_STD;
    for (int i = 0; i < 3; i++) {
        a->eigenvalues[i] = (float)t->data->eigenvalues[i];
        for (int j = 0; j < 3; j++) a->eigenvectors[i][j] = (float)t->data->eigenvectors[i][j];
    }
    return AN_OK;
}

/* On --resume: an option given on the command line must agree with the run. */
static an_status check_resume_options(const trainer *t, const net_config *cfg)
{
    const train_options *o = t->opt;
    const train_state *s = &t->state;
    const char *what = NULL;
    if ((o->given & TRAIN_GIVEN_BATCH) && o->batch != s->batch) what = "--batch";
    else if ((o->given & TRAIN_GIVEN_WIDTH) && o->net.width != cfg->width) what = "--width";
    else if ((o->given & TRAIN_GIVEN_SEED) && o->seed != t->augment.seed) what = "--seed";
    else if ((o->given & TRAIN_GIVEN_LR) && o->lr != s->schedule.base_lr) what = "--lr";
    else if ((o->given & TRAIN_GIVEN_PATIENCE) && o->patience != s->schedule.patience) what = "--patience";
    else if ((o->given & TRAIN_GIVEN_LR_STEPS) && s->schedule.milestone_count == 0) what = "--lr-steps";
    else if ((o->given & TRAIN_GIVEN_MOMENTUM) && o->momentum != s->momentum) what = "--momentum";
    else if ((o->given & TRAIN_GIVEN_WEIGHT_DECAY) && o->weight_decay != s->weight_decay) what = "--weight-decay";
    else if ((o->given & TRAIN_GIVEN_NET) &&
             (o->net.lrn != cfg->lrn || (cfg->lrn && o->net.lrn_convention != cfg->lrn_convention) ||
              o->net.init != cfg->init || o->net.dropout_rate != cfg->dropout_rate ||
              o->net.pooling != cfg->pooling || o->net.towers != cfg->towers ||
              o->net.activation != cfg->activation))
        what = "--lrn/--init/--dropout/--pool/--towers/--activation";
    else if ((o->given & TRAIN_GIVEN_AUGMENT) && o->augment != s->augment) what = "--augment";
    if (what)
        return error_set(AN_ERR_ARG, "--resume: %s differs from the run's checkpoint; a resumed run keeps its "
                         "settings (start a new --run to change them)", what);
    /* A run's sums are reproducible from its first step or not at all: the flag is carried from the
     * checkpoint when not given, and cannot be turned on halfway. */
    if ((o->given & TRAIN_GIVEN_REPRODUCIBLE) && !s->reproducible)
        return error_set(AN_ERR_ARG, "--resume: the run was not started with --reproducible, and its earlier "
                         "steps cannot be made so; resume it without --reproducible (or start a new --run with it)");
    /* train_resume_precision took the run's precision before the device opened; this
     * holds unless `latest` changed in between. */
    if (o->precision != s->precision)
        return error_set(AN_ERR_ARG, "--resume: the run trains with --precision %s, not %s; resume it with "
                         "--precision %s (start a new --run to change it)", backend_precision_name(s->precision),
                         backend_precision_name(o->precision), backend_precision_name(s->precision));
    return AN_OK;
}

/* Rank 0's part of train_resume_precision: *precision = the run's. */
static an_status run_precision(const train_options *o, backend_precision *precision)
{
    char latest[RUN_PATH_MAX];
    if (run_dir_latest(o->run_dir, latest, sizeof latest) != AN_OK) return AN_OK; /* train_run says why */
    char *json = NULL;
    train_state s;
    an_status st = checkpoint_read_state(latest, &json);
    if (st == AN_OK) st = train_state_from_json(json, &s);
    free(json);
    if (st != AN_OK) return error_context(st, "--resume: reading the run's precision");
    if ((o->given & TRAIN_GIVEN_PRECISION) && o->precision != s.precision)
        return error_set(AN_ERR_ARG, "--resume: the run trains with --precision %s (%s), not %s; resume it with "
                         "--precision %s or without --precision (start a new --run to change it)",
                         backend_precision_name(s.precision), latest, backend_precision_name(o->precision),
                         backend_precision_name(s.precision));
    st = backend_precision_check(o->device, s.precision);
    if (st != AN_OK) return error_context(st, "--resume: the run trains with --precision %s (%s)",
                                          backend_precision_name(s.precision), latest);
    *precision = s.precision;
    return AN_OK;
}

an_status train_resume_precision(train_options *opt, const replicas *world)
{
    if (!opt->resume) return AN_OK;
    int32_t agreed[2] = {AN_OK, (int32_t)opt->precision}; /* rank 0's status, and the precision to run with */
    if (world->rank == 0) {
        backend_precision p = opt->precision;
        agreed[0] = (int32_t)run_precision(opt, &p);
        agreed[1] = (int32_t)p;
    }
    AN_TRY(replicas_broadcast(world, agreed, sizeof agreed));
    if (agreed[0] != AN_OK)
        return world->rank == 0 ? (an_status)agreed[0]
                                : error_set((an_status)agreed[0], "--resume refused by process 0 (see its message)");
    opt->precision = (backend_precision)agreed[1];
    return AN_OK;
}

/* The most images of one replica's slice of a global batch of `batch`
 * (processes x replicas slices; processes with towers, parallel_mode.h). */
static int local_max_batch(const trainer *t, uint32_t batch)
{
    const uint32_t slices = (uint32_t)parallel_batch_slices(t->mode, t->world->size, t->replicas);
    return (int)((batch + slices - 1) / slices);
}

/* towers and hybrid: the members of the split network, one per replica, on their devices. */
static an_status create_members(trainer *t, const net_config *cfg, int max_batch)
{
    for (int r = 0; r < t->replicas; r++) {
        const net_split split = parallel_split(t->mode, r, t->replicas, t->exchange);
        an_status st = net_create_split(&t->nets[r], cfg, max_batch, device_group_backend(t->group, r), &split);
        if (st != AN_OK) return error_context(st, "replica %d of the %s split", r, parallel_mode_name(t->mode));
    }
    return AN_OK;
}

static void destroy_nets(trainer *t)
{
    for (int r = 0; r < t->replicas; r++) {
        net_destroy(t->nets[r]);
        t->nets[r] = NULL;
    }
}

/* towers and hybrid: the members re-created for batches of up to max_batch, with their weights and momentum. */
static an_status resize_members(trainer *t, const net_config *cfg, int max_batch)
{
    const size_t floats = net_whole_param_count(t->nets[0]);
    float *whole = calloc(2 * floats, sizeof *whole); /* [2][floats] the whole network's weights, momentum */
    AN_CHECK_ALLOC(whole, 2 * floats * sizeof *whole);
    an_status st = AN_OK;
    for (int r = 0; r < t->replicas && st == AN_OK; r++) {
        st = net_to_whole(t->nets[r], NET_BLOCK_PARAMS, whole);
        if (st == AN_OK) st = net_to_whole(t->nets[r], NET_BLOCK_MOMENTUM, whole + floats);
    }
    if (st == AN_OK) {
        destroy_nets(t);
        st = create_members(t, cfg, max_batch);
    }
    for (int r = 0; r < t->replicas && st == AN_OK; r++) {
        st = net_from_whole(t->nets[r], NET_BLOCK_PARAMS, whole);
        if (st == AN_OK) st = net_from_whole(t->nets[r], NET_BLOCK_MOMENTUM, whole + floats);
    }
    free(whole);
    return st;
}

/* Replicas 1.. of this process: networks like replica 0's on their own
 * devices, with its weights and momentum. */
static an_status replicate_net(trainer *t)
{
    net *first = t->nets[0];
    float *weights, *momentum; /* [net_param_count] host views of replica 0's blocks */
    AN_TRY(net_block_to_host(first, NET_BLOCK_PARAMS, &weights));
    AN_TRY(net_block_to_host(first, NET_BLOCK_MOMENTUM, &momentum));
    for (int r = 1; r < t->replicas; r++) {
        AN_TRY(net_create_on(&t->nets[r], net_get_config(first), net_max_batch(first),
                             device_group_backend(t->group, r)));
        AN_TRY(net_block_from_host(t->nets[r], NET_BLOCK_PARAMS, weights));
        AN_TRY(net_block_from_host(t->nets[r], NET_BLOCK_MOMENTUM, momentum));
    }
    return AN_OK;
}

/* Rank 0 reads the latest checkpoint (into a net sized for the command
 * line's batch, re-created if the run's batch needs more room); every rank
 * then gets the same configuration, state, weights and momentum. */
static an_status resume_on_rank0(trainer *t, net_config *cfg, checkpoint_meta *meta)
{
    char *json = NULL;
    const char *ckpt = t->last_checkpoint;
    AN_TRY(run_dir_latest(t->opt->run_dir, t->last_checkpoint, sizeof t->last_checkpoint));
    an_status st;
    AN_TRY_GOTO(st, checkpoint_read_config(ckpt, cfg), done);
    backend *be = device_group_backend(t->group, 0);
    if (t->mode != PARALLEL_DATA) { /* the checkpoint's whole network scattered to the members */
        AN_TRY_GOTO(st, create_members(t, cfg, local_max_batch(t, t->opt->batch)), done);
        AN_TRY_GOTO(st, checkpoint_load_members(ckpt, t->nets, t->replicas, meta, &json), done);
    } else {
        AN_TRY_GOTO(st, net_create_on(&t->nets[0], cfg, local_max_batch(t, t->opt->batch), be), done);
        AN_TRY_GOTO(st, checkpoint_load(ckpt, t->nets[0], meta, &json), done);
    }
    AN_TRY_GOTO(st, train_state_from_json(json, &t->state), done);
    if (strcmp(meta->dataset_id, t->data->dataset_id) != 0) {
        st = error_set(AN_ERR_FORMAT, "checkpoint %s was trained on dataset %s, but %s is dataset %s", ckpt,
                       meta->dataset_id, t->opt->data_dir, t->data->dataset_id);
        goto done;
    }
    int need = local_max_batch(t, t->state.batch);
    if (need > net_max_batch(t->nets[0]) && t->mode != PARALLEL_DATA) {
        st = resize_members(t, cfg, need);
    } else if (need > net_max_batch(t->nets[0])) {
        net *bigger = NULL;
        float *weights, *momentum; /* [net_param_count] host views of the smaller net's blocks */
        AN_TRY_GOTO(st, net_block_to_host(t->nets[0], NET_BLOCK_PARAMS, &weights), done);
        AN_TRY_GOTO(st, net_block_to_host(t->nets[0], NET_BLOCK_MOMENTUM, &momentum), done);
        AN_TRY_GOTO(st, net_create_on(&bigger, cfg, need, be), done);
        st = net_block_from_host(bigger, NET_BLOCK_PARAMS, weights);
        if (st == AN_OK) st = net_block_from_host(bigger, NET_BLOCK_MOMENTUM, momentum);
        net_destroy(t->nets[0]);
        t->nets[0] = bigger;
        if (st != AN_OK) goto done;
    }
done:
    free(json);
    return st == AN_OK ? AN_OK : error_context(st, "resuming from %s", ckpt);
}

/* Rank 0's block of replica r's network to every rank (a no-op for one process). */
static an_status broadcast_block(trainer *t, int r, net_block which)
{
    if (t->world->size == 1) return AN_OK;
    float *block; /* [net_param_count] */
    AN_TRY(net_block_to_host(t->nets[r], which, &block));
    AN_TRY(replicas_broadcast(t->world, block, net_param_count(t->nets[r]) * sizeof(float)));
    return net_block_from_host(t->nets[r], which, block);
}

static an_status resume_from_latest(trainer *t)
{
    net_config cfg;
    checkpoint_meta meta;
    memset(&cfg, 0, sizeof cfg);
    memset(&meta, 0, sizeof meta);
    an_status st = t->world->rank == 0 ? resume_on_rank0(t, &cfg, &meta) : AN_OK;
    AN_TRY(trainer_agree(t, st));
    AN_TRY(replicas_broadcast(t->world, &cfg, sizeof cfg));
    AN_TRY(replicas_broadcast(t->world, &meta, sizeof meta));
    AN_TRY(replicas_broadcast(t->world, &t->state, sizeof t->state));
    if (cfg.num_classes != t->data->num_classes)
        return error_set(AN_ERR_FORMAT, "the checkpoint has %d classes, the dataset %d", cfg.num_classes,
                         t->data->num_classes);
    if (t->world->rank != 0 && t->mode != PARALLEL_DATA)
        AN_TRY(trainer_agree(t, create_members(t, &cfg, local_max_batch(t, t->state.batch))));
    else if (t->world->rank != 0)
        AN_TRY(trainer_agree(t, net_create_on(&t->nets[0], &cfg, local_max_batch(t, t->state.batch),
                                              device_group_backend(t->group, 0))));
    else
        AN_TRY(trainer_agree(t, AN_OK));
    /* data: replica 0's network, copied to the others; towers, hybrid: every member's part */
    const int holders = t->mode == PARALLEL_DATA ? 1 : t->replicas;
    for (int r = 0; r < holders; r++) {
        AN_TRY(broadcast_block(t, r, NET_BLOCK_PARAMS));
        AN_TRY(broadcast_block(t, r, NET_BLOCK_MOMENTUM));
    }
    if (t->mode == PARALLEL_DATA) AN_TRY(trainer_agree(t, replicate_net(t)));
    t->augment.seed = meta.seed;
    AN_TRY(check_resume_options(t, &cfg));
    if (t->world->rank == 0)
        log_info("resuming from %s: epoch %u, step %llu of the epoch, global step %llu, lr %g",
                 t->last_checkpoint, t->state.epoch + 1, (unsigned long long)t->state.step_in_epoch,
                 (unsigned long long)t->state.global_step, t->state.schedule.lr);
    return AN_OK;
}

static an_status start_fresh(trainer *t, int max_batch)
{
    const train_options *o = t->opt;
    net_config cfg = o->net;
    cfg.num_classes = t->data->num_classes;
    if (t->mode != PARALLEL_DATA) { /* each member its part of the same whole network (net_init_params) */
        AN_TRY(create_members(t, &cfg, max_batch));
        for (int r = 0; r < t->replicas; r++) AN_TRY(net_init_params(t->nets[r], o->seed));
    } else {
        AN_TRY(net_create_on(&t->nets[0], &cfg, max_batch, device_group_backend(t->group, 0)));
        AN_TRY(net_init_params(t->nets[0], o->seed)); /* the same on every rank: philox keyed by the seed */
        AN_TRY(replicate_net(t));
    }
    t->augment.seed = o->seed;
    memset(&t->state, 0, sizeof t->state);
    t->state.batch = o->batch;
    t->state.momentum = o->momentum;
    t->state.weight_decay = o->weight_decay;
    t->state.augment = o->augment;
    t->state.precision = o->precision;
    t->state.reproducible = o->reproducible;
    lr_schedule_init(&t->state.schedule, o->lr, o->patience);
    if (o->lr_steps) AN_TRY(lr_schedule_set_milestones(&t->state.schedule, o->lr_steps));
    return AN_OK;
}

/* The settings in force: the command line's, with those a resume takes from
 * the checkpoint (the network, the trajectory's settings). */
static train_options settings_in_force(const trainer *t)
{
    train_options in_force = *t->opt;
    const train_state *s = &t->state;
    in_force.net = *net_get_config(t->nets[0]);
    in_force.seed = t->augment.seed;
    in_force.batch = s->batch;
    in_force.lr = s->schedule.base_lr;
    in_force.patience = s->schedule.patience;
    in_force.momentum = s->momentum;
    in_force.weight_decay = s->weight_decay;
    in_force.augment = t->augment.mode;
    in_force.reproducible = s->reproducible;
    return in_force;
}

/* RUN/config.json: each section's options (train_options.c's table), then
 * what the run derived from them. */
static an_status write_config(const trainer *t)
{
    const train_options o = settings_in_force(t);
    const train_state *s = &t->state;
    char path[RUN_PATH_MAX], stamp[32];
    time_t now = time(NULL);
    struct tm tm_now;
    gmtime_r(&now, &tm_now);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm_now);
    json_writer w;
    json_init(&w);
    json_begin_object(&w);
    json_kv_string(&w, "program", "alexnet-train");
    json_kv_string(&w, "version", ALEXNET_VERSION);
    json_kv_string(&w, "written_at", stamp);
    json_kv_bool(&w, "resumed", o.resume);
    json_key(&w, RUN_CONFIG_DATASET);
    json_begin_object(&w);
    train_options_record(&o, RUN_CONFIG_DATASET, &w);
    json_kv_string(&w, "dataset_id", t->data->dataset_id);
    json_kv_string(&w, "source", t->data->source);
    json_kv_int(&w, "num_classes", t->data->num_classes);
    json_kv_int(&w, "num_train", (int64_t)t->data->train.num_images);
    json_kv_int(&w, "num_val", (int64_t)t->data->val.num_images);
    json_end_object(&w);
    json_key(&w, RUN_CONFIG_NETWORK);
    json_begin_object(&w);
    train_options_record(&o, RUN_CONFIG_NETWORK, &w);
    json_kv_string(&w, "lrn_alpha", lrn_convention_name(o.net.lrn_convention));
    json_kv_int(&w, "parameters", (int64_t)net_whole_parameters(t->nets[0]));
    json_kv_int(&w, "macs_per_image", (int64_t)net_whole_macs_per_image(t->nets[0]));
    json_end_object(&w);
    json_key(&w, RUN_CONFIG_TRAINING);
    json_begin_object(&w);
    train_options_record(&o, RUN_CONFIG_TRAINING, &w);
    json_kv_string(&w, "lr_schedule", s->schedule.milestone_count ? "milestones" : "plateau");
    json_kv_int(&w, "max_lr_drops", s->schedule.max_drops);
    json_key(&w, "lr_steps");
    json_begin_array(&w);
    for (int i = 0; i < s->schedule.milestone_count; i++) json_int(&w, s->schedule.milestones[i]);
    json_end_array(&w);
    json_kv_float(&w, "lighting_std", t->augment.mode == AUGMENT_FULL ? t->augment.lighting_std : 0.0f);
    json_end_object(&w);
    json_key(&w, RUN_CONFIG_EXECUTION);
    json_begin_object(&w);
    train_options_record(&o, RUN_CONFIG_EXECUTION, &w);
    json_kv_string(&w, "device", device_group_backend(t->group, 0)->kind);
    json_kv_int(&w, "devices", t->replicas);
    json_kv_string(&w, "device_description", device_group_describe(t->group));
    json_kv_int(&w, "processes", t->world->size);
    size_t most = 0; /* the largest device's parameters (towers, hybrid: its part of the network) */
    for (int r = 0; r < t->replicas; r++) most = net_parameters(t->nets[r]) > most ? net_parameters(t->nets[r]) : most;
    json_kv_int(&w, "parameter_bytes_per_device", (int64_t)(most * sizeof(float)));
    json_end_object(&w);
    json_end_object(&w);
    an_status st = json_finish(&w);
    if (st == AN_OK) {
        st = run_dir_file(o.run_dir, RUN_CONFIG_FILE, path, sizeof path);
        if (st == AN_OK) st = atomic_write_file(path, w.data, w.length);
    }
    json_free(&w);
    return st;
}

/* Rank 0: RUN/log, appended; every later message also goes there. */
static an_status open_log(trainer *t)
{
    char path[RUN_PATH_MAX];
    AN_TRY(run_dir_file(t->opt->run_dir, RUN_LOG_FILE, path, sizeof path));
    t->log_file = fopen(path, "a");
    if (!t->log_file) return error_set(AN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    log_set_file(t->log_file);
    return AN_OK;
}

/* Rank 0: the earlier event files (tb_events.h) cut back to the checkpoint's
 * step on a resume, as metrics.csv is, or removed on a fresh start (over an
 * attempt that left no checkpoint), as metrics.csv is emptied, even with
 * --no-events; then, without it, a new file, which a fresh run starts with
 * config.json as a text summary at step 0. */
static an_status open_events(trainer *t)
{
    const char *run = t->opt->run_dir;
    AN_TRY(t->opt->resume ? tb_events_cut(run, t->state.global_step) : tb_events_remove(run));
    if (t->opt->no_events) return AN_OK;
    AN_TRY(tb_events_create(&t->events, run));
    if (t->opt->resume) return AN_OK;
    char path[RUN_PATH_MAX];
    snprintf(path, sizeof path, "%s/config.json", run);
    FILE *f = fopen(path, "rb");
    if (!f) return error_set(AN_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    char *text = NULL; /* [size + 13] config.json as a markdown code block */
    long size = -1;
    an_status st = AN_OK;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        st = error_set(AN_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    } else if (!(text = malloc((size_t)size + 13))) {
        st = error_set(AN_ERR_NOMEM, "out of memory reading %s", path);
    } else {
        memcpy(text, "```json\n", 8);
        if (fread(text + 8, 1, (size_t)size, f) != (size_t)size)
            st = error_set(AN_ERR_IO, "cannot read %s", path);
        else
            memcpy(text + 8 + size, "\n```", 5);
    }
    fclose(f);
    if (st == AN_OK) st = tb_events_text(t->events, 0, "config", text);
    free(text);
    return st;
}

/* Rank 0: config.json, metrics.csv (cut back to the checkpoint's step on a
 * resume) and the event files. */
static an_status open_run_outputs(trainer *t)
{
    AN_TRY(write_config(t));
    AN_TRY(run_dir_open_metrics(t->opt->run_dir, t->opt->resume, t->state.global_step, &t->metrics));
    return open_events(t);
}

/* Replica r's loaders: its slice of every global batch, slice number
 * rank x replicas + r of processes x replicas. */
static an_status create_loaders(trainer *t, int r)
{
    const train_options *o = t->opt;
    loader_config c;
    memset(&c, 0, sizeof c);
    c.shards = t->train_shards;
    c.shard_count = t->data->train.num_shards;
    c.id_count = t->data->train.id_count;
    c.augment = &t->augment;
    c.mode = LOADER_TRAIN;
    c.batch = t->state.batch;
    c.rank = t->world->rank * t->loaders + r; /* towers: one loader per process, its slice for both towers */
    c.ranks = t->world->size * t->loaders;
    c.threads = o->loader_threads;
    c.queue_depth = o->queue_depth;
    c.host_memory = net_backend(t->nets[r]); /* the ring is what the backend uploads from */
    AN_TRY(loader_create(&t->train_loaders[r], &c));
    c.shards = t->val_shards;
    c.shard_count = t->data->val.num_shards;
    c.id_count = t->data->val.id_count;
    c.mode = LOADER_VAL;
    c.queue_depth = o->queue_depth < 2 ? o->queue_depth : 2;
    c.limit = o->val_limit;
    return loader_create(&t->val_loaders[r], &c);
}

/* The split networks' communicator: the device group's, or with
 * ALEXNET_TEST_DROP_EXCHANGE=R (tests) one whose all-gathers lose replica
 * R's part (parallel_mode.h). */
static an_status open_exchange(trainer *t)
{
    t->exchange = device_group_communicator(t->group);
    const char *drop = getenv("ALEXNET_TEST_DROP_EXCHANGE");
    if (!drop || t->mode == PARALLEL_DATA) return AN_OK;
    char *end;
    long r = strtol(drop, &end, 10);
    if (*drop == '\0' || *end != '\0' || r < 0 || r >= t->replicas)
        return error_set(AN_ERR_ARG, "ALEXNET_TEST_DROP_EXCHANGE='%s': expected a replica, 0..%d", drop,
                         t->replicas - 1);
    AN_TRY(parallel_dropping_communicator(&t->broken, t->exchange, (int)r));
    t->exchange = t->broken;
    log_warn("the exchanges lose replica %ld's part (ALEXNET_TEST_DROP_EXCHANGE): this run is broken on purpose", r);
    return AN_OK;
}

/* At start: what each device holds and moves (parallel_mode.h). */
static void log_devices(const trainer *t)
{
    const int batch = (int)t->state.batch / t->world->size; /* the images of one process's step */
    for (int r = 0; r < t->replicas; r++)
        log_info("replica %d (%s, --parallel %s): %.1f MB of parameters (%zu), %.1f MB exchanged per step of %d "
                 "images", r, device_group_backend(t->group, r)->kind, parallel_mode_name(t->mode),
                 net_parameters(t->nets[r]) * sizeof(float) / 1e6, net_parameters(t->nets[r]),
                 parallel_bytes_per_step(t->mode, t->nets[r], t->replicas, batch) / 1e6, batch);
}

/* ALEXNET_TEST_FAIL_REPLICA=R:S makes replica R's step S fail (tests of a
 * replica's failure stopping the run); unset, nothing fails. */
static an_status read_fail_hook(trainer *t)
{
    t->fail_replica = -1;
    const char *hook = getenv("ALEXNET_TEST_FAIL_REPLICA");
    if (!hook) return AN_OK;
    unsigned long long step;
    int replica;
    if (sscanf(hook, "%d:%llu", &replica, &step) != 2 || replica < 0 || step < 1)
        return error_set(AN_ERR_ARG, "ALEXNET_TEST_FAIL_REPLICA='%s': expected REPLICA:STEP", hook);
    t->fail_replica = replica;
    t->fail_step = step;
    return AN_OK;
}

an_status trainer_setup(trainer *t, const train_options *opt, const replicas *world)
{
    memset(t, 0, sizeof *t);
    t->opt = opt;
    t->world = world;
    h5_error_init();
    AN_TRY(trainer_agree(t, open_dataset(t)));
    an_status st = AN_OK;
    if (world->rank == 0) {
        st = run_lock_acquire(opt->run_dir, &t->lock); /* one writer per run directory */
        if (st == AN_OK) st = run_dir_prepare(opt->run_dir, opt->resume);
        if (st == AN_OK) st = open_log(t);
    }
    AN_TRY(trainer_agree(t, st));
    if (opt->batch < (uint32_t)world->size)
        return error_set(AN_ERR_ARG, "--batch %u is smaller than the %d processes", opt->batch, world->size);
    AN_TRY(trainer_agree(t, device_group_open(&t->group, opt->device, opt->precision, world->rank, world->size,
                                              opt->threads)));
    t->replicas = device_group_size(t->group);
    t->mode = opt->parallel;
    t->loaders = t->mode == PARALLEL_TOWERS ? 1 : t->replicas;
    AN_TRY(parallel_mode_check_open(t->mode, t->replicas));
    AN_TRY(open_exchange(t));
    if (opt->batch < (uint32_t)(world->size * t->replicas))
        return error_set(AN_ERR_ARG, "--batch %u is smaller than the %d replicas", opt->batch,
                         world->size * t->replicas);
    log_info("training on %s", device_group_describe(t->group)); /* other ranks log warnings only */
    AN_TRY(read_fail_hook(t));
    if (opt->resume)
        AN_TRY(resume_from_latest(t));
    else
        AN_TRY(trainer_agree(t, start_fresh(t, local_max_batch(t, opt->batch))));
    t->augment.mode = t->state.augment; /* the run's, fresh or resumed */
    t->process_ids = calloc(t->state.batch, sizeof *t->process_ids);
    t->process_labels = calloc(t->state.batch, sizeof *t->process_labels);
    if (!t->process_ids || !t->process_labels) return error_set(AN_ERR_NOMEM, "out of memory for a batch's labels");
    if (world->rank == 0) log_devices(t);
    if (t->state.reproducible) AN_TRY(trainer_agree(t, trainer_tree_open(t)));
    st = AN_OK;
    if (world->rank == 0) st = open_run_outputs(t);
    AN_TRY(trainer_agree(t, st));
    for (int r = 0; r < t->loaders; r++) AN_TRY(trainer_agree(t, create_loaders(t, r)));
    return AN_OK;
}

void trainer_teardown(trainer *t)
{
    trainer_tree_close(t); /* its partial sums live on the devices */
    for (int r = 0; r < BACKEND_MAX_DEVICES; r++) {
        loader_destroy(t->train_loaders[r]);
        loader_destroy(t->val_loaders[r]);
        net_destroy(t->nets[r]);
    }
    communicator_destroy(t->broken);
    free(t->process_ids);
    free(t->process_labels);
    device_group_close(t->group);
    if (t->data) {
        close_shards(t->train_shards, t->data->train.num_shards);
        close_shards(t->val_shards, t->data->val.num_shards);
    }
    dataset_close(t->data);
    if (t->metrics) fclose(t->metrics);
    tb_events_close(t->events);
    if (t->log_file) {
        log_set_file(NULL);
        fclose(t->log_file);
    }
    run_lock_release(t->lock);
    memset(t, 0, sizeof *t);
}
