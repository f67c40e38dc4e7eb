/* test_run_dir.c: the run directory (run/): refusing to overwrite a run, the
 * `latest` pointer, keeping the last K checkpoints plus best.h5, the
 * checkpoint a run is scored with, metrics.csv cut back to the checkpoint's
 * step on a resume and read back, the config and report readers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "run_dir.h"
#include "run_records.h"
#include "train_fixture.h"

static int exists(const char *run, const char *name)
{
    char path[RUN_PATH_MAX];
    assert_int_equal(run_dir_checkpoint_path(run, name, path, sizeof path), AN_OK);
    return access(path, F_OK) == 0;
}

/* Stands in for checkpoint_save: any complete file will do here. */
static void write_fake_checkpoint(const char *run, const char *name, const char *content)
{
    char path[RUN_PATH_MAX];
    assert_int_equal(run_dir_checkpoint_path(run, name, path, sizeof path), AN_OK);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
}

static void test_prepare_and_latest(void **state)
{
    (void)state;
    char dir[4096], run[4200], path[RUN_PATH_MAX];
    assert_int_equal(fixture_temp_dir("rundir", dir), AN_OK);
    snprintf(run, sizeof run, "%s/run", dir);
    /* --resume of a run that never checkpointed is refused */
    assert_int_equal(run_dir_prepare(run, 1), AN_ERR_ARG);
    assert_int_equal(run_dir_prepare(run, 0), AN_OK);
    assert_int_equal(run_dir_latest(run, path, sizeof path), AN_ERR_IO);

    char name[64];
    run_dir_checkpoint_name(2, 1234, name, sizeof name);
    assert_string_equal(name, "ckpt-0002-000001234.h5");
    write_fake_checkpoint(run, name, "a");
    assert_int_equal(run_dir_commit_checkpoint(run, name, 0, 2), AN_OK);
    assert_int_equal(run_dir_latest(run, path, sizeof path), AN_OK);
    assert_non_null(strstr(path, "/checkpoints/ckpt-0002-000001234.h5"));

    /* a fresh start over an existing run is refused, a resume accepted */
    assert_int_equal(run_dir_prepare(run, 0), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "--resume"));
    assert_int_equal(run_dir_prepare(run, 1), AN_OK);
    fixture_remove_dir(dir);
}

static void test_keep_last_k_and_best(void **state)
{
    (void)state;
    char dir[4096];
    assert_int_equal(fixture_temp_dir("rundir", dir), AN_OK);
    assert_int_equal(run_dir_prepare(dir, 0), AN_OK);
    const char *names[5];
    char storage[5][64];
    for (int i = 0; i < 5; i++) {
        run_dir_checkpoint_name((uint32_t)i, (uint64_t)(i + 1) * 10, storage[i], sizeof storage[i]);
        names[i] = storage[i];
        char content[8];
        snprintf(content, sizeof content, "%d", i);
        write_fake_checkpoint(dir, names[i], content);
        /* checkpoint 1 is the best */
        assert_int_equal(run_dir_commit_checkpoint(dir, names[i], i == 1, 2), AN_OK);
    }
    assert_false(exists(dir, names[0]));
    assert_false(exists(dir, names[1]));
    assert_false(exists(dir, names[2]));
    assert_true(exists(dir, names[3]));
    assert_true(exists(dir, names[4]));
    /* best.h5 still holds checkpoint 1's data after its name was pruned */
    char best[RUN_PATH_MAX], text[8] = "";
    assert_int_equal(run_dir_checkpoint_path(dir, "best.h5", best, sizeof best), AN_OK);
    FILE *f = fopen(best, "r");
    assert_non_null(f);
    assert_non_null(fgets(text, sizeof text, f));
    fclose(f);
    assert_string_equal(text, "1");
    fixture_remove_dir(dir);
}

