/* test_eval_report.c: report.json (valid JSON with the documented fields and
 * values, checked by Python's json module when python3 is present, and by
 * text otherwise), the HTML tables (escaped names; classes without images
 * left out with a count, their accuracies null in the JSON), the stdout
 * summary, and report.html's charts (errors in percent with distinct tick
 * labels, the learning rate drawn once) and its refusal of a directory that
 * is not a run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "eval_report.h"
#include "report_html.h"
#include "run_dir.h"

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

typedef struct fixture {
    char dir[64];
    tally t;
    eval_report r;
} fixture;

static const char *ids[3] = {"c0", "c1", "c2"};
static const char *names[3] = {"T-shirt/top", "<b>trouser</b>", "bag & co"};
static const char *figures[1] = {"figures/conv1.png"};

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_eval_report.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    assert_int_equal(tally_init(&f->t, 3, 4), AN_OK);
    float right0[3] = {0.7f, 0.2f, 0.1f}, wrong1[3] = {0.7f, 0.2f, 0.1f}, right2[3] = {0.1f, 0.2f, 0.7f}, right1[3] = {0.2f, 0.7f, 0.1f};
    assert_int_equal(tally_add(&f->t, 0, 0, right0, right0), AN_OK);
    assert_int_equal(tally_add(&f->t, 1, 1, wrong1, right1), AN_OK); /* ten-crop: 1 mistaken for 0 */
    assert_int_equal(tally_add(&f->t, 2, 2, right2, right2), AN_OK);
    assert_int_equal(tally_add(&f->t, 3, 1, wrong1, wrong1), AN_OK);
    eval_report r = {.checkpoint = "runs/x/checkpoints/best.h5", .data_dir = "data/d", .dataset_id = "0123456789abcdef",
                     .split = "val", .device = "cpu", .step = 42, .epoch = 3, .width = 0.25, .batch = 8,
                     .images_in_split = 10, .seconds = 2.0, .num_classes = 3, .class_ids = ids,
                     .class_names = names, .counts = &f->t, .num_figures = 1, .figures = figures};
    f->r = r;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    tally_free(&f->t);
    free(f);
    return 0;
}

