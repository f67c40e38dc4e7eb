/* test_eval_report.c: report.json (valid JSON with the documented fields and
 * values, checked by Python's json module when python3 is present, and by
 * text otherwise), the HTML tables (escaped names), and the stdout summary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "eval_report.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_json, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tables_and_print, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
