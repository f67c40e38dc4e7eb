/* test_stream_cuda.c: copies and memsets are ordered with the ops around them
 * (cuda_context.h, "Streams and ordering"; backend.h: "ops are ordered").
 * Both streams of a context are non-blocking, so a copy or memset on the
 * legacy NULL stream would run concurrently with the kernels queued on the
 * compute stream; this test would then read half-old, half-new data.
 *
 * Each case uploads, runs an op, overwrites the op's INPUT at once (upload or
 * zero) and runs the op again, then downloads, with no synchronisation
 * anywhere between: if the second upload or the memset could overtake the
 * first op, the first result would show the second input's values. The op is
 * a large fc (a GEMM of about 17 GFLOP, a millisecond or more) so that such
 * a race would have a wide window. All values are small integers, so every
 * float sum is exact in any order and the expected results are exact:
 *   in [B, I] with in[b, i] in 0..3, weight [O, I] all ones, bias 0:
 *   out[b, o] = sum_i in[b, i] (at most 3 x 4096 = 12288 < 2^24).
 * Through the backend table (upload, upload_view, zero, download,
 * download_view) and through cuda_memory.h directly (cuda_copy_to_device,
 * cuda_zero, cuda_poison, cuda_copy_to_host). Exits 77 without a device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backend_cuda.h"
#include "cuda_memory.h"
#include "gpu_test_util.h"
#include "ops_cuda.h"

enum { B = 1024, I = 4096, O = 4096 };

/* in [B, I]: small integers depending on `which`; sums [B] receives its row sums. */
static float *integer_input(int which, float *sums)
{
    float *in = malloc(sizeof(float) * (size_t)B * I); /* [B, I] */
    assert_non_null(in);
    for (int b = 0; b < B; b++) {
        float s = 0.0f;
        for (int i = 0; i < I; i++) {
            float v = (float)((b * 7 + i * 3 + which * 5) % 4);
            in[(size_t)b * I + (size_t)i] = v;
            s += v;
        }
        sums[b] = s;
    }
    return in;
}

/* out [B, O] must be sums[b] in every column. */
static void expect_row_sums(const char *what, const float *out, const float *sums)
{
    for (int b = 0; b < B; b++)
        for (int o = 0; o < O; o++)
            if (out[(size_t)b * O + (size_t)o] != sums[b])
                fail_msg("%s: out[%d, %d] = %.9g, expected %.9g (a copy or memset overtook the op?)", what, b, o,
                         (double)out[(size_t)b * O + (size_t)o], (double)sums[b]);
    printf("  %s: exact\n", what);
}

typedef struct fixture {
    backend *be;
    cuda_context *ctx;
    float *ones;           /* [O, I] host, all 1 */
    float *zeros;          /* [O] host */
    float *a, *b;          /* [B, I] host inputs */
    float sums_a[B], sums_b[B], sums_zero[B];
    float *host_out;       /* [B, O] host */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    backend_cuda_options o = backend_cuda_options_default();
    if (backend_cuda_create(&f->be, &o) != AN_OK) fail_msg("%s", error_message());
    f->ctx = backend_cuda_context(f->be);
    assert_non_null(f->ctx);
    f->ones = malloc(sizeof(float) * (size_t)O * I);
    f->zeros = calloc(O, sizeof(float));
    f->host_out = malloc(sizeof(float) * (size_t)B * O);
    assert_true(f->ones && f->zeros && f->host_out);
    for (size_t i = 0; i < (size_t)O * I; i++) f->ones[i] = 1.0f;
    f->a = integer_input(0, f->sums_a);
    f->b = integer_input(1, f->sums_b);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    free(f->ones), free(f->zeros), free(f->a), free(f->b), free(f->host_out);
    backend_destroy(f->be);
    free(f);
    return 0;
}

/* Through the backend table: upload, fc, upload into the same buffer, fc,
 * zero the buffer, fc, download everything; no synchronize anywhere. */
