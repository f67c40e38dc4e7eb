/* test_eval_cuda.c (label gpu): scoring on the CUDA backend against the CPU
 * on the eval fixture's trained checkpoint. The scorer is the same code on
 * both (eval_score.c over net.h); only the backend under the net differs:
 * eval_model_load puts the checkpoint into a net on backend_cuda and into
 * one on the CPU, and the views of the validation split go through both:
 * every view's logits, probabilities (the network's softmax layer) and fc7
 * features, the ten-crop averages; then the reports of
 * `alexnet-eval --device cuda` and `--device cpu`.
 * Without a CUDA device it checks that `alexnet-eval --device cuda` refuses
 * with "--device cuda: no usable GPU" (never scoring on the CPU instead) and
 * exits 77 (skipped).
 *
 * Tolerances, derived (not measured on a device yet):
 * - logits and fc7: the whole-network bound of tests/gpu/gpu_test_util.c,
 *   |gpu - cpu| <= 1e-3 (|cpu| + 0.1 max|cpu|) per batch of views (eight
 *   layers of float sums in other orders; the forward pass is continuous, so
 *   ReLU and max-pool near-ties do not matter here);
 * - probabilities: a softmax output moves by at most half the largest logit
 *   change (sum_j |dp_k/dz_j| = 2 p_k (1 - p_k) <= 1/2), averaging ten views
 *   keeps that, so |gpu - cpu| <= 0.5 * 1e-3 * 1.1 max|cpu logit| + 1e-6
 *   (the last term: the two float softmaxes' own rounding, at most 1e-6 of
 *   a probability <= 1; tests/gpu/backend_twin.c);
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

#include "backend_cuda.h"
#include "backend_select.h"
#include "dataset.h"
#include "eval_fixture.h"
#include "eval_model.h"
#include "eval_score.h"
#include "scores.h"
#include "net_cpu.h"
#include "ten_crop.h"

#define NET_RTOL 1e-3
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
        if (fabs((double)probs[order[k - 1]] - (double)probs[order[k]]) <= tol) return 1;
    return 0;
}

/* gpu [n] within NET_RTOL of cpu [n] against |cpu| + 0.1 max|cpu|. */
static void expect_close(const char *what, uint64_t first, const float *gpu, const float *cpu, size_t n)
{
    double max_abs = 0.0;
    for (size_t i = 0; i < n; i++) max_abs = fmax(max_abs, fabs((double)cpu[i]));
    for (size_t i = 0; i < n; i++) {
        double tol = NET_RTOL * (fabs((double)cpu[i]) + 0.1 * max_abs);
        if (!(fabs((double)gpu[i] - (double)cpu[i]) <= tol))
            fail_msg("%s of the batch from image %llu, element %zu: gpu %.7g, cpu %.7g (tolerance %.3g)", what,
                     (unsigned long long)first, i, (double)gpu[i], (double)cpu[i], tol);
    }
}

/* A malloc'ed copy of [n] floats. */
static float *copy_of(const float *x, size_t n)
{
    float *c = malloc(n * sizeof *c); /* [n] */
    assert_non_null(c);
    memcpy(c, x, n * sizeof *c);
    return c;
}

