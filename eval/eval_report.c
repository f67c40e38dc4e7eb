/* eval_report.c: report.json, the HTML tables, and the stdout summary of one
 * evaluation (§6: top-1 and top-5 error, ten-crop and centre crop). */
#include "eval_report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "json_writer.h"
#include "tb_events.h"
#include "text_buffer.h"

static const char *scheme_key[TALLY_SCHEMES] = {"ten_crop", "centre_crop"};
static const char *scheme_title[TALLY_SCHEMES] = {"ten-crop (10 views, softmax averaged)", "centre crop (1 view)"};

static double ratio(int64_t num, int64_t den) { return den ? (double)num / (double)den : 0.0; }

static void write_scheme(json_writer *w, const tally *t, enum tally_scheme s)
{
    json_key(w, scheme_key[s]);
    json_begin_object(w);
    json_kv_double(w, "top1_error", tally_top1_error(t, s));
    json_kv_double(w, "top5_error", tally_top5_error(t, s));
    json_kv_int(w, "top1_correct", t->top1[s]);
    json_kv_int(w, "top5_correct", t->top5[s]);
    json_end_object(w);
}

static void write_per_class(json_writer *w, const eval_report *r)
{
    const tally *t = r->counts;
    json_key(w, "per_class");
    json_begin_array(w);
    for (int c = 0; c < t->num_classes; c++) {
        json_begin_object(w);
        json_kv_int(w, "class", c);
        json_kv_string(w, "id", r->class_ids[c]);
        json_kv_string(w, "name", r->class_names[c]);
        json_kv_int(w, "images", t->class_images[c]);
        for (int s = 0; s < TALLY_SCHEMES; s++) {
            char key[48];
            for (int k = 0; k < 2; k++) { /* top-1, top-5; an accuracy over no images is null, not 0 */
                snprintf(key, sizeof key, "%s_top%d_accuracy", scheme_key[s], k ? 5 : 1);
                const int64_t *correct = k ? t->class_top5[s] : t->class_top1[s];
                json_key(w, key);
                if (t->class_images[c] > 0) json_double(w, ratio(correct[c], t->class_images[c]));
                else json_null(w);
            }
        }
        json_end_object(w);
    }
    json_end_array(w);
}

static void write_confused(json_writer *w, const eval_report *r, const confused_pair *pairs, int n)
{
    json_key(w, "most_confused");
    json_begin_array(w);
    for (int i = 0; i < n; i++) {
        json_begin_object(w);
        json_kv_int(w, "true_class", pairs[i].true_class);
        json_kv_string(w, "true_name", r->class_names[pairs[i].true_class]);
        json_kv_int(w, "predicted_class", pairs[i].predicted_class);
        json_kv_string(w, "predicted_name", r->class_names[pairs[i].predicted_class]);
        json_kv_int(w, "count", pairs[i].count);
        json_kv_double(w, "fraction_of_true_class",
                       ratio(pairs[i].count, r->counts->class_images[pairs[i].true_class]));
        json_end_object(w);
    }
    json_end_array(w);
}

an_status eval_report_write_json(const eval_report *r, const char *path)
{
    const tally *t = r->counts;
    confused_pair pairs[EVAL_REPORT_CONFUSED_PAIRS];
    int num_pairs = tally_most_confused(t, pairs, EVAL_REPORT_CONFUSED_PAIRS);
    json_writer w;
    json_init(&w);
    json_begin_object(&w);
    json_kv_int(&w, "format_version", EVAL_REPORT_FORMAT_VERSION);
    json_kv_string(&w, "checkpoint", r->checkpoint);
    json_kv_int(&w, "checkpoint_step", (int64_t)r->step);
    json_kv_int(&w, "checkpoint_epoch", r->epoch);
    json_kv_double(&w, "width", r->width);
    json_kv_string(&w, "data", r->data_dir);
    json_kv_string(&w, "dataset_id", r->dataset_id);
    json_kv_string(&w, "split", r->split);
    json_kv_int(&w, "images_in_split", r->images_in_split);
    json_kv_int(&w, "images", t->images);
    json_kv_int(&w, "num_classes", t->num_classes);
    json_kv_string(&w, "device", r->device);
    json_kv_int(&w, "batch", r->batch);
    json_kv_double(&w, "seconds", r->seconds);
    json_kv_double(&w, "images_per_second", r->seconds > 0 ? (double)t->images / r->seconds : 0.0);
    for (int s = 0; s < TALLY_SCHEMES; s++) write_scheme(&w, t, (enum tally_scheme)s);
    write_per_class(&w, r);
    write_confused(&w, r, pairs, num_pairs);
    json_key(&w, "figures");
    json_begin_array(&w);
    for (int i = 0; i < r->num_figures; i++) json_string(&w, r->figures[i]);
    json_end_array(&w);
    json_end_object(&w);
    an_status st = json_finish(&w);
    if (st == AN_OK) st = atomic_write_file(path, w.data, w.length);
    if (st != AN_OK) error_context(st, "writing %s", path);
    json_free(&w);
    return st;
}

