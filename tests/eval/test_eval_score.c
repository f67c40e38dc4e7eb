/* test_eval_score.c: the ten-crop scorer on a small trained checkpoint
 * against a plain independent loop (every view cut by its own index
 * arithmetic and run through the network one at a time), every image
 * counted once, --limit, the checkpoint/dataset checks, and fc7 neighbours. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "dataset.h"
#include "eval_fixture.h"
#include "eval_model.h"
#include "eval_score.h"
#include "image_geometry.h"
#include "neighbours.h"

typedef fixture_trained fixture;

static int setup_group(void **state)
{
    *state = fixture_trained_new("test-eval-score");
    return 0;
}

static int teardown_group(void **state)
{
    fixture_trained_free(*state);
    return 0;
}

/* The independent reference: for image [256,256,3], the ten views' softmax
 * averaged in double, each view cut here and forwarded alone. */
static void reference_ten_crop(net *n, const uint8_t *image, const float *mean, double *probs /* [K] */,
                               double *centre /* [K] */)
{
    const int offsets[5][2] = {{0, 0}, {0, 32}, {32, 0}, {32, 32}, {16, 16}}; /* (row, column) */
    const int K = FIXTURE_CLASSES;
    enum { S = IMAGE_STORED_SIZE, W = IMAGE_CROP_SIZE };
    float *view = malloc(IMAGE_CROP_FLOATS * sizeof(float)); /* [1,3,224,224] */
    assert_non_null(view);
    for (int k = 0; k < K; k++) probs[k] = 0.0;
    for (int mirror = 0; mirror < 2; mirror++)
        for (int o = 0; o < 5; o++) {
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < W; y++)
                    for (int x = 0; x < W; x++) {
                        int row = offsets[o][0] + y;
                        int col = offsets[o][1] + (mirror ? W - 1 - x : x);
                        size_t src = ((size_t)row * S + (size_t)col) * 3 + (size_t)c;
                        view[((size_t)c * W + y) * W + x] = (float)image[src] - mean[src];
                    }
            assert_int_equal(net_forward(n, view, 1, NULL, 0, 0, 0), AN_OK);
            const float *logits; /* [1, K] */
            assert_int_equal(net_read_logits(n, &logits), AN_OK);
            double m = logits[0], sum = 0.0;
            for (int k = 1; k < K; k++) m = fmax(m, logits[k]);
            for (int k = 0; k < K; k++) sum += exp(logits[k] - m);
            for (int k = 0; k < K; k++) {
                double p = exp(logits[k] - m) / sum;
                probs[k] += p / 10.0;
                if (o == 4 && !mirror) centre[k] = p;
            }
        }
    free(view);
}

/* 0-based rank of label with ties to the lower class. */
static int rank_of(const double *p, int K, int label)
{
    int r = 0;
    for (int k = 0; k < K; k++)
        if (k != label && (p[k] > p[label] || (p[k] == p[label] && k < label))) r++;
    return r;
}

