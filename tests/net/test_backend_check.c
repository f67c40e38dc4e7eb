/* test_backend_check.c: whole training steps of the network through the
 * checking backend (backend_check.h), which checks around every op that its
 * inputs were produced, that it wrote every element it owns and nothing else.
 * On the CPU the checked run must also give bitwise the plain run's numbers.
 * With --cuda the same steps run on the GPU (exit 77 without one), through
 * the twin backend: every op also against its CPU twin on the GPU's inputs;
 * the loss and probabilities loosely against the CPU's. And the
 * checker itself must catch a broken op: an unwritten element, a stray write,
 * a read of memory nobody wrote. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend_check.h"
#include "backend_cpu.h"
#include "backend_select.h"
#ifdef ALEXNET_HAVE_CUDA
#include "backend_twin.h"
#include "gpu_test_util.h"
#endif
#include "checkpoint.h"
#include "crop_cpu.h"
#include "net.h"
#include "philox.h"
#include "net_cpu.h"

enum { MAX_BATCH = 4, CLASSES = 10, STEPS = 3 };

static int use_cuda; /* --cuda: the inner backend is the GPU's */
static net_config variant; /* the network the steps train: the paper's, or the experiments' variant */
static int fixed_order;    /* 1: the nets in --reproducible's fixed order (net_set_fixed_order) */

static void fill(float *x, size_t n, uint32_t stream, float scale)
{
    for (size_t i = 0; i < n; i++)
        x[i] = scale * (2.0f * philox_uniform(philox_draw(5, PHILOX_PURPOSE_TEST, stream, 0, (uint32_t)i).v[0]) - 1.0f);
}

static net *make_net(backend *be)
{
    net_config cfg = variant;
    cfg.width = 0.0625;
    cfg.num_classes = CLASSES;
    net *n = NULL;
    an_status st = be ? net_create_on(&n, &cfg, MAX_BATCH, be) : net_create_cpu(&n, &cfg, MAX_BATCH);
    if (st != AN_OK) fail_msg("%s", error_message());
    if (net_init_params(n, 3) != AN_OK) fail_msg("%s", error_message());
    if (fixed_order && net_set_fixed_order(n, MAX_BATCH) != AN_OK) fail_msg("%s", error_message());
    return n;
}

#ifdef ALEXNET_HAVE_CUDA
/* With --cuda the inner backend is the twin backend (tests/gpu/backend_twin.h)
 * around the GPU's: every op is also compared with its CPU twin on the GPU's
 * own inputs, masks and argmax, so a ReLU or max-pool near-tie that a
 * separate CPU run resolves its own way cannot fail the checks below. */
static backend *gpu_backend; /* the GPU's, under the twin; destroyed in main */

static backend *open_gpu_twin(void)
{
    if (!gpu_backend) {
        backend_request r = {.device = "cuda", .rank = 0, .deterministic = 1};
        assert_int_equal(backend_open(&gpu_backend, &r), AN_OK);
    }
    backend *twin = NULL;
    assert_int_equal(backend_twin_create(&twin, gpu_backend, gpu_test_rtol(BACKEND_PRECISION_FP32)), AN_OK);
    return twin;
}
#endif

/* The inner backend (the CPU's, or with --cuda the twin around the GPU's) and the checking one around it. */
static void open_checked(backend **inner, backend **checked)
{
    if (use_cuda) {
#ifdef ALEXNET_HAVE_CUDA
        *inner = open_gpu_twin();
#else
        fail_msg("--cuda in a build without CUDA");
#endif
    } else {
        assert_int_equal(backend_cpu_create(inner, 0), AN_OK);
    }
    assert_int_equal(backend_check_create(checked, *inner), AN_OK);
}

/* One SGD step of `batch` images; *loss, *errors1 receive the step's results. */
static void train_step(net *n, const float *x, int batch, uint32_t step, double *loss, int64_t *errors1)
{
    uint32_t ids[MAX_BATCH];
    int32_t labels[MAX_BATCH];
    int64_t errors5;
    for (int b = 0; b < batch; b++) {
        ids[b] = step * MAX_BATCH + (uint32_t)b;
        labels[b] = (int32_t)((3 * b + step) % CLASSES);
    }
    if (net_forward(n, x, batch, ids, step, 9, 1) != AN_OK || net_loss(n, labels, batch, loss) != AN_OK ||
        net_topk_errors(n, labels, batch, errors1, &errors5) != AN_OK ||
        net_backward(n, labels, batch, (float)MAX_BATCH) != AN_OK ||
        net_update(n, 0.01f, SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY) != AN_OK)
        fail_msg("step %u: %s", step, error_message());
}

/* Three steps (the last a short batch of 3), an inference pass with every
 * read-back, and a checkpoint, on the checked backend and on the plain CPU. */
