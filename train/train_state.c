/* train_state.c: the trainer state <-> JSON (written with json_writer.h, read
 * strictly with json_reader.h: it comes from a checkpoint file). */
#include "train_state.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "json_reader.h"
#include "json_writer.h"

an_status train_state_to_json(const train_state *s, char **out)
{
    *out = NULL;
    char milestones[LR_SCHEDULE_MAX_MILESTONES * 12 + 1] = "";
    size_t used = 0;
    for (int i = 0; i < s->schedule.milestone_count; i++)
        used += (size_t)snprintf(milestones + used, sizeof milestones - used, "%s%d", i ? "," : "",
                                 s->schedule.milestones[i]);
    json_writer w;
    json_init(&w);
    json_begin_object(&w);
    json_kv_int(&w, "trainer_state_version", TRAIN_STATE_VERSION);
    json_kv_int(&w, "epoch", s->epoch);
    json_kv_int(&w, "step_in_epoch", (int64_t)s->step_in_epoch);
    json_kv_int(&w, "global_step", (int64_t)s->global_step);
    json_kv_int(&w, "images_seen", (int64_t)s->images_seen);
    json_kv_int(&w, "best_epoch", s->best_epoch);
    json_kv_int(&w, "batch", s->batch);
    json_kv_double(&w, "momentum", s->momentum);
    json_kv_double(&w, "weight_decay", s->weight_decay);
    json_kv_double(&w, "base_lr", s->schedule.base_lr);
    json_kv_double(&w, "lr", s->schedule.lr);
    json_kv_int(&w, "patience", s->schedule.patience);
    json_kv_int(&w, "max_drops", s->schedule.max_drops);
    json_kv_int(&w, "drops", s->schedule.drops);
    json_kv_double(&w, "best_val_error", s->schedule.best_val_error);
    json_kv_int(&w, "epochs_since_best", s->schedule.epochs_since_best);
    json_kv_string(&w, "lr_steps", milestones);
    json_kv_string(&w, "augment", augment_mode_name(s->augment));
    json_kv_string(&w, "precision", backend_precision_name(s->precision));
    json_kv_int(&w, "reproducible", s->reproducible); /* 0 or 1 */
    json_end_object(&w);
    an_status st = json_finish(&w);
    if (st != AN_OK) {
        json_free(&w);
        return st;
    }
    *out = w.data; /* ownership moves to the caller */
    w.data = NULL;
    json_free(&w);
    return AN_OK;
}

/* Reads one integer member into an int / a uint64_t. */
static an_status get_int(const json_doc *j, const char *key, int *out)
{
    int64_t v;
    AN_TRY(json_doc_int(j, key, INT_MIN, INT_MAX, &v));
    *out = (int)v;
    return AN_OK;
}

static an_status get_count(const json_doc *j, const char *key, uint64_t *out)
{
    int64_t v;
    AN_TRY(json_doc_int(j, key, 0, INT64_MAX, &v));
    *out = (uint64_t)v;
    return AN_OK;
}

an_status train_state_from_json(const char *json, train_state *s)
{
    json_doc j;
    AN_TRY(json_doc_parse(&j, json, strlen(json), "trainer state"));
    memset(s, 0, sizeof *s);
    an_status st;
    int version = 0, epoch = 0, batch = 0;
    double momentum = 0, weight_decay = 0;
    const char *milestones = "";
    AN_TRY_GOTO(st, get_int(&j, "trainer_state_version", &version), done);
    if (version != TRAIN_STATE_VERSION) {
        st = error_set(AN_ERR_FORMAT, "trainer state version %d, this program reads %d", version,
                       TRAIN_STATE_VERSION);
        goto done;
    }
    AN_TRY_GOTO(st, get_int(&j, "epoch", &epoch), done);
    AN_TRY_GOTO(st, get_count(&j, "step_in_epoch", &s->step_in_epoch), done);
    AN_TRY_GOTO(st, get_count(&j, "global_step", &s->global_step), done);
    AN_TRY_GOTO(st, get_count(&j, "images_seen", &s->images_seen), done);
    AN_TRY_GOTO(st, get_int(&j, "best_epoch", &s->best_epoch), done);
    AN_TRY_GOTO(st, get_int(&j, "batch", &batch), done);
    AN_TRY_GOTO(st, json_doc_double(&j, "momentum", &momentum), done);
    AN_TRY_GOTO(st, json_doc_double(&j, "weight_decay", &weight_decay), done);
    AN_TRY_GOTO(st, json_doc_double(&j, "base_lr", &s->schedule.base_lr), done);
    AN_TRY_GOTO(st, json_doc_double(&j, "lr", &s->schedule.lr), done);
    AN_TRY_GOTO(st, get_int(&j, "patience", &s->schedule.patience), done);
    AN_TRY_GOTO(st, get_int(&j, "max_drops", &s->schedule.max_drops), done);
    AN_TRY_GOTO(st, get_int(&j, "drops", &s->schedule.drops), done);
    AN_TRY_GOTO(st, json_doc_double(&j, "best_val_error", &s->schedule.best_val_error), done);
    AN_TRY_GOTO(st, get_int(&j, "epochs_since_best", &s->schedule.epochs_since_best), done);
    AN_TRY_GOTO(st, json_doc_string(&j, "lr_steps", &milestones), done);
    if (json_doc_has(&j, "augment")) { /* absent from states written before --augment: the paper's */
        const char *augment;
        AN_TRY_GOTO(st, json_doc_string(&j, "augment", &augment), done);
        AN_TRY_GOTO(st, augment_mode_parse(augment, &s->augment), done);
    }
    s->precision = BACKEND_PRECISION_FP32;
    if (json_doc_has(&j, "precision")) { /* absent from states written before --precision: fp32 */
        const char *precision;
        AN_TRY_GOTO(st, json_doc_string(&j, "precision", &precision), done);
        AN_TRY_GOTO(st, backend_precision_parse(precision, &s->precision), done);
    }
    if (json_doc_has(&j, "reproducible")) { /* absent from states written before --reproducible: not */
        int64_t reproducible;
        AN_TRY_GOTO(st, json_doc_int(&j, "reproducible", 0, 1, &reproducible), done);
        s->reproducible = (int)reproducible;
    }
    if (epoch < 0 || batch < 1) {
        st = error_set(AN_ERR_FORMAT, "trainer state: epoch %d, batch %d out of range", epoch, batch);
        goto done;
    }
    s->epoch = (uint32_t)epoch;
    s->batch = (uint32_t)batch;
    s->momentum = (float)momentum;
    s->weight_decay = (float)weight_decay;
    if (milestones[0]) {
        int max_drops = s->schedule.max_drops;
        AN_TRY_GOTO(st, lr_schedule_set_milestones(&s->schedule, milestones), done);
        s->schedule.max_drops = max_drops;
    }
    st = AN_OK;
done:
    json_doc_free(&j);
    return st;
}