an_status eval_report_write_tables(const eval_report *r, const char *path)
{
    const tally *t = r->counts;
    text_buffer b;
    text_init(&b);
    text_printf(&b, "<h2>Evaluation</h2>\n<p>Checkpoint <code>");
    text_html(&b, r->checkpoint);
    text_printf(&b, "</code> (epoch %u, step %llu, width %g) on the <b>", r->epoch, (unsigned long long)r->step,
                r->width);
    text_html(&b, r->split);
    text_printf(&b, "</b> split of dataset <code>");
    text_html(&b, r->dataset_id);
    text_printf(&b, "</code>: %lld of %lld images, %d classes, %s, %.1f images/s.</p>\n", (long long)t->images,
                (long long)r->images_in_split, t->num_classes, r->device,
                r->seconds > 0 ? (double)t->images / r->seconds : 0.0);
    text_printf(&b, "<table class=\"summary\">\n<tr><th>scoring</th><th>top-1 error</th><th>top-5 error</th></tr>\n");
    for (int s = 0; s < TALLY_SCHEMES; s++)
        text_printf(&b, "<tr><td>%s</td><td>%.2f%%</td><td>%.2f%%</td></tr>\n", scheme_title[s],
                    100.0 * tally_top1_error(t, (enum tally_scheme)s), 100.0 * tally_top5_error(t, (enum tally_scheme)s));
    text_printf(&b, "</table>\n");

    confused_pair pairs[EVAL_REPORT_CONFUSED_PAIRS];
    int num_pairs = tally_most_confused(t, pairs, EVAL_REPORT_CONFUSED_PAIRS);
    text_printf(&b, "<h3>Most confused pairs (ten-crop top-1)</h3>\n<table>\n"
                    "<tr><th>true class</th><th>predicted as</th><th>images</th><th>of the class</th></tr>\n");
    for (int i = 0; i < num_pairs; i++) {
        text_printf(&b, "<tr><td>");
        text_html(&b, r->class_names[pairs[i].true_class]);
        text_printf(&b, "</td><td>");
        text_html(&b, r->class_names[pairs[i].predicted_class]);
        text_printf(&b, "</td><td>%lld</td><td>%.1f%%</td></tr>\n", (long long)pairs[i].count,
                    100.0 * ratio(pairs[i].count, t->class_images[pairs[i].true_class]));
    }
    text_printf(&b, "</table>\n");

    text_printf(&b, "<h3>Per class</h3>\n<table class=\"per-class\">\n<tr><th>#</th><th>class</th><th>images</th>"
                    "<th>ten-crop top-1</th><th>ten-crop top-5</th><th>centre top-1</th><th>centre top-5</th></tr>\n");
    int without_images = 0; /* classes with no image in the scored split: no accuracy, not listed */
    for (int c = 0; c < t->num_classes; c++) {
        if (t->class_images[c] == 0) {
            without_images++;
            continue;
        }
        text_printf(&b, "<tr><td>%d</td><td>", c);
        text_html(&b, r->class_names[c]);
        text_printf(&b, "</td><td>%lld</td>", (long long)t->class_images[c]);
        for (int s = 0; s < TALLY_SCHEMES; s++)
            text_printf(&b, "<td>%.1f%%</td><td>%.1f%%</td>", 100.0 * ratio(t->class_top1[s][c], t->class_images[c]),
                        100.0 * ratio(t->class_top5[s][c], t->class_images[c]));
        text_printf(&b, "</tr>\n");
    }
    text_printf(&b, "</table>\n");
    if (without_images)
        text_printf(&b, "<p class=\"no-images\">%d of the %d classes had no image in the scored images and are not "
                        "listed (an accuracy over no images is not 0 %%).</p>\n", without_images, t->num_classes);
    an_status st = text_write_file(&b, path);
    if (st != AN_OK) error_context(st, "writing %s", path);
    text_free(&b);
    return st;
}

enum { PNG_MAX_BYTES = 256 << 20 };

