/* train_state.h: everything besides weights and momentum that an exact
 * resume needs (position in the epoch order, schedule, settings that shape
 * the trajectory), stored as the checkpoint's JSON "trainer state" (flat,
 * numbers printed so they read back to the same double). */
#ifndef ALEXNET_TRAIN_STATE_H
#define ALEXNET_TRAIN_STATE_H

#include <stdint.h>

#include "augment.h"
#include "backend_select.h"
#include "lr_schedule.h"
#include "status.h"

#define TRAIN_STATE_VERSION 1

typedef struct train_state {
    uint32_t epoch;          /* the epoch being trained, 0-based */
    uint64_t step_in_epoch;  /* steps of that epoch already taken */
    uint64_t global_step;    /* steps since the start of the run (the dropout key) */
    uint64_t images_seen;
    int best_epoch;          /* 1-based epoch of best_val_error; 0 before any */
    uint32_t batch;          /* global batch size */
    float momentum, weight_decay;
    augment_mode augment;    /* --augment (§4.1); states written before it: AUGMENT_FULL */
    backend_precision precision; /* --precision; states written before it: fp32 */
    int reproducible;        /* --reproducible (grad_tree.h); states written before it: 0 */
    lr_schedule schedule;
} train_state;

/* Writes the state as a malloc'd JSON string (free() it). */
an_status train_state_to_json(const train_state *s, char **out);
/* Reads it back; AN_ERR_FORMAT naming a missing or wrong field. */
an_status train_state_from_json(const char *json, train_state *s);

#endif
