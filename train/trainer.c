/* trainer.c: the training loop (§5). See trainer.h. */
#include "trainer.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "fault_point.h"
#include "log.h"
#include "progress.h"
#include "stop_signal.h"
#include "trainer_internal.h"

/* Sums over the metrics window (between two metrics rows). */
typedef struct window {
    double loss_sum;     /* sum over images of -log p(label) */
    double top1, top5;   /* errors */
    double images;
    double start;        /* monotonic seconds */
} window;

/* A checkpoint records the id of the dataset it was trained on (dataset/ and net/ name the length each). */
_Static_assert(CHECKPOINT_DATASET_ID_LEN == AN_DATASET_ID_LEN, "checkpoint and dataset ids have one length");

/* Rank 0: checkpoint the current state, move `latest`, keep the last K + best. */
static an_status write_checkpoint(trainer *t, int is_best)
{
    if (t->world->rank != 0) return AN_OK;
    AN_TRY(run_lock_check(t->lock)); /* never write into a run another trainer took over */
    char name[64], path[RUN_PATH_MAX];
    run_dir_checkpoint_name(t->state.epoch, t->state.global_step, name, sizeof name);
    AN_TRY(run_dir_checkpoint_path(t->opt->run_dir, name, path, sizeof path));
    checkpoint_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.step = t->state.global_step;
    meta.epoch = t->state.epoch;
    meta.learning_rate = t->state.schedule.lr;
    meta.lr_drops = t->state.schedule.drops;
    meta.seed = t->augment.seed;
    snprintf(meta.dataset_id, sizeof meta.dataset_id, "%s", t->data->dataset_id);
    char *json = NULL;
    AN_TRY(train_state_to_json(&t->state, &json));
    /* data: every replica holds the same network; towers, hybrid: the members' parts, gathered */
    an_status st = t->mode == PARALLEL_DATA ? checkpoint_save(path, t->nets[0], &meta, json)
                                            : checkpoint_save_members(path, t->nets, t->replicas, &meta, json);
    free(json);
    if (st == AN_OK) st = run_dir_commit_checkpoint(t->opt->run_dir, name, is_best, t->opt->keep);
    /* Once the run has a checkpoint, the same command without --resume is refused (run_dir_prepare). */
    if (st != AN_OK && t->last_checkpoint[0])
        return error_context(st, "writing checkpoint %s (the last complete one, %s, is untouched: run the same "
                             "command again with --resume to continue from it)", path, t->last_checkpoint);
    if (st != AN_OK)
        return error_context(st, "writing checkpoint %s (no checkpoint of this run yet)", path);
    snprintf(t->last_checkpoint, sizeof t->last_checkpoint, "%s", path);
    t->last_checkpoint_time = progress_now();
    log_verbose("checkpoint %s", path);
    return AN_OK;
}

/* One row of metrics.csv and of the event file (rank 0); lr is the rate in effect for the row's steps. */
static void write_metrics_row(trainer *t, const char *split, double lr, double loss, double top1, double top5,
                              double images_per_s, double elapsed)
{
    if (t->world->rank != 0 || !t->metrics) return;
    fprintf(t->metrics, "%s,%" PRIu32 ",%" PRIu64 ",%.9g,%.6f,%.6f,%.6f,%.1f,%.1f\n", split, t->state.epoch + 1,
            t->state.global_step, lr, loss, top1, top5, images_per_s, elapsed);
    if (fflush(t->metrics) != 0) log_warn("cannot write metrics.csv (disk full?)");
    if (!t->events) return;
    int train = strcmp(split, "train") == 0; /* the rate is drawn once, from the training rows */
    tb_scalar row[5] = {
        { train ? "train/loss" : "val/loss", loss },
        { train ? "train/top1_error" : "val/top1_error", top1 },
        { train ? "train/top5_error" : "val/top5_error", top5 },
        { train ? "train/images_per_s" : "val/images_per_s", images_per_s },
        { "learning_rate", lr },
    };
    if (tb_events_scalars(t->events, (int64_t)t->state.global_step, row, train ? 5 : 4) != AN_OK)
        log_warn("%s (the row is in metrics.csv; TensorBoard shows the run up to the previous row)", error_message());
}