static void test_json(void **state)
{
    fixture *f = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/report.json", f->dir);
    assert_int_equal(eval_report_write_json(&f->r, path), AN_OK);
    char *text = read_all(path);
    assert_non_null(strstr(text, "\"format_version\": 1"));
    assert_non_null(strstr(text, "\"images\": 4"));
    assert_non_null(strstr(text, "\"top1_correct\": 2")); /* ten-crop: images 0 and 2 */
    assert_non_null(strstr(text, "\"top1_correct\": 3")); /* centre: 0, 1, 2 */
    assert_non_null(strstr(text, "\"images_per_second\": 2"));
    assert_non_null(strstr(text, "\"name\": \"T-shirt/top\""));
    free(text);
    if (system("python3 -c 'import json' 2>/dev/null") != 0) return;
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys; r=json.load(open(\"%s\"));"
             "assert r[\"ten_crop\"][\"top1_error\"]==0.5, r[\"ten_crop\"];"
             "assert r[\"centre_crop\"][\"top1_error\"]==0.25;"
             "assert r[\"ten_crop\"][\"top5_error\"]==0.0;"
             "assert r[\"per_class\"][1][\"images\"]==2 and r[\"per_class\"][1][\"ten_crop_top1_accuracy\"]==0.0;"
             "assert r[\"per_class\"][1][\"centre_crop_top1_accuracy\"]==0.5;"
             "assert r[\"most_confused\"]==[{\"true_class\":1,\"true_name\":\"<b>trouser</b>\",\"predicted_class\":0,"
             "\"predicted_name\":\"T-shirt/top\",\"count\":2,\"fraction_of_true_class\":1.0}], r[\"most_confused\"];"
             "assert r[\"figures\"]==[\"figures/conv1.png\"] and r[\"dataset_id\"]==\"0123456789abcdef\"'",
             path);
    assert_int_equal(system(cmd), 0);
}

static void test_tables_and_print(void **state)
{
    fixture *f = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/tables.html", f->dir);
    assert_int_equal(eval_report_write_tables(&f->r, path), AN_OK);
    char *html = read_all(path);
    assert_non_null(strstr(html, "&lt;b&gt;trouser&lt;/b&gt;"));
    assert_null(strstr(html, "<b>trouser"));
    assert_non_null(strstr(html, "bag &amp; co"));
    assert_non_null(strstr(html, "<td>50.00%</td>")); /* ten-crop top-1 error */
    assert_non_null(strstr(html, "<td>25.00%</td>")); /* centre top-1 error */
    free(html);

    snprintf(path, sizeof path, "%s/stdout.txt", f->dir);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    eval_report_print(&f->r, out);
    fclose(out);
    char *text = read_all(path);
    assert_non_null(strstr(text, "50.00%"));
    assert_non_null(strstr(text, "25.00%"));
    assert_non_null(strstr(text, "4 images, 3 classes"));
    free(text);
}

/* A split where class 3 of 4 has no image: no row in the tables, a count
 * instead; null accuracies in report.json (an accuracy over no images is not 0). */
static void test_class_without_images(void **state)
{
    fixture *f = *state;
    static const char *ids4[4] = {"c0", "c1", "c2", "c3"};
    static const char *names4[4] = {"T-shirt/top", "trouser", "bag", "never-seen-class"};
    tally t4;
    assert_int_equal(tally_init(&t4, 4, 2), AN_OK);
    float right0[4] = {0.7f, 0.1f, 0.1f, 0.1f};
    assert_int_equal(tally_add(&t4, 0, 0, right0, right0), AN_OK);
    eval_report r = f->r;
    r.num_classes = 4;
    r.class_ids = ids4;
    r.class_names = names4;
    r.counts = &t4;
    char path[128];
    snprintf(path, sizeof path, "%s/tables4.html", f->dir);
    assert_int_equal(eval_report_write_tables(&r, path), AN_OK);
    char *html = read_all(path);
    assert_null(strstr(html, "never-seen-class"));
    assert_null(strstr(html, "<td>0</td><td>0.0%"));
    assert_non_null(strstr(html, "3 of the 4 classes had no image"));
    free(html);
    snprintf(path, sizeof path, "%s/report4.json", f->dir);
    assert_int_equal(eval_report_write_json(&r, path), AN_OK);
    char *text = read_all(path);
    assert_non_null(strstr(text, "\"ten_crop_top1_accuracy\": 1"));     /* class 0 */
    assert_non_null(strstr(text, "\"centre_crop_top5_accuracy\": null")); /* the others */
    free(text);
    tally_free(&t4);
}

/* The y tick labels of every chart in html, in order, into ticks[][32]; returns how many charts. */
static int chart_ticks(const char *html, char ticks[][5][32], int max_charts)
{
    int charts = 0;
    for (const char *svg = strstr(html, "<svg"); svg && charts < max_charts; svg = strstr(svg + 1, "<svg")) {
        const char *p = svg;
        for (int t = 0; t < 5; t++) {
            p = strstr(p, "text-anchor=\"end\">");
            assert_non_null(p);
            p += strlen("text-anchor=\"end\">");
            size_t n = strcspn(p, "<");
            assert_true(n < 32);
            memcpy(ticks[charts][t], p, n);
            ticks[charts][t][n] = '\0';
        }
        charts++;
    }
    return charts;
}

static void test_charts(void **state)
{
    fixture *f = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/metrics.csv", f->dir);
    FILE *m = fopen(path, "w");
    assert_non_null(m);
    /* errors between 99.9 % and 100 %: three significant digits would repeat "99.9" and "100" */
    fprintf(m, "split,epoch,step,lr,loss,top1_error,top5_error,images_per_s,time_s\n"
               "train,1,2,0.01,6.9,1.000000,0.999000,100.0,1.0\n"
               "train,1,4,0.01,6.8,0.999500,0.999000,100.0,2.0\n"
               "val,1,4,0.01,6.85,0.999000,0.999200,300.0,2.5\n"
               "train,2,6,0.001,6.7,0.999250,0.999100,100.0,3.0\n"
               "val,2,6,0.001,6.75,0.999100,0.999300,300.0,3.5\n");
    fclose(m);
    text_buffer b;
    text_init(&b);
    assert_int_equal(report_html_append_curves(&b, path), AN_OK);
    assert_int_equal(b.status, AN_OK);
    char ticks[3][5][32];
    assert_int_equal(chart_ticks(b.data, ticks, 3), 3); /* loss, errors, learning rate */
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < i; j++) assert_string_not_equal(ticks[c][i], ticks[c][j]);
    for (int i = 0; i < 5; i++) { /* the error chart: percent, as the tables */
        size_t n = strlen(ticks[1][i]);
        assert_true(n > 2 && strcmp(ticks[1][i] + n - 2, " %") == 0);
        assert_true(atof(ticks[1][i]) >= 99.89 && atof(ticks[1][i]) <= 100.01);
    }
    assert_non_null(strstr(b.data, "train lr"));
    assert_null(strstr(b.data, "val lr")); /* the rate is a training setting: drawn once */
    text_free(&b);
}

/* `alexnet-eval report DIR` and `compare` on a directory without config.json: not a run. */
static void test_not_a_run(void **state)
{
    fixture *f = *state;
    assert_int_equal(run_dir_check(f->dir), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "is not a run directory (no config.json)"));
    char path[160];
    snprintf(path, sizeof path, "%s/no-such-dir", f->dir);
    assert_int_equal(run_dir_check(path), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "is not a run directory"));
    snprintf(path, sizeof path, "%s/config.json", f->dir);
    FILE *c = fopen(path, "w");
    assert_non_null(c);
    fclose(c);
    assert_int_equal(run_dir_check(f->dir), AN_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tables_and_print, setup, teardown),
        cmocka_unit_test_setup_teardown(test_class_without_images, setup, teardown),
        cmocka_unit_test_setup_teardown(test_charts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_run, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
