/* test_augment_cuda.c: the fused augmentation kernel against the definition
 * of §4.1 and §2 evaluated element by element on the host: crop offset,
 * flip, mean subtracted at the source pixel, lighting shift; float output
 * bit for bit, bf16 output the round-to-nearest-even of the float one. The
 * images go up through the overlapped copy path (cuda_upload.h).
 * Exits 77 (skipped) without a CUDA device. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cuda_memory.h"
#include "cuda_upload.h"
#include "gpu_test_util.h"
#include "philox.h"
#include "train_ops_cuda.h"

enum { B = 3, S = 256, C = 224, IMAGE_BYTES = S * S * 3, OUT = 3 * C * C };

/* Round-to-nearest-even float -> bf16 bits (finite inputs). */
static uint16_t bf16_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static void test_augment(void **state)
{
    cuda_context *ctx = *state;
    uint8_t *images = NULL; /* page-locked: it goes up on the copy stream */
    assert_int_equal(cuda_malloc_host((void **)&images, (size_t)B * IMAGE_BYTES, "test images"), AN_OK);
    float *mean = malloc(sizeof(float) * IMAGE_BYTES);
    assert_true(images && mean);
    for (size_t i = 0; i < (size_t)B * IMAGE_BYTES; i += 4) {
        philox_block r = philox_draw(7, PHILOX_PURPOSE_TEST, 1, 0, (uint32_t)(i / 4));
        for (int j = 0; j < 4; j++) images[i + (size_t)j] = (uint8_t)(r.v[j] >> 24);
    }
    gpu_test_fill_uniform(mean, IMAGE_BYTES, 90.0f, 140.0f, 1000);
    /* Corners of the offset range, both flips, with and without lighting. */
    const augment_choice choices[B] = {
        {0, 0, 0, {0.0f, 0.0f, 0.0f}},
        {32, 7, 1, {3.25f, -1.5f, 0.75f}},
        {16, 32, 1, {-2.0f, 0.5f, 9.125f}},
    };
    uint8_t *d_images = NULL;
    float *d_mean = gpu_test_upload(mean, IMAGE_BYTES);
    augment_choice *d_choices = NULL;
    assert_int_equal(cuda_malloc((void **)&d_images, (size_t)B * IMAGE_BYTES, "images"), AN_OK);
    /* The overlapped upload path: copy stream, then the compute stream waits on it. */
    cuda_upload up;
    assert_int_equal(cuda_upload_create(&up), AN_OK);
    assert_int_equal(cuda_upload_async(ctx, &up, d_images, images, (size_t)B * IMAGE_BYTES), AN_OK);
    assert_int_equal(cuda_upload_wait(ctx, &up), AN_OK);
    assert_int_equal(cuda_malloc((void **)&d_choices, sizeof choices, "choices"), AN_OK);
    assert_int_equal(cuda_copy_to_device(d_choices, choices, sizeof choices), AN_OK);
    float *d_out = gpu_test_poisoned(sizeof(float) * B * OUT);
    uint16_t *d_bf16 = gpu_test_poisoned(sizeof(uint16_t) * B * OUT);
    assert_int_equal(augment_batch_cuda(ctx, d_out, d_images, d_mean, d_choices, B), AN_OK);
    assert_int_equal(augment_batch_bf16_cuda(ctx, d_bf16, d_images, d_mean, d_choices, B), AN_OK);
    assert_int_equal(cuda_upload_release(ctx, &up), AN_OK);
    assert_int_equal(cuda_upload_sync_host(&up), AN_OK);
    cuda_upload_destroy(&up);
    float *out = gpu_test_download(d_out, (size_t)B * OUT);
    uint16_t *bf16 = gpu_test_download_bytes(d_bf16, sizeof(uint16_t) * B * OUT);

    for (int b = 0; b < B; b++) {
        const augment_choice *c = &choices[b];
        for (int ch = 0; ch < 3; ch++)
            for (int y = 0; y < C; y++)
                for (int x = 0; x < C; x++) {
                    /* The flip mirrors the crop; the mean is taken at the source pixel (§2). */
                    int sx = c->x + (c->flip ? C - 1 - x : x), sy = c->y + y;
                    size_t src = ((size_t)sy * S + (size_t)sx) * 3 + (size_t)ch;
                    float expect = ((float)images[(size_t)b * IMAGE_BYTES + src] - mean[src]) + c->shift[ch];
                    size_t at = (size_t)b * OUT + (size_t)ch * C * C + (size_t)y * C + (size_t)x;
                    if (memcmp(&out[at], &expect, sizeof expect) != 0)
                        fail_msg("image %d channel %d (%d, %d): gpu %.9g expected %.9g", b, ch, y, x,
                                 (double)out[at], (double)expect);
                    if (bf16[at] != bf16_bits(expect))
                        fail_msg("bf16 image %d channel %d (%d, %d): %04x expected %04x", b, ch, y, x, bf16[at],
                                 bf16_bits(expect));
                }
    }
    assert_int_equal(augment_batch_cuda(ctx, d_out, d_images, d_mean, d_choices, 0), AN_ERR_ARG);
    cuda_free(d_images), cuda_free(d_mean), cuda_free(d_choices), cuda_free(d_out), cuda_free(d_bf16);
    cuda_free_host(images);
    free(mean), free(out), free(bf16);
}

static void test_bf16_round_trip(void **state)
{
    cuda_context *ctx = *state;
    enum { N = 1000 };
    float host[N];
    gpu_test_fill_uniform(host, N, -1000.0f, 1000.0f, 1100);
    float *d_in = gpu_test_upload(host, N);
    uint16_t *d_half = gpu_test_poisoned(N * sizeof(uint16_t));
    float *d_back = gpu_test_poisoned(N * sizeof(float));
    assert_int_equal(convert_f32_to_bf16_cuda(ctx, d_half, d_in, N), AN_OK);
    assert_int_equal(convert_bf16_to_f32_cuda(ctx, d_back, d_half, N), AN_OK);
    uint16_t *half = gpu_test_download_bytes(d_half, N * sizeof(uint16_t));
    float *back = gpu_test_download(d_back, N);
    for (int i = 0; i < N; i++) {
        assert_int_equal(half[i], bf16_bits(host[i]));
        uint32_t bits = (uint32_t)half[i] << 16;
        float expect;
        memcpy(&expect, &bits, sizeof expect);
        assert_memory_equal(&back[i], &expect, sizeof expect);
    }
    cuda_free(d_in), cuda_free(d_half), cuda_free(d_back);
    free(half), free(back);
}

int main(void)
{
    if (!gpu_test_have_device("test_augment_cuda")) return GPU_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_augment),
        cmocka_unit_test(test_bf16_round_trip),
    };
    return cmocka_run_group_tests(tests, gpu_test_setup_context, gpu_test_teardown_context);
}