/* The scores of replica r's last forward pass over `count` images with
 * `labels`: sums[0] += the loss summed over the images, sums[1], sums[2] +=
 * top-1 and top-5 errors. Waits for the backend (the read-back). */
static an_status scores_of(trainer *t, int r, const int32_t *labels, int count, double sums[3])
{
    double mean_loss;
    int64_t top1, top5;
    net *n = t->nets[r];
    AN_TRY(net_loss(n, labels, count, &mean_loss)); /* NaN when the scores are not finite */
    AN_TRY(net_topk_errors(n, labels, count, &top1, &top5));
    sums[0] += mean_loss * count;
    sums[1] += (double)top1;
    sums[2] += (double)top5;
    return AN_OK;
}

/* Forward pass of replica r (dropout when train = 1, keyed by the global
 * step) over its b->count >= 1 images, the input cut by the backend's input
 * op (§2, §4.1). */
an_status trainer_forward_images(trainer *t, int r, const loader_batch *b, int train)
{
    uint32_t step = train ? (uint32_t)t->state.global_step : 0;
    return net_forward_images(t->nets[r], b->images, t->augment.mean_image, b->choices, (int)b->count, b->image_ids,
                              step, t->augment.seed, train);
}

an_status trainer_read_scores(trainer *t, int r, const loader_batch *b, double sums[3])
{
    return scores_of(t, r, b->labels, (int)b->count, sums);
}

/* What the replicas of one step share: their batches and their sums. */
typedef struct step_work {
    trainer *t;
    loader_batch *batches[BACKEND_MAX_DEVICES]; /* replica r's slice (towers: both replicas the process's) */
    double sums[BACKEND_MAX_DEVICES][4];        /* loss sum, top-1 errors, top-5 errors, images */
    int skipped[BACKEND_MAX_DEVICES];           /* 1: replica r's update was not made (a gradient not finite) */
    double chunk_scores[GRAD_TREE_CHUNKS][4];   /* --reproducible: the same four per chunk of the global batch */
    int counts[BACKEND_MAX_DEVICES];            /* towers, hybrid: each replica's images in the pass */
    int images;                                 /* towers, hybrid: the images of the split network's pass */
    struct step_work *ahead; /* training: where sgd_step takes and stages the next step's batches (take_ahead) */
    int taken, more;         /* 1 once take_ahead took these batches, and next_batches's *more for them */
    double wait_seconds;     /* the time take_ahead waited for them */
} step_work;

/* towers and hybrid: the images of the step's split network, in replica
 * order, with their ids and labels (net.h: net_set_member_batches). */
static void gather_batch(trainer *t, step_work *w)
{
    w->images = 0;
    for (int r = 0; r < t->replicas; r++) {
        const loader_batch *b = w->batches[r];
        w->counts[r] = (int)b->count;
        if (t->mode == PARALLEL_TOWERS && r > 0) continue; /* the same images */
        memcpy(t->process_ids + w->images, b->image_ids, b->count * sizeof *t->process_ids);
        memcpy(t->process_labels + w->images, b->labels, b->count * sizeof *t->process_labels);
        w->images += (int)b->count;
    }
}

/* The labels of replica r's last pass: of its own images (data), of the split network's (towers, hybrid). */
static const int32_t *pass_labels(const trainer *t, const step_work *w, int r, int *count)
{
    if (t->mode == PARALLEL_DATA) {
        *count = (int)w->batches[r]->count;
        return w->batches[r]->labels;
    }
    *count = w->images;
    return t->process_labels;
}

/* Forward pass of replica r (dropout when train = 1, keyed by the global
 * step) over its b->count images (>= 1 in data mode), the input cut by the
 * backend's input op (§2, §4.1). */
