/* test_net_cuda.c: the one network (net/net.h) on two backends, a net on
 * backend_cpu and a net on backend_cuda with the same configuration, seed
 * and batches, compared. Both run the same sequence (net_pass.c); only the
 * kernels differ, so every difference here is a kernel's.
 *   - one training step at width 0.25, with cuDNN in normal and in
 *     deterministic mode (train and eval use deterministic), and one of the
 *     paper's network (width 1.0, 1000 classes, batch 2) in both modes, each
 *     through the twin-checking backend (backend_twin.h): every op, the
 *     gradients' included, recomputed by its CPU twin from the GPU's own
 *     inputs (ReLU outputs, max-pool argmax, dropout masks), so ReLU/max-pool
 *     near-ties cannot fail it; plus one loose check of the logits,
 *     probabilities and loss against a CPU net's;
 *   - five SGD steps at width 0.25 through the twin backend (every update
 *     checked bitwise on the GPU's inputs), each step's loss against a CPU
 *     net's;
 *   - a diverged network (a NaN weight) reports a NaN loss on both backends;
 *   - deterministic mode repeats bitwise;
 *   - --precision bf16 (bf16 convolutions and fc layers, precision.h): five
 *     steps at width 0.25, each step's loss within GPU_TEST_NET_RTOL_BF16's
 *     bound of an fp32 GPU net's, the first step's logits too;
 *   - the input uploaded from host_alloc's page-locked memory (the copy
 *     stream, overlapping the previous step's compute) trains to bitwise the
 *     weights and momentum of the same images uploaded from malloc'ed memory
 *     (the compute stream), steps queued back to back;
 *   - and the twin check fails ops broken on purpose (on a CPU backend),
 *     a missing weight-decay term included.
 * Exits 77 (skipped) without a CUDA device. With --self-check the "GPU" net
 * runs on a second CPU backend instead: every comparison must then hold
 * exactly, which tests this file and backend_twin.c on any machine (CTest's
 * test_net_cuda_self_check); it says nothing about the GPU.
 *
 * Tolerances: GPU_TEST_NET_RTOL (1e-3 of each tensor's scale, derived in
 * gpu_test_util.c) for the logits; the loss and the
 * probabilities follow from the logits' bound (loss_tolerance, probs_tolerance). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend_cpu.h"
#include "backend_cuda.h"
#include "backend_twin.h"
#include "gpu_test_util.h"
#include "net.h"
#include "ops_cpu.h"
#include "net_cpu.h"

enum { SMALL_BATCH = 4, STEPS = 5, MAX_BATCH = 4 };
#define SEED 2012u
#define LR 0.01f

static int self_check; /* --self-check: the second backend is a CPU one */

typedef struct fixture {
    double width;  /* 0.25 for the step tests, 1.0 (the paper's network) for the twin check */
    int classes, batch;
    float *input;  /* [batch, 3, 224, 224] host, byte units, mean subtracted */
    uint32_t ids[MAX_BATCH];
    int32_t labels[MAX_BATCH];
} fixture;

static int setup(void **state, double width, int classes, int batch)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    f->width = width;
    f->classes = classes;
    f->batch = batch;
    f->input = gpu_test_random((size_t)batch * IMAGE_CROP_FLOATS, -120.0f, 120.0f, 900);
    for (int b = 0; b < batch; b++) {
        f->ids[b] = 1000u + 37u * (uint32_t)b;
        f->labels[b] = (b * 3) % classes;
    }
    *state = f;
    return 0;
}

/* Width 0.25, 10 classes, batch 4: fast enough for 5 steps on both sides. */
static int setup_small(void **state) { return setup(state, 0.25, 10, SMALL_BATCH); }
/* The paper's network, 1000 classes, batch 2. */
static int setup_full(void **state) { return setup(state, 1.0, 1000, 2); }

static int teardown(void **state)
{
    fixture *f = *state;
    free(f->input);
    free(f);
    return 0;
}

/* The backend under test: CUDA device 0 in the given cuDNN mode and
 * precision (a CPU backend under --self-check). */
static backend *open_gpu_at(int deterministic, backend_precision precision)
{
    backend *be = NULL;
    if (self_check) {
        assert_int_equal(backend_cpu_create(&be, 0), AN_OK);
        return be;
    }
    backend_cuda_options o = backend_cuda_options_default();
    o.deterministic = deterministic;
    o.precision = precision;
    if (backend_cuda_create(&be, &o) != AN_OK) fail_msg("backend_cuda_create: %s", error_message());
    return be;
}

