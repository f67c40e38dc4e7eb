/* test_net_cuda.c: the whole network on the GPU against the CPU network on
 * the same batches: one training step (loss, logits, every parameter's
 * gradient) of the paper's network (width 1.0, 1000 classes, batch 2) and of
 * a width-0.25 one, five SGD steps (losses and weights), and deterministic
 * mode repeating bitwise. Exits 77 (skipped) without a CUDA device.
 *
 * Tolerance: fp32 on both sides, but eight layers of float sums in different
 * orders (cuDNN's algorithms against im2col + OpenBLAS), so gradients are
 * compared at rtol 1e-3 relative to each tensor's scale (gpu_test_util.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cuda_memory.h"
#include "gpu_test_util.h"
#include "net.h"
#include "net_cuda.h"
#include "sgd.h"

enum { MAX_BATCH = 4, STEPS = 5 };
#define SEED 2012u
#define NET_RTOL 1e-3

typedef struct fixture {
    double width;  /* 0.25 for the step tests, 1.0 (the paper's network) for one step */
    int classes, batch;
    net *cpu;      /* the reference, max batch `batch` */
    net *table;    /* the GPU net's table and initial weights, max batch 1 */
    float *input;  /* [batch, 3, 224, 224] host */
    uint32_t ids[MAX_BATCH];
    int32_t labels[MAX_BATCH];
} fixture;

static void make_net(const fixture *f, net **out, int max_batch)
{
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = f->width;
    cfg.num_classes = f->classes;
    cfg.init = NET_INIT_CAFFE; /* the paper's init with this width can give a flat loss */
    assert_int_equal(net_create(out, &cfg, max_batch), AN_OK);
    assert_int_equal(net_init_params(*out, SEED), AN_OK);
}

static int setup(void **state, double width, int classes, int batch)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    f->width = width;
    f->classes = classes;
    f->batch = batch;
    make_net(f, &f->cpu, batch);
    make_net(f, &f->table, 1);
    size_t n = (size_t)batch * 3 * NET_INPUT_SIZE * NET_INPUT_SIZE;
    f->input = malloc(n * sizeof(float));
    if (!f->input) return -1;
    gpu_test_fill_uniform(f->input, n, -120.0f, 120.0f, 900); /* byte units, mean subtracted */
    for (int b = 0; b < batch; b++) {
        f->ids[b] = 1000u + 37u * (uint32_t)b;
        f->labels[b] = (b * 3) % classes;
    }
    *state = f;
    return 0;
}

/* Width 0.25, 10 classes, batch 4: fast enough for 5 steps on both sides. */
static int setup_small(void **state) { return setup(state, 0.25, 10, MAX_BATCH); }
/* The paper's network, 1000 classes, batch 2. */
static int setup_full(void **state) { return setup(state, 1.0, 1000, 2); }

static int teardown(void **state)
{
    fixture *f = *state;
    net_destroy(f->cpu);
    net_destroy(f->table);
    free(f->input);
    free(f);
    return 0;
}

/* One training step of the CPU net; returns the loss. */
static double cpu_step(fixture *f, uint32_t step, int update)
{
    double loss = 0.0;
    assert_int_equal(net_forward(f->cpu, f->input, f->batch, f->ids, step, SEED, 1), AN_OK);
    assert_int_equal(net_loss(f->cpu, f->labels, f->batch, &loss), AN_OK);
    assert_int_equal(net_backward(f->cpu, f->labels, f->batch, (float)f->batch), AN_OK);
    if (update)
        sgd_update(net_params(f->cpu), net_momentum(f->cpu), net_grads(f->cpu), net_param_count(f->cpu), 0.01f,
                   SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY);
    return loss;
}

static double gpu_step(net_cuda *g, const float *d_input, const fixture *f, uint32_t step, int update)
{
    double loss = 0.0;
    assert_int_equal(net_cuda_forward(g, d_input, f->batch, f->ids, step, SEED, 1), AN_OK);
    assert_int_equal(net_cuda_loss(g, f->labels, f->batch, &loss), AN_OK);
    assert_int_equal(net_cuda_backward(g, f->labels, f->batch, (float)f->batch), AN_OK);
    if (update) assert_int_equal(net_cuda_update(g, 0.01f, SGD_PAPER_MOMENTUM, SGD_PAPER_WEIGHT_DECAY), AN_OK);
    return loss;
}