static void test_matches_independent_loop(void **state)
{
    fixture *f = *state;
    dataset *d = NULL;
    assert_int_equal(dataset_open(&d, f->dir), AN_OK);
    net *n = NULL;
    checkpoint_meta meta;
    if (eval_model_load(f->ckpt, d, 40, NULL, &n, &meta) != AN_OK) fail_msg("%s", error_message());
    eval_split split;
    assert_int_equal(eval_split_open(&split, d, "val"), AN_OK);
    const uint64_t N = split.num_images;
    assert_int_equal(N, FIXTURE_VAL_A + FIXTURE_VAL_B);
    tally t;
    assert_int_equal(tally_init(&t, FIXTURE_CLASSES, split.id_count), AN_OK);
    eval_image *images = calloc(N, sizeof *images);
    float *probs = calloc(N * FIXTURE_CLASSES, sizeof(float)); /* [N, K] */
    assert_non_null(images);
    assert_non_null(probs);
    /* 4 images per batch: batches of 4, 4, 3 that straddle the two shards */
    eval_score_options o = {.batch_images = 4, .limit = 0, .probs_out = probs, .bar = NULL};
    uint64_t scored = 0;
    assert_int_equal(eval_score_split(n, &split, d->mean_image, &o, &t, images, &scored), AN_OK);
    assert_int_equal(scored, N);
    assert_int_equal(t.images, (int64_t)N);
    for (uint32_t id = 0; id < N; id++) assert_int_equal(t.seen[id], 1);

    /* the reference, image by image, shard by shard */
    int64_t top1[2] = {0, 0}, top5[2] = {0, 0};
    uint8_t *image = malloc(IMAGE_STORED_BYTES); /* [256,256,3] */
    assert_non_null(image);
    uint64_t k = 0;
    int distinct_predictions = 0, last_top = -1;
    for (int s = 0; s < d->val.num_shards; s++) {
        shard_reader *r = NULL;
        assert_int_equal(shard_reader_open(&r, d->val.shard_paths[s]), AN_OK);
        for (size_t i = 0; i < r->count; i++, k++) {
            assert_int_equal(shard_reader_read_image(r, i, image), AN_OK);
            double ref[FIXTURE_CLASSES], centre[FIXTURE_CLASSES];
            reference_ten_crop(n, image, d->mean_image, ref, centre);
            for (int c = 0; c < FIXTURE_CLASSES; c++)
                if (fabs(ref[c] - probs[k * FIXTURE_CLASSES + c]) > 2e-5)
                    fail_msg("image %zu of shard %d class %d: scorer %.7f, reference %.7f", i, s, c,
                             probs[k * FIXTURE_CLASSES + c], ref[c]);
            int label = r->labels[i];
            assert_int_equal(images[k].image_id, r->image_ids[i]);
            assert_int_equal(images[k].label, label);
            top1[0] += rank_of(ref, FIXTURE_CLASSES, label) < 1;
            top5[0] += rank_of(ref, FIXTURE_CLASSES, label) < 5;
            top1[1] += rank_of(centre, FIXTURE_CLASSES, label) < 1;
            top5[1] += rank_of(centre, FIXTURE_CLASSES, label) < 5;
            if (images[k].top[0] != last_top) distinct_predictions++;
            last_top = images[k].top[0];
        }
        shard_reader_close(r);
    }
    assert_int_equal(k, N);
    /* the network's outputs depend on the image (not a constant function) */
    double spread = 0.0;
    for (uint64_t i = 1; i < N; i++) spread = fmax(spread, fabs(probs[i * FIXTURE_CLASSES] - probs[0]));
    print_message("spread %g\n", spread);
    assert_true(spread > 1e-4);
    assert_int_equal(t.top1[TALLY_TEN_CROP], top1[0]);
    assert_int_equal(t.top5[TALLY_TEN_CROP], top5[0]);
    assert_int_equal(t.top1[TALLY_CENTRE_CROP], top1[1]);
    assert_int_equal(t.top5[TALLY_CENTRE_CROP], top5[1]);
    print_message("ten-crop top-1 %lld/%llu, centre %lld/%llu, prediction changes %d, spread %g\n",
                  (long long)top1[0], (unsigned long long)N, (long long)top1[1], (unsigned long long)N,
                  distinct_predictions, spread);

    free(image);
    free(probs);
    free(images);
    tally_free(&t);
    eval_split_close(&split);
    net_destroy(n);
    dataset_close(d);
}

