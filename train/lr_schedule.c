/* lr_schedule.c: plateau and milestone learning-rate drops (§5). */
#include "lr_schedule.h"

#include <errno.h>
#include <stdlib.h>

void lr_schedule_init(lr_schedule *s, double base_lr, int patience)
{
    s->base_lr = base_lr;
    s->lr = base_lr;
    s->patience = patience;
    s->max_drops = LR_SCHEDULE_DEFAULT_MAX_DROPS;
    s->drops = 0;
    s->best_val_error = 2.0;
    s->epochs_since_best = 0;
    s->milestone_count = 0;
}

an_status lr_schedule_set_milestones(lr_schedule *s, const char *text)
{
    int count = 0, previous = 0;
    const char *p = text;
    while (*p) {
        if (count == LR_SCHEDULE_MAX_MILESTONES)
            return error_set(AN_ERR_ARG, "--lr-steps: at most %d milestones", LR_SCHEDULE_MAX_MILESTONES);
        char *end;
        errno = 0;
        long epoch = strtol(p, &end, 10);
        if (end == p || errno || epoch <= previous || epoch > 1000000 || (*end && *end != ','))
            return error_set(AN_ERR_ARG, "--lr-steps '%s': expected ascending positive epoch numbers "
                             "separated by commas, e.g. 30,60,80", text);
        s->milestones[count++] = (int)epoch;
        previous = (int)epoch;
        p = *end ? end + 1 : end;
        if (*end == ',' && !*p)
            return error_set(AN_ERR_ARG, "--lr-steps '%s': trailing comma", text);
    }
    if (count == 0) return error_set(AN_ERR_ARG, "--lr-steps: empty list");
    s->milestone_count = count;
    s->max_drops = count;
    return AN_OK;
}

int lr_schedule_end_epoch(lr_schedule *s, int epochs_done, double val_error, int *is_best)
{
    int best = val_error < s->best_val_error;
    if (best) {
        s->best_val_error = val_error;
        s->epochs_since_best = 0;
    } else {
        s->epochs_since_best++;
    }
    if (is_best) *is_best = best;

    int drop = 0;
    if (s->milestone_count > 0) {
        for (int i = 0; i < s->milestone_count; i++)
            if (s->milestones[i] == epochs_done) drop = 1;
    } else if (s->epochs_since_best >= s->patience && s->drops < s->max_drops) {
        drop = 1;
        s->epochs_since_best = 0;
    }
    if (drop) {
        s->lr /= 10.0;
        s->drops++;
    }
    return drop;
}
