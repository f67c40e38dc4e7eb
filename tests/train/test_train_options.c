/* test_train_options.c: alexnet-train's option table (train/train_options.c):
 * its defaults are §5's and the network's own (net_config_default), --width
 * is checked against the one range the plan uses (NET_WIDTH_MIN..MAX),
 * every option that config.json records names a section compare knows, and
 * the parser's refusals exit 2. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "backend_select.h"
#include "cli_test.h"
#include "json_writer.h"
#include "net_cpu.h"
#include "run_records.h"
#include "train_options.h"

static int parse_train(void *o, int argc, char **argv) { return train_options_parse(o, argc, argv); }

static int parse(train_options *o, const char *args)
{
    assert_int_equal(train_options_default(o), AN_OK);
    return cli_test_parse(parse_train, o, "alexnet-train", args);
}

static void test_defaults(void **state)
{
    (void)state;
    train_options o;
    assert_int_equal(train_options_default(&o), AN_OK);
    net_config paper;
    net_config_default(&paper);
    /* the command line's network is the network's default (num_classes comes from the dataset) */
    assert_true(o.net.width == paper.width && o.net.lrn == paper.lrn && o.net.lrn_convention == paper.lrn_convention);
    assert_true(o.net.init == paper.init && o.net.dropout_rate == paper.dropout_rate);
    assert_true(o.net.pooling == paper.pooling && o.net.towers == paper.towers && o.net.activation == paper.activation);
    /* §5 */
    assert_int_equal(o.epochs, 90);
    assert_int_equal(o.batch, 128);
    assert_true(o.lr == 0.01 && o.momentum == 0.9f && o.weight_decay == 0.0005f);
    assert_string_equal(o.device, "auto");
    assert_true(o.seed == 1 && o.patience == 2 && o.keep == 3 && o.log_every == 20 && o.checkpoint_minutes == 30.0);
    assert_int_equal(o.augment, AUGMENT_FULL);
    assert_int_equal(o.precision, BACKEND_PRECISION_FP32);
    assert_int_equal(o.given, 0);
}

static void test_width_one_range(void **state)
{
    (void)state;
    train_options o;
    char args[128];
    snprintf(args, sizeof args, "--data d --run r --width %g", NET_WIDTH_MAX);
    assert_int_equal(parse(&o, args), 0);
    assert_true(o.net.width == NET_WIDTH_MAX);
    assert_true(o.given & TRAIN_GIVEN_WIDTH);
    snprintf(args, sizeof args, "--data d --run r --width %g", NET_WIDTH_MAX * 1.5);
    assert_int_equal(parse(&o, args), EXIT_USAGE);
    snprintf(args, sizeof args, "--data d --run r --width %g", NET_WIDTH_MIN / 2);
    assert_int_equal(parse(&o, args), EXIT_USAGE);
    /* the network takes what the option takes, and refuses what it refuses */
    net *n = NULL;
    net_config cfg = o.net;
    cfg.num_classes = 10;
    cfg.width = NET_WIDTH_MIN;
    assert_int_equal(net_create_cpu(&n, &cfg, 1), AN_OK);
    net_destroy(n);
    n = NULL;
    cfg.width = NET_WIDTH_MIN / 2;
    assert_int_equal(net_create_cpu(&n, &cfg, 1), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "width multiplier"));
    assert_null(n);
}

static void test_values_and_refusals(void **state)
{
    (void)state;
    train_options o;
    assert_int_equal(parse(&o, "--data d --run r --device cpu,cpu --lrn off --pool plain --towers 1 --activation tanh "
                               "--augment centre --init fan_in --dropout 0.25 --momentum 0.5 --log-every 7"), 0);
    assert_string_equal(o.device, "cpu,cpu");
    assert_true(o.net.lrn == 0 && o.net.pooling == NET_POOL_PLAIN && o.net.towers == 1);
    assert_true(o.net.activation == NET_ACTIVATION_TANH && o.net.init == NET_INIT_FAN_IN && o.net.dropout_rate == 0.25f);
    assert_true(o.augment == AUGMENT_CENTRE && o.momentum == 0.5f && o.log_every == 7);
    assert_int_equal(o.given, TRAIN_GIVEN_NET | TRAIN_GIVEN_AUGMENT | TRAIN_GIVEN_MOMENTUM);
    assert_int_equal(parse(&o, "--data d --run r --devices cpu"), 0); /* the alias */
    assert_int_equal(parse(&o, "--data d --run r --log-every 0"), EXIT_USAGE);
    assert_int_equal(parse(&o, "--data d --run r --keep 1"), EXIT_USAGE);
    assert_int_equal(parse(&o, "--data d --run r --device tpu"), EXIT_USAGE);
    assert_int_equal(parse(&o, "--data d --run r --towers 3"), EXIT_USAGE);
    assert_int_equal(parse(&o, "--data d --run r --lr-steps 3 --patience 2"), EXIT_USAGE);
    assert_int_equal(parse(&o, "--run r"), EXIT_USAGE);
    assert_int_equal(parse(&o, "--data d --run r extra"), EXIT_USAGE);
}