/* A whole PNG file into *data (malloc'd), with its size and channels from
 * the IHDR chunk (the first after the 8-byte signature). */
static an_status read_png(const char *path, unsigned char **data, size_t *n, int *width, int *height, int *channels)
{
    static const unsigned char signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return error_set(AN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    an_status st = AN_OK;
    if (size < 33 || size > PNG_MAX_BYTES || fseek(f, 0, SEEK_SET) != 0)
        st = error_set(AN_ERR_FORMAT, "%s is not a PNG file of at most %d bytes", path, PNG_MAX_BYTES);
    else if (!(*data = malloc((size_t)size)))
        st = error_set(AN_ERR_NOMEM, "out of memory reading %s", path);
    else if (fread(*data, 1, (size_t)size, f) != (size_t)size)
        st = error_set(AN_ERR_IO, "cannot read %s", path);
    fclose(f);
    const unsigned char *p = *data;
    if (st == AN_OK && (memcmp(p, signature, 8) != 0 || memcmp(p + 12, "IHDR", 4) != 0))
        st = error_set(AN_ERR_FORMAT, "%s is not a PNG file (no signature and IHDR chunk)", path);
    if (st != AN_OK) {
        free(*data);
        *data = NULL;
        return st;
    }
    *n = (size_t)size;
    *width = (int)((uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19]);
    *height = (int)((uint32_t)p[20] << 24 | (uint32_t)p[21] << 16 | (uint32_t)p[22] << 8 | p[23]);
    static const int channels_of_colour_type[7] = {1, 0, 3, 3, 2, 0, 4}; /* grey, -, RGB, palette, grey+alpha, -, RGBA */
    *channels = p[25] < 7 ? channels_of_colour_type[p[25]] : 0;
    return AN_OK;
}

an_status eval_report_write_events(const eval_report *r, const char *run_dir, const char *out_dir)
{
    const tally *t = r->counts;
    char tags[4][96];
    tb_scalar scores[4];
    for (int s = 0; s < TALLY_SCHEMES; s++) {
        snprintf(tags[2 * s], sizeof tags[0], "%s/%s_top1_error", r->split, scheme_key[s]);
        snprintf(tags[2 * s + 1], sizeof tags[0], "%s/%s_top5_error", r->split, scheme_key[s]);
        scores[2 * s] = (tb_scalar){tags[2 * s], tally_top1_error(t, (enum tally_scheme)s)};
        scores[2 * s + 1] = (tb_scalar){tags[2 * s + 1], tally_top5_error(t, (enum tally_scheme)s)};
    }
    tb_events *e;
    AN_TRY(tb_events_create(&e, run_dir));
    an_status st = tb_events_scalars(e, (int64_t)r->step, scores, 4);
    for (int i = 0; st == AN_OK && i < r->num_figures; i++) {
        char path[4096], tag[256];
        snprintf(path, sizeof path, "%s/%s", out_dir, r->figures[i]);
        const char *name = strrchr(r->figures[i], '/') ? strrchr(r->figures[i], '/') + 1 : r->figures[i];
        snprintf(tag, sizeof tag, "%s/figures/%.*s", r->split, (int)strcspn(name, "."), name);
        unsigned char *png; /* [n] the file */
        size_t n = 0;
        int width = 0, height = 0, channels = 0;
        st = read_png(path, &png, &n, &width, &height, &channels);
        if (st == AN_OK) st = tb_events_image(e, (int64_t)r->step, tag, png, n, width, height, channels);
        free(png);
    }
    if (st != AN_OK) error_context(st, "writing %s", tb_events_path(e));
    tb_events_close(e);
    return st;
}

void eval_report_print(const eval_report *r, FILE *out)
{
    const tally *t = r->counts;
    fprintf(out, "%s split of %s: %lld images, %d classes (checkpoint epoch %u, step %llu)\n", r->split,
            r->data_dir, (long long)t->images, t->num_classes, r->epoch, (unsigned long long)r->step);
    fprintf(out, "%-40s %12s %12s\n", "scoring", "top-1 error", "top-5 error");
    for (int s = 0; s < TALLY_SCHEMES; s++)
        fprintf(out, "%-40s %11.2f%% %11.2f%%\n", scheme_title[s], 100.0 * tally_top1_error(t, (enum tally_scheme)s),
                100.0 * tally_top5_error(t, (enum tally_scheme)s));
    fprintf(out, "%.1f images/s on %s\n", r->seconds > 0 ? (double)t->images / r->seconds : 0.0, r->device);
}
