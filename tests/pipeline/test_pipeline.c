/* test_pipeline.c: Makefile.pipeline end to end on a tiny Fashion-MNIST
 * subset (real IDX files, real shards, a few SGD steps, ten-crop eval,
 * figures, report): the report is made and its place printed; a second make
 * runs no stage; a changed prep parameter makes a new dataset directory; a
 * second run trains from the same dataset directory. The binaries of this
 * build are used as they are (make -o), never rebuilt by the test.
 * Exits 77 when the Fashion-MNIST files are not installed. */
#include <dirent.h>
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

#define FASHION_MNIST "/usr/share/datasets/fashion-mnist"

static char source_dir[1024], binary_dir[1024], work[256], make_prefix[16384];

/* Runs the pipeline's make with the tiny settings plus `extra`, output into log. */
static int make(const char *extra, const char *log)
{
    return fixture_run("%s %s > '%s/%s' 2>&1", make_prefix, extra, work, log);
}

static int log_has(const char *log, const char *text)
{
    return fixture_run("grep -qF -- '%s' '%s/%s'", text, work, log) == 0;
}

static int count_dirs(const char *path)
{
    DIR *d = opendir(path);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static double mtime_of(const char *fmt, const char *arg)
{
    char path[4096];
    snprintf(path, sizeof path, fmt, work, arg);
    struct stat st;
    if (stat(path, &st) != 0) return -1.0;
    return (double)st.st_mtim.tv_sec + 1e-9 * (double)st.st_mtim.tv_nsec;
}

static void test_pipeline(void **state)
{
    (void)state;
    /* 1. everything from nothing */
    assert_int_equal(make("all", "first.log"), 0);
    assert_true(log_has("first.log", "alexnet-prep"));
    assert_true(log_has("first.log", "alexnet-train"));
    assert_true(log_has("first.log", "alexnet-eval"));
    assert_true(log_has("first.log", "report: "));
    assert_true(log_has("first.log", "ten-crop top-1 accuracy"));
    char path[4400];
    snprintf(path, sizeof path, "%s/data", work);
    assert_int_equal(count_dirs(path), 1);
    snprintf(path, sizeof path, "%s/runs/a/report.html", work);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof path, "%s/runs/a/eval/figures/conv1.png", work);
    assert_int_equal(access(path, R_OK), 0);
    assert_int_equal(fixture_run("grep -q '\"images\": 20' '%s/runs/a/eval/report.json'", work), 0);
    double report_time = mtime_of("%s/runs/a/%s", "report.html");
    double train_time = mtime_of("%s/runs/a/%s", ".train.done");

    /* 2. a second make runs no stage */
    assert_int_equal(make("all", "second.log"), 0);
    assert_false(log_has("second.log", "alexnet-prep "));
    assert_false(log_has("second.log", "alexnet-train "));
    assert_false(log_has("second.log", "/alexnet-eval "));
    assert_false(log_has("second.log", "cmake"));
    assert_true(mtime_of("%s/runs/a/%s", "report.html") == report_time);
    assert_true(mtime_of("%s/runs/a/%s", ".train.done") == train_time);

    /* 3. a changed prep parameter makes a new dataset directory, the first stays */
    assert_int_equal(make("prep VAL_LIMIT=10", "third.log"), 0);
    assert_true(log_has("third.log", "alexnet-prep"));
    snprintf(path, sizeof path, "%s/data", work);
    assert_int_equal(count_dirs(path), 2);

    /* 4. a second run trains from the first dataset directory: no prep */
    assert_int_equal(make("train RUN=$W/runs/b MAX_STEPS=1", "fourth.log"), 0);
    assert_false(log_has("fourth.log", "alexnet-prep "));
    assert_true(log_has("fourth.log", "alexnet-train"));
    assert_int_equal(count_dirs(path), 2);
    assert_int_equal(fixture_run("cd '%s/runs' && test \"$(grep ^data= a/.train-params)\" = \"$(grep ^data= b/.train-params)\"",
                         work),
                     0);

    /* 5. changing an eval parameter re-evaluates without retraining */
    assert_int_equal(make("all EVAL_LIMIT=10", "fifth.log"), 0);
    assert_false(log_has("fifth.log", "alexnet-train "));
    assert_true(log_has("fifth.log", "alexnet-eval"));
    assert_int_equal(fixture_run("grep -q '\"images\": 10' '%s/runs/a/eval/report.json'", work), 0);
}

int main(void)
{
    if (access(FASHION_MNIST "/train-images-idx3-ubyte.gz", R_OK) != 0) {
        fprintf(stderr, "Fashion-MNIST is not installed (%s): skipping\n", FASHION_MNIST);
        return 77;
    }
    const char *src = getenv("ALEXNET_SOURCE_DIR"), *bin = getenv("ALEXNET_BINARY_DIR");
    if (!src || !bin || strlen(src) >= sizeof source_dir || strlen(bin) >= sizeof binary_dir) {
        fprintf(stderr, "ALEXNET_SOURCE_DIR and ALEXNET_BINARY_DIR must be set (ctest sets them), < 1024 chars\n");
        return 1;
    }
    snprintf(source_dir, sizeof source_dir, "%s", src);
    snprintf(binary_dir, sizeof binary_dir, "%s", bin);
    snprintf(work, sizeof work, "/tmp/alexnet-test-pipeline.XXXXXX");
    if (!mkdtemp(work)) return 1;
    /* The tiny settings: 60 training and 20 validation images, 3 steps of 8. */
    snprintf(make_prefix, sizeof make_prefix,
             "export W='%s'; make --no-print-directory -C '%s' -f Makefile.pipeline BUILD='%s' "
             "-o '%s/prep/alexnet-prep' -o '%s/train/alexnet-train' -o '%s/eval/alexnet-eval' "
             "DATA_ROOT=$W/data RUN=$W/runs/a TRAIN_LIMIT=60 VAL_LIMIT=20 SHARD_SIZE=32 EPOCHS=1 BATCH=8 "
             "MAX_STEPS=3 TRAIN_VAL_LIMIT=10 EVAL_BATCH=4 TRAIN_SAMPLE=20 JOBS=2",
             work, source_dir, binary_dir, binary_dir, binary_dir, binary_dir);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_pipeline)};
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    if (!failed && !getenv("ALEXNET_KEEP_TEST_DIRS")) fixture_run("rm -rf '%s'", work);
    return failed;
}