/* The same in fp32. */
static backend *open_gpu(int deterministic)
{
    return open_gpu_at(deterministic, BACKEND_PRECISION_FP32);
}

/* A net of the fixture's configuration on be (NULL: the CPU), initialised from SEED. */
static net *make_net(const fixture *f, backend *be)
{
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = f->width;
    cfg.num_classes = f->classes;
    cfg.init = NET_INIT_CAFFE; /* the paper's init at width 0.25 can give a flat loss */
    net *n = NULL;
    an_status st = be ? net_create_on(&n, &cfg, f->batch, be) : net_create_cpu(&n, &cfg, f->batch);
    if (st != AN_OK) fail_msg("net_create: %s", error_message());
    if (net_init_params(n, SEED) != AN_OK) fail_msg("net_init_params: %s", error_message());
    return n;
}

/* A malloc'ed host copy [net_param_count] of one of n's blocks. */
static float *block_copy(net *n, net_block which)
{
    float *view = NULL;
    if (net_block_to_host(n, which, &view) != AN_OK) fail_msg("net_block_to_host: %s", error_message());
    float *copy = malloc(net_param_count(n) * sizeof(float)); /* [param_count] */
    assert_non_null(copy);
    memcpy(copy, view, net_param_count(n) * sizeof(float));
    return copy;
}

/* One training step; returns the loss. */
static double train_step(net *n, const fixture *f, uint32_t step, int update, float weight_decay)
{
    double loss = 0.0;
    if (net_forward(n, f->input, f->batch, f->ids, step, SEED, 1) != AN_OK ||
        net_loss(n, f->labels, f->batch, &loss) != AN_OK ||
        net_backward(n, f->labels, f->batch, (float)f->batch) != AN_OK ||
        (update && net_update(n, LR, SGD_PAPER_MOMENTUM, weight_decay) != AN_OK))
        fail_msg("step %u on %s: %s", step, net_backend(n)->description, error_message());
    return loss;
}

/* A copy of the last forward's logits [batch, K]. */
static float *logits_copy(net *n, int batch, int classes)
{
    const float *view = NULL;
    if (net_read_logits(n, &view) != AN_OK) fail_msg("net_read_logits: %s", error_message());
    float *copy = malloc((size_t)batch * classes * sizeof(float)); /* [B, K] */
    assert_non_null(copy);
    memcpy(copy, view, (size_t)batch * classes * sizeof(float));
    return copy;
}

static double max_abs(const float *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)x[i]));
    return m;
}

/* The loss's tolerance from the logits': each logit within
 * GPU_TEST_NET_RTOL (|z| + 0.1 max|z|) <= 1.1 GPU_TEST_NET_RTOL max|z|,
 * and an image's loss -log p_label moves by at most sum_k |p_k - y_k| <= 2
 * times the largest logit change, so the batch mean by
 * 2.2 GPU_TEST_NET_RTOL max|z|. */
static double loss_tolerance(const float *cpu_logits, size_t n)
{
    return 2.2 * GPU_TEST_NET_RTOL * max_abs(cpu_logits, n);
}

/* The probabilities' tolerance from the logits': sum_j |dp_k/dz_j| =
 * 2 p_k (1 - p_k) <= 1/2, so a probability moves by at most half the largest
 * logit change, 0.55 GPU_TEST_NET_RTOL max|z|; plus the two float softmaxes'
 * own rounding (backend_twin.c: 1e-6 relative, at most 1e-6 absolute). */
static double probs_tolerance(const float *cpu_logits, size_t n)
{
    return 0.55 * GPU_TEST_NET_RTOL * max_abs(cpu_logits, n) + 1e-6;
}

/* ---------------------------------------------------------------- one step, both modes */

