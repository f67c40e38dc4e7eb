/* test_eval_cuda.c (label gpu): the GPU scorer (eval_forward_cuda.c) against
 * the CPU one on the eval fixture's trained checkpoint: the logits of every
 * view of the validation split, the ten-crop probabilities, and the reports
 * of `alexnet-eval --device cuda` and `--device cpu`. Exits 77 without a
 * CUDA device.
 *
 * Tolerances, derived (not measured on a device yet):
 * - logits: docs/cuda.md's whole-network bound, |gpu - cpu| <= 1e-3 (|cpu| +
 *   0.1 max|cpu|) over all views (eight layers of float sums in other orders);
 * - probabilities: a softmax output moves by at most half the largest logit
 *   change (sum_j |dp_k/dz_j| = 2 p_k (1 - p_k) <= 1/2), averaging ten views
 *   keeps that, so |gpu - cpu| <= 0.5 * 1e-3 * 1.1 max|cpu logit| + 1e-6
 *   (the rounding of two float softmaxes);
 * - reports: a top-1 or top-5 count may differ only on an image whose CPU
 *   probabilities put two classes within twice that of each other at the
 *   boundary; the test counts those images and allows that many. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cuda_context.h"
#include "dataset.h"
#include "eval_fixture.h"
#include "eval_forward.h"
#include "eval_model.h"
#include "eval_score.h"
#include "scores.h"
#include "ten_crop.h"

#define LOGIT_RTOL 1e-3
#define BATCH_IMAGES 4

typedef fixture_trained fixture;

/* Images whose CPU top-k boundary is within the tolerance: ten-crop, centre
 * (the first test counts them, the second allows them). */
static int near_ties[2];

static int setup(void **state)
{
    *state = fixture_trained_new("test-eval-cuda");
    return 0;
}

static int teardown(void **state)
{
    fixture_trained_free(*state);
    return 0;
}

/* Is any class's probability within `tol` of the k-th largest's, across the
 * top-k boundary (k = 1 and k = 5)? Then a tiny change may move a hit. */
static int near_tie(const float *probs, int K, double tol)
{
    int order[FIXTURE_CLASSES];
    top_k(probs, K, K, order, NULL);
    for (int k = 1; k < K && k <= 5; k += 4)
        if (k < K && fabs((double)probs[order[k - 1]] - (double)probs[order[k]]) <= tol) return 1;
    return 0;
}

