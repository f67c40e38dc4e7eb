/* test_compare_inputs.c: what `alexnet-eval compare` reads: JSON leaves by
 * path (eval/json_flatten.h over common/json_reader.h: nesting, arrays,
 * escapes, refusals) and the
 * training error per epoch from metrics.csv rows weighted by the steps each
 * covers, with Figure 1's epochs to 25 % (eval/compare.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "compare.h"
#include "json_flatten.h"

static void test_leaves_by_path(void **state)
{
    (void)state;
    json_flat f;
    const char *text = "{\"network\": {\"towers\": 1, \"activation\": \"tanh\", \"x\": {\"y\": [true, null]}},\n"
                       " \"lr_steps\": [30, 60], \"name\": \"a\\\"b\\\\c\\u00e9\", \"e\": -1.5e-3, \"empty\": {}}";
    assert_int_equal(json_flatten(text, "test", &f), AN_OK);
    double v;
    const char *s;
    assert_int_equal(json_flat_number(&f, "network.towers", "test", &v), AN_OK);
    assert_true(v == 1.0);
    assert_int_equal(json_flat_string(&f, "network.activation", "test", &s), AN_OK);
    assert_string_equal(s, "tanh");
    assert_string_equal(json_flat_find(&f, "network.x.y[0]")->value, "true");
    assert_string_equal(json_flat_find(&f, "network.x.y[1]")->value, "null");
    assert_int_equal(json_flat_number(&f, "lr_steps[1]", "test", &v), AN_OK);
    assert_true(v == 60.0);
    assert_int_equal(json_flat_string(&f, "name", "test", &s), AN_OK);
    assert_string_equal(s, "a\"b\\c\xc3\xa9");
    assert_int_equal(json_flat_number(&f, "e", "test", &v), AN_OK);
    assert_true(v == -1.5e-3);
    assert_int_equal(f.count, 8);
    /* a string is not a number, a missing path is named */
    assert_int_equal(json_flat_number(&f, "network.activation", "test", &v), AN_ERR_FORMAT);
    assert_int_equal(json_flat_string(&f, "network.pooling", "cfg.json", &s), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "network.pooling"));
    json_flat_free(&f);
}

static void test_refusals(void **state)
{
    (void)state;
    const char *bad[] = {"{\"a\": 1,}", "{\"a\" 1}", "[1 2]", "{\"a\": tru}", "{\"a\": \"x", "{} {}",
                         "{\"a\": \"\\q\"}", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_flat f;
        if (json_flatten(bad[i], "bad.json", &f) != AN_ERR_FORMAT) fail_msg("accepted '%s'", bad[i]);
        assert_non_null(strstr(error_message(), "bad.json"));
        assert_int_equal(f.count, 0);
    }
    /* deep nesting is refused, not a stack overflow */
    char deep[400] = "";
    for (int i = 0; i < 60; i++) strcat(deep, "{\"a\":");
    strcat(deep, "1");
    for (int i = 0; i < 60; i++) strcat(deep, "}");
    json_flat f;
    assert_int_equal(json_flatten(deep, "deep.json", &f), AN_ERR_FORMAT);
    assert_int_equal(json_flatten_file("/nonexistent/config.json", &f), AN_ERR_IO);
}

/* Epoch 1: rows at steps 10 (error 0.8) and 30 (0.5): (10*0.8 + 20*0.5)/30 = 0.6.
 * Epoch 2: one row at 60 (0.3); epoch 3: 0.2 at 70 and 0.25 at 90. Val rows ignored. */
static void test_train_error_per_epoch(void **state)
{
    (void)state;
    char path[] = "/tmp/alexnet-metrics-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fprintf(fp, "split,epoch,step,lr,loss,top1_error,top5_error,images_per_s,time_s\n"
                "train,1,10,0.01,2,0.8,0.5,10,1\ntrain,1,30,0.01,2,0.5,0.5,10,2\nval,1,30,0.01,2,0.1,0.1,10,3\n"
                "train,2,60,0.01,2,0.3,0.1,10,4\nval,2,60,0.01,2,0.05,0.1,10,5\n"
                "train,3,70,0.01,2,0.2,0.1,10,6\ntrain,3,90,0.01,2,0.25,0.1,10,7\n");
    fclose(fp);
    metrics_table t;
    assert_int_equal(metrics_table_read(&t, path), AN_OK);
    unlink(path);
    double per_epoch[5];
    int epochs;
    compare_train_error_per_epoch(&t, per_epoch, 5, &epochs);
    metrics_table_free(&t);
    assert_int_equal(epochs, 3);
    assert_true(fabs(per_epoch[0] - 0.6) < 1e-12);
    assert_true(fabs(per_epoch[1] - 0.3) < 1e-12);
    assert_true(fabs(per_epoch[2] - (10 * 0.2 + 20 * 0.25) / 30.0) < 1e-12);
    assert_true(isnan(per_epoch[3]));
    assert_int_equal(compare_epochs_to_error(per_epoch, epochs, COMPARE_TARGET_TRAIN_ERROR), 3);
    assert_int_equal(compare_epochs_to_error(per_epoch, epochs, 0.3), 2);
    assert_int_equal(compare_epochs_to_error(per_epoch, epochs, 0.1), 0); /* never */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaves_by_path),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_train_error_per_epoch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