static void one_step(fixture *f, int deterministic)
{
    printf(" %s mode\n", deterministic ? "deterministic" : "normal");
    backend *be = open_gpu(deterministic), *twin = NULL;
    assert_int_equal(backend_twin_create(&twin, be, gpu_test_rtol(BACKEND_PRECISION_FP32)), AN_OK);
    net *cpu = make_net(f, NULL), *gpu = make_net(f, twin);
    const size_t count = net_param_count(cpu), nz = (size_t)f->batch * f->classes;
    assert_int_equal(net_param_count(gpu), count);
    /* The same seed gives the same weights on every backend (net.h). */
    float *w_cpu = block_copy(cpu, NET_BLOCK_PARAMS), *w_gpu = block_copy(gpu, NET_BLOCK_PARAMS); /* [count] */
    gpu_test_assert_bitwise("initial weights", w_gpu, w_cpu, count * sizeof(float));

    /* Every op of the step, the gradients' included, against its CPU twin on
     * the GPU's own inputs (masks and argmax): the twin fails the step otherwise. */
    double gpu_loss = train_step(gpu, f, 0, 0, 0.0f), cpu_loss = train_step(cpu, f, 0, 0, 0.0f);
    backend_twin_report(twin, stdout);
    gpu_test_print_conv_algorithms(be);
    assert_true(backend_twin_comparisons(twin) >= 2L * net_layer_count(gpu));
    /* One loose end-to-end check on the logits and the loss (continuous in the weights). */
    float *z_cpu = logits_copy(cpu, f->batch, f->classes), *z_gpu = logits_copy(gpu, f->batch, f->classes); /* [B, K] */
    double tol = loss_tolerance(z_cpu, nz);
    printf("  loss gpu %.9f cpu %.9f (tolerance %.3g)\n", gpu_loss, cpu_loss, tol);
    assert_true(fabs(gpu_loss - cpu_loss) <= tol);
    gpu_test_assert_close("logits", z_gpu, z_cpu, nz, GPU_TEST_NET_RTOL);
    const float *p_cpu = NULL, *p_gpu = NULL; /* [B, K] the nets' own host copies */
    assert_int_equal(net_read_probs(cpu, &p_cpu), AN_OK);
    assert_int_equal(net_read_probs(gpu, &p_gpu), AN_OK);
    const double ptol = probs_tolerance(z_cpu, nz);
    for (size_t i = 0; i < nz; i++)
        if (!(fabs((double)p_gpu[i] - (double)p_cpu[i]) <= ptol))
            fail_msg("probability %zu: gpu %.9g cpu %.9g (tolerance %.3g)", i, (double)p_gpu[i], (double)p_cpu[i],
                     ptol);

    free(w_cpu), free(w_gpu), free(z_cpu), free(z_gpu);
    net_destroy(gpu);
    net_destroy(cpu);
    backend_destroy(twin);
    backend_destroy(be);
}

static void test_one_step_both_modes(void **state)
{
    one_step(*state, 0);
    one_step(*state, 1);
}

/* ---------------------------------------------------------------- the paper's network, op by op */

static void twin_step(fixture *f, int deterministic)
{
    printf(" %s mode\n", deterministic ? "deterministic" : "normal");
    backend *inner = open_gpu(deterministic), *twin = NULL;
    assert_int_equal(backend_twin_create(&twin, inner, gpu_test_rtol(BACKEND_PRECISION_FP32)), AN_OK);
    net *cpu = make_net(f, NULL), *gpu = make_net(f, twin);
    const size_t nz = (size_t)f->batch * f->classes;

    /* A whole training step, every op checked against its CPU twin on the
     * GPU's own inputs (the step fails with the op's message otherwise). */
    double gpu_loss = train_step(gpu, f, 0, 1, SGD_PAPER_WEIGHT_DECAY);
    int64_t e1 = 0, e5 = 0;
    if (net_topk_errors(gpu, f->labels, f->batch, &e1, &e5) != AN_OK) fail_msg("%s", error_message());
    backend_twin_report(twin, stdout);
    gpu_test_print_conv_algorithms(inner);
    printf("  %ld outputs compared\n", backend_twin_comparisons(twin));
    /* forward, loss, topk, backward, update: at least one comparison per layer op */
    assert_true(backend_twin_comparisons(twin) >= 2L * net_layer_count(gpu));

    /* The forward pass is continuous (no mask decides a value), so the
     * end-to-end logits and loss compare with the CPU net's as well. */
    double cpu_loss = train_step(cpu, f, 0, 0, 0.0f);
    float *z_cpu = logits_copy(cpu, f->batch, f->classes), *z_gpu = logits_copy(gpu, f->batch, f->classes); /* [B, K] */
    gpu_test_assert_close("logits (whole network)", z_gpu, z_cpu, nz, GPU_TEST_NET_RTOL);
    double tol = loss_tolerance(z_cpu, nz);
    printf("  loss gpu %.9f cpu %.9f (tolerance %.3g)\n", gpu_loss, cpu_loss, tol);
    assert_true(fabs(gpu_loss - cpu_loss) <= tol);

    free(z_cpu), free(z_gpu);
    net_destroy(gpu);
    net_destroy(cpu);
    backend_destroy(twin);
    backend_destroy(inner);
}

