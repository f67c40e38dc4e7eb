/* test_train_state.c: the trainer state survives JSON exactly (every double
 * bit, the schedule's milestones), bad state is refused, and top-k counting. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "net_cpu.h"
#include "ops_cpu.h"
#include "run_dir.h"
#include "train_fixture.h"
#include "train_options.h"
#include "train_state.h"
#include "trainer.h"
#include "backend_cpu.h"

/* The CPU backend the ops run on (the calling thread's thread count). */
static backend *cpu_be(void)
{
    static backend *be;
    if (!be) assert_int_equal(backend_cpu_create(&be, 0), AN_OK);
    return be;
}


static void test_round_trip_is_exact(void **state)
{
    (void)state;
    train_state s;
    memset(&s, 0, sizeof s);
    s.epoch = 41;
    s.step_in_epoch = 1234;
    s.global_step = 9876543210ull;
    s.images_seen = 123456789012ull;
    s.best_epoch = 38;
    s.batch = 128;
    s.momentum = 0.9f;
    s.weight_decay = 0.0005f;
    lr_schedule_init(&s.schedule, 0.01, 3);
    assert_int_equal(lr_schedule_set_milestones(&s.schedule, "30,60,80"), AN_OK);
    s.schedule.lr = 0.01 / 10.0 / 10.0; /* not exactly representable */
    s.schedule.drops = 2;
    s.schedule.best_val_error = 1.0 / 3.0;
    s.schedule.epochs_since_best = 2;
    s.augment = AUGMENT_CENTRE;
    s.precision = BACKEND_PRECISION_BF16;
    s.reproducible = 1;
    char *json = NULL;
    assert_int_equal(train_state_to_json(&s, &json), AN_OK);
    train_state back;
    assert_int_equal(train_state_from_json(json, &back), AN_OK);
    assert_int_equal(back.augment, AUGMENT_CENTRE);
    assert_int_equal(back.precision, BACKEND_PRECISION_BF16); /* the checkpoint records --precision */
    assert_int_equal(back.reproducible, 1);                   /* and --reproducible */
    /* a state written before --augment, --precision and --reproducible existed: the paper's augmentation,
     * fp32, sums not reproducible */
    char *key = strstr(json, "\"augment\""), *comma = key;
    assert_non_null(key);
    while (comma > json && *comma != ',') comma--;
    assert_true(*comma == ',');
    strcpy(comma, "}");
    memset(&back, 0xff, sizeof back);
    assert_int_equal(train_state_from_json(json, &back), AN_OK);
    assert_int_equal(back.augment, AUGMENT_FULL);
    assert_int_equal(back.precision, BACKEND_PRECISION_FP32);
    assert_int_equal(back.reproducible, 0);
    free(json);
    assert_int_equal(train_state_to_json(&s, &json), AN_OK);
    assert_int_equal(train_state_from_json(json, &back), AN_OK);
    free(json);
    assert_int_equal(back.epoch, s.epoch);
    assert_int_equal(back.step_in_epoch, s.step_in_epoch);
    assert_true(back.global_step == s.global_step);
    assert_true(back.images_seen == s.images_seen);
    assert_int_equal(back.best_epoch, s.best_epoch);
    assert_int_equal(back.batch, s.batch);
    assert_memory_equal(&back.momentum, &s.momentum, sizeof(float));
    assert_memory_equal(&back.weight_decay, &s.weight_decay, sizeof(float));
    assert_memory_equal(&back.schedule.lr, &s.schedule.lr, sizeof(double));
    assert_memory_equal(&back.schedule.base_lr, &s.schedule.base_lr, sizeof(double));
    assert_memory_equal(&back.schedule.best_val_error, &s.schedule.best_val_error, sizeof(double));
    assert_int_equal(back.schedule.drops, 2);
    assert_int_equal(back.schedule.max_drops, s.schedule.max_drops);
    assert_int_equal(back.schedule.patience, 3);
    assert_int_equal(back.schedule.epochs_since_best, 2);
    assert_int_equal(back.schedule.milestone_count, 3);
    assert_int_equal(back.schedule.milestones[1], 60);
}

static void test_bad_state_is_refused(void **state)
{
    (void)state;
    train_state s;
    assert_int_equal(train_state_from_json("{}", &s), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "trainer_state_version"));
    assert_int_equal(train_state_from_json("{\"trainer_state_version\": 99}", &s), AN_ERR_FORMAT);
    assert_int_equal(train_state_from_json("not json", &s), AN_ERR_FORMAT);
    assert_int_equal(train_state_from_json("{\"a\": {\"nested\": 1}}", &s), AN_ERR_FORMAT);
    assert_int_equal(train_state_from_json("{\"trainer_state_version\": 1, \"epoch\": \"3\"}", &s), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "\"epoch\" is not an integer"));
}

