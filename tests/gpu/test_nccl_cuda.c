/* test_nccl_cuda.c: the gradient sum across replicas (nccl_replicas.h) on
 * every local GPU, one replica per GPU (NCCL refuses two on one device):
 * each replica's block ends as the sum of all of them. With one GPU the sum
 * is over one replica (NCCL's single-rank path); a second sum after the
 * first, awaited by polling (nccl_replicas_wait); teardown finalizing every
 * communicator in one group. Also: two replicas on the
 * same device are refused with a message naming it. Exits 77 (skipped)
 * without a CUDA device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cuda_memory.h"
#include "gpu_test_util.h"
#include "nccl_replicas.h"

enum { MAX_REPLICAS = 8, N = 100003 };

static void test_sum_over_replicas(void **state)
{
    (void)state;
    int count = cuda_device_count();
    if (count > MAX_REPLICAS) count = MAX_REPLICAS;
    cuda_context *ctxs[MAX_REPLICAS] = {0};
    float *blocks[MAX_REPLICAS] = {0};
    float *host = malloc(sizeof(float) * N), *expect = calloc(N, sizeof(float));
    assert_true(host && expect);
    for (int i = 0; i < count; i++) {
        cuda_context_options o = cuda_context_options_default();
        o.device = i;
        assert_int_equal(cuda_context_create(&ctxs[i], &o), AN_OK);
        /* Small integers: the sum is exact in any order. */
        for (int k = 0; k < N; k++) host[k] = (float)((k * 7 + i * 13) % 64);
        for (int k = 0; k < N; k++) expect[k] += host[k];
        blocks[i] = gpu_test_upload(ctxs[i], host, N);
    }
    nccl_replicas *r = NULL;
    assert_int_equal(nccl_replicas_create(&r, ctxs, count), AN_OK);
    assert_int_equal(nccl_replicas_sum(r, blocks, N), AN_OK);
    for (int i = 0; i < count; i++) {
        assert_int_equal(cuda_context_sync(ctxs[i]), AN_OK);
        assert_int_equal(cudaSetDevice(ctxs[i]->device), cudaSuccess);
        gpu_test_expect_bitwise(ctxs[i], "replica sum", blocks[i], expect, sizeof(float) * N);
    }
    printf("  summed over %d replica(s)\n", count);
    /* A second sum waits for the first by polling (no blind synchronize), and
     * the wait after it sees it finished on every replica. */
    assert_int_equal(nccl_replicas_sum(r, blocks, N), AN_OK);
    if (nccl_replicas_wait(r) != AN_OK) fail_msg("nccl_replicas_wait: %s", error_message());
    for (int k = 0; k < N; k++) expect[k] *= (float)count;
    for (int i = 0; i < count; i++) {
        assert_int_equal(cudaSetDevice(ctxs[i]->device), cudaSuccess);
        gpu_test_expect_bitwise(ctxs[i], "replica sum of sums", blocks[i], expect, sizeof(float) * N);
    }
    /* Finalized in one group, then destroyed: returns (a hang fails by CTest's timeout). */
    nccl_replicas_destroy(r);
    for (int i = 0; i < count; i++) {
        assert_int_equal(cudaSetDevice(ctxs[i]->device), cudaSuccess); /* each block is freed on its own device */
        cuda_free(blocks[i]);
        cuda_context_destroy(ctxs[i]);
    }
    free(host), free(expect);
}

/* Two replicas on one device: refused before NCCL is asked, with a message. */
static void test_two_replicas_on_one_device_refused(void **state)
{
    (void)state;
    cuda_context *ctx = NULL;
    cuda_context_options o = cuda_context_options_default();
    assert_int_equal(cuda_context_create(&ctx, &o), AN_OK);
    cuda_context *const ctxs[2] = {ctx, ctx};
    nccl_replicas *r = NULL;
    assert_int_equal(nccl_replicas_create(&r, ctxs, 2), AN_ERR_ARG);
    assert_null(r);
    assert_non_null(strstr(error_message(), "both on CUDA device 0"));
    cuda_context_destroy(ctx);
}

int main(void)
{
    if (!gpu_test_have_device("test_nccl_cuda")) return GPU_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sum_over_replicas),
        cmocka_unit_test(test_two_replicas_on_one_device_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