static void test_paper_network_op_by_op(void **state)
{
    twin_step(*state, 0);
    twin_step(*state, 1);
}

/* ---------------------------------------------------------------- the twin check itself */

/* A CPU backend with ops broken on purpose, to show that the twin check
 * fails them: conv_backward's largest weight gradient 1% off,
 * relu_backward passing one gradient the forward's ReLU stopped, and
 * sgd_update without weight decay. */
static backend_ops broken_ops;
static const backend_ops *cpu_ops;
static int broken_op; /* 0: conv_backward, 1: relu_backward, 2: sgd_update */

static an_status broken_conv_backward(backend *be, float *dinput, float *dweight, float *dbias, const float *doutput,
                                      const float *in, const float *weight, const conv_shape *s)
{
    AN_TRY(cpu_ops->conv_backward(be, dinput, dweight, dbias, doutput, in, weight, s));
    if (broken_op == 0) {
        const size_t n = (size_t)s->out_channels * (s->in_channels / s->groups) * s->kernel * s->kernel;
        size_t worst = 0;
        for (size_t i = 0; i < n; i++)
            if (fabsf(dweight[i]) > fabsf(dweight[worst])) worst = i;
        dweight[worst] *= 1.01f; /* host memory: a CPU backend */
    }
    return AN_OK;
}

static an_status broken_relu_backward(backend *be, float *dinput, const float *doutput, const float *out, size_t n)
{
    float first_stopped = 0.0f;
    size_t at = n;
    for (size_t i = 0; i < n && at == n; i++)
        if (!(out[i] > 0.0f) && doutput[i] != 0.0f) at = i, first_stopped = doutput[i];
    AN_TRY(cpu_ops->relu_backward(be, dinput, doutput, out, n));
    if (broken_op == 1 && at < n) dinput[at] = first_stopped;
    return AN_OK;
}

/* The update without its weight-decay term (§5): what the five-step check
 * must notice. */
static an_status broken_sgd_update(backend *be, float *weights, float *momentum, int32_t *applied,
                                   const float *grads, size_t n, float lr, float momentum_rate, float weight_decay)
{
    return cpu_ops->sgd_update(be, weights, momentum, applied, grads, n, lr, momentum_rate,
                               broken_op == 2 ? 0.0f : weight_decay);
}

static void test_twin_check_fails_broken_ops(void **state)
{
    fixture *f = *state;
    const char *expect[3] = {"conv_backward", "relu_backward", "sgd_update"};
    for (broken_op = 0; broken_op < 3; broken_op++) {
        backend *inner = NULL, *twin = NULL;
        assert_int_equal(backend_cpu_create(&inner, 0), AN_OK);
        cpu_ops = inner->ops;
        broken_ops = *cpu_ops;
        broken_ops.conv_backward = broken_conv_backward;
        broken_ops.relu_backward = broken_relu_backward;
        broken_ops.sgd_update = broken_sgd_update;
        inner->ops = &broken_ops;
        assert_int_equal(backend_twin_create(&twin, inner, gpu_test_rtol(BACKEND_PRECISION_FP32)), AN_OK);
        net *n = make_net(f, twin);
        double loss = 0.0;
        assert_int_equal(net_forward(n, f->input, f->batch, f->ids, 0, SEED, 1), AN_OK);
        assert_int_equal(net_loss(n, f->labels, f->batch, &loss), AN_OK);
        if (broken_op < 2) {
            assert_int_equal(net_backward(n, f->labels, f->batch, (float)f->batch), AN_ERR_INTERNAL);
        } else {
            assert_int_equal(net_backward(n, f->labels, f->batch, (float)f->batch), AN_OK);
            assert_int_equal(net_update(n, LR, SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY), AN_ERR_INTERNAL);
        }
        printf("  broken %s: %s\n", expect[broken_op], error_message());
        assert_non_null(strstr(error_message(), expect[broken_op]));
        backend_twin_report(twin, stdout);
        net_destroy(n);
        backend_destroy(twin);
        inner->ops = cpu_ops;
        backend_destroy(inner);
    }
}

