/* eval_fixture.c: tiny dataset and trained checkpoint for the eval tests. */
#include "eval_fixture.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "dataset_json.h"
#include "checkpoint.h"
#include "checksum.h"
#include "dataset.h"
#include "philox.h"
#include "shard_reader.h"
#include "shard_writer.h"
#include "ten_crop.h"
#include "net_cpu.h"

void fixture_image(int is_val, uint32_t id, int label, uint8_t *out)
{
    for (int y = 0; y < IMAGE_STORED_SIZE; y++)
        for (int x = 0; x < IMAGE_STORED_SIZE; x++) {
            philox_block r =
                philox_draw(7, PHILOX_PURPOSE_TEST, (uint32_t)is_val, id, (uint32_t)(y * IMAGE_STORED_SIZE + x));
            int band = (y / 64) == label; /* class c: bright band in rows [64c, 64c + 64) */
            for (int c = 0; c < 3; c++) {
                int v = (int)(r.v[c] % 80) + (band ? 150 : 20) + (c == label ? 20 : 0);
                out[((size_t)y * IMAGE_STORED_SIZE + x) * 3 + c] = (uint8_t)(v > 255 ? 255 : v);
            }
        }
}

static int label_of(int is_val, uint32_t id) { return (int)((id + (uint32_t)is_val) % FIXTURE_CLASSES); }

static void write_shard(const char *dir, const char *split, int index, int count, uint32_t first_id, size_t n,
                        shard_stats *stats, int64_t *class_counts)
{
    int is_val = strcmp(split, "val") == 0;
    uint8_t *images = malloc(n * IMAGE_STORED_BYTES);
    int32_t labels[64];
    uint32_t ids[64], sums[64];
    char names[64][32];
    const char *paths[64];
    assert_non_null(images);
    for (size_t i = 0; i < n; i++) {
        ids[i] = first_id + (uint32_t)i;
        labels[i] = label_of(is_val, ids[i]);
        class_counts[labels[i]]++;
        fixture_image(is_val, ids[i], labels[i], images + i * IMAGE_STORED_BYTES);
        sums[i] = checksum_image(images + i * IMAGE_STORED_BYTES);
        snprintf(names[i], sizeof names[i], "%s/%u.png", split, ids[i]);
        paths[i] = names[i];
        if (stats) shard_stats_add_image(stats, images + i * IMAGE_STORED_BYTES);
    }
    shard_contents c = {.dataset_id = FIXTURE_DATASET_ID, .split = split, .shard_index = index,
                        .shard_count = count, .count = n, .images = images, .labels = labels, .image_ids = ids,
                        .checksums = sums, .paths = paths, .stats = stats};
    char path[4096];
    assert_int_equal(shard_file_path(dir, split, index, count, path, sizeof path), AN_OK);
    assert_int_equal(shard_write(path, &c), AN_OK);
    free(images);
}

void fixture_write_dataset(const char *dir)
{
    dataset *d = NULL;
    assert_int_equal(dataset_alloc(&d, FIXTURE_CLASSES), AN_OK);
    snprintf(d->dataset_id, sizeof d->dataset_id, "%s", FIXTURE_DATASET_ID);
    snprintf(d->source, sizeof d->source, "folder");
    const char *names[FIXTURE_CLASSES] = {"top band", "middle band", "lower band"};
    for (int i = 0; i < FIXTURE_CLASSES; i++) {
        char id[16];
        snprintf(id, sizeof id, "c%d", i);
        d->class_ids[i] = strdup(id);
        d->class_names[i] = strdup(names[i]);
        assert_non_null(d->class_ids[i]);
        assert_non_null(d->class_names[i]);
    }
    shard_stats stats;
    assert_int_equal(shard_stats_init(&stats), AN_OK);
    write_shard(dir, "train", 0, 1, 0, FIXTURE_TRAIN, &stats, d->train.class_counts);
    write_shard(dir, "val", 0, 2, 0, FIXTURE_VAL_A, NULL, d->val.class_counts);
    write_shard(dir, "val", 1, 2, FIXTURE_VAL_A, FIXTURE_VAL_B, NULL, d->val.class_counts);
    for (size_t i = 0; i < IMAGE_STORED_BYTES; i++) d->mean_image[i] = (float)(stats.pixel_sum[i] / FIXTURE_TRAIN);
    for (int i = 0; i < 3; i++) {
        d->rgb_mean[i] = (double)stats.rgb_sum[i] / (FIXTURE_TRAIN * 65536.0);
        d->rgb_std[i] = 40.0;
        d->eigenvalues[i] = 0.01;
        for (int j = 0; j < 3; j++) d->eigenvectors[i][j] = i == j;
    }
    shard_stats_free(&stats);
    d->train.num_images = FIXTURE_TRAIN;
    d->train.num_shards = 1;
    d->val.num_images = FIXTURE_VAL_A + FIXTURE_VAL_B;
    d->val.num_shards = 2;
    assert_int_equal(dataset_write(d, dir), AN_OK);
    assert_int_equal(dataset_write_json(d, dir, &(dataset_provenance){.tool = "test fixture", .input = "", .params = "", .max_bad = "0"}), AN_OK);
    dataset_close(d);
}

