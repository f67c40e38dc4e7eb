/* test_cuda_host.c: the host-side logic of the CUDA backend that needs no
 * device, so it runs on every machine: the messages of the
 * error conversions (naming the call, suggesting a smaller --batch on out of
 * memory), and the no-device path (a count of 0, a context and a CUDA
 * backend that fail with a message instead of crashing, `--device cuda`
 * refused with "--device cuda: no usable GPU", `auto` falling back to the
 * CPU; net/backend_select.h). On a machine with a GPU the no-device
 * assertions are replaced by a context and a backend that work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "backend_cuda.h"
#include "backend_select.h"
#include "cuda_check.h"
#include "cuda_context.h"
#include "cuda_memory.h"

static void test_runtime_error_names_call(void **state)
{
    (void)state;
    assert_int_equal(cuda_status_runtime(cudaSuccess, "cudaFoo()", "f.c", 1), AN_OK);
    assert_int_equal(cuda_status_runtime(cudaErrorMemoryAllocation, "cudaMalloc(&p, n)", "x.c", 12), AN_ERR_CUDA);
    assert_non_null(strstr(error_message(), "cudaMalloc(&p, n)"));
    assert_non_null(strstr(error_message(), "x.c:12"));
    assert_non_null(strstr(error_message(), "--batch"));
    assert_int_equal(cuda_status_runtime(cudaErrorInvalidValue, "cudaMemcpy(a, b)", "y.c", 3), AN_ERR_CUDA);
    assert_non_null(strstr(error_message(), "cudaErrorInvalidValue"));
}

static void test_library_errors_name_call(void **state)
{
    (void)state;
    assert_int_equal(cuda_status_cudnn(CUDNN_STATUS_BAD_PARAM, "cudnnConvolutionForward(h)", "c.c", 5),
                     AN_ERR_CUDA);
    assert_non_null(strstr(error_message(), "cudnnConvolutionForward(h)"));
    assert_int_equal(cuda_status_cudnn(CUDNN_STATUS_ALLOC_FAILED, "cudnnFind", "c.c", 6), AN_ERR_CUDA);
    assert_non_null(strstr(error_message(), "--batch"));
    assert_int_equal(cuda_status_cublas(CUBLAS_STATUS_INVALID_VALUE, "cublasGemmEx(h)", "f.c", 7), AN_ERR_CUDA);
    assert_non_null(strstr(error_message(), "CUBLAS_STATUS_INVALID_VALUE"));
    assert_non_null(strstr(error_message(), "cublasGemmEx(h)"));
#ifdef ALEXNET_HAVE_NCCL
    assert_int_equal(cuda_status_nccl(ncclInvalidArgument, "ncclAllReduce(x)", "n.c", 8), AN_ERR_CUDA);
    assert_non_null(strstr(error_message(), "ncclAllReduce(x)"));
#endif
}

static void test_device_probe(void **state)
{
    (void)state;
    int count = cuda_device_count();
    assert_true(count >= 0);
    assert_int_equal(cuda_device_available(), count > 0);
    cuda_context *ctx = NULL;
    an_status st = cuda_context_create(&ctx, NULL);
    if (count == 0) {
        assert_int_equal(st, AN_ERR_CUDA);
        assert_null(ctx);
        assert_non_null(strstr(error_message(), "--device cpu"));
        return;
    }
    assert_int_equal(st, AN_OK);
    assert_int_equal(ctx->precision, BACKEND_PRECISION_FP32);
    /* The workspace is bounded: asking for more than the limit fails with a message. */
    void *w = NULL;
    assert_int_equal(cuda_workspace_get(ctx, ctx->workspace_limit_bytes + 1, &w), AN_ERR_CUDA);
    assert_non_null(strstr(error_message(), "over the limit"));
    assert_int_equal(cuda_workspace_get(ctx, 4096, &w), AN_OK);
    assert_non_null(w);
    /* Out of memory names the bytes and suggests a smaller batch. */
    void *huge = NULL;
    assert_int_equal(cuda_malloc(&huge, (size_t)1 << 50, "a test of failure"), AN_ERR_CUDA);
    assert_non_null(strstr(error_message(), "1125899906842624 bytes"));
    assert_non_null(strstr(error_message(), "--batch"));
    cuda_context_destroy(ctx);
}

/* The CUDA instance of the backend table and its selection by --device. */
static void test_backend_probe(void **state)
{
    (void)state;
    int count = backend_cuda_device_count();
    assert_int_equal(count, cuda_device_count());
    assert_true(backend_cuda_built());
    backend_cuda_options o = backend_cuda_options_default();
    assert_int_equal(o.device, 0);
    assert_int_equal(o.precision, BACKEND_PRECISION_FP32);
    assert_int_equal(o.deterministic, 1);
    backend *be = NULL, *cpu = NULL;
    backend_request cuda_request = {.device = "cuda", .rank = 0, .deterministic = 1};
    backend_request auto_request = {.device = "auto", .rank = 0, .deterministic = 1};
    if (count == 0) {
        assert_int_equal(backend_cuda_create(&be, &o), AN_ERR_CUDA);
        assert_null(be);
        assert_non_null(strstr(error_message(), "--device cpu"));
        /* asking for a GPU never silently runs on the CPU */
        assert_int_equal(backend_open(&be, &cuda_request), AN_ERR_UNSUPPORTED);
        assert_null(be);
        assert_non_null(strstr(error_message(), "--device cuda: no usable GPU"));
        cuda_request.device = "cuda:1";
        assert_int_equal(backend_open(&be, &cuda_request), AN_ERR_UNSUPPORTED);
        assert_non_null(strstr(error_message(), "--device cuda:1: no usable GPU"));
        /* auto does */
        assert_int_equal(backend_open(&be, &auto_request), AN_OK);
        assert_string_equal(be->kind, "cpu");
        backend_destroy(be);
    } else {
        assert_int_equal(backend_cuda_create(&be, &o), AN_OK);
        assert_string_equal(be->kind, "cuda");
        assert_non_null(strstr(be->description, "(CUDA device 0, fp32, deterministic)"));
        assert_non_null(backend_cuda_context(be));
        backend_destroy(be);
        assert_int_equal(backend_open(&be, &auto_request), AN_OK);
        assert_string_equal(be->kind, "cuda");
        backend_destroy(be);
    }
    backend_request cpu_request = {.device = "cpu", .rank = 0, .deterministic = 1};
    assert_int_equal(backend_open(&cpu, &cpu_request), AN_OK);
    assert_null(backend_cuda_context(cpu)); /* not a CUDA backend */
    backend_destroy(cpu);
    assert_null(backend_cuda_context(NULL));
}

static void test_bad_device_ordinal(void **state)
{
    (void)state;
    cuda_context_options o = cuda_context_options_default();
    o.device = 4096;
    cuda_context *ctx = NULL;
    an_status st = cuda_context_create(&ctx, &o);
    assert_true(st == AN_ERR_CUDA || st == AN_ERR_ARG);
    assert_null(ctx);
    assert_true(strlen(error_message()) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runtime_error_names_call),
        cmocka_unit_test(test_library_errors_name_call),
        cmocka_unit_test(test_device_probe),
        cmocka_unit_test(test_backend_probe),
        cmocka_unit_test(test_bad_device_ordinal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