/* ---------------------------------------------------------------- five steps */

/* STEPS training steps of n from the seed's weights; losses [STEPS] and the
 * largest |logit| of each step, max_logit [STEPS]. */
static void five_steps(fixture *f, net *n, double *losses, double *max_logit)
{
    for (uint32_t step = 0; step < STEPS; step++) {
        losses[step] = train_step(n, f, step, 1, SGD_PAPER_WEIGHT_DECAY);
        float *z = logits_copy(n, f->batch, f->classes); /* [B, K] */
        max_logit[step] = max_abs(z, (size_t)f->batch * f->classes);
        free(z);
    }
}

/* Five SGD steps on the GPU (deterministic mode, as training runs) through
 * the twin backend: every op of every step, the update included (bitwise,
 * backend_twin.h), against its CPU twin on the GPU's own inputs, masks and
 * argmax. A CPU net trained on its own would resolve ReLU and max-pool
 * near-ties its own way (0.1 to 1 flipped masks per pass, each moving a
 * whole gradient term far beyond the tolerance), so the updates are not
 * compared across two runs. That the update check notices a missing
 * weight-decay term: test_twin_check_fails_broken_ops. The loose end-to-end
 * check: each step's loss within loss_tolerance of the CPU net's; the weights
 * entering a step differ only by earlier updates' rounding and flipped
 * masks' terms, about 1e-3 of an update, far below a forward pass's. */
static void test_five_steps_updates(void **state)
{
    fixture *f = *state;
    backend *be = open_gpu(1), *twin = NULL;
    assert_int_equal(backend_twin_create(&twin, be, gpu_test_rtol(BACKEND_PRECISION_FP32)), AN_OK);
    net *cpu = make_net(f, NULL), *gpu = make_net(f, twin);
    double l_cpu[STEPS], l_gpu[STEPS], z_cpu[STEPS], z_gpu[STEPS];
    five_steps(f, gpu, l_gpu, z_gpu);
    five_steps(f, cpu, l_cpu, z_cpu);
    backend_twin_report(twin, stdout);
    gpu_test_print_conv_algorithms(be);
    assert_true(backend_twin_comparisons(twin) >= 2L * STEPS * net_layer_count(gpu));
    for (int s = 0; s < STEPS; s++) {
        const double tol = 2.2 * GPU_TEST_NET_RTOL * z_cpu[s]; /* loss_tolerance */
        printf("  step %d: loss gpu %.9f cpu %.9f (tolerance %.3g)\n", s, l_gpu[s], l_cpu[s], tol);
        assert_true(fabs(l_gpu[s] - l_cpu[s]) <= tol);
    }
    net_destroy(gpu);
    net_destroy(cpu);
    backend_destroy(twin);
    backend_destroy(be);
}

/* ---------------------------------------------------------------- a diverged network */

/* A NaN in fc8's weights makes one class's logit NaN for every image, so
 * every row of probabilities is NaN (backend.h: softmax keeps NaN) and the
 * loss must say NaN on both backends, not a finite clamp of it. The top-k
 * counts follow the CPU's rule on both (an image labelled with the NaN class
 * is an error in both). */
static void test_diverged_network_reports_nan(void **state)
{
    fixture *f = *state;
    backend *be = open_gpu(1);
    net *nets[2] = {make_net(f, NULL), make_net(f, be)};
    const char *names[2] = {"cpu", "gpu"};
    int64_t e1[2], e5[2];
    for (int k = 0; k < 2; k++) {
        net *n = nets[k];
        const net_param_view *fc8 = net_param_find(n, "fc8.weight");
        assert_non_null(fc8);
        float *w = NULL; /* [param_count] the net's host view of its parameters */
        assert_int_equal(net_block_to_host(n, NET_BLOCK_PARAMS, &w), AN_OK);
        w[fc8->offset + (size_t)f->labels[1] * (size_t)fc8->shape[1]] = NAN; /* [K, F7]: row of image 1's label */
        assert_int_equal(net_block_from_host(n, NET_BLOCK_PARAMS, w), AN_OK);
        double loss = 0.0;
        assert_int_equal(net_forward(n, f->input, f->batch, NULL, 0, 0, 0), AN_OK);
        assert_int_equal(net_loss(n, f->labels, f->batch, &loss), AN_OK);
        printf("  %s: loss %g\n", names[k], loss);
        assert_true(isnan(loss));
        const float *probs = NULL; /* [B, K] */
        assert_int_equal(net_read_probs(n, &probs), AN_OK);
        for (int i = 0; i < f->batch * f->classes; i++) assert_true(isnan(probs[i]));
        assert_int_equal(net_topk_errors(n, f->labels, f->batch, &e1[k], &e5[k]), AN_OK);
        printf("  %s: %lld top-1, %lld top-5 errors\n", names[k], (long long)e1[k], (long long)e5[k]);
    }
    assert_true(e1[0] >= 1 && e5[0] >= 1); /* image 1's label scores NaN */
    assert_int_equal(e1[1], e1[0]);
    assert_int_equal(e5[1], e5[0]);
    net_destroy(nets[1]);
    net_destroy(nets[0]);
    backend_destroy(be);
}

