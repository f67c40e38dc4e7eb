/* lr_schedule.h: the learning-rate schedule of §5.
 *
 * The paper starts at 0.01 and divides by 10 "when the validation error rate
 * stopped improving with the current learning rate", three times in all.
 * Plateau mode (the default): after each epoch's validation, if the error has
 * not improved on the best so far for `patience` epochs in a row, divide by
 * 10 (at most `max_drops` times) and restart the count. Milestone mode
 * (--lr-steps a,b,c): divide by 10 after epochs a, b and c, whatever the
 * validation error. The whole state lives in this struct so a checkpoint can
 * store it and a resume continue exactly.
 */
#ifndef ALEXNET_LR_SCHEDULE_H
#define ALEXNET_LR_SCHEDULE_H

#include "status.h"

#define LR_SCHEDULE_MAX_MILESTONES 16
#define LR_SCHEDULE_DEFAULT_MAX_DROPS 3 /* §5 */

typedef struct lr_schedule {
    double base_lr;
    double lr;                  /* the current rate */
    int patience;               /* epochs without improvement before a drop (plateau mode) */
    int max_drops;
    int drops;                  /* drops so far */
    double best_val_error;      /* best validation top-1 error so far; 2.0 before any */
    int epochs_since_best;
    int milestone_count;        /* > 0: milestone mode */
    int milestones[LR_SCHEDULE_MAX_MILESTONES]; /* epochs after which to divide, ascending */
} lr_schedule;

void lr_schedule_init(lr_schedule *s, double base_lr, int patience);

/* Parses "a,b,c" (ascending positive epoch numbers) into milestone mode. */
an_status lr_schedule_set_milestones(lr_schedule *s, const char *text);

/* Called once after epoch `epochs_done` (1-based count of finished epochs)
 * with that epoch's validation top-1 error in [0, 1]. Returns 1 if the rate
 * changed. Records whether the error is the best so far in *is_best. */
int lr_schedule_end_epoch(lr_schedule *s, int epochs_done, double val_error, int *is_best);

#endif