static an_status forward_images(trainer *t, int r, const step_work *w, int train)
{
    const loader_batch *b = w->batches[r];
    if (t->mode == PARALLEL_DATA) return trainer_forward_images(t, r, b, train);
    uint32_t step = train ? (uint32_t)t->state.global_step : 0;
    AN_TRY(net_set_member_batches(t->nets[r], w->counts));
    return net_forward_images(t->nets[r], b->images, t->augment.mean_image, b->choices, (int)b->count,
                              t->process_ids, step, t->augment.seed, train);
}

/* The scores of replica r's last forward pass: sums[0] += the loss summed
 * over the images, sums[1], sums[2] += top-1 and top-5 errors, sums[3] +=
 * the images. Waits for the backend (the read-back). A split network's
 * members hold the same logits of all its images: replica 0 scores them. */
static an_status read_scores(trainer *t, int r, const step_work *w, double sums[4])
{
    int count;
    const int32_t *labels = pass_labels(t, w, r, &count);
    if (count == 0 || (t->mode != PARALLEL_DATA && r != 0)) return AN_OK;
    AN_TRY(scores_of(t, r, labels, count, sums));
    sums[3] += count;
    return AN_OK;
}

/* Replica r's forward and backward pass (a device_group job). */
static an_status replica_gradients(void *ctx, int r)
{
    step_work *w = ctx;
    trainer *t = w->t;
    const loader_batch *b = w->batches[r];
    if (r == t->fail_replica && t->state.global_step + 1 == t->fail_step)
        return error_set(AN_ERR_INTERNAL, "failure injected at step %" PRIu64 " (ALEXNET_TEST_FAIL_REPLICA)",
                         t->fail_step);
    if (t->tree) return trainer_tree_gradients(t, r, w->batches, w->chunk_scores);
    if (b->count == 0 && t->mode == PARALLEL_DATA) return net_zero_grads(t->nets[r]);
    AN_TRY(forward_images(t, r, w, 1));
    /* Gradients of sum(loss) / global batch: summed over replicas, the batch mean. */
    int count;
    const int32_t *labels = pass_labels(t, w, r, &count);
    return net_backward(t->nets[r], labels, count, (float)b->global_count);
}

/* Replica r's §5 update with the summed gradients (a device_group job),
 * queued: the backend skips it when a gradient is not finite. */
static an_status replica_update(void *ctx, int r)
{
    trainer *t = ((step_work *)ctx)->t;
    return net_update(t->nets[r], (float)t->state.schedule.lr, t->state.momentum, t->state.weight_decay);
}

/* Replica r's step read back once its backward pass and update are queued
 * (a device_group job): the scores of its forward pass (the backward and
 * the update leave them as they were) and whether the update was made. */
static an_status replica_scores(void *ctx, int r)
{
    step_work *w = ctx;
    int applied = 1;
    /* --reproducible read them per chunk (trainer_tree.c) */
    if (!w->t->tree) AN_TRY(read_scores(w->t, r, w, w->sums[r]));
    AN_TRY(net_update_applied(w->t->nets[r], &applied));
    w->skipped[r] = !applied;
    return AN_OK;
}

/* Replica r's next input staged (a device_group job): its upload is queued
 * now, while the step before it computes (net_stage_images). */
static an_status replica_stage(void *ctx, int r)
{
    step_work *w = ctx;
    const loader_batch *b = w->batches[r];
    if (b->count == 0) return AN_OK;
    return net_stage_images(w->t->nets[r], b->images, b->choices, (int)b->count);
}

/* Replica r's validation forward pass (a device_group job). */
static an_status replica_validate(void *ctx, int r)
{
    step_work *w = ctx;
    const loader_batch *b = w->batches[r];
    if (w->t->tree) return trainer_tree_validate(w->t, r, w->batches, w->chunk_scores);
    if (b->count == 0 && w->t->mode == PARALLEL_DATA) return AN_OK;
    AN_TRY(forward_images(w->t, r, w, 0));
    return read_scores(w->t, r, w, w->sums[r]);
}

