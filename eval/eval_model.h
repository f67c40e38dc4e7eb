/* eval_model.h: loads a checkpoint into a network for scoring, after checking
 * that it was trained for the dataset being scored: the same number of
 * classes, and (when the checkpoint records one) the same dataset id. A
 * mismatch is an error that names both sides. */
#ifndef ALEXNET_EVAL_MODEL_H
#define ALEXNET_EVAL_MODEL_H

#include "checkpoint.h"
#include "dataset.h"
#include "net.h"
#include "status.h"

/* Creates *out on backend be (NULL: a CPU backend of the net's own) for up
 * to max_views views per forward and loads path into it. */
an_status eval_model_load(const char *path, const dataset *d, int max_views, backend *be, net **out,
                          checkpoint_meta *meta);

/* The check alone, on a checkpoint's configuration and metadata. */
an_status eval_model_check(const char *path, const net_config *cfg, const checkpoint_meta *meta, const dataset *d);

#endif