/* A GPU net with the fixture's weights and its input batch in net_cuda_input. */
static net_cuda *gpu_net_with_input(const fixture *f, cuda_context *ctx)
{
    net_cuda *g = NULL;
    assert_int_equal(net_cuda_create(&g, ctx, f->table, f->batch), AN_OK);
    size_t n_in = (size_t)f->batch * 3 * NET_INPUT_SIZE * NET_INPUT_SIZE;
    assert_int_equal(cudaMemcpy(net_cuda_input(g), f->input, n_in * sizeof(float), cudaMemcpyHostToDevice),
                     cudaSuccess);
    return g;
}

static void compare_views(const net *reference, const float *gpu_block, const float *cpu_block, const char *what)
{
    for (int i = 0; i < net_param_view_count(reference); i++) {
        const net_param_view *v = net_param_view_at(reference, i);
        char label[96];
        snprintf(label, sizeof label, "%s %s", what, v->name);
        gpu_test_assert_close(label, gpu_block + v->offset, cpu_block + v->offset, v->count, NET_RTOL);
    }
}

static void test_one_step(void **state)
{
    fixture *f = *state;
    cuda_context *ctx = gpu_test_context(CUDA_PRECISION_FP32, 0);
    net_cuda *g = gpu_net_with_input(f, ctx);
    assert_int_equal(cuda_poison(net_cuda_grads(g), net_cuda_param_count(g) * sizeof(float)), AN_OK);
    double gpu_loss = gpu_step(g, net_cuda_input(g), f, 0, 0);
    double cpu_loss = cpu_step(f, 0, 0);
    printf("  one step: loss gpu %.7f cpu %.7f\n", gpu_loss, cpu_loss);
    assert_true(fabs(gpu_loss - cpu_loss) <= 1e-4 * fabs(cpu_loss));
    gpu_test_expect_close("logits", net_cuda_logits(g), net_logits(f->cpu), f->batch * f->classes, NET_RTOL);
    size_t count = net_cuda_param_count(g);
    float *grads = gpu_test_download(net_cuda_grads(g), count);
    compare_views(f->cpu, grads, net_grads(f->cpu), "grad");
    free(grads);
    net_cuda_destroy(g);
    cuda_context_destroy(ctx);
}

static void test_five_steps(void **state)
{
    fixture *f = *state;
    /* Fresh weights on both sides. */
    assert_int_equal(net_init_params(f->cpu, SEED), AN_OK);
    cuda_context *ctx = gpu_test_context(CUDA_PRECISION_FP32, 0);
    net_cuda *g = gpu_net_with_input(f, ctx);
    for (uint32_t step = 0; step < STEPS; step++) {
        double gl = gpu_step(g, net_cuda_input(g), f, step, 1);
        double cl = cpu_step(f, step, 1);
        printf("  step %u: loss gpu %.7f cpu %.7f\n", step, gl, cl);
        assert_true(fabs(gl - cl) <= 1e-3 * fabs(cl));
    }
    size_t count = net_cuda_param_count(g);
    float *params = gpu_test_download(net_cuda_params(g), count);
    compare_views(f->cpu, params, net_params(f->cpu), "weights after 5 steps");
    free(params);
    net_cuda_destroy(g);
    cuda_context_destroy(ctx);
}

/* Two steps from the same weights, twice, in deterministic mode. */
static float *deterministic_run(fixture *f, size_t *count)
{
    cuda_context *ctx = gpu_test_context(CUDA_PRECISION_FP32, 1);
    net_cuda *g = gpu_net_with_input(f, ctx);
    for (uint32_t step = 0; step < 2; step++) gpu_step(g, net_cuda_input(g), f, step, 1);
    *count = net_cuda_param_count(g);
    float *params = gpu_test_download(net_cuda_params(g), *count);
    net_cuda_destroy(g);
    cuda_context_destroy(ctx);
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

int main(void)
{
    if (!gpu_test_have_device("test_net_cuda")) return GPU_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_step, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_one_step, setup_full, teardown),
        cmocka_unit_test_setup_teardown(test_five_steps, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_deterministic_repeats_bitwise, setup_small, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