static void test_topk(void **state)
{
    (void)state;
    /* 3 images, 6 classes */
    const float scores[3 * 6] = {
        0.1f, 0.9f, 0.0f, 0.0f, 0.0f, 0.0f, /* label 1: top-1 right */
        0.5f, 0.4f, 0.3f, 0.2f, 0.1f, 0.0f, /* label 4: 4 above it: top-1 wrong, top-5 right */
        0.5f, 0.5f, 0.3f, 0.3f, 0.3f, 0.3f, /* label 5: 5 at or above it: both wrong */
    };
    const int32_t labels[3] = { 1, 4, 5 };
    int64_t top1, top5;
    topk_errors_cpu(cpu_be(), &top1, &top5, scores, labels, 3, 6);
    assert_int_equal(top1, 2);
    assert_int_equal(top5, 1);
    const float nan_scores[2] = { NAN, NAN };
    const int32_t nan_label[1] = { 0 };
    topk_errors_cpu(cpu_be(), &top1, &top5, nan_scores, nan_label, 1, 2);
    assert_int_equal(top1, 1);
    assert_int_equal(top5, 1);
}

/* A resume runs at its run's precision, checked before any device opens
 * (train_resume_precision): a run whose checkpoint says bf16 is refused on
 * the CPU and under --precision tf32, both usage errors, and resumed at bf16
 * where no --precision is given. Runs here, without a GPU: nothing opens one. */
static void test_resume_precision(void **state)
{
    (void)state;
    char dir[4096], run[4200], name[64], path[4400];
    assert_int_equal(fixture_temp_dir("resume-precision", dir), AN_OK);
    snprintf(run, sizeof run, "%s/run", dir);
    assert_int_equal(run_dir_prepare(run, 0), AN_OK);
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = NET_WIDTH_MIN;
    cfg.num_classes = 4;
    net *n = NULL;
    assert_int_equal(net_create_cpu(&n, &cfg, 1), AN_OK);
    train_state s;
    memset(&s, 0, sizeof s);
    s.batch = 8;
    lr_schedule_init(&s.schedule, 0.01, 2);
    s.precision = BACKEND_PRECISION_BF16; /* as a run on a GPU would have written it */
    char *json = NULL;
    assert_int_equal(train_state_to_json(&s, &json), AN_OK);
    checkpoint_meta meta;
    memset(&meta, 0, sizeof meta);
    run_dir_checkpoint_name(1, 5, name, sizeof name);
    assert_int_equal(run_dir_checkpoint_path(run, name, path, sizeof path), AN_OK);
    assert_int_equal(checkpoint_save(path, n, &meta, json), AN_OK);
    assert_int_equal(run_dir_commit_checkpoint(run, name, 0, 2), AN_OK);
    free(json);
    net_destroy(n);

    replicas world = {.rank = 0, .size = 1, .mpi_started = 0};
    train_options o;
    assert_int_equal(train_options_default(&o), AN_OK);
    o.run_dir = run;
    o.resume = 1;
    o.device = "cpu";
    assert_int_equal(train_resume_precision(&o, &world), AN_ERR_UNSUPPORTED);
    assert_non_null(strstr(error_message(), "fp32 only"));
    assert_non_null(strstr(error_message(), "the run trains with --precision bf16"));
    o.device = "cuda";
    o.precision = BACKEND_PRECISION_TF32;
    o.given |= TRAIN_GIVEN_PRECISION;
    assert_int_equal(train_resume_precision(&o, &world), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "the run trains with --precision bf16"));
    assert_non_null(strstr(error_message(), "not tf32"));
    o.given &= ~(unsigned)TRAIN_GIVEN_PRECISION;
    o.precision = BACKEND_PRECISION_FP32;
    assert_int_equal(train_resume_precision(&o, &world), AN_OK);
    assert_int_equal(o.precision, BACKEND_PRECISION_BF16); /* the run's, without --precision */
    o.precision = BACKEND_PRECISION_BF16;
    o.given |= TRAIN_GIVEN_PRECISION;
    assert_int_equal(train_resume_precision(&o, &world), AN_OK); /* named again: the same */
    o.resume = 0;
    o.precision = BACKEND_PRECISION_FP32;
    assert_int_equal(train_resume_precision(&o, &world), AN_OK); /* a fresh run keeps the command line's */
    assert_int_equal(o.precision, BACKEND_PRECISION_FP32);
    fixture_remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_is_exact),
        cmocka_unit_test(test_bad_state_is_refused),
        cmocka_unit_test(test_topk),
        cmocka_unit_test(test_resume_precision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
