/* test_eval_cli.c: the alexnet-eval program end to end on a small real
 * dataset and checkpoint: exit codes (0, 1 runtime, 2 usage), report.json
 * (read back by Python's json module), tables, figures, report.html, the
 * --device cuda refused without a GPU, the dataset-mismatch error, and `alexnet-eval report RUN`. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "eval_fixture.h"
#ifdef ALEXNET_HAVE_CUDA
#include "cuda_context.h"
#endif

static char program[4096];

static int file_exists(const char *dir, const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, R_OK) == 0;
}

static int file_contains(const char *dir, const char *name, const char *text)
{
    return fixture_run("grep -qF -- '%s' '%s/%s'", text, dir, name) == 0;
}

typedef struct fixture {
    char data[256], run[512], log[600];
} fixture;

static int setup(void **state)
{
    const char *bin = getenv("ALEXNET_BINARY_DIR");
    snprintf(program, sizeof program, "%s/eval/alexnet-eval", bin ? bin : ".");
    if (access(program, X_OK) != 0) {
        fprintf(stderr, "alexnet-eval not found at %s\n", program);
        return -1;
    }
    /* under AddressSanitizer, fontconfig's caches (libvips text) are not leaks of ours */
    const char *src = getenv("ALEXNET_SOURCE_DIR");
    char lsan[4200];
    snprintf(lsan, sizeof lsan, "suppressions=%s/tests/eval/lsan.supp", src ? src : ".");
    setenv("LSAN_OPTIONS", lsan, 0);
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    fixture_tempdir(f->data, sizeof f->data, "test-eval-cli");
    fixture_write_dataset(f->data);
    snprintf(f->run, sizeof f->run, "%s/run", f->data);
    snprintf(f->log, sizeof f->log, "%s/eval.log", f->data);
    if (fixture_run("mkdir -p '%s/checkpoints'", f->run) != 0) return -1;
    char ckpt[1024];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoints/ckpt-0001-000008.h5", f->run);
    fixture_write_checkpoint(f->data, ckpt, FIXTURE_CLASSES, FIXTURE_DATASET_ID, 8);
    /* no best.h5: the program must follow the `latest` pointer */
    if (fixture_run("echo ckpt-0001-000008.h5 > '%s/checkpoints/latest'", f->run) != 0) return -1;
    if (fixture_run("printf 'epoch,step,train_loss,train_top1_error,val_top1_error,val_top5_error,lr\\n"
            "0,1,1.10,0.70,,,0.01\\n0,4,1.05,0.66,,,0.01\\n1,8,0.98,0.61,0.64,0,0.01\\n' > '%s/metrics.csv'",
            f->run) != 0)
        return -1;
    /* what makes it a run directory for `alexnet-eval report` (the trainer writes every setting there) */
    if (fixture_run("echo '{\"program\": \"alexnet-train\"}' > '%s/config.json'", f->run) != 0) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    fixture_remove_dir(f->data);
    free(f);
    return 0;
}

static void test_usage_errors(void **state)
{
    fixture *f = *state;
    assert_int_equal(fixture_run("'%s' --help > /dev/null", program), 0);
    assert_int_equal(fixture_run("'%s' --version | grep -q alexnet-eval", program), 0);
    assert_int_equal(fixture_run("'%s' --run '%s' 2> /dev/null", program, f->run), 2);              /* no --data */
    assert_int_equal(fixture_run("'%s' --data '%s' --run '%s' --batch 0 2> /dev/null", program, f->data, f->run), 2);
    assert_int_equal(fixture_run("'%s' --data '%s' --run '%s' --device tpu 2> /dev/null", program, f->data, f->run), 2);
    assert_int_equal(fixture_run("'%s' --data '%s' --run '%s' --bogus 2> /dev/null", program, f->data, f->run), 2);
    assert_int_equal(fixture_run("'%s' --data '%s/nowhere' --run '%s' 2> /dev/null", program, f->data, f->run), 1);
}

