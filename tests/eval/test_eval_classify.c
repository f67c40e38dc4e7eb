/* test_eval_classify.c: `alexnet-eval classify` (eval/classify.h). A real
 * dataset (tests/train/make_folder_source's PNGs, prepared by the real
 * alexnet-prep) and a checkpoint trained on it for a few steps; then
 *  - every validation image's source file, classified, gets exactly the
 *    top-5 classes and probabilities that the scorer of alexnet-eval gives the
 *    stored image (the same decode, crops, mean and network);
 *  - the real program on a generated JPEG, a PNG with alpha, a 16-bit grey
 *    PNG and a truncated JPEG: exit status 1, the truncated file named with
 *    its reason, every other file still classified, in text and in --json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <vips/vips.h>

#include "classify.h"
#include "dataset.h"
#include "eval_fixture.h"
#include "eval_model.h"
#include "eval_score.h"
#include "json_flatten.h"
#include "shard_reader.h"
#include "tally.h"
#include "ten_crop.h"

typedef fixture_prepared fixture;

static int setup(void **state)
{
    fixture *f = fixture_prepared_new("test-eval-classify", 6);
    if (!f || image_decode_init("test_eval_classify") != AN_OK) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    image_decode_shutdown();
    fixture_prepared_free(*state);
    return 0;
}

/* classify on the source files = the scorer on the stored images. */
static void test_same_top5_as_scoring(void **state)
{
    fixture *f = *state;
    dataset *d = NULL;
    net *n = NULL;
    checkpoint_meta meta;
    eval_split split = {0};
    tally t = {0};
    assert_int_equal(dataset_open(&d, f->data), AN_OK);
    assert_int_equal(eval_model_load(f->ckpt, d, TEN_CROP_VIEWS, NULL, &n, &meta), AN_OK);
    assert_int_equal(eval_split_open(&split, d, "val"), AN_OK);
    assert_int_equal(tally_init(&t, d->num_classes, split.id_count), AN_OK);
    eval_image images[16];
    assert_true(split.num_images <= 16);
    eval_score_options so = {.batch_images = 1, .limit = split.num_images};
    uint64_t scored = 0;
    assert_int_equal(eval_score_split(n, &split, d->mean_image, &so, &t, images, &scored), AN_OK);
    assert_int_equal(scored, split.num_images);

    image_decode_options o;
    assert_int_equal(classify_decode_options(f->data, &o), AN_OK);
    assert_int_equal(o.resize, IMAGE_RESIZE_CROP);
    eval_score_scratch scratch = {0};
    assert_int_equal(eval_score_scratch_alloc(&scratch, 1, d->num_classes), AN_OK);
    uint8_t *raw = malloc(IMAGE_STORED_BYTES);
    assert_non_null(raw);
    for (uint64_t k = 0; k < scored; k++) {
        const shard_reader *r = split.shards[images[k].shard];
        char path[4096];
        snprintf(path, sizeof path, "%s/source/%s", f->dir, r->paths[images[k].index]);
        classify_result res;
        assert_int_equal(classify_file(n, d, &o, path, &scratch, raw, &res), AN_OK);
        if (!res.ok) fail_msg("%s: %s", path, res.reason);
        assert_int_equal(res.count, d->num_classes < CLASSIFY_TOP_K ? d->num_classes : CLASSIFY_TOP_K);
        for (int c = 0; c < res.count; c++) {
            assert_int_equal(res.classes[c], images[k].top[c]);
            assert_true(res.probs[c] == images[k].top_probs[c]); /* the same pixels: the same bits */
        }
    }
    print_message("%llu validation files classified as scored\n", (unsigned long long)scored);
    free(raw);
    eval_score_scratch_free(&scratch);
    tally_free(&t);
    eval_split_close(&split);
    net_destroy(n);
    dataset_close(d);
}

/* Writes a w x h image of `bands` bands (alpha for 4), format by the name's suffix. */
static void write_image(const char *path, int w, int h, int bands, int sixteen_bit)
{
    VipsImage *xy = NULL, *joined = NULL, *cast = NULL;
    double extra[2] = {200.0, 120.0};
    assert_int_equal(vips_xyz(&xy, w, h, NULL), 0);
    if (bands == 1) {
        assert_int_equal(vips_extract_band(xy, &joined, 0, NULL), 0);
    } else {
        assert_int_equal(vips_bandjoin_const(xy, &joined, extra, bands - 2, NULL), 0);
    }
    assert_int_equal(vips_cast(joined, &cast, sixteen_bit ? VIPS_FORMAT_USHORT : VIPS_FORMAT_UCHAR, NULL), 0);
    if (bands == 1 && sixteen_bit) {
        VipsImage *grey = NULL;
        assert_int_equal(vips_copy(cast, &grey, "interpretation", VIPS_INTERPRETATION_GREY16, NULL), 0);
        g_object_unref(cast);
        cast = grey;
    }
    if (vips_image_write_to_file(cast, path, NULL) != 0) fail_msg("writing %s: %s", path, vips_error_buffer());
    g_object_unref(xy);
    g_object_unref(joined);
    g_object_unref(cast);
}

static char *read_all(const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    return buf;
}

