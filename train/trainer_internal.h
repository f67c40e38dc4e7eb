/* trainer_internal.h: the trainer's working state, shared by trainer_setup.c
 * (opening the dataset, the network and the run directory, resuming) and
 * trainer.c (the loop). Not for other modules. */
#ifndef ALEXNET_TRAINER_INTERNAL_H
#define ALEXNET_TRAINER_INTERNAL_H

#include <stdio.h>

#include "augment.h"
#include "backend.h"
#include "device_group.h"
#include "dataset.h"
#include "grad_tree.h"
#include "loader.h"
#include "net.h"
#include "parallel_mode.h"
#include "replicas.h"
#include "run_dir.h"
#include "run_lock.h"
#include "shard_reader.h"
#include "tb_events.h"
#include "train_options.h"
#include "train_state.h"

typedef struct trainer_tree trainer_tree;

typedef struct trainer {
    const train_options *opt;
    const replicas *world;
    dataset *data;
    shard_reader **train_shards; /* [data->train.num_shards] */
    shard_reader **val_shards;   /* [data->val.num_shards] */
    augment_params augment;
    device_group *group;         /* the devices of this process (--devices), one replica each */
    int replicas;                /* device_group_size(group) */
    parallel_mode mode;          /* --parallel (parallel_mode.h) */
    communicator *exchange;      /* the split networks' communicator: the group's, or the test's broken one */
    communicator *broken;        /* ALEXNET_TEST_DROP_EXCHANGE=R: the broken one (owned), else NULL */
    net *nets[BACKEND_MAX_DEVICES];           /* replica r's network, on its device. data: all equal after
                                               * each step, nets[0] the one checkpointed; towers and hybrid:
                                               * the members of one split network, checkpointed together */
    int loaders;                 /* loaders per split: replicas (data, hybrid), 1 (towers: one batch for both) */
    loader *train_loaders[BACKEND_MAX_DEVICES]; /* replica r's slice of every global batch */
    loader *val_loaders[BACKEND_MAX_DEVICES];
    uint32_t *process_ids;       /* towers, hybrid: [batch] the ids of the process's images in replica order */
    int32_t *process_labels;     /* [batch] their labels */
    int fail_replica;            /* tests (ALEXNET_TEST_FAIL_REPLICA=R:S): replica R fails at global step S; -1 */
    uint64_t fail_step;
    train_state state;
    trainer_tree *tree;          /* --reproducible (state.reproducible): the fixed-tree sums; NULL without */
    FILE *metrics;               /* rank 0 */
    tb_events *events;           /* rank 0: metrics.csv's rows for TensorBoard; NULL with --no-events */
    FILE *log_file;              /* rank 0 */
    run_lock *lock;              /* rank 0: RUN/lock, held from setup to teardown */
    char last_checkpoint[RUN_PATH_MAX]; /* "" when none yet */
    double last_checkpoint_time;
    double run_start;            /* monotonic seconds when the loop started (metrics' time column) */
} trainer;

/* Everything before the first step: dataset, shard readers, the run
 * directory (rank 0), the network (fresh or from the latest checkpoint),
 * config.json, metrics.csv, the event file, the log, the loaders. */
an_status trainer_setup(trainer *t, const train_options *opt, const replicas *world);
void trainer_teardown(trainer *t);

/* Replica r's forward pass over batch b (trainer.c): dropout (train 1)
 * keyed by the global step; and its scores added to sums[0..2] (loss sum,
 * top-1 and top-5 errors), read back. */
an_status trainer_forward_images(trainer *t, int r, const loader_batch *b, int train);
an_status trainer_read_scores(trainer *t, int r, const loader_batch *b, double sums[3]);

/* --reproducible (trainer_tree.c, grad_tree.h). open: checks that the
 * batch and the replicas x processes fall on the tree (AN_ERR_ARG) and
 * allocates each replica's partial sums; close frees them (before the
 * devices close). gradients (a replica's job): its chunks of the global
 * batch, one pass each, summed on its device in the tree's order, their
 * scores in scores[chunk] (loss sum, top-1, top-5 errors, images);
 * validate: the same passes without a gradient. sum_grads: the replicas'
 * and the processes' sums combined by the tree's upper levels, on every
 * replica. total: the scores of every process, added in chunk order. */
an_status trainer_tree_open(trainer *t);
void trainer_tree_close(trainer *t);
an_status trainer_tree_gradients(trainer *t, int r, loader_batch *const *slices, double scores[][4]);
an_status trainer_tree_validate(trainer *t, int r, loader_batch *const *slices, double scores[][4]);
an_status trainer_tree_sum_grads(trainer *t);
an_status trainer_tree_total(trainer *t, double scores[][4], double total[4]);

/* All ranks agree on failure: returns st, or an error if another rank failed. */
an_status trainer_agree(const trainer *t, an_status st);

#endif
