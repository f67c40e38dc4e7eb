/* checkpoint.h: save and load the network's state as one HDF5 file
 * (docs/FORMAT.md section 2): the configuration, weights and momentum by
 * parameter name, the step, epoch, learning rate, seed and dataset id, and a
 * JSON "trainer state" string that the trainer owns (schedule, loader
 * position, best validation error...). Written under a temporary name and
 * renamed durably, so a crash leaves the previous checkpoint intact.
 */
#ifndef ALEXNET_CHECKPOINT_H
#define ALEXNET_CHECKPOINT_H

#include <stdint.h>

#include "net.h"
#include "status.h"

/* 2: the trainer state is a fixed-length string (common/h5_io.h). 1: it was a
 * variable-length string in HDF5's global heap; still read. */
#define CHECKPOINT_FORMAT_VERSION 2
#define CHECKPOINT_FORMAT_VERSION_OLDEST 1
#define CHECKPOINT_DATASET_ID_LEN 16 /* lowercase hex chars, as in the dataset contract */

typedef struct checkpoint_meta {
    uint64_t step;          /* SGD steps taken */
    uint32_t epoch;         /* epochs completed */
    double learning_rate;   /* the current ε (§5) */
    int lr_drops;           /* how many times ε was divided by 10 */
    uint64_t seed;          /* the run's seed */
    char dataset_id[CHECKPOINT_DATASET_ID_LEN + 1]; /* "" when none */
} checkpoint_meta;

/* Writes path atomically. trainer_state_json may be NULL (stored as "{}"). */
an_status checkpoint_save(const char *path, net *n, const checkpoint_meta *meta,
                          const char *trainer_state_json);

/* The same for the members[0..count-1] of a network split over devices
 * (net.h, net_split; in member order): the file holds the whole network's
 * tensors, gathered from the members, whatever the split. count 1 and a
 * whole network: checkpoint_save. */
an_status checkpoint_save_members(const char *path, net *const *members, int count, const checkpoint_meta *meta,
                                  const char *trainer_state_json);

/* Reads only the network configuration, so the caller can net_create a
 * matching net before checkpoint_load. */
an_status checkpoint_read_config(const char *path, net_config *cfg);

/* Reads only the trainer state (a malloc'd string: free() it), so the
 * caller can check the run's settings before it opens a device. */
an_status checkpoint_read_state(const char *path, char **trainer_state_json);

/* Loads weights and momentum into n (whose configuration must match the
 * file's: AN_ERR_FORMAT naming the difference otherwise), and meta. When
 * trainer_state_json is not NULL it receives a malloc'd string (free() it). */
an_status checkpoint_load(const char *path, net *n, checkpoint_meta *meta,
                          char **trainer_state_json);

/* Loads into the members of a split network (each its part of the whole
 * network's tensors): any checkpoint, whichever split wrote it. */
an_status checkpoint_load_members(const char *path, net *const *members, int count, checkpoint_meta *meta,
                                  char **trainer_state_json);

#endif