static void test_backend_copies_are_ordered(void **state)
{
    fixture *f = *state;
    backend *be = f->be;
    const backend_ops *ops = be->ops;
    float *w, *bias, *x, *out1, *out2, *out3; /* [O, I], [O], [B, I], [B, O] x 3 */
    assert_int_equal(ops->alloc(be, (void **)&w, sizeof(float) * (size_t)O * I, "weights"), AN_OK);
    assert_int_equal(ops->alloc(be, (void **)&bias, sizeof(float) * O, "bias"), AN_OK);
    assert_int_equal(ops->alloc(be, (void **)&x, sizeof(float) * (size_t)B * I, "input"), AN_OK);
    assert_int_equal(ops->alloc(be, (void **)&out1, sizeof(float) * (size_t)B * O, "out1"), AN_OK);
    assert_int_equal(ops->alloc(be, (void **)&out2, sizeof(float) * (size_t)B * O, "out2"), AN_OK);
    assert_int_equal(ops->alloc(be, (void **)&out3, sizeof(float) * (size_t)B * O, "out3"), AN_OK);
    assert_int_equal(ops->upload(be, w, f->ones, sizeof(float) * (size_t)O * I), AN_OK); /* 64 MiB: chunked */
    assert_int_equal(ops->upload(be, bias, f->zeros, sizeof(float) * O), AN_OK);
    assert_int_equal(ops->upload(be, x, f->a, sizeof(float) * (size_t)B * I), AN_OK);
    assert_int_equal(ops->fc_forward(be, out1, x, w, bias, B, I, O), AN_OK);
    assert_int_equal(ops->upload(be, x, f->b, sizeof(float) * (size_t)B * I), AN_OK); /* overwrites fc's input */
    assert_int_equal(ops->fc_forward(be, out2, x, w, bias, B, I, O), AN_OK);
    assert_int_equal(ops->zero(be, x, sizeof(float) * (size_t)B * I), AN_OK); /* and again */
    assert_int_equal(ops->fc_forward(be, out3, x, w, bias, B, I, O), AN_OK);
    assert_int_equal(ops->download(be, f->host_out, out1, sizeof(float) * (size_t)B * O), AN_OK);
    expect_row_sums("backend: fc of the first upload", f->host_out, f->sums_a);
    assert_int_equal(ops->download(be, f->host_out, out2, sizeof(float) * (size_t)B * O), AN_OK);
    expect_row_sums("backend: fc of the second upload", f->host_out, f->sums_b);
    const void *view = NULL;
    assert_int_equal(ops->download_view(be, &view, f->host_out, out3, sizeof(float) * (size_t)B * O), AN_OK);
    expect_row_sums("backend: fc of the zeroed input", view, f->sums_zero);

    /* upload_view through one staging buffer, as the network sends each batch:
     * the second view refills the staging buffer while the first fc may still read it. */
    const void *v1 = NULL, *v2 = NULL;
    assert_int_equal(ops->upload_view(be, &v1, x, f->a, sizeof(float) * (size_t)B * I), AN_OK);
    assert_int_equal(ops->fc_forward(be, out1, v1, w, bias, B, I, O), AN_OK);
    assert_int_equal(ops->upload_view(be, &v2, x, f->b, sizeof(float) * (size_t)B * I), AN_OK);
    assert_int_equal(ops->fc_forward(be, out2, v2, w, bias, B, I, O), AN_OK);
    assert_int_equal(ops->download(be, f->host_out, out1, sizeof(float) * (size_t)B * O), AN_OK);
    expect_row_sums("backend: fc of the first upload_view", f->host_out, f->sums_a);
    assert_int_equal(ops->download(be, f->host_out, out2, sizeof(float) * (size_t)B * O), AN_OK);
    expect_row_sums("backend: fc of the second upload_view", f->host_out, f->sums_b);

    void *blocks[] = {w, bias, x, out1, out2, out3};
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) ops->free(be, blocks[i]);
}

/* The same through cuda_memory.h on the backend's context. */
static void test_cuda_memory_copies_are_ordered(void **state)
{
    fixture *f = *state;
    cuda_context *ctx = f->ctx;
    float *w, *bias, *x, *out1, *out2, *out3; /* [O, I], [O], [B, I], [B, O] x 3 */
    assert_int_equal(cuda_malloc((void **)&w, sizeof(float) * (size_t)O * I, "weights"), AN_OK);
    assert_int_equal(cuda_malloc((void **)&bias, sizeof(float) * O, "bias"), AN_OK);
    assert_int_equal(cuda_malloc((void **)&x, sizeof(float) * (size_t)B * I, "input"), AN_OK);
    assert_int_equal(cuda_malloc((void **)&out1, sizeof(float) * (size_t)B * O, "out1"), AN_OK);
    assert_int_equal(cuda_malloc((void **)&out2, sizeof(float) * (size_t)B * O, "out2"), AN_OK);
    assert_int_equal(cuda_malloc((void **)&out3, sizeof(float) * (size_t)B * O, "out3"), AN_OK);
    assert_int_equal(cuda_poison(ctx, x, sizeof(float) * (size_t)B * I), AN_OK); /* then overwritten in order */
    assert_int_equal(cuda_copy_to_device(ctx, w, f->ones, sizeof(float) * (size_t)O * I), AN_OK);
    assert_int_equal(cuda_zero(ctx, bias, sizeof(float) * O), AN_OK);
    assert_int_equal(cuda_copy_to_device(ctx, x, f->a, sizeof(float) * (size_t)B * I), AN_OK);
    assert_int_equal(fc_forward_cuda(f->be, out1, x, w, bias, B, I, O), AN_OK);
    assert_int_equal(cuda_copy_to_device(ctx, x, f->b, sizeof(float) * (size_t)B * I), AN_OK);
    assert_int_equal(fc_forward_cuda(f->be, out2, x, w, bias, B, I, O), AN_OK);
    assert_int_equal(cuda_zero(ctx, x, sizeof(float) * (size_t)B * I), AN_OK);
    assert_int_equal(fc_forward_cuda(f->be, out3, x, w, bias, B, I, O), AN_OK);
    assert_int_equal(cuda_poison(ctx, x, sizeof(float) * (size_t)B * I), AN_OK); /* after the last reader */
    assert_int_equal(cuda_copy_to_host(ctx, f->host_out, out1, sizeof(float) * (size_t)B * O), AN_OK);
    expect_row_sums("cuda_memory: fc of the first copy", f->host_out, f->sums_a);
    assert_int_equal(cuda_copy_to_host(ctx, f->host_out, out2, sizeof(float) * (size_t)B * O), AN_OK);
    expect_row_sums("cuda_memory: fc of the second copy", f->host_out, f->sums_b);
    assert_int_equal(cuda_copy_to_host(ctx, f->host_out, out3, sizeof(float) * (size_t)B * O), AN_OK);
    expect_row_sums("cuda_memory: fc of the zeroed input", f->host_out, f->sums_zero);
    void *blocks[] = {w, bias, x, out1, out2, out3};
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) cuda_free(blocks[i]);
}

int main(void)
{
    if (!gpu_test_have_device("test_stream_cuda")) return GPU_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backend_copies_are_ordered),
        cmocka_unit_test(test_cuda_memory_copies_are_ordered),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