static void test_views_and_ten_crop_match_cpu(void **state)
{
    fixture *f = *state;
    const int K = FIXTURE_CLASSES, V = BATCH_IMAGES * TEN_CROP_VIEWS;
    dataset *d = NULL;
    assert_int_equal(dataset_open(&d, f->dir), AN_OK);
    backend *be = NULL;
    backend_request request = {.device = "cuda", .rank = 0, .deterministic = 1}; /* as alexnet-eval asks */
    if (backend_open(&be, &request) != AN_OK) fail_msg("%s", error_message());
    assert_string_equal(be->kind, "cuda");
    net *cpu = NULL, *gpu = NULL;
    checkpoint_meta meta;
    assert_int_equal(eval_model_load(f->ckpt, d, V, NULL, &cpu, &meta), AN_OK);
    if (eval_model_load(f->ckpt, d, V, be, &gpu, &meta) != AN_OK) fail_msg("%s", error_message());
    assert_int_equal(net_get_config(gpu)->num_classes, K);
    const int F7 = net_fc7_features(cpu);
    eval_split split;
    assert_int_equal(eval_split_open(&split, d, "val"), AN_OK);
    uint8_t *raw = malloc(IMAGE_STORED_BYTES);                               /* [256, 256, 3] */
    float *views = malloc((size_t)V * IMAGE_CROP_FLOATS * sizeof(float));  /* [V, 3, 224, 224] */
    float p_cpu[FIXTURE_CLASSES], p_gpu[FIXTURE_CLASSES];                      /* [K] */
    assert_non_null(raw);
    assert_non_null(views);
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
        const float *view = NULL;
        /* inference on both: no dropout, so no ids */
        assert_int_equal(net_forward(cpu, views, mv, NULL, 0, 0, 0), AN_OK);
        if (net_forward(gpu, views, mv, NULL, 0, 0, 0) != AN_OK) fail_msg("%s", error_message());
        assert_int_equal(net_read_logits(cpu, &view), AN_OK);
        float *zc = copy_of(view, (size_t)mv * K);      /* [mv, K] */
        assert_int_equal(net_read_logits(gpu, &view), AN_OK);
        float *zg = copy_of(view, (size_t)mv * K);      /* [mv, K] */
        assert_int_equal(net_read_probs(cpu, &view), AN_OK);
        float *pc = copy_of(view, (size_t)mv * K);      /* [mv, K] */
        assert_int_equal(net_read_probs(gpu, &view), AN_OK);
        float *pg = copy_of(view, (size_t)mv * K);      /* [mv, K] */
        assert_int_equal(net_read_fc7(cpu, &view), AN_OK);
        float *fc = copy_of(view, (size_t)mv * F7);     /* [mv, F7] */
        assert_int_equal(net_read_fc7(gpu, &view), AN_OK);
        float *fg = copy_of(view, (size_t)mv * F7);     /* [mv, F7] */
        expect_close("logits", first, zg, zc, (size_t)mv * K);
        expect_close("fc7 features", first, fg, fc, (size_t)mv * F7);
        double max_abs = 0.0;
        for (int i = 0; i < mv * K; i++) max_abs = fmax(max_abs, fabs(zc[i]));
        const double prob_tol = 0.5 * NET_RTOL * 1.1 * max_abs + 1e-6;
        for (int i = 0; i < mv * K; i++)
            if (!(fabs((double)pg[i] - pc[i]) <= prob_tol))
                fail_msg("view %d class %d: gpu probability %.7g, cpu %.7g (tolerance %.3g)", i / K, i % K, pg[i],
                         pc[i], prob_tol);
        for (int b = 0; b < m; b++) {
            /* the ten-crop average as eval_score.c takes it, from each net's logits */
            softmax_average(zc + (size_t)b * TEN_CROP_VIEWS * K, TEN_CROP_VIEWS, K, p_cpu);
            softmax_average(zg + (size_t)b * TEN_CROP_VIEWS * K, TEN_CROP_VIEWS, K, p_gpu);
            for (int c = 0; c < K; c++)
                if (!(fabs((double)p_gpu[c] - p_cpu[c]) <= prob_tol))
                    fail_msg("image %llu class %d: ten-crop gpu %.7g, cpu %.7g (tolerance %.3g)",
                             (unsigned long long)(first + (uint64_t)b), c, p_gpu[c], p_cpu[c], prob_tol);
            near_ties[0] += near_tie(p_cpu, K, 2.0 * prob_tol);
            /* the centre crop: the network's own probabilities of view 4 */
            near_ties[1] += near_tie(pc + ((size_t)b * TEN_CROP_VIEWS + TEN_CROP_CENTRE_VIEW) * K, K, 2.0 * prob_tol);
        }
        free(zc), free(zg), free(pc), free(pg), free(fc), free(fg);
    }
    printf("  near ties: %d ten-crop, %d centre\n", near_ties[0], near_ties[1]);
    free(raw);
    free(views);
    eval_split_close(&split);
    net_destroy(gpu);
    net_destroy(cpu);
    backend_destroy(be);
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

/* Without a device: `--device cuda` must be refused with the message, not
 * fall back to the CPU. It fails at opening the backend, before reading the
 * (here nonexistent) dataset and checkpoint. */
static int refused_without_device(void)
{
    const char *bin = getenv("ALEXNET_BINARY_DIR");
    char program[4096], dir[256];
    snprintf(program, sizeof program, "%s/eval/alexnet-eval", bin ? bin : ".");
    snprintf(dir, sizeof dir, "/tmp/alexnet-test-eval-cuda.XXXXXX");
    if (!mkdtemp(dir)) return 0;
    int rc = fixture_run("'%s' --data '%s/none' --checkpoint '%s/none.h5' --device cuda > '%s/out' 2>&1; "
                         "test $? -ne 0 && grep -q -- '--device cuda: no usable GPU' '%s/out'",
                         program, dir, dir, dir, dir);
    if (rc != 0) fixture_run("cat '%s/out'", dir);
    fixture_run("rm -rf '%s'", dir);
    return rc == 0;
}

int main(void)
{
    if (backend_cuda_device_count() == 0) {
        if (!refused_without_device()) {
            fprintf(stderr, "alexnet-eval --device cuda without a GPU did not fail with "
                            "\"--device cuda: no usable GPU\"\n");
            return 1;
        }
        printf("no CUDA device (alexnet-eval --device cuda refuses, as it should), skipped\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_views_and_ten_crop_match_cpu),
        cmocka_unit_test(test_reports_match),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