void fixture_write_checkpoint(const char *dataset_dir, const char *path, int num_classes, const char *dataset_id,
                              int steps)
{
    enum { BATCH = 4 };
    dataset *d = NULL;
    assert_int_equal(dataset_open(&d, dataset_dir), AN_OK);
    shard_reader *r = NULL;
    assert_int_equal(shard_reader_open(&r, d->train.shard_paths[0]), AN_OK);
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = FIXTURE_WIDTH;
    cfg.num_classes = num_classes;
    cfg.init = NET_INIT_CAFFE;
    net *n = NULL;
    assert_int_equal(net_create_cpu(&n, &cfg, BATCH), AN_OK);
    assert_int_equal(net_init_params(n, 11), AN_OK);
    /* At 1/16 width, N(0, 0.01) weights leave almost no signal at fc8 and
     * every image gets the same probabilities; rescale each weight tensor to
     * std sqrt(2 / fan_in) so the outputs depend on the image (conv1 a further
     * 1/64 because its inputs are in byte units, about +-100). */
    for (int v = 0; v < net_param_view_count(n); v++) {
        const net_param_view *pv = net_param_view_at(n, v);
        if (pv->ndim < 2) continue;
        size_t fan_in = pv->count / (size_t)pv->shape[0];
        double sum2 = 0.0;
        float *w = net_params(n) + pv->offset;
        for (size_t i = 0; i < pv->count; i++) sum2 += (double)w[i] * w[i];
        double scale = sqrt(2.0 / (double)fan_in) / sqrt(sum2 / (double)pv->count);
        if (v == 0) scale /= 64.0;
        for (size_t i = 0; i < pv->count; i++) w[i] = (float)(w[i] * scale);
    }
    uint8_t *image = malloc(IMAGE_STORED_BYTES);
    float *input = malloc((size_t)BATCH * IMAGE_CROP_FLOATS * sizeof(float)); /* [B,3,224,224] */
    assert_non_null(image);
    assert_non_null(input);
    for (int step = 0; step < steps; step++) {
        int32_t labels[BATCH];
        uint32_t ids[BATCH];
        for (int b = 0; b < BATCH; b++) {
            size_t i = (size_t)(step * BATCH + b) % r->count;
            assert_int_equal(shard_reader_read_image(r, i, image), AN_OK);
            crop_cut(image, d->mean_image, ten_crop_view((step + b) % TEN_CROP_VIEWS),
                     input + (size_t)b * IMAGE_CROP_FLOATS);
            labels[b] = r->labels[i] % num_classes;
            ids[b] = r->image_ids[i];
        }
        assert_int_equal(net_forward(n, input, BATCH, ids, (uint32_t)step, 11, 1), AN_OK);
        assert_int_equal(net_backward(n, labels, BATCH, BATCH), AN_OK);
        assert_int_equal(net_update(n, 0.001f, SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY), AN_OK);
    }
    checkpoint_meta meta = {.step = (uint64_t)steps, .epoch = 1, .learning_rate = 0.001, .seed = 11};
    snprintf(meta.dataset_id, sizeof meta.dataset_id, "%s", dataset_id);
    assert_int_equal(checkpoint_save(path, n, &meta, NULL), AN_OK);
    free(input);
    free(image);
    net_destroy(n);
    shard_reader_close(r);
    dataset_close(d);
}

int fixture_run(const char *fmt, ...)
{
    char cmd[32768];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof cmd) fail_msg("command too long: %s", fmt);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

void fixture_tempdir(char *out, size_t size, const char *tag)
{
    snprintf(out, size, "/tmp/alexnet-%s.XXXXXX", tag);
    assert_non_null(mkdtemp(out));
}

void fixture_remove_dir(const char *dir)
{
    if (getenv("ALEXNET_KEEP_TEST_DIRS")) return;
    assert_int_equal(fixture_run("rm -rf '%s'", dir), 0);
}

fixture_trained *fixture_trained_new(const char *tag)
{
    fixture_trained *f = calloc(1, sizeof *f);
    assert_non_null(f);
    fixture_tempdir(f->dir, sizeof f->dir, tag);
    fixture_write_dataset(f->dir);
    snprintf(f->ckpt, sizeof f->ckpt, "%s/trained.h5", f->dir);
    fixture_write_checkpoint(f->dir, f->ckpt, FIXTURE_CLASSES, FIXTURE_DATASET_ID, 8);
    return f;
}

fixture_prepared *fixture_prepared_new(const char *tag, int steps)
{
    const char *bin = getenv("ALEXNET_BINARY_DIR");
    fixture_prepared *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    char prep[4096], make_source[4096];
    snprintf(f->program, sizeof f->program, "%s/eval/alexnet-eval", bin ? bin : ".");
    snprintf(prep, sizeof prep, "%s/prep/alexnet-prep", bin ? bin : ".");
    snprintf(make_source, sizeof make_source, "%s/tests/train/make_folder_source", bin ? bin : ".");
    if (access(f->program, X_OK) != 0 || access(prep, X_OK) != 0 || access(make_source, X_OK) != 0) {
        fprintf(stderr, "needs %s, %s and %s\n", f->program, prep, make_source);
        free(f);
        return NULL;
    }
    fixture_tempdir(f->dir, sizeof f->dir, tag);
    snprintf(f->data, sizeof f->data, "%s/data", f->dir);
    snprintf(f->ckpt, sizeof f->ckpt, "%s/ckpt.h5", f->dir);
    dataset *d = NULL;
    if (fixture_run("'%s' '%s/source'", make_source, f->dir) != 0 ||
        fixture_run("'%s' --source folder --input '%s/source' --output '%s' --max-bad 2 --quiet", prep, f->dir,
                    f->data) != 0 ||
        dataset_open(&d, f->data) != AN_OK) {
        fprintf(stderr, "could not prepare the dataset in %s\n", f->dir);
        fixture_prepared_free(f);
        return NULL;
    }
    fixture_write_checkpoint(f->data, f->ckpt, d->num_classes, d->dataset_id, steps);
    dataset_close(d);
    return f;
}

void fixture_prepared_free(fixture_prepared *f)
{
    fixture_remove_dir(f->dir);
    free(f);
}

void fixture_trained_free(fixture_trained *f)
{
    fixture_remove_dir(f->dir);
    free(f);
}
