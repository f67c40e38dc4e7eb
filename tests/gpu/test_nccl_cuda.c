/* test_nccl_cuda.c: the gradient sum across replicas (nccl_replicas.h) on
 * every local GPU: each replica's block ends as the sum of all of them.
 * With one GPU the sum is over one replica (NCCL's single-rank path). Exits
 * 77 (skipped) without a CUDA device. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

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
        blocks[i] = gpu_test_upload(host, N);
    }
    nccl_replicas *r = NULL;
    assert_int_equal(nccl_replicas_create(&r, ctxs, count), AN_OK);
    assert_int_equal(nccl_replicas_sum(r, blocks, N), AN_OK);
    for (int i = 0; i < count; i++) {
        assert_int_equal(cuda_context_sync(ctxs[i]), AN_OK);
        assert_int_equal(cudaSetDevice(ctxs[i]->device), cudaSuccess);
        gpu_test_expect_bitwise("replica sum", blocks[i], expect, sizeof(float) * N);
    }
    printf("  summed over %d replica(s)\n", count);
    nccl_replicas_destroy(r);
    for (int i = 0; i < count; i++) {
        cuda_free(blocks[i]);
        cuda_context_destroy(ctxs[i]);
    }
    free(host), free(expect);
}

int main(void)
{
    if (!gpu_test_have_device("test_nccl_cuda")) return GPU_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sum_over_replicas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
