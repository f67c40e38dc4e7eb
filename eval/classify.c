/* classify.c: a trained network on image files (classify.h). */
#include "classify.h"

#include <stdlib.h>
#include <string.h>

#include "backend_select.h"
#include "eval_cli.h"
#include "eval_model.h"
#include "json_flatten.h"
#include "json_writer.h"
#include "log.h"
#include "scores.h"
#include "ten_crop.h"

an_status classify_decode_options(const char *data_dir, image_decode_options *o)
{
    char path[4096];
    json_flat f;
    const char *params;
    memset(o, 0, sizeof *o);
    o->resize = IMAGE_RESIZE_CROP;
    o->max_pixels = IMAGE_DEFAULT_MAX_PIXELS;
    o->max_file_bytes = IMAGE_DEFAULT_MAX_FILE_BYTES;
    snprintf(path, sizeof path, "%s/dataset.json", data_dir);
    AN_TRY(json_flatten_file(path, &f));
    an_status st;
    const char *resize;
    if (json_flat_find(&f, "resize")) {
        st = json_flat_string(&f, "resize", path, &resize);
        if (st == AN_OK && image_resize_parse(resize, &o->resize) != AN_OK)
            st = error_set(AN_ERR_FORMAT, "%s: resize is '%s', not crop or squash: prepare the dataset again with "
                           "alexnet-prep", path, resize);
    } else { /* datasets written before the resize member name it only in the free text of params */
        st = json_flat_string(&f, "params", path, &params);
        if (st == AN_OK) {
            if (strstr(params, "resize=squash")) o->resize = IMAGE_RESIZE_SQUASH;
            else if (!strstr(params, "resize=crop"))
                st = error_set(AN_ERR_FORMAT, "%s: names no resize mode (no resize member, and params has neither "
                               "resize=crop nor resize=squash): '%s'", path, params);
        }
    }
    json_flat_free(&f);
    return st;
}

an_status classify_file(net *n, const dataset *d, const image_decode_options *o, const char *path,
                        eval_score_scratch *scratch, uint8_t *raw, classify_result *r)
{
    const int K = net_get_config(n)->num_classes;
    memset(r, 0, sizeof *r);
    r->path = path;
    an_status st = image_decode_file(path, o, raw, r->reason, sizeof r->reason);
    if (st == AN_ERR_IMAGE) return AN_OK; /* refused: the reason says why */
    if (st != AN_OK) {
        snprintf(r->reason, sizeof r->reason, "%s", error_message());
        return AN_OK;
    }
    const float *logits, *probs; /* [10, K] */
    AN_TRY(eval_forward_views(n, raw, 1, d->mean_image, scratch, &logits, &probs));
    softmax_average(logits, TEN_CROP_VIEWS, K, scratch->ten); /* §4.1: the ten views' softmax, averaged */
    r->count = top_k(scratch->ten, K, CLASSIFY_TOP_K, r->classes, r->probs);
    r->ok = 1;
    return AN_OK;
}

void classify_print_text(const classify_result *r, const dataset *d, FILE *out)
{
    fprintf(out, "%s\n", r->path);
    if (!r->ok) {
        fprintf(out, "  cannot classify: %s\n", r->reason);
        return;
    }
    for (int k = 0; k < r->count; k++)
        fprintf(out, "  %d. %s (%s)  %.2f %%\n", k + 1, d->class_names[r->classes[k]], d->class_ids[r->classes[k]],
                100.0 * r->probs[k]);
}

an_status classify_print_json(const classify_result *results, int count, const dataset *d, FILE *out)
{
    json_writer w;
    json_init(&w);
    json_begin_array(&w);
    for (int i = 0; i < count; i++) {
        const classify_result *r = &results[i];
        json_begin_object(&w);
        json_kv_string(&w, "file", r->path);
        if (!r->ok) {
            json_kv_string(&w, "error", r->reason);
        } else {
            json_key(&w, "top5");
            json_begin_array(&w);
            for (int k = 0; k < r->count; k++) {
                json_begin_object(&w);
                json_kv_int(&w, "class", r->classes[k]);
                json_kv_string(&w, "id", d->class_ids[r->classes[k]]);
                json_kv_string(&w, "name", d->class_names[r->classes[k]]);
                json_kv_double(&w, "probability", r->probs[k]);
                json_end_object(&w);
            }
            json_end_array(&w);
        }
        json_end_object(&w);
    }
    json_end_array(&w);
    an_status st = json_finish(&w);
    if (st == AN_OK && (fwrite(w.data, 1, w.length, out) != w.length || fputc('\n', out) == EOF))
        st = error_set(AN_ERR_IO, "cannot write the results");
    json_free(&w);
    return st;
}

/* The files of alexnet-eval classify, each through image/'s decode. */
static an_status classify_files(const char *checkpoint, const char *data, const char *device, int json,
                                char **files, int count, int *refused)
{
    an_status st = AN_OK;
    dataset *d = NULL;
    net *n = NULL;
    backend *be = NULL;
    checkpoint_meta meta;
    image_decode_options o;
    eval_score_scratch scratch = {0};
    classify_result *results = calloc((size_t)count, sizeof *results);
    uint8_t *raw = malloc(IMAGE_STORED_BYTES); /* [256, 256, 3] */
    *refused = 0;
    if (!results || !raw) {
        st = error_set(AN_ERR_NOMEM, "out of memory for %d results", count);
        goto done;
    }
    backend_request request = {.device = device, .rank = 0, .deterministic = 1};
    AN_TRY_GOTO(st, backend_open(&be, &request), done);
    AN_TRY_GOTO(st, dataset_open(&d, data), done);
    AN_TRY_GOTO(st, classify_decode_options(data, &o), done);
    AN_TRY_GOTO(st, eval_model_load(checkpoint, d, TEN_CROP_VIEWS, be, &n, &meta), done);
    AN_TRY_GOTO(st, eval_score_scratch_alloc(&scratch, 1, d->num_classes), done);
    for (int i = 0; i < count; i++) {
        AN_TRY_GOTO(st, classify_file(n, d, &o, files[i], &scratch, raw, &results[i]), done);
        if (!results[i].ok) {
            (*refused)++;
            log_warn("%s: cannot classify: %s", files[i], results[i].reason);
        }
        if (!json) classify_print_text(&results[i], d, stdout);
    }
    if (json) st = classify_print_json(results, count, d, stdout);
done:
    eval_score_scratch_free(&scratch);
    free(results);
    free(raw);
    net_destroy(n);
    backend_destroy(be);
    dataset_close(d);
    return st;
}

static an_status classify_run(const eval_cli *a, const char *argv0, int *refused)
{
    AN_TRY(image_decode_init(argv0));
    an_status st = classify_files(a->checkpoint, a->data, a->device, a->json, a->paths, a->num_paths, refused);
    image_decode_shutdown();
    return st;
}

const eval_classify_part *eval_classify_feature(void)
{
    static const eval_classify_part part = {classify_run};
    return &part;
}