/* --precision: parsed, recorded in config.json's execution section, and
 * refused with exit 2 for anything the CPU would run (it computes in fp32
 * only); the library refuses it too. */
static void test_precision(void **state)
{
    (void)state;
    train_options o;
    assert_int_equal(parse(&o, "--data d --run r --device cuda --precision bf16"), 0);
    assert_int_equal(o.precision, BACKEND_PRECISION_BF16);
    assert_int_equal(parse(&o, "--data d --run r --device cuda:1 --precision tf32"), 0);
    assert_int_equal(o.precision, BACKEND_PRECISION_TF32);
    json_writer w;
    json_init(&w);
    json_begin_object(&w);
    train_options_record(&o, RUN_CONFIG_EXECUTION, &w);
    json_end_object(&w);
    assert_int_equal(json_finish(&w), AN_OK);
    assert_non_null(strstr(w.data, "\"precision\": \"tf32\""));
    json_free(&w);
    assert_int_equal(parse(&o, "--data d --run r --device cpu --precision fp32"), 0);
    assert_int_equal(parse(&o, "--data d --run r --precision fp16"), EXIT_USAGE);
    /* precision.h's fp32-pedantic is for the GPU tests and the benchmark, not a training setting */
    assert_int_equal(parse(&o, "--data d --run r --device cuda --precision fp32-pedantic"), EXIT_USAGE);
    assert_int_equal(parse(&o, "--data d --run r --device cpu --precision bf16"), EXIT_USAGE);
    assert_non_null(strstr(error_message(), "fp32 only"));
    assert_int_equal(parse(&o, "--data d --run r --device cpu,cpu --precision tf32"), EXIT_USAGE);
    /* auto runs on the CPU where no GPU is usable: refused there, taken where one is */
    if (backend_precision_check("auto", BACKEND_PRECISION_BF16) != AN_OK) {
        assert_int_equal(parse(&o, "--data d --run r --precision bf16"), EXIT_USAGE);
        assert_non_null(strstr(error_message(), "--device auto"));
    } else {
        assert_int_equal(parse(&o, "--data d --run r --precision bf16"), 0);
    }
    backend *be = NULL;
    backend_request r = {.device = "cpu", .precision = BACKEND_PRECISION_TF32};
    assert_int_equal(backend_open(&be, &r), AN_ERR_UNSUPPORTED);
    assert_null(be);
    assert_non_null(strstr(error_message(), "--precision tf32"));
}

/* The one precision enum (kernels/precision.h) of the registry, the trainer
 * and the CUDA backend: names, parsing, and what each computes, as the
 * benchmark's rows name it. */
static void test_precision_names(void **state)
{
    (void)state;
    backend_precision p = BACKEND_PRECISION_FP32;
    const char *names[] = {"fp32", "tf32", "bf16", "fp32-pedantic"}; /* indexed by backend_precision */
    for (int i = 0; i < BACKEND_PRECISION_COUNT; i++) {
        assert_int_equal(backend_precision_parse(names[i], &p), AN_OK);
        assert_int_equal((int)p, i);
        assert_string_equal(backend_precision_name(p), names[i]);
    }
    assert_int_equal(backend_precision_parse("fp16", &p), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "fp16"));
    assert_non_null(strstr(error_message(), "bf16"));
    assert_string_equal(backend_precision_name((backend_precision)17), "?");
    /* bf16 covers the convolutions and the fc layers; tf32 is not bf16 */
    assert_string_equal(backend_precision_computes(BACKEND_PRECISION_BF16), "bf16-conv+bf16-fc");
    assert_string_equal(backend_precision_computes(BACKEND_PRECISION_TF32), "tf32-conv+tf32-fc");
    assert_string_equal(backend_precision_computes(BACKEND_PRECISION_FP32), "fp32-conv+fp32-fc");
    assert_string_equal(backend_precision_computes((backend_precision)17), "?");
}