static void test_scores_and_writes_reports(void **state)
{
    fixture *f = *state;
#ifdef ALEXNET_EVAL_HAVE_FIGURES
    const char *figures = "--figures --train-sample 12";
#else
    const char *figures = "";
#endif
    assert_int_equal(fixture_run("'%s' --data '%s' --run '%s' --batch 4 %s --device cpu > '%s' 2>&1", program,
                                 f->data, f->run, figures, f->log),
                     0);
    assert_true(file_contains(f->data, "eval.log", "ten-crop"));
    char eval_dir[1024];
    snprintf(eval_dir, sizeof eval_dir, "%s/eval", f->run);
    assert_true(file_exists(eval_dir, "report.json"));
    assert_true(file_exists(eval_dir, "tables.html"));
    assert_true(file_exists(f->run, "report.html"));
    assert_true(file_contains(f->run, "report.html", "<svg"));
    assert_true(file_contains(f->run, "report.html", "val_top1_error"));
    assert_true(file_contains(f->run, "report.html", "ten-crop"));
#ifdef ALEXNET_EVAL_HAVE_FIGURES
    assert_true(file_exists(eval_dir, "figures/predictions.png"));
    assert_true(file_exists(eval_dir, "figures/neighbours.png"));
    assert_true(file_exists(eval_dir, "figures/conv1.png"));
    assert_true(file_contains(f->run, "report.html", "data:image/png;base64,iVBORw0KGgo"));
#endif
    if (fixture_run("python3 -c 'import json' 2> /dev/null") == 0)
        assert_int_equal(fixture_run("python3 -c 'import json; r=json.load(open(\"%s/report.json\"));"
                             "assert r[\"images\"]==%d and r[\"images_in_split\"]==%d, r[\"images\"];"
                             "assert r[\"device\"]==\"cpu\" and r[\"checkpoint_step\"]==8;"
                             "assert sum(c[\"images\"] for c in r[\"per_class\"])==r[\"images\"];"
                             "assert 0<=r[\"ten_crop\"][\"top1_error\"]<=1 and r[\"ten_crop\"][\"top5_error\"]==0;"
                             "assert r[\"dataset_id\"]==\"%s\"'",
                             eval_dir, FIXTURE_VAL_A + FIXTURE_VAL_B, FIXTURE_VAL_A + FIXTURE_VAL_B,
                             FIXTURE_DATASET_ID),
                         0);

    /* --limit and --out */
    assert_int_equal(fixture_run("'%s' --quiet --data '%s' --run '%s' --limit 3 --out '%s/limited' > /dev/null", program,
                         f->data, f->run, f->data),
                     0);
    assert_true(file_contains(f->data, "limited/report.json", "\"images\": 3"));

    /* report alone */
    assert_int_equal(fixture_run("rm '%s/report.html' && '%s' report '%s' > /dev/null", f->run, program, f->run), 0);
    assert_true(file_contains(f->run, "report.html", "ten-crop"));
}

/* Asking for a GPU where there is none is a runtime error, never a quiet CPU run. */
static void test_cuda_without_device_exits_1(void **state)
{
    fixture *f = *state;
#ifdef ALEXNET_HAVE_CUDA
    if (cuda_device_count() > 0) skip(); /* a GPU machine: test_eval_cuda scores there */
    const char *why = "no usable GPU";
#else
    const char *why = "built without the CUDA backend";
#endif
    assert_int_equal(fixture_run("'%s' --data '%s' --run '%s' --out '%s/cuda' --device cuda > '%s' 2>&1", program,
                                 f->data, f->run, f->data, f->log),
                     1);
    assert_true(file_contains(f->data, "eval.log", "--device cuda"));
    assert_true(file_contains(f->data, "eval.log", why));
    assert_false(file_exists(f->data, "cuda/report.json"));
}

static void test_mismatch_exits_1(void **state)
{
    fixture *f = *state;
    char other[1024];
    snprintf(other, sizeof other, "%s/other.h5", f->data);
    fixture_write_checkpoint(f->data, other, FIXTURE_CLASSES, "aaaabbbbccccdddd", 0);
    assert_int_equal(fixture_run("'%s' --data '%s' --checkpoint '%s' > '%s' 2>&1", program, f->data, other, f->log), 1);
    assert_true(file_contains(f->data, "eval.log", "aaaabbbbccccdddd"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_scores_and_writes_reports),
        cmocka_unit_test(test_cuda_without_device_exits_1),
        cmocka_unit_test(test_mismatch_exits_1),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