static void training_steps_checked(void)
{
    backend *inner = NULL, *checked = NULL;
    open_checked(&inner, &checked);
    net *a = make_net(checked), *plain = make_net(NULL);
    size_t in_floats = (size_t)MAX_BATCH * IMAGE_CROP_FLOATS;
    float *x = malloc(in_floats * sizeof(float)); /* [4, 3, 224, 224] */
    assert_non_null(x);
    for (uint32_t s = 0; s < STEPS; s++) {
        int batch = s == STEPS - 1 ? 3 : MAX_BATCH;
        fill(x, in_floats, s, 100.0f);
        double loss_a, loss_p;
        int64_t err_a, err_p;
        train_step(a, x, batch, s, &loss_a, &err_a);
        train_step(plain, x, batch, s, &loss_p, &err_p);
        print_message("step %u: loss %.7f (checked) %.7f (plain)\n", s, loss_a, loss_p);
        if (use_cuda) {
            /* fp32 on both; only the order of float sums differs */
            if (!(fabs(loss_a - loss_p) <= 1e-4 * fabs(loss_p))) fail_msg("GPU loss %g, CPU %g", loss_a, loss_p);
        } else {
            assert_true(loss_a == loss_p);
            assert_int_equal(err_a, err_p);
        }
    }
    /* inference and every read-back */
    const float *probs, *fc7, *logits, *plain_probs;
    assert_int_equal(net_forward(a, x, 2, NULL, 0, 0, 0), AN_OK);
    assert_int_equal(net_read_probs(a, &probs), AN_OK);
    assert_int_equal(net_read_fc7(a, &fc7), AN_OK);
    assert_int_equal(net_read_logits(a, &logits), AN_OK);
    assert_int_equal(net_forward(plain, x, 2, NULL, 0, 0, 0), AN_OK);
    assert_int_equal(net_read_probs(plain, &plain_probs), AN_OK);
    for (int i = 0; i < 2 * CLASSES; i++) {
        if (use_cuda) assert_true(fabsf(probs[i] - plain_probs[i]) <= 1e-4f);
        else assert_true(probs[i] == plain_probs[i]);
    }
    /* the weights after three steps, through a checkpoint */
    char path[] = "/tmp/alexnet-check-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    checkpoint_meta meta = {.step = STEPS};
    assert_int_equal(checkpoint_save(path, a, &meta, NULL), AN_OK);
    net *loaded = make_net(NULL);
    checkpoint_meta got;
    assert_int_equal(checkpoint_load(path, loaded, &got, NULL), AN_OK);
    unlink(path);
    const float *w_loaded = net_params(loaded), *w_plain = net_params(plain);
    double worst = 0;
    for (size_t i = 0; i < net_param_count(plain); i++) worst = fmax(worst, fabs((double)w_loaded[i] - w_plain[i]));
    print_message("%ld checked op calls; largest weight difference %g\n", backend_check_calls(checked), worst);
    if (!use_cuda) assert_true(worst == 0.0);
#ifdef ALEXNET_HAVE_CUDA
    /* On the GPU the weights are not compared with a separate CPU run's
     * (flipped masks move whole terms): every op, each update included, was
     * compared with its CPU twin on the GPU's inputs instead. */
    if (use_cuda) {
        backend_twin_report(inner, stdout);
        assert_true(backend_twin_comparisons(inner) >= (long)STEPS * 2 * net_layer_count(a));
    }
#endif
    assert_true(backend_check_calls(checked) > 100);
    free(x);
    net_destroy(loaded);
    net_destroy(a);
    net_destroy(plain);
    backend_destroy(checked);
    backend_destroy(inner);
}

/* The input op (net_forward_crops): views cut on the backend from stored
 * bytes, checked, give the bits that net_forward gives on the same views cut
 * on the host by crop_batch_cpu (the loader's and the scorer's crop): two
 * images, two views each, corners, flips and lighting shifts; then 3 views of
 * 2 per image (the last image has one). */