static void test_program_on_files(void **state)
{
    fixture *f = *state;
    char jpeg[512], png_alpha[512], grey16[512], truncated[512], out[512], err[512];
    snprintf(jpeg, sizeof jpeg, "%s/photo.jpg", f->dir);
    snprintf(png_alpha, sizeof png_alpha, "%s/alpha.png", f->dir);
    snprintf(grey16, sizeof grey16, "%s/grey16.png", f->dir);
    snprintf(truncated, sizeof truncated, "%s/truncated.jpg", f->dir);
    snprintf(out, sizeof out, "%s/classify.out", f->dir);
    snprintf(err, sizeof err, "%s/classify.err", f->dir);
    write_image(jpeg, 400, 300, 3, 0);
    write_image(png_alpha, 300, 500, 4, 0);
    write_image(grey16, 260, 260, 1, 1);
    /* the first half of a real JPEG */
    assert_int_equal(fixture_run("head -c $(( $(stat -c %%s '%s') / 2 )) '%s' > '%s'", jpeg, jpeg, truncated), 0);

    int rc = fixture_run("'%s' classify --checkpoint '%s' --data '%s' '%s' '%s' '%s' '%s' > '%s' 2> '%s'",
                         f->program, f->ckpt, f->data, jpeg, truncated, png_alpha, grey16, out, err);
    assert_int_equal(rc, 1); /* a file could not be classified */
    char *text = read_all(out);
    print_message("%s", text);
    const char *files[] = {jpeg, png_alpha, grey16};
    for (int i = 0; i < 3; i++) {
        const char *at = strstr(text, files[i]);
        assert_non_null(at);
        assert_non_null(strstr(at, "  1. "));
        assert_non_null(strstr(at, "  2. "));
        assert_non_null(strstr(at, " %\n"));
    }
    const char *bad = strstr(text, truncated);
    assert_non_null(bad);
    assert_non_null(strstr(bad, "cannot classify:"));
    char *err_text = read_all(err);
    assert_non_null(strstr(err_text, "1 of 4 files could not be classified"));

    /* --json: one list, in order, the refused file with its error */
    rc = fixture_run("'%s' classify --json --quiet --checkpoint '%s' --data '%s' '%s' '%s' '%s' > '%s' 2> /dev/null",
                     f->program, f->ckpt, f->data, jpeg, truncated, png_alpha, out);
    assert_int_equal(rc, 1);
    rc = fixture_run("python3 -c \"import json,sys; r=json.load(open('%s')); "
                     "assert [x['file'] for x in r] == ['%s','%s','%s']; "
                     "assert 'error' in r[1] and 'top5' not in r[1]; "
                     "assert all(len(x['top5']) == 2 and abs(sum(c['probability'] for c in x['top5']) - 1) < 1e-5 "
                     "for x in (r[0], r[2]))\"",
                     out, jpeg, truncated, png_alpha);
    assert_int_equal(rc, 0);

    /* every file good: exit 0 */
    rc = fixture_run("'%s' classify --quiet --checkpoint '%s' --data '%s' '%s' > /dev/null", f->program, f->ckpt,
                     f->data, jpeg);
    assert_int_equal(rc, 0);
}

/* DIR/dataset.json holding `json`, then classify_decode_options on DIR. */
static an_status decode_options_from(const fixture *f, const char *json, image_decode_options *o)
{
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/resize-case", f->dir);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/dataset.json", dir);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fputs(json, out);
    fclose(out);
    return classify_decode_options(dir, o);
}

/* The resize mode comes from dataset.json's typed `resize` member (prep writes
 * it); datasets written before it name the mode in params' free text. */
static void test_resize_mode_from_dataset_json(void **state)
{
    fixture *f = *state;
    image_decode_options o;
    char path[600];
    json_flat flat;
    snprintf(path, sizeof path, "%s/dataset.json", f->data);
    assert_int_equal(json_flatten_file(path, &flat), AN_OK);
    const json_leaf *resize = json_flat_find(&flat, "resize");
    assert_non_null(resize);
    assert_string_equal(resize->value, "crop");
    json_flat_free(&flat);

    assert_int_equal(decode_options_from(f, "{\"resize\": \"squash\", \"params\": \"resize=crop\"}", &o), AN_OK);
    assert_int_equal(o.resize, IMAGE_RESIZE_SQUASH); /* the typed member wins over the text */
    assert_int_equal(decode_options_from(f, "{\"resize\": \"crop\"}", &o), AN_OK);
    assert_int_equal(o.resize, IMAGE_RESIZE_CROP);
    assert_int_equal(decode_options_from(f, "{\"resize\": \"zoom\"}", &o), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "zoom"));
    assert_int_equal(decode_options_from(f, "{\"resize\": 1}", &o), AN_ERR_FORMAT);
    /* older datasets */
    assert_int_equal(decode_options_from(f, "{\"params\": \"format=1 resize=squash resampler=x\"}", &o), AN_OK);
    assert_int_equal(o.resize, IMAGE_RESIZE_SQUASH);
    assert_int_equal(decode_options_from(f, "{\"params\": \"format=1 resize=crop resampler=x\"}", &o), AN_OK);
    assert_int_equal(o.resize, IMAGE_RESIZE_CROP);
    assert_int_equal(decode_options_from(f, "{\"params\": \"format=1\"}", &o), AN_ERR_FORMAT);
}

int main(void)
{
    if (VIPS_INIT("test_eval_classify") != 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_top5_as_scoring),
        cmocka_unit_test(test_program_on_files),
        cmocka_unit_test(test_resize_mode_from_dataset_json),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