/* --reproducible: parsed, a setting of the trajectory (config.json's
 * training section, checked on --resume), and refused with exit 2 where the
 * batch or the replicas x processes (the pairs of towers x processes) do not
 * fall on the chunks of its tree. */
static void test_reproducible(void **state)
{
    (void)state;
    train_options o;
    assert_int_equal(parse(&o, "--data d --run r"), 0);
    assert_int_equal(o.reproducible, 0);
    assert_int_equal(parse(&o, "--data d --run r --reproducible --batch 16 --devices cpu,cpu"), 0);
    assert_int_equal(o.reproducible, 1);
    assert_true(o.given & TRAIN_GIVEN_REPRODUCIBLE);
    json_writer w;
    json_init(&w);
    json_begin_object(&w);
    train_options_record(&o, RUN_CONFIG_TRAINING, &w);
    json_end_object(&w);
    assert_int_equal(json_finish(&w), AN_OK);
    assert_non_null(strstr(w.data, "\"reproducible\": true"));
    json_free(&w);
    assert_int_equal(train_options_check_world(&o, 1), 0);
    assert_int_equal(train_options_check_world(&o, 4), 0); /* 8 parts */
    assert_int_equal(train_options_check_world(&o, 3), EXIT_USAGE);
    assert_int_equal(train_options_check_world(&o, 8), EXIT_USAGE); /* 16 parts */
    assert_int_equal(parse(&o, "--data d --run r --reproducible --devices cpu,cpu,cpu"), 0);
    assert_int_equal(train_options_check_world(&o, 1), EXIT_USAGE);
    assert_non_null(strstr(error_message(), "1, 2, 4 or 8, not 3"));
    o.reproducible = 0;
    assert_int_equal(train_options_check_world(&o, 1), 0); /* the flag alone asks for the tree */
    assert_int_equal(parse(&o, "--data d --run r --reproducible --batch 12"), EXIT_USAGE);
    assert_non_null(strstr(error_message(), "multiple of 8"));
    assert_int_equal(parse(&o, "--data d --run r --batch 12"), 0);
    /* the split modes: hybrid's devices are parts of the tree, the two towers one part */
    assert_int_equal(parse(&o, "--data d --run r --reproducible --parallel hybrid --devices cpu,cpu,cpu,cpu"), 0);
    assert_int_equal(train_options_check_world(&o, 2), 0);              /* 8 parts */
    assert_int_equal(train_options_check_world(&o, 4), EXIT_USAGE);     /* 16 parts */
    assert_int_equal(parse(&o, "--data d --run r --reproducible --parallel hybrid --devices cpu,cpu,cpu"), 0);
    assert_int_equal(train_options_check_world(&o, 1), EXIT_USAGE);     /* 3 parts */
    assert_int_equal(parse(&o, "--data d --run r --reproducible --parallel towers --towers 2 --devices cpu,cpu"), 0);
    assert_int_equal(train_options_check_world(&o, 8), 0);              /* 8 pairs of towers: 8 parts */
    assert_int_equal(train_options_check_world(&o, 3), EXIT_USAGE);
}

/* Every recorded option names a config.json section; the network's and the
 * training's are the settings compare puts side by side, the execution's not. */
static void test_config_keys(void **state)
{
    (void)state;
    const cli_table *t = &train_option_table;
    int settings = 0;
    for (size_t i = 0; i < t->count; i++) {
        const char *key = t->rows[i].key;
        if (!key) continue;
        int known = strncmp(key, RUN_CONFIG_DATASET ".", strlen(RUN_CONFIG_DATASET) + 1) == 0 ||
                    strncmp(key, RUN_CONFIG_EXECUTION ".", strlen(RUN_CONFIG_EXECUTION) + 1) == 0 ||
                    run_config_is_setting(key);
        if (!known) fail_msg("--%s: config.json key %s is in no section", t->rows[i].flag, key);
        settings += run_config_is_setting(key);
    }
    assert_true(settings >= 15);
    assert_true(run_config_is_setting("network.width"));
    assert_true(run_config_is_setting("training.lr"));
    assert_false(run_config_is_setting("execution.threads"));
    assert_false(run_config_is_setting("networks.x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_width_one_range),
        cmocka_unit_test(test_values_and_refusals),
        cmocka_unit_test(test_config_keys),
        cmocka_unit_test(test_precision),
        cmocka_unit_test(test_precision_names),
        cmocka_unit_test(test_reproducible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