/* towers, hybrid: each member's gradient block summed with those of the
 * same member in the other processes (its conv part, in hybrid mode, is
 * summed again with the others': the same values on every member). */
static an_status sum_members_over_processes(trainer *t)
{
    for (int r = 0; r < t->replicas; r++) {
        float *grads; /* [net_param_count] host */
        AN_TRY(net_block_to_host(t->nets[r], NET_BLOCK_GRADS, &grads));
        AN_TRY(replicas_sum_floats(t->world, grads, net_param_count(t->nets[r])));
        AN_TRY(net_block_from_host(t->nets[r], NET_BLOCK_GRADS, grads));
    }
    return AN_OK;
}

/* The gradients summed over the replicas of this process (the device
 * group's communicator; in hybrid mode the conv layers' only, none with
 * towers: parallel_shared_floats), then over the processes (MPI, through the
 * host): every replica then holds the batch mean of its parameters. */
static an_status sum_grads(trainer *t)
{
    if (t->tree) return trainer_tree_sum_grads(t); /* --reproducible: in the fixed tree's order */
    const size_t count = net_param_count(t->nets[0]), shared = parallel_shared_floats(t->mode, t->nets[0]);
    if (t->replicas > 1 && shared > 0) {
        float *blocks[BACKEND_MAX_DEVICES]; /* [replicas][shared] backend memory */
        for (int r = 0; r < t->replicas; r++) blocks[r] = net_grads(t->nets[r]);
        AN_TRY(device_group_sum(t->group, blocks, shared));
    }
    if (t->world->size == 1) return AN_OK;
    if (t->mode != PARALLEL_DATA) /* each member with the same member of the other processes */
        return sum_members_over_processes(t);
    float *grads; /* [count] host */
    AN_TRY(net_block_to_host(t->nets[0], NET_BLOCK_GRADS, &grads));
    AN_TRY(replicas_sum_floats(t->world, grads, count));
    for (int r = 0; r < t->replicas; r++) AN_TRY(net_block_from_host(t->nets[r], NET_BLOCK_GRADS, grads));
    return AN_OK;
}

/* The sums of every replica of this process, then of every process:
 * total[0..3] as step_work's sums (--reproducible: its chunk scores, in
 * chunk order), total[4] the replicas whose update was skipped. */
static an_status total_sums(trainer *t, step_work *w, double total[5])
{
    for (int k = 0; k < 5; k++) total[k] = 0.0;
    for (int r = 0; r < t->replicas; r++) {
        for (int k = 0; k < 4; k++) total[k] += w->sums[r][k];
        total[4] += w->skipped[r];
    }
    if (!t->tree) return replicas_sum_doubles(t->world, total, 5);
    AN_TRY(trainer_tree_total(t, w->chunk_scores, total));
    return replicas_sum_doubles(t->world, &total[4], 1);
}

/* Takes the next batch of every replica's loader; *more is 0 after the epoch's last. */
static an_status next_batches(trainer *t, loader **loaders, step_work *w, int *more)
{
    *more = 1;
    for (int r = 0; r < t->loaders; r++) {
        AN_TRY(loader_next(loaders[r], &w->batches[r]));
        if (!w->batches[r]) *more = 0; /* every replica's loader has the same steps */
    }
    for (int r = t->loaders; r < t->replicas; r++) w->batches[r] = w->batches[0]; /* towers: the same images */
    if (*more && t->mode != PARALLEL_DATA) gather_batch(t, w);
    return AN_OK;
}

static void release_batches(trainer *t, loader **loaders, step_work *w)
{
    for (int r = 0; r < t->loaders; r++)
        if (w->batches[r]) loader_release(loaders[r], w->batches[r]);
}

/* Takes the next step's batches once this step's passes and update are
 * queued, before their scores are read, and stages them on the replicas, so
 * that on a GPU their upload overlaps this step's compute (docs/train.md,
 * "The loader's hand-over"). Not when the run ends at this step
 * (--max-steps), nor with a ring of one slot (--queue-depth 1), which cannot
 * hold this step's batch and the next at once. A loader error is left to the
 * next step's next_batches, which reports it where it always did (the
 * loader's error is sticky), after this step is complete on every process. */
