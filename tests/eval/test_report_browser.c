/* test_report_browser.c: report.html renders in a real browser. A run
 * directory with metrics, an evaluation and figures is made with
 * alexnet-eval; headless Chromium takes a screenshot of the page; the PNG is
 * decoded with libvips and must be a real picture: the right size, not one
 * flat colour, and with the colours of the embedded figures (the red bars
 * of the predictions figure). Exits 77 (skipped) when chromium is missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <vips/vips.h>

#include "eval_fixture.h"

static char program[4096], browser[256];

/* Counts pixels close to the predictions figure's red (200, 30, 30). */
static long count_red(VipsImage *rgb)
{
    size_t bytes = 0;
    uint8_t *px = vips_image_write_to_memory(rgb, &bytes); /* [h, w, bands] */
    assert_non_null(px);
    int bands = vips_image_get_bands(rgb);
    long red = 0;
    for (size_t i = 0; i + 2 < bytes; i += (size_t)bands)
        red += px[i] > 170 && px[i] < 230 && px[i + 1] < 60 && px[i + 2] < 60;
    g_free(px);
    return red;
}

static void test_page_renders(void **state)
{
    (void)state;
    char dir[256], runs[512], shot[600];
    fixture_tempdir(dir, sizeof dir, "test-report-browser");
    fixture_write_dataset(dir);
    snprintf(runs, sizeof runs, "%s/run", dir);
    assert_int_equal(fixture_run("mkdir -p '%s/checkpoints'", runs), 0);
    char ckpt[700];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoints/best.h5", runs);
    fixture_write_checkpoint(dir, ckpt, FIXTURE_CLASSES, FIXTURE_DATASET_ID, 8);
    assert_int_equal(fixture_run("printf 'epoch,step,train_loss,val_top1_error,lr\\n0,1,1.1,,0.01\\n1,2,0.9,0.6,0.001\\n'"
                         " > '%s/metrics.csv'", runs), 0);
    assert_int_equal(fixture_run("'%s' --quiet --data '%s' --run '%s' --figures --train-sample 12 > /dev/null", program, dir,
                         runs), 0);
    snprintf(shot, sizeof shot, "%s/screenshot.png", dir);
    /* the page must not need the network: --no-proxy-server keeps any fetch local and failing */
    assert_int_equal(fixture_run("cd '%s' && timeout 120 %s --headless --no-sandbox --disable-gpu --no-proxy-server "
                         "--hide-scrollbars --screenshot='%s' --window-size=1200,4000 'file://%s/report.html' "
                         "> '%s/browser.log' 2>&1",
                         dir, browser, shot, runs, dir),
                     0);
    VipsImage *img = vips_image_new_from_file(shot, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
    if (!img) fail_msg("cannot decode the screenshot %s: %s", shot, vips_error_buffer());
    assert_int_equal(vips_image_get_width(img), 1200);
    assert_int_equal(vips_image_get_height(img), 4000);
    double deviation = 0.0;
    assert_int_equal(vips_deviate(img, &deviation, NULL), 0);
    assert_true(deviation > 10.0); /* not blank */
    g_object_unref(img);
    img = vips_image_new_from_file(shot, NULL);
    assert_non_null(img);
    long red = count_red(img);
    print_message("screenshot deviation %.1f, %ld red pixels\n", deviation, red);
    assert_true(red > 500); /* the predictions figure's bars are on the page */
    g_object_unref(img);
    fixture_remove_dir(dir);
}

int main(int argc, char **argv)
{
    (void)argc;
    const char *bin = getenv("ALEXNET_BINARY_DIR");
    snprintf(program, sizeof program, "%s/eval/alexnet-eval", bin ? bin : ".");
    const char *candidates[] = {"chromium", "chromium-browser", "google-chrome"};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0] && !browser[0]; i++) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "command -v %s > /dev/null 2>&1", candidates[i]);
        if (system(cmd) == 0) snprintf(browser, sizeof browser, "%s", candidates[i]);
    }
    if (!browser[0]) {
        fprintf(stderr, "no chromium: skipping the browser test\n");
        return 77;
    }
    if (VIPS_INIT(argv[0]) != 0) return 1;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_page_renders)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