static void input_crop_checked(void)
{
    enum { IMAGES = 2, PER_IMAGE = 2, VIEWS = IMAGES * PER_IMAGE };
    backend *inner = NULL, *checked = NULL;
    open_checked(&inner, &checked);
    net *a = make_net(checked), *plain = make_net(NULL);
    uint8_t *images = malloc(IMAGES * IMAGE_STORED_BYTES);               /* [2, 256, 256, 3] */
    float *mean = malloc(IMAGE_STORED_BYTES * sizeof(float));            /* [256, 256, 3] */
    float *views = malloc((size_t)VIEWS * IMAGE_CROP_FLOATS * sizeof(float)); /* [4, 3, 224, 224] */
    assert_true(images && mean && views);
    for (size_t i = 0; i < IMAGES * IMAGE_STORED_BYTES; i++)
        images[i] = (uint8_t)(philox_draw(6, PHILOX_PURPOSE_TEST, 1, 0, (uint32_t)i).v[0] & 0xFF);
    fill(mean, IMAGE_STORED_BYTES, 7, 60.0f);
    for (size_t i = 0; i < IMAGE_STORED_BYTES; i++) mean[i] += 120.0f;
    const crop_choice choices[VIEWS] = {
        {.x = 0, .y = 0, .flip = 0, .shift = {0, 0, 0}},
        {.x = IMAGE_MAX_OFFSET, .y = 5, .flip = 1, .shift = {1.5f, -2.25f, 0.125f}},
        {.x = 16, .y = IMAGE_MAX_OFFSET, .flip = 1, .shift = {0, 0, 0}},
        {.x = 7, .y = 16, .flip = 0, .shift = {-3.0f, 0.5f, 2.0f}},
    };
    for (int batch = VIEWS; batch >= VIEWS - 1; batch--) {
        for (int v = 0; v < batch; v++)
            crop_batch_cpu(views + (size_t)v * IMAGE_CROP_FLOATS, images + (size_t)(v / PER_IMAGE) * IMAGE_STORED_BYTES,
                           mean, &choices[v], 1);
        const float *logits, *plain_logits;
        assert_int_equal(net_forward_crops(a, images, PER_IMAGE, mean, choices, batch), AN_OK);
        assert_int_equal(net_read_logits(a, &logits), AN_OK);
        assert_int_equal(net_forward(plain, views, batch, NULL, 0, 0, 0), AN_OK);
        assert_int_equal(net_read_logits(plain, &plain_logits), AN_OK);
        for (int i = 0; i < batch * CLASSES; i++) {
            if (use_cuda) assert_true(fabsf(logits[i] - plain_logits[i]) <= 1e-4f * (1.0f + fabsf(plain_logits[i])));
            else assert_true(memcmp(&logits[i], &plain_logits[i], sizeof(float)) == 0);
        }
    }
    assert_int_equal(net_forward_crops(a, images, 0, mean, choices, VIEWS), AN_ERR_ARG);
    free(images), free(mean), free(views);
    net_destroy(a);
    net_destroy(plain);
    backend_destroy(checked);
    backend_destroy(inner);
}

/* The LRN scale buffers exist only for a backend that keeps them
 * (backend.h's keeps_lrn_scale): the CPU's keeps them, CUDA's does not. A
 * CPU backend told to keep none allocates none, its steps pass the checker
 * (no op reads a scale nobody wrote) and train bitwise as the plain CPU net. */
static void test_lrn_scale_only_where_kept(void **state)
{
    (void)state;
    net_config_default(&variant);
    backend *inner = NULL, *checked = NULL;
    open_checked(&inner, &checked);
    net *kept = make_net(checked);
    if (use_cuda) {
        assert_int_equal(backend_check_bytes_named(checked, "scales"), 0);
        net_destroy(kept);
        backend_destroy(checked);
        backend_destroy(inner);
        return;
    }
    assert_true(backend_check_bytes_named(checked, "scales") > 0);
    net_destroy(kept);
    backend_destroy(checked);
    inner->keeps_lrn_scale = 0;
    assert_int_equal(backend_check_create(&checked, inner), AN_OK);
    net *recomputing = make_net(checked), *plain = make_net(NULL);
    assert_int_equal(backend_check_bytes_named(checked, "scales"), 0);
    float *x = malloc((size_t)MAX_BATCH * IMAGE_CROP_FLOATS * sizeof(float)); /* [B, 3, 224, 224] */
    assert_non_null(x);
    fill(x, (size_t)MAX_BATCH * IMAGE_CROP_FLOATS, 11, 100.0f);
    for (uint32_t step = 0; step < 2; step++) {
        double loss_r, loss_p;
        int64_t e_r, e_p;
        train_step(recomputing, x, MAX_BATCH, step, &loss_r, &e_r);
        train_step(plain, x, MAX_BATCH, step, &loss_p, &e_p);
        assert_memory_equal(&loss_r, &loss_p, sizeof loss_r);
    }
    /* [count] each; host memory on the CPU backend (net.h) */
    assert_memory_equal(net_params_const(recomputing), net_params_const(plain), net_param_count(plain) * sizeof(float));
    free(x);
    net_destroy(recomputing);
    net_destroy(plain);
    backend_destroy(checked);
    backend_destroy(inner);
}

/* join_parts and split_parts through the checker: parts of 3, 0 and 5
 * floats (an empty one) over 7 rows joined side by side, each float where
 * backend_ops.def says, and split back to the same bits (-0 and a NaN's
 * payload included). */