static an_status take_ahead(trainer *t, step_work *w)
{
    step_work *a = w->ahead;
    const train_options *o = t->opt;
    if (!a || o->queue_depth < 2 || (o->max_steps > 0 && t->state.global_step + 1 >= o->max_steps)) return AN_OK;
    /* Not in the split modes, whose step keeps its labels in the trainer's one
     * process buffer (gather_batch) until its scores are read, nor with
     * --reproducible, whose passes take chunks of the batch, not the batch. */
    if (t->mode != PARALLEL_DATA || t->tree) return AN_OK;
    double start = progress_now();
    an_status st = next_batches(t, t->train_loaders, a, &a->more);
    a->wait_seconds = progress_now() - start;
    if (st != AN_OK) {
        release_batches(t, t->train_loaders, a);
        memset(a->batches, 0, sizeof a->batches);
        return AN_OK;
    }
    a->taken = 1;
    return a->more ? device_group_run(t->group, replica_stage, a) : AN_OK;
}

/* One SGD step on this process's slices of a global batch (§5). *loss
 * receives the global batch's mean loss; errors[2] the global top-1/top-5
 * error counts. The forward and backward passes and the update are queued
 * before the loss and errors are read back, so a GPU is not left idle while
 * the host waits; the update checks on the backend that every gradient is
 * finite (a non-finite loss makes them all so) and is skipped otherwise, so
 * a step whose loss is not finite is never applied. */
static an_status sgd_step(trainer *t, step_work *w, double *loss, double errors[2])
{
    memset(w->sums, 0, sizeof w->sums);
    memset(w->skipped, 0, sizeof w->skipped);
    memset(w->chunk_scores, 0, sizeof w->chunk_scores);
    AN_TRY(device_group_run(t->group, replica_gradients, w));
    AN_TRY(sum_grads(t));
    AN_TRY(device_group_run(t->group, replica_update, w));
    AN_TRY(take_ahead(t, w));
    AN_TRY(device_group_run(t->group, replica_scores, w));
    double total[5];
    AN_TRY(total_sums(t, w, total));
    *loss = total[0] / w->batches[0]->global_count;
    errors[0] = total[1];
    errors[1] = total[2];
    const char *last = t->last_checkpoint[0] ? t->last_checkpoint : "none (no checkpoint was written yet)";
    if (!isfinite(*loss))
        return error_set(AN_ERR_NUMERIC, "the loss is %g at step %" PRIu64 " (epoch %u): training stopped before "
                         "applying it; the last good checkpoint is %s (a lower --lr in a new run may help)", *loss,
                         t->state.global_step + 1, t->state.epoch + 1, last);
    if (total[4] > 0)
        return error_set(AN_ERR_NUMERIC, "the gradients are not finite at step %" PRIu64 " (epoch %u, loss %g): "
                         "training stopped before applying them; the last good checkpoint is %s (a lower --lr in "
                         "a new run may help)", t->state.global_step + 1, t->state.epoch + 1, *loss, last);
    return AN_OK;
}

/* Centre-crop validation over the val split (or --val-limit of it). */
static an_status validate(trainer *t, double *loss, double *top1_error, double *top5_error)
{
    step_work w = {.t = t};
    for (int r = 0; r < t->loaders; r++) AN_TRY(loader_start_epoch(t->val_loaders[r], t->state.epoch, 0));
    for (;;) {
        int more;
        AN_TRY(next_batches(t, t->val_loaders, &w, &more));
        an_status st = more ? device_group_run(t->group, replica_validate, &w) : AN_OK;
        release_batches(t, t->val_loaders, &w);
        AN_TRY(st);
        if (!more) break;
    }
    double total[5];
    AN_TRY(total_sums(t, &w, total));
    *loss = total[0] / total[3];
    *top1_error = total[1] / total[3];
    *top5_error = total[2] / total[3];
    return AN_OK;
}