/* ---------------------------------------------------------------- deterministic mode */

/* Two steps from the seed's weights in deterministic mode; the weights after. */
static float *deterministic_run(fixture *f, size_t *count)
{
    backend *be = open_gpu(1);
    net *n = make_net(f, be);
    for (uint32_t step = 0; step < 2; step++) train_step(n, f, step, 1, SGD_PAPER_WEIGHT_DECAY);
    *count = net_param_count(n);
    float *params = block_copy(n, NET_BLOCK_PARAMS); /* [count] */
    net_destroy(n);
    backend_destroy(be);
    return params;
}

static void test_deterministic_repeats_bitwise(void **state)
{
    size_t n1 = 0, n2 = 0;
    float *first = deterministic_run(*state, &n1);
    float *second = deterministic_run(*state, &n2);
    assert_int_equal(n1, n2);
    gpu_test_assert_bitwise("deterministic weights", first, second, n1 * sizeof(float));
    free(first);
    free(second);
}

/* ---------------------------------------------------------------- bf16 */

/* Five steps under --precision bf16 against five under fp32, both on the
 * GPU in deterministic mode from the seed's weights: the first step's logits
 * within GPU_TEST_NET_RTOL_BF16 (derived in gpu_test_util.c), each step's
 * loss within the loss bound that follows from it (loss_tolerance's
 * argument). The weights entering steps 1-4 differ by the earlier updates'
 * bf16 gradients, a few 1e-3 of an update, far below a forward pass's
 * rounding. Under --self-check both nets are CPU ones (equal: the bound
 * holds trivially). */
static void test_bf16_near_fp32(void **state)
{
    fixture *f = *state;
    backend *be32 = open_gpu_at(1, BACKEND_PRECISION_FP32), *be16 = open_gpu_at(1, BACKEND_PRECISION_BF16);
    net *n32 = make_net(f, be32), *n16 = make_net(f, be16);
    const size_t nz = (size_t)f->batch * f->classes;
    for (uint32_t step = 0; step < STEPS; step++) {
        double l16 = train_step(n16, f, step, 1, SGD_PAPER_WEIGHT_DECAY);
        double l32 = train_step(n32, f, step, 1, SGD_PAPER_WEIGHT_DECAY);
        float *z32 = logits_copy(n32, f->batch, f->classes), *z16 = logits_copy(n16, f->batch, f->classes); /* [B, K] */
        const double tol = 2.2 * GPU_TEST_NET_RTOL_BF16 * max_abs(z32, nz);
        printf("  step %u: loss bf16 %.9f fp32 %.9f (tolerance %.3g)\n", step, l16, l32, tol);
        assert_true(isfinite(l16));
        assert_true(fabs(l16 - l32) <= tol);
        if (step == 0) gpu_test_assert_close("bf16 logits", z16, z32, nz, GPU_TEST_NET_RTOL_BF16);
        free(z32), free(z16);
    }
    gpu_test_print_conv_algorithms(be16);
    net_destroy(n16);
    net_destroy(n32);
    backend_destroy(be16);
    backend_destroy(be32);
}

/* ---------------------------------------------------------------- the input's upload */

/* STEPS steps of n from images and crop choices of `where`'s memory: `pinned`
 * from the backend's host_alloc (page-locked on CUDA: each upload on the copy
 * stream, overlapping the previous step's queued compute), else malloc (the
 * compute stream). Every step's forward, backward and update are queued
 * without a wait between steps (the loss is never read), as the trainer
 * queues them. Returns the weights and momentum after, params [count] and
 * momentum [count] malloc'ed. */