static void test_parts_checked(void **state)
{
    (void)state;
    enum { ROWS = 7, PARTS = 3, WIDTH = 8, N = ROWS * WIDTH };
    const size_t widths[PARTS] = {3, 0, 5};
    backend *inner = NULL, *checked = NULL;
    open_checked(&inner, &checked);
    const backend_ops *ops = checked->ops;
    float *parted, *whole, *back; /* [N] backend memory: the parts one after another, joined, split again */
    assert_int_equal(ops->alloc(checked, (void **)&parted, N * sizeof(float), "parted"), AN_OK);
    assert_int_equal(ops->alloc(checked, (void **)&whole, N * sizeof(float), "whole"), AN_OK);
    assert_int_equal(ops->alloc(checked, (void **)&back, N * sizeof(float), "back"), AN_OK);
    float host[N], got[N];
    for (int i = 0; i < N; i++) host[i] = (float)i * 1.25f - 20.0f;
    host[4] = -0.0f;
    const uint32_t nan_bits = 0x7fc04321u;
    memcpy(&host[9], &nan_bits, sizeof nan_bits);
    assert_int_equal(ops->upload(checked, parted, host, sizeof host), AN_OK);
    assert_int_equal(ops->join_parts(checked, whole, parted, ROWS, PARTS, widths), AN_OK);
    assert_int_equal(ops->download(checked, got, whole, sizeof got), AN_OK);
    for (int r = 0; r < ROWS; r++) {
        for (int c = 0; c < 3; c++) assert_memory_equal(&got[r * WIDTH + c], &host[r * 3 + c], sizeof(float));
        for (int c = 0; c < 5; c++)
            assert_memory_equal(&got[r * WIDTH + 3 + c], &host[ROWS * 3 + r * 5 + c], sizeof(float));
    }
    assert_int_equal(ops->split_parts(checked, back, whole, ROWS, PARTS, widths), AN_OK);
    assert_int_equal(ops->download(checked, got, back, sizeof got), AN_OK);
    assert_memory_equal(got, host, sizeof got);
    const size_t too_many[OP_MAX_PARTS + 1] = {8}; /* more parts than the op takes */
    assert_int_equal(ops->join_parts(checked, whole, parted, ROWS, OP_MAX_PARTS + 1, too_many), AN_ERR_ARG);
    ops->free(checked, parted);
    ops->free(checked, whole);
    ops->free(checked, back);
    backend_destroy(checked);
    backend_destroy(inner);
}

/* The gradient tree's op (backend_ops.def: add), through the checker: a sum
 * written out of place and in place on either operand, each element one
 * addition with a on the left, and a copy (b NULL) that keeps every bit, -0
 * and a NaN's payload included. */
static void test_add_checked(void **state)
{
    (void)state;
    enum { N = 70000 }; /* above the CPU twin's threading threshold */
    backend *inner = NULL, *checked = NULL;
    open_checked(&inner, &checked);
    const backend_ops *ops = checked->ops;
    float *a, *b, *out; /* [N] backend memory */
    assert_int_equal(ops->alloc(checked, (void **)&a, N * sizeof(float), "a"), AN_OK);
    assert_int_equal(ops->alloc(checked, (void **)&b, N * sizeof(float), "b"), AN_OK);
    assert_int_equal(ops->alloc(checked, (void **)&out, N * sizeof(float), "out"), AN_OK);
    float *ha = malloc(N * sizeof(float)), *hb = malloc(N * sizeof(float)), *got = malloc(N * sizeof(float));
    assert_non_null(ha);
    assert_non_null(hb);
    assert_non_null(got);
    for (int i = 0; i < N; i++) {
        ha[i] = (float)(i % 97) * 0.37f - 11.0f;
        hb[i] = 1.0f / (float)(1 + i % 13);
    }
    uint32_t nan_bits = 0x7fc01234u; /* a NaN with a payload */
    memcpy(&ha[1], &nan_bits, sizeof nan_bits);
    ha[2] = -0.0f;
    hb[2] = -0.0f;
    assert_int_equal(ops->upload(checked, a, ha, N * sizeof(float)), AN_OK);
    assert_int_equal(ops->upload(checked, b, hb, N * sizeof(float)), AN_OK);
    assert_int_equal(ops->add(checked, out, a, b, N), AN_OK);
    assert_int_equal(ops->download(checked, got, out, N * sizeof(float)), AN_OK);
    for (int i = 0; i < N; i++)
        if (i != 1) assert_memory_equal(&got[i], &(float){ha[i] + hb[i]}, sizeof(float));
    assert_true(isnan(got[1]));
    assert_true(signbit(got[2])); /* -0 + -0 */
    assert_int_equal(ops->add(checked, out, a, NULL, N), AN_OK); /* a copy */
    assert_int_equal(ops->download(checked, got, out, N * sizeof(float)), AN_OK);
    assert_memory_equal(got, ha, N * sizeof(float));
    assert_int_equal(ops->add(checked, b, a, b, N), AN_OK); /* in place on b: b = a + b */
    assert_int_equal(ops->add(checked, a, a, b, N), AN_OK); /* in place on a: a = a + (a + b) */
    assert_int_equal(ops->download(checked, got, a, N * sizeof(float)), AN_OK);
    for (int i = 3; i < N; i++) assert_memory_equal(&got[i], &(float){ha[i] + (ha[i] + hb[i])}, sizeof(float));
    free(ha);
    free(hb);
    free(got);
    ops->free(checked, a);
    ops->free(checked, b);
    ops->free(checked, out);
    backend_destroy(checked);
    backend_destroy(inner);
}