/* After an epoch's last step: validation, the schedule (§5), a checkpoint. */
static an_status end_epoch(trainer *t, train_summary *summary)
{
    double loss, top1, top5, start = progress_now();
    AN_TRY(validate(t, &loss, &top1, &top5));
    int epochs_done = (int)t->state.epoch + 1;
    int is_best = 0;
    double lr_before = t->state.schedule.lr;
    int changed = lr_schedule_end_epoch(&t->state.schedule, epochs_done, top1, &is_best);
    double now = progress_now();
    write_metrics_row(t, "val", lr_before, loss, top1, top5, loader_num_images(t->val_loaders[0]) / (now - start),
                      now - t->run_start);
    if (t->world->rank == 0) {
        log_info("epoch %d: validation loss %.4f, top-1 error %.4f, top-5 error %.4f (centre crop, %u images)%s",
                 epochs_done, loss, top1, top5, loader_num_images(t->val_loaders[0]), is_best ? ", best so far" : "");
        if (changed) log_info("learning rate %g -> %g", lr_before, t->state.schedule.lr);
    }
    if (is_best) t->state.best_epoch = epochs_done;
    t->state.epoch++;
    t->state.step_in_epoch = 0;
    summary->epochs_done = t->state.epoch;
    return write_checkpoint(t, is_best);
}

/* Has the time or step interval for a mid-epoch checkpoint come? Rank 0 decides. */
static int checkpoint_due(const trainer *t)
{
    const train_options *o = t->opt;
    if (o->checkpoint_steps > 0 && t->state.global_step % o->checkpoint_steps == 0) return 1;
    return o->checkpoint_minutes > 0 && progress_now() - t->last_checkpoint_time >= o->checkpoint_minutes * 60.0;
}

/* One epoch from the state's position. Sets *stop when a signal or --max-steps ended it early. */
static an_status run_epoch(trainer *t, train_summary *summary, double *wait_seconds, int *stop)
{
    const train_options *o = t->opt;
    uint64_t steps = loader_steps_per_epoch(t->train_loaders[0]);
    for (int r = 0; r < t->loaders; r++)
        AN_TRY(loader_start_epoch(t->train_loaders[r], t->state.epoch, t->state.step_in_epoch));
    progress bar;
    char label[64];
    snprintf(label, sizeof label, "epoch %u/%d", t->state.epoch + 1, o->epochs);
    /* Images left in this epoch: whole batches up to the short last one. */
    uint64_t epoch_images = loader_num_images(t->train_loaders[0]);
    uint64_t done_images = (uint64_t)t->state.step_in_epoch * t->state.batch;
    uint64_t left_images = epoch_images > done_images ? epoch_images - done_images : 0;
    if (t->world->rank == 0) progress_start(&bar, label, left_images);
    window w = { 0, 0, 0, 0, progress_now() };
    an_status st = AN_OK;
    *stop = 0;
    step_work ahead = {.t = t}; /* the next step's batches, once sgd_step has taken them */
    for (;;) {
        if (o->max_steps > 0 && t->state.global_step >= o->max_steps) { /* e.g. resumed at the limit */
            *stop = 1;
            break;
        }
        double wait_start = progress_now();
        step_work work = ahead.taken ? ahead : (step_work){.t = t};
        int more = work.more;
        ahead = (step_work){.t = t};
        work.ahead = &ahead;
        st = work.taken ? AN_OK : next_batches(t, t->train_loaders, &work, &more);
        *wait_seconds += progress_now() - wait_start + work.wait_seconds;
        if (st != AN_OK || !more) {
            release_batches(t, t->train_loaders, &work);
            if (st != AN_OK) goto done;
            break;
        }
        double loss = 0.0, errors[2] = {0.0, 0.0};
        st = sgd_step(t, &work, &loss, errors);
        uint32_t images = work.batches[0]->global_count;
        release_batches(t, t->train_loaders, &work);
        if (st != AN_OK) goto done;
        t->state.step_in_epoch++;
        t->state.global_step++;
        t->state.images_seen += images;
        summary->steps_this_run++;
        fault_point("train step");
        w.loss_sum += loss * images;
        w.top1 += errors[0];
        w.top5 += errors[1];
        w.images += images;
        if (t->world->rank == 0) {
            char extra[96];
            snprintf(extra, sizeof extra, "loss %.4f lr %g", loss, t->state.schedule.lr);
            progress_set_extra(&bar, extra);
            progress_add(&bar, images);
        }
        if (t->state.global_step % o->log_every == 0 || t->state.step_in_epoch == steps) {
            double now = progress_now();
            write_metrics_row(t, "train", t->state.schedule.lr, w.loss_sum / w.images, w.top1 / w.images,
                              w.top5 / w.images, w.images / (now - w.start), now - t->run_start);
            w = (window){ 0, 0, 0, 0, now };
        }
        int stop_now = stop_signal_requested();
        AN_TRY_GOTO(st, replicas_max_int(t->world, &stop_now), done);
        int at_max = o->max_steps > 0 && t->state.global_step >= o->max_steps;
        if (stop_now || at_max) {
            summary->interrupted = stop_now;
            *stop = 1;
            /* An epoch that just ended is finished properly (validation, schedule) first. */
            if (t->state.step_in_epoch == steps) break;
            st = write_checkpoint(t, 0);
            goto done;
        }
        if (t->state.step_in_epoch < steps && checkpoint_due(t)) AN_TRY_GOTO(st, write_checkpoint(t, 0), done);
    }
    st = AN_OK;
done:
    release_batches(t, t->train_loaders, &ahead); /* taken, not used: the run stops at this step */
    if (t->world->rank == 0) progress_finish(&bar);
    return st;
}