static void test_views_and_ten_crop_match_cpu(void **state)
{
    fixture *f = *state;
    const int K = FIXTURE_CLASSES, V = BATCH_IMAGES * TEN_CROP_VIEWS;
    dataset *d = NULL;
    assert_int_equal(dataset_open(&d, f->dir), AN_OK);
    net *n = NULL;
    checkpoint_meta meta;
    assert_int_equal(eval_model_load(f->ckpt, d, V, &n, &meta), AN_OK);
    eval_forward cpu, gpu;
    eval_forward_cpu(&cpu, n);
    if (eval_forward_cuda_create(&gpu, n, V) != AN_OK) fail_msg("%s", error_message());
    assert_string_equal(gpu.device, "cuda");
    assert_int_equal(gpu.num_classes, K);
    eval_split split;
    assert_int_equal(eval_split_open(&split, d, "val"), AN_OK);
    uint8_t *raw = malloc(IMAGE_STORED_BYTES);                               /* [256,256,3] */
    float *views = malloc((size_t)V * IMAGE_CROP_FLOATS * sizeof(float));  /* [V,3,224,224] */
    float *cpu_logits = malloc((size_t)V * K * sizeof(float));                 /* [V, K] */
    float p_cpu[FIXTURE_CLASSES], p_gpu[FIXTURE_CLASSES];
    assert_non_null(raw);
    assert_non_null(views);
    assert_non_null(cpu_logits);
    near_ties[0] = near_ties[1] = 0;
    for (uint64_t first = 0; first < split.num_images; first += BATCH_IMAGES) {
        int m = split.num_images - first < BATCH_IMAGES ? (int)(split.num_images - first) : BATCH_IMAGES;
        for (int b = 0; b < m; b++) {
            int shard;
            uint32_t index;
            assert_int_equal(eval_split_locate(&split, first + (uint64_t)b, &shard, &index), AN_OK);
            assert_int_equal(shard_reader_read_image(split.shards[shard], index, raw), AN_OK);
            for (int v = 0; v < TEN_CROP_VIEWS; v++)
                crop_cut(raw, d->mean_image, ten_crop_view(v),
                         views + ((size_t)b * TEN_CROP_VIEWS + (size_t)v) * IMAGE_CROP_FLOATS);
        }
        const int mv = m * TEN_CROP_VIEWS;
        const float *logits = NULL;
        assert_int_equal(cpu.run(cpu.ctx, views, mv, &logits, NULL), AN_OK);
        memcpy(cpu_logits, logits, (size_t)mv * K * sizeof(float));
        if (gpu.run(gpu.ctx, views, mv, &logits, NULL) != AN_OK) fail_msg("%s", error_message());
        double max_abs = 0.0;
        for (int i = 0; i < mv * K; i++) max_abs = fmax(max_abs, fabs(cpu_logits[i]));
        for (int i = 0; i < mv * K; i++) {
            double tol = LOGIT_RTOL * (fabs(cpu_logits[i]) + 0.1 * max_abs);
            if (!(fabs((double)logits[i] - cpu_logits[i]) <= tol))
                fail_msg("view %d class %d: gpu logit %.7g, cpu %.7g (tolerance %.3g)", i / K, i % K, logits[i],
                         cpu_logits[i], tol);
        }
        const double prob_tol = 0.5 * LOGIT_RTOL * 1.1 * max_abs + 1e-6;
        for (int b = 0; b < m; b++) {
            const float *zc = cpu_logits + (size_t)b * TEN_CROP_VIEWS * K, *zg = logits + (size_t)b * TEN_CROP_VIEWS * K;
            softmax_average(zc, TEN_CROP_VIEWS, K, p_cpu);
            softmax_average(zg, TEN_CROP_VIEWS, K, p_gpu);
            for (int c = 0; c < K; c++)
                if (!(fabs((double)p_gpu[c] - p_cpu[c]) <= prob_tol))
                    fail_msg("image %llu class %d: ten-crop gpu %.7g, cpu %.7g (tolerance %.3g)",
                             (unsigned long long)(first + (uint64_t)b), c, p_gpu[c], p_cpu[c], prob_tol);
            near_ties[0] += near_tie(p_cpu, K, 2.0 * prob_tol);
            softmax_row(zc + (size_t)TEN_CROP_CENTRE_VIEW * K, p_cpu, K);
            near_ties[1] += near_tie(p_cpu, K, 2.0 * prob_tol);
        }
    }
    /* fc7 stays with the CPU backend */
    const float *logits = NULL, *fc7 = NULL;
    assert_int_equal(gpu.run(gpu.ctx, views, 1, &logits, &fc7), AN_ERR_UNSUPPORTED);
    free(raw);
    free(views);
    free(cpu_logits);
    eval_split_close(&split);
    eval_forward_cuda_destroy(&gpu);
    net_destroy(n);
    dataset_close(d);
}

/* The two programs' reports: same images, counts apart by near ties at most. */
static void test_reports_match(void **state)
{
    fixture *f = *state;
    const char *bin = getenv("ALEXNET_BINARY_DIR");
    char program[4096];
    snprintf(program, sizeof program, "%s/eval/alexnet-eval", bin ? bin : ".");
    const char *devices[2] = {"cpu", "cuda"};
    for (int i = 0; i < 2; i++)
        assert_int_equal(fixture_run("'%s' --quiet --data '%s' --checkpoint '%s' --batch %d --device %s "
                                     "--out '%s/%s' > /dev/null",
                                     program, f->dir, f->ckpt, BATCH_IMAGES, devices[i], f->dir, devices[i]),
                         0);
    if (fixture_run("python3 -c 'import json' 2> /dev/null") != 0) skip();
    assert_int_equal(
        fixture_run("python3 -c 'import json; a=json.load(open(\"%s/cpu/report.json\"));"
                    "b=json.load(open(\"%s/cuda/report.json\")); n=a[\"images\"];"
                    "assert n==%d and b[\"images\"]==n and a[\"device\"]==\"cpu\" and b[\"device\"]==\"cuda\";"
                    "assert all(abs(round(a[s][k]*n)-round(b[s][k]*n))<=m"
                    " for s,m in ((\"ten_crop\",%d),(\"centre_crop\",%d)) for k in (\"top1_error\",\"top5_error\"))'",
                    f->dir, f->dir, FIXTURE_VAL_A + FIXTURE_VAL_B, near_ties[0], near_ties[1]),
        0);
}

int main(void)
{
    if (cuda_device_count() == 0) {
        printf("no CUDA device, skipped\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_views_and_ten_crop_match_cpu),
        cmocka_unit_test(test_reports_match),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