static void test_input_crop_checked(void **state)
{
    (void)state;
    net_config_default(&variant);
    input_crop_checked();
}

/* The trainer's pass (net_forward_images): two SGD steps whose input the
 * backend cuts from stored bytes held in its own host memory (host_alloc,
 * poisoned by the checker until written), checked, give bitwise the weights
 * of the same steps on views cut on the host (crop_batch_cpu: the loader's
 * float hand-over of before) and fed to net_forward. */
static void input_training_checked(void)
{
    backend *inner = NULL, *checked = NULL;
    open_checked(&inner, &checked);
    net *a = make_net(checked), *plain = make_net(NULL);
    uint8_t *images = NULL; /* [MAX_BATCH, 256, 256, 3] host memory of the checked backend */
    assert_int_equal(checked->ops->host_alloc(checked, (void **)&images, MAX_BATCH * IMAGE_STORED_BYTES, "images"),
                     AN_OK);
    float *mean = malloc(IMAGE_STORED_BYTES * sizeof(float));                    /* [256, 256, 3] */
    float *views = malloc((size_t)MAX_BATCH * IMAGE_CROP_FLOATS * sizeof(float)); /* [4, 3, 224, 224] */
    assert_true(images && mean && views);
    fill(mean, IMAGE_STORED_BYTES, 7, 60.0f);
    for (size_t i = 0; i < IMAGE_STORED_BYTES; i++) mean[i] += 120.0f;
    crop_choice choices[MAX_BATCH] = {
        {.x = 0, .y = 0, .flip = 0, .shift = {0, 0, 0}},
        {.x = IMAGE_MAX_OFFSET, .y = 5, .flip = 1, .shift = {1.5f, -2.25f, 0.125f}},
        {.x = 16, .y = IMAGE_MAX_OFFSET, .flip = 1, .shift = {0, 0, 0}},
        {.x = 7, .y = 16, .flip = 0, .shift = {-3.0f, 0.5f, 2.0f}},
    };
    for (uint32_t s = 0; s < 2; s++) {
        const int batch = s == 0 ? MAX_BATCH : 3;
        for (size_t i = 0; i < MAX_BATCH * IMAGE_STORED_BYTES; i++)
            images[i] = (uint8_t)(philox_draw(6, PHILOX_PURPOSE_TEST, 2 + s, 0, (uint32_t)i).v[0] & 0xFF);
        choices[0].flip = (int)s;
        uint32_t ids[MAX_BATCH];
        int32_t labels[MAX_BATCH];
        for (int b = 0; b < batch; b++) {
            ids[b] = s * MAX_BATCH + (uint32_t)b;
            labels[b] = (int32_t)((3 * b + s) % CLASSES);
            crop_batch_cpu(views + (size_t)b * IMAGE_CROP_FLOATS, images + (size_t)b * IMAGE_STORED_BYTES, mean,
                           &choices[b], 1);
        }
        double loss_a, loss_p;
        if (net_forward_images(a, images, mean, choices, batch, ids, s, 9, 1) != AN_OK ||
            net_backward(a, labels, batch, (float)MAX_BATCH) != AN_OK || net_loss(a, labels, batch, &loss_a) != AN_OK ||
            net_update(a, 0.01f, SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY) != AN_OK)
            fail_msg("checked step %u: %s", s, error_message());
        if (net_forward(plain, views, batch, ids, s, 9, 1) != AN_OK ||
            net_backward(plain, labels, batch, (float)MAX_BATCH) != AN_OK ||
            net_loss(plain, labels, batch, &loss_p) != AN_OK ||
            net_update(plain, 0.01f, SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY) != AN_OK)
            fail_msg("plain step %u: %s", s, error_message());
        if (use_cuda) assert_true(fabs(loss_a - loss_p) <= 1e-4 * fabs(loss_p));
        else assert_true(loss_a == loss_p);
    }
    float *w_a;
    assert_int_equal(net_block_to_host(a, NET_BLOCK_PARAMS, &w_a), AN_OK);
    const float *w_plain = net_params(plain);
    double worst = 0;
    for (size_t i = 0; i < net_param_count(plain); i++) worst = fmax(worst, fabs((double)w_a[i] - w_plain[i]));
    print_message("input op in training: largest weight difference %g\n", worst);
    if (use_cuda) assert_true(worst < 1e-5);
    else assert_true(worst == 0.0);
    checked->ops->host_free(checked, images);
    free(mean), free(views);
    net_destroy(a);
    net_destroy(plain);
    backend_destroy(checked);
    backend_destroy(inner);
}

static void test_input_training_checked(void **state)
{
    (void)state;
    net_config_default(&variant);
    input_training_checked();
}

/* Logits [batch, CLASSES] of n's last pass, compared with want's: bitwise on
 * the CPU, within 1e-5 relative with --cuda. Returns whether they agree. */