static void input_run(const fixture *f, backend *be, int pinned, float **params, float **momentum)
{
    net *n = make_net(f, be);
    const size_t image_bytes = (size_t)f->batch * IMAGE_STORED_BYTES;
    uint8_t *images[STEPS];      /* each [batch, 256, 256, 3], one per step: unchanged until its ops are done */
    crop_choice *choices[STEPS]; /* each [batch] */
    float *mean = gpu_test_random(IMAGE_STORED_BYTES, 100.0f, 150.0f, 950); /* [256, 256, 3] */
    for (int s = 0; s < STEPS; s++) {
        if (pinned) {
            assert_int_equal(be->ops->host_alloc(be, (void **)&images[s], image_bytes, "test images"), AN_OK);
            assert_int_equal(be->ops->host_alloc(be, (void **)&choices[s], (size_t)f->batch * sizeof(crop_choice),
                                                 "test choices"), AN_OK);
        } else {
            images[s] = malloc(image_bytes);
            choices[s] = malloc((size_t)f->batch * sizeof(crop_choice));
            assert_true(images[s] && choices[s]);
        }
        float *bytes = gpu_test_random(image_bytes, 0.0f, 255.0f, 960 + (uint32_t)s); /* [image_bytes] */
        for (size_t i = 0; i < image_bytes; i++) images[s][i] = (uint8_t)bytes[i];
        free(bytes);
        for (int b = 0; b < f->batch; b++) {
            crop_choice c = {(s * 7 + b * 11) % (IMAGE_MAX_OFFSET + 1), (s * 13 + b * 5) % (IMAGE_MAX_OFFSET + 1),
                             (s + b) % 2, {0.5f * (float)b, -1.25f, 2.0f * (float)s}};
            choices[s][b] = c;
        }
    }
    for (uint32_t s = 0; s < STEPS; s++)
        if (net_forward_images(n, images[s], mean, choices[s], f->batch, f->ids, s, SEED, 1) != AN_OK ||
            net_backward(n, f->labels, f->batch, (float)f->batch) != AN_OK ||
            net_update(n, LR, SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY) != AN_OK)
            fail_msg("step %u (%s input): %s", s, pinned ? "host_alloc" : "malloc", error_message());
    *params = block_copy(n, NET_BLOCK_PARAMS);
    *momentum = block_copy(n, NET_BLOCK_MOMENTUM);
    net_destroy(n);
    for (int s = 0; s < STEPS; s++) {
        if (pinned) {
            be->ops->host_free(be, images[s]);
            be->ops->host_free(be, choices[s]);
        } else {
            free(images[s]);
            free(choices[s]);
        }
    }
    free(mean);
}

static void test_input_upload_overlap_bitwise(void **state)
{
    fixture *f = *state;
    backend *be = open_gpu(1);
    float *p_copy = NULL, *m_copy = NULL, *p_compute = NULL, *m_compute = NULL; /* each [count] */
    input_run(f, be, 1, &p_copy, &m_copy);
    input_run(f, be, 0, &p_compute, &m_compute);
    net *n = make_net(f, be);
    const size_t count = net_param_count(n);
    net_destroy(n);
    gpu_test_assert_bitwise("weights, copy-stream input vs compute-stream input", p_copy, p_compute,
                            count * sizeof(float));
    gpu_test_assert_bitwise("momentum, copy-stream input vs compute-stream input", m_copy, m_compute,
                            count * sizeof(float));
    free(p_copy), free(m_copy), free(p_compute), free(m_compute);
    backend_destroy(be);
}

int main(int argc, char **argv)
{
    self_check = argc > 1 && strcmp(argv[1], "--self-check") == 0;
    if (self_check) {
        printf("test_net_cuda --self-check: the second backend is a CPU one (tests the test, not the GPU)\n");
        cpu_threads_set(2);
    } else if (!gpu_test_have_device("test_net_cuda")) {
        return GPU_TEST_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_step_both_modes, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_paper_network_op_by_op, setup_full, teardown),
        cmocka_unit_test_setup_teardown(test_twin_check_fails_broken_ops, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_five_steps_updates, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_diverged_network_reports_nan, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_deterministic_repeats_bitwise, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_bf16_near_fp32, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_input_upload_overlap_bitwise, setup_small, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