static void test_limit_and_batch_checks(void **state)
{
    fixture *f = *state;
    dataset *d = NULL;
    assert_int_equal(dataset_open(&d, f->dir), AN_OK);
    net *n = NULL;
    checkpoint_meta meta;
    assert_int_equal(eval_model_load(f->ckpt, d, 20, NULL, &n, &meta), AN_OK);
    assert_int_equal(meta.step, 8);
    eval_split split;
    assert_int_equal(eval_split_open(&split, d, "val"), AN_OK);
    tally t;
    assert_int_equal(tally_init(&t, FIXTURE_CLASSES, split.id_count), AN_OK);
    eval_image images[16];
    eval_score_options o = {.batch_images = 3, .limit = 7};
    uint64_t scored = 0;
    /* 3 images need 30 views; the network holds 20 */
    assert_int_equal(eval_score_split(n, &split, d->mean_image, &o, &t, images, &scored), AN_ERR_ARG);
    o.batch_images = 2;
    assert_int_equal(eval_score_split(n, &split, d->mean_image, &o, &t, images, &scored), AN_OK);
    assert_int_equal(scored, 7);
    assert_int_equal(t.images, 7);
    /* the 7th image in shard order is the first of the second shard */
    assert_int_equal(images[6].shard, 1);
    assert_int_equal(images[6].index, 0);
    /* scoring the same images again into the same tally is refused */
    assert_int_equal(eval_score_split(n, &split, d->mean_image, &o, &t, images, &scored), AN_ERR_INTERNAL);
    tally_free(&t);
    eval_split_close(&split);
    assert_int_equal(eval_split_open(&split, d, "test"), AN_ERR_ARG);
    net_destroy(n);
    dataset_close(d);
}

static void test_mismatch_is_an_error(void **state)
{
    fixture *f = *state;
    dataset *d = NULL;
    assert_int_equal(dataset_open(&d, f->dir), AN_OK);
    char path[600];
    net *n = NULL;
    checkpoint_meta meta;
    snprintf(path, sizeof path, "%s/four-classes.h5", f->dir);
    fixture_write_checkpoint(f->dir, path, 4, FIXTURE_DATASET_ID, 8);
    assert_int_equal(eval_model_load(path, d, 10, NULL, &n, &meta), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "4 classes"));
    assert_null(n);
    snprintf(path, sizeof path, "%s/other-dataset.h5", f->dir);
    fixture_write_checkpoint(f->dir, path, FIXTURE_CLASSES, "1111222233334444", 0);
    assert_int_equal(eval_model_load(path, d, 10, NULL, &n, &meta), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "1111222233334444"));
    assert_non_null(strstr(error_message(), FIXTURE_DATASET_ID));
    assert_null(n);
    dataset_close(d);
}

/* An image is its own nearest neighbour in fc7 space (distance 0). */
static void test_neighbours(void **state)
{
    fixture *f = *state;
    dataset *d = NULL;
    assert_int_equal(dataset_open(&d, f->dir), AN_OK);
    net *n = NULL;
    checkpoint_meta meta;
    assert_int_equal(eval_model_load(f->ckpt, d, 8, NULL, &n, &meta), AN_OK);
    eval_split train;
    assert_int_equal(eval_split_open(&train, d, "train"), AN_OK);
    const int F = net_fc7_features(n), P = FIXTURE_TRAIN;
    uint64_t pos[FIXTURE_TRAIN], qpos[2] = {3, 10};
    evenly_spaced(FIXTURE_TRAIN, P, pos);
    for (int i = 0; i < P; i++) assert_int_equal(pos[i], i);
    float *pool = malloc((size_t)P * F * sizeof(float)), *queries = malloc(2 * (size_t)F * sizeof(float));
    assert_non_null(pool);
    assert_non_null(queries);
    assert_int_equal(fc7_features(n, &train, d->mean_image, pos, P, 8, pool), AN_OK); /* batches of 8 and 4 */
    assert_int_equal(fc7_features(n, &train, d->mean_image, qpos, 2, 8, queries), AN_OK);
    int nearest[2 * 6];
    float dist[2 * 6];
    nearest_neighbours(queries, 2, pool, P, F, 6, nearest, dist);
    assert_int_equal(nearest[0], 3);
    assert_int_equal(nearest[6], 10);
    assert_true(dist[0] < 1e-3f && dist[6] < 1e-3f);
    for (int j = 1; j < 6; j++) assert_true(dist[j] >= dist[j - 1]);
    free(pool);
    free(queries);
    eval_split_close(&train);
    net_destroy(n);
    dataset_close(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_independent_loop),
        cmocka_unit_test(test_limit_and_batch_checks),
        cmocka_unit_test(test_mismatch_is_an_error),
        cmocka_unit_test(test_neighbours),
    };
    return cmocka_run_group_tests(tests, setup_group, teardown_group);
}