static int logits_agree(net *n, const float *want, int batch)
{
    const float *got;
    assert_int_equal(net_read_logits(n, &got), AN_OK);
    for (int i = 0; i < batch * CLASSES; i++) {
        if (use_cuda ? !(fabsf(got[i] - want[i]) <= 1e-5f * (1.0f + fabsf(want[i])))
                     : memcmp(&got[i], &want[i], sizeof(float)) != 0)
            return 0;
    }
    return 1;
}

/* want [batch, CLASSES] = n's logits after an inference pass on cut views. */
static void infer(net *n, const uint8_t *images, const float *mean, const crop_choice *choices, int batch, float *want)
{
    const float *logits;
    if (net_forward_images(n, images, mean, choices, batch, NULL, 0, 0, 0) != AN_OK ||
        net_read_logits(n, &logits) != AN_OK)
        fail_msg("inference: %s", error_message());
    memcpy(want, logits, (size_t)batch * CLASSES * sizeof(float));
}

/* The trainer's upload ahead (net_stage_images): on the checked backend,
 * whose upload_view always copies, two SGD steps with the second's input
 * staged after the first's update and before its loss is read (as
 * alexnet-train does) give bitwise the logits, gradients and weights of the
 * same steps unstaged. The pass reads the staged copy (bytes changed after
 * staging, against the contract, do not reach it), and a staging that is
 * not the pass's input (other host memory, another batch) is not used. */
static void input_staged_checked(void)
{
    backend *inner = NULL, *checked = NULL;
    open_checked(&inner, &checked);
    net *staged = make_net(checked), *unstaged = make_net(checked);
    uint8_t *images[2] = {NULL, NULL}; /* each [MAX_BATCH, 256, 256, 3] host memory of the checked backend */
    crop_choice choices[2][MAX_BATCH]; /* [2][MAX_BATCH] */
    for (int k = 0; k < 2; k++) {
        assert_int_equal(checked->ops->host_alloc(checked, (void **)&images[k], MAX_BATCH * IMAGE_STORED_BYTES,
                                                  "images"), AN_OK);
        for (size_t i = 0; i < MAX_BATCH * IMAGE_STORED_BYTES; i++)
            images[k][i] = (uint8_t)(philox_draw(6, PHILOX_PURPOSE_TEST, 10 + (uint32_t)k, 0, (uint32_t)i).v[0] & 0xFF);
        for (int b = 0; b < MAX_BATCH; b++)
            choices[k][b] = (crop_choice){.x = 5 * b + k, .y = IMAGE_MAX_OFFSET - 3 * b, .flip = (b + k) & 1,
                                          .shift = {0.5f * (float)b, -1.0f * (float)k, 0.25f}};
    }
    float *mean = malloc(IMAGE_STORED_BYTES * sizeof(float));                   /* [256, 256, 3] */
    float *want = malloc((size_t)MAX_BATCH * CLASSES * sizeof(float));          /* [MAX_BATCH, CLASSES] */
    float *grads = malloc(net_param_count(staged) * sizeof(float));             /* [param_count] */
    assert_true(mean && want && grads);
    fill(mean, IMAGE_STORED_BYTES, 7, 60.0f);
    for (size_t i = 0; i < IMAGE_STORED_BYTES; i++) mean[i] += 120.0f;
    net *nets[2] = {unstaged, staged};
    for (uint32_t s = 0; s < 2; s++) {
        const int batch = s == 0 ? MAX_BATCH : 3;
        uint32_t ids[MAX_BATCH];
        int32_t labels[MAX_BATCH];
        for (int b = 0; b < batch; b++) {
            ids[b] = s * MAX_BATCH + (uint32_t)b;
            labels[b] = (int32_t)((3 * b + s) % CLASSES);
        }
        for (int k = 0; k < 2; k++) {
            net *n = nets[k];
            double loss;
            if (net_forward_images(n, images[s], mean, choices[s], batch, ids, s, 9, 1) != AN_OK)
                fail_msg("step %u forward: %s", s, error_message());
            if (k == 0) {
                const float *logits;
                assert_int_equal(net_read_logits(n, &logits), AN_OK);
                memcpy(want, logits, (size_t)batch * CLASSES * sizeof(float));
            } else {
                assert_true(logits_agree(n, want, batch));
            }
            if (net_backward(n, labels, batch, (float)MAX_BATCH) != AN_OK ||
                net_update(n, 0.01f, SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY) != AN_OK)
                fail_msg("step %u: %s", s, error_message());
            /* the next step's input, staged before this step's loss is read */
            if (n == staged && s == 0) assert_int_equal(net_stage_images(n, images[1], choices[1], 3), AN_OK);
            assert_int_equal(net_loss(n, labels, batch, &loss), AN_OK);
            float *g;
            assert_int_equal(net_block_to_host(n, NET_BLOCK_GRADS, &g), AN_OK);
            if (k == 0) memcpy(grads, g, net_param_count(n) * sizeof(float));
            else if (!use_cuda) assert_memory_equal(g, grads, net_param_count(n) * sizeof(float));
        }
    }
    float *w_staged, *w_unstaged;
    assert_int_equal(net_block_to_host(staged, NET_BLOCK_PARAMS, &w_staged), AN_OK);
    assert_int_equal(net_block_to_host(unstaged, NET_BLOCK_PARAMS, &w_unstaged), AN_OK);
    if (!use_cuda) assert_memory_equal(w_staged, w_unstaged, net_param_count(staged) * sizeof(float));

    /* The staged copy is what the pass reads: images[0] changed after its
     * staging still gives the logits of its bytes as staged. */
    infer(unstaged, images[0], mean, choices[0], MAX_BATCH, want);
    assert_int_equal(net_stage_images(staged, images[0], choices[0], MAX_BATCH), AN_OK);
    for (size_t i = 0; i < MAX_BATCH * IMAGE_STORED_BYTES; i++) images[0][i] ^= 0x5A;
    assert_int_equal(net_forward_images(staged, images[0], mean, choices[0], MAX_BATCH, NULL, 0, 0, 0), AN_OK);
    assert_true(logits_agree(staged, want, MAX_BATCH));
    infer(unstaged, images[0], mean, choices[0], MAX_BATCH, want);
    assert_false(logits_agree(staged, want, MAX_BATCH)); /* the change does show where the bytes are read */

    /* A stale staging is not used: other images, other choices, or the same with another batch. */
    assert_int_equal(net_stage_images(staged, images[0], choices[1], MAX_BATCH), AN_OK);
    infer(unstaged, images[1], mean, choices[1], MAX_BATCH, want);
    assert_int_equal(net_forward_images(staged, images[1], mean, choices[1], MAX_BATCH, NULL, 0, 0, 0), AN_OK);
    assert_true(logits_agree(staged, want, MAX_BATCH));
    assert_int_equal(net_stage_images(staged, images[0], choices[0], MAX_BATCH), AN_OK);
    infer(unstaged, images[0], mean, choices[1], MAX_BATCH, want);
    assert_int_equal(net_forward_images(staged, images[0], mean, choices[1], MAX_BATCH, NULL, 0, 0, 0), AN_OK);
    assert_true(logits_agree(staged, want, MAX_BATCH));
    assert_int_equal(net_stage_images(staged, images[1], choices[1], MAX_BATCH), AN_OK);
    infer(unstaged, images[1], mean, choices[1], 2, want);
    assert_int_equal(net_forward_images(staged, images[1], mean, choices[1], 2, NULL, 0, 0, 0), AN_OK);
    assert_true(logits_agree(staged, want, 2));
    assert_int_equal(net_stage_images(staged, images[1], choices[1], MAX_BATCH + 1), AN_ERR_ARG);

    for (int k = 0; k < 2; k++) checked->ops->host_free(checked, images[k]);
    free(mean), free(want), free(grads);
    net_destroy(staged);
    net_destroy(unstaged);
    backend_destroy(checked);
    backend_destroy(inner);
}