static void test_metrics_cut_back_on_resume(void **state)
{
    (void)state;
    char dir[4096], path[4200];
    assert_int_equal(fixture_temp_dir("rundir", dir), AN_OK);
    FILE *f;
    assert_int_equal(run_dir_open_metrics(dir, 0, 0, &f), AN_OK);
    for (int step = 10; step <= 50; step += 10) fprintf(f, "train,1,%d,0.01,2.3,0.9,0.5,100.0,1.0\n", step);
    fprintf(f, "val,1,50,0.01,2.3,0.9,0.5,100.0,1.0\n");
    fclose(f);
    /* The interrupted process checkpointed at step 30. */
    assert_int_equal(run_dir_open_metrics(dir, 1, 30, &f), AN_OK);
    fprintf(f, "train,1,40,0.01,2.2,0.8,0.4,100.0,2.0\n");
    fclose(f);
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    assert_int_equal(strncmp(line, run_dir_metrics_header, strlen(run_dir_metrics_header)), 0);
    const char *want[] = { "train,1,10,", "train,1,20,", "train,1,30,", "train,1,40,0.01,2.2," };
    for (int i = 0; i < 4; i++) {
        assert_non_null(fgets(line, sizeof line, f));
        assert_int_equal(strncmp(line, want[i], strlen(want[i])), 0);
    }
    assert_null(fgets(line, sizeof line, f));
    fclose(f);
    fixture_remove_dir(dir);
}

/* alexnet-eval --run scores best.h5, else the checkpoint `latest` names. */
static void test_scored_checkpoint(void **state)
{
    (void)state;
    char dir[4096], path[RUN_PATH_MAX], name[64];
    assert_int_equal(fixture_temp_dir("rundir", dir), AN_OK);
    assert_int_equal(run_dir_scored_checkpoint(dir, path, sizeof path), AN_ERR_IO);
    assert_int_equal(run_dir_prepare(dir, 0), AN_OK);
    assert_int_equal(run_dir_scored_checkpoint(dir, path, sizeof path), AN_ERR_IO);
    assert_non_null(strstr(error_message(), "train first"));
    run_dir_checkpoint_name(1, 10, name, sizeof name);
    write_fake_checkpoint(dir, name, "a");
    assert_int_equal(run_dir_commit_checkpoint(dir, name, 0, 2), AN_OK);
    assert_int_equal(run_dir_scored_checkpoint(dir, path, sizeof path), AN_OK);
    assert_non_null(strstr(path, "/checkpoints/ckpt-0001-000000010.h5"));
    run_dir_checkpoint_name(1, 20, name, sizeof name);
    write_fake_checkpoint(dir, name, "b");
    assert_int_equal(run_dir_commit_checkpoint(dir, name, 1, 2), AN_OK);
    run_dir_checkpoint_name(2, 30, name, sizeof name);
    write_fake_checkpoint(dir, name, "c");
    assert_int_equal(run_dir_commit_checkpoint(dir, name, 0, 2), AN_OK);
    assert_int_equal(run_dir_scored_checkpoint(dir, path, sizeof path), AN_OK);
    assert_non_null(strstr(path, "/checkpoints/best.h5"));
    fixture_remove_dir(dir);
}

/* config.json, eval/report.json and metrics.csv read back; a run never scored is named. */
static void test_records(void **state)
{
    (void)state;
    char dir[4096], path[RUN_PATH_MAX];
    assert_int_equal(fixture_temp_dir("rundir", dir), AN_OK);
    json_flat config, report;
    assert_int_equal(run_read_config(dir, &config), AN_ERR_IO);
    assert_int_equal(run_dir_file(dir, RUN_CONFIG_FILE, path, sizeof path), AN_OK);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"network\": {\"towers\": 1}}", f);
    fclose(f);
    assert_int_equal(run_read_config(dir, &config), AN_OK);
    const json_leaf *towers = json_flat_find(&config, "network.towers");
    assert_non_null(towers);
    assert_string_equal(towers->value, "1");
    json_flat_free(&config);
    assert_int_equal(run_read_report(dir, &report), AN_ERR_IO);
    assert_non_null(strstr(error_message(), "has not been scored"));
    FILE *m = NULL;
    assert_int_equal(run_dir_open_metrics(dir, 0, 0, &m), AN_OK);
    fprintf(m, "train,1,20,0.01,6.9,0.99,0.95,10,1.5\n");
    fclose(m);
    metrics_table t;
    assert_int_equal(run_read_metrics(dir, &t), AN_OK);
    assert_int_equal(t.num_rows, 1);
    assert_true(metrics_table_at(&t, 0, metrics_table_column(&t, "step")) == 20.0);
    metrics_table_free(&t);
    fixture_remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepare_and_latest),
        cmocka_unit_test(test_keep_last_k_and_best),
        cmocka_unit_test(test_metrics_cut_back_on_resume),
        cmocka_unit_test(test_scored_checkpoint),
        cmocka_unit_test(test_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