an_status train_run(const train_options *opt, const replicas *world, train_summary *summary)
{
    memset(summary, 0, sizeof *summary);
    trainer t;
    double wait_seconds = 0.0;
    uint64_t images_before = 0;
    an_status st;
    AN_TRY_GOTO(st, trainer_setup(&t, opt, world), done);
    AN_TRY_GOTO(st, stop_signal_install(), done);
    if (world->rank == 0) {
        char network[128];
        net_describe(t.nets[0], network, sizeof network);
        log_info("network: %s", network);
        log_info("training on %u images (%d classes), %u validation images; batch %u over %d "
                 "process%s x %d replica%s, %llu steps per epoch, epoch %u of %d",
                 loader_num_images(t.train_loaders[0]), t.data->num_classes,
                 loader_num_images(t.val_loaders[0]), t.state.batch, world->size, world->size > 1 ? "es" : "",
                 t.replicas, t.replicas > 1 ? "s" : "",
                 (unsigned long long)loader_steps_per_epoch(t.train_loaders[0]), t.state.epoch + 1, opt->epochs);
    }
    images_before = t.state.images_seen;
    t.run_start = t.last_checkpoint_time = progress_now();
    int stop = 0;
    while (!stop && t.state.epoch < (uint32_t)opt->epochs) {
        AN_TRY_GOTO(st, run_epoch(&t, summary, &wait_seconds, &stop), done);
        if (t.state.step_in_epoch == loader_steps_per_epoch(t.train_loaders[0]))
            AN_TRY_GOTO(st, end_epoch(&t, summary), done);
    }
    st = AN_OK;
done:
    if (t.nets[0]) {
        summary->seconds = t.run_start > 0 ? progress_now() - t.run_start : 0.0;
        summary->steps = t.state.global_step;
        summary->epochs_done = t.state.epoch;
        summary->best_val_error = t.state.schedule.best_val_error;
        summary->best_epoch = t.state.best_epoch;
        if (summary->seconds > 0) {
            summary->images_per_s = (double)(t.state.images_seen - images_before) / summary->seconds;
            summary->loader_wait_fraction = wait_seconds / summary->seconds;
        }
        snprintf(summary->last_checkpoint, sizeof summary->last_checkpoint, "%s", t.last_checkpoint);
    }
    trainer_teardown(&t);
    return st;
}