static void test_input_staged_checked(void **state)
{
    (void)state;
    net_config_default(&variant);
    input_staged_checked();
}

static void test_training_steps_checked(void **state)
{
    (void)state;
    net_config_default(&variant);
    training_steps_checked();
}

/* The fixed order of --reproducible: the conv halves and fc parts cut and
 * joined by split_parts and join_parts, the parts' shares added by add. */
static void test_fixed_order_steps_checked(void **state)
{
    (void)state;
    net_config_default(&variant);
    fixed_order = 1;
    training_steps_checked();
    fixed_order = 0;
}

/* The experiments' ops and rows (docs/experiments.md): tanh, 2x2 pooling, no
 * LRN, one tower. */
static void test_variant_steps_checked(void **state)
{
    (void)state;
    net_config_default(&variant);
    variant.activation = NET_ACTIVATION_TANH;
    variant.pooling = NET_POOL_PLAIN;
    variant.lrn = 0;
    variant.towers = 1;
    training_steps_checked();
}

/* ------------------------------------------------------------ the checker catches broken ops */

static backend_ops broken_ops;            /* the CPU's table with one entry replaced */
static const backend_ops *cpu_ops_table;  /* the CPU's own */

/* Writes all but the last element. */
static an_status relu_forward_lazy(backend *be, float *out, const float *in, size_t n)
{
    return cpu_ops_table->relu_forward(be, out, in, n - 1);
}

/* Writes one float past its output. */
static an_status relu_forward_stray(backend *be, float *out, const float *in, size_t n)
{
    AN_TRY(cpu_ops_table->relu_forward(be, out, in, n));
    out[n] = 1.0f;
    return AN_OK;
}

/* A checker around a CPU backend whose relu_forward is `relu`; a and b are
 * two buffers of 16 floats, a written with values. */
static void broken_setup(an_status (*relu)(backend *, float *, const float *, size_t), backend **inner,
                         backend **checked, float **a, float **b)
{
    assert_int_equal(backend_cpu_create(inner, 0), AN_OK);
    cpu_ops_table = (*inner)->ops;
    broken_ops = *cpu_ops_table;
    broken_ops.relu_forward = relu;
    (*inner)->ops = &broken_ops;
    assert_int_equal(backend_check_create(checked, *inner), AN_OK);
    const backend_ops *ops = (*checked)->ops;
    assert_int_equal(ops->alloc(*checked, (void **)a, 16 * sizeof(float), "buffer a"), AN_OK);
    assert_int_equal(ops->alloc(*checked, (void **)b, 16 * sizeof(float), "buffer b"), AN_OK);
    float values[16];
    for (int i = 0; i < 16; i++) values[i] = (float)(i - 8);
    assert_int_equal(ops->upload(*checked, *a, values, sizeof values), AN_OK);
}

static void broken_teardown(backend *inner, backend *checked, float *a, float *b)
{
    checked->ops->free(checked, a);
    checked->ops->free(checked, b);
    backend_destroy(checked);
    inner->ops = cpu_ops_table;
    backend_destroy(inner);
}

static void test_catches_unwritten_element(void **state)
{
    (void)state;
    backend *inner, *checked;
    float *a, *b;
    broken_setup(relu_forward_lazy, &inner, &checked, &a, &b);
    assert_int_equal(checked->ops->relu_forward(checked, b, a, 16), AN_ERR_INTERNAL);
    assert_non_null(strstr(error_message(), "relu_forward"));
    assert_non_null(strstr(error_message(), "element 15 of out"));
    broken_teardown(inner, checked, a, b);
}

static void test_catches_stray_write(void **state)
{
    (void)state;
    backend *inner, *checked;
    float *a, *b;
    broken_setup(relu_forward_stray, &inner, &checked, &a, &b);
    assert_int_equal(checked->ops->relu_forward(checked, b, a, 8), AN_ERR_INTERNAL);
    assert_non_null(strstr(error_message(), "changed byte 32 of buffer b"));
    broken_teardown(inner, checked, a, b);
}

static void test_catches_read_before_write(void **state)
{
    (void)state;
    backend *inner, *checked;
    float *a, *b;
    broken_setup(relu_forward_stray, &inner, &checked, &a, &b);
    /* b was never written */
    assert_int_equal(checked->ops->relu_forward(checked, a, b, 4), AN_ERR_INTERNAL);
    assert_non_null(strstr(error_message(), "reads in (buffer b, byte 0"));
    /* nor is a, once discarded */
    assert_int_equal(checked->ops->discard(checked, a, 16 * sizeof(float)), AN_OK);
    assert_int_equal(checked->ops->relu_forward(checked, a, a, 4), AN_ERR_INTERNAL);
    assert_non_null(strstr(error_message(), "before anything wrote it"));
    broken_teardown(inner, checked, a, b);
}

int main(int argc, char **argv)
{
    use_cuda = argc > 1 && strcmp(argv[1], "--cuda") == 0;
    if (use_cuda) {
        backend *probe = NULL;
        backend_request r = {.device = "cuda", .rank = 0, .deterministic = 1};
        if (backend_open(&probe, &r) != AN_OK) {
            printf("no CUDA device: %s\n", error_message());
            return 77;
        }
        backend_destroy(probe);
        const struct CMUnitTest gpu_tests[] = {cmocka_unit_test(test_add_checked),
                                               cmocka_unit_test(test_parts_checked),
                                               cmocka_unit_test(test_fixed_order_steps_checked),
                                               cmocka_unit_test(test_training_steps_checked),
                                               cmocka_unit_test(test_variant_steps_checked),
                                               cmocka_unit_test(test_input_crop_checked),
                                               cmocka_unit_test(test_input_training_checked),
                                               cmocka_unit_test(test_input_staged_checked),
                                               cmocka_unit_test(test_lrn_scale_only_where_kept)};
        const int failed = cmocka_run_group_tests(gpu_tests, NULL, NULL);
#ifdef ALEXNET_HAVE_CUDA
        backend_destroy(gpu_backend);
#endif
        return failed;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_checked),
        cmocka_unit_test(test_parts_checked),
        cmocka_unit_test(test_fixed_order_steps_checked),
        cmocka_unit_test(test_training_steps_checked),
        cmocka_unit_test(test_variant_steps_checked),
        cmocka_unit_test(test_input_crop_checked),
        cmocka_unit_test(test_input_training_checked),
        cmocka_unit_test(test_input_staged_checked),
        cmocka_unit_test(test_lrn_scale_only_where_kept),
        cmocka_unit_test(test_catches_unwritten_element),
        cmocka_unit_test(test_catches_stray_write),
        cmocka_unit_test(test_catches_read_before_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
