/* test_augment_cuda.c: the fused augmentation kernel against the CPU's
 * (train/augment.c) on the same images and the same Philox draws: random
 * crops, flips and lighting of several image ids, and the centre crop. Float
 * output bit for bit; bf16 output the round-to-nearest-even of the CPU's
 * float. The images go up through the overlapped copy path (cuda_upload.h).
 * Exits 77 (skipped) without a CUDA device. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "augment.h"
#include "cuda_memory.h"
#include "cuda_upload.h"
#include "gpu_test_util.h"
#include "philox.h"
#include "train_ops_cuda.h"

enum { B = 5, IMAGE_BYTES = IMAGE_STORED_BYTES, OUT = IMAGE_CROP_FLOATS };

/* The loader copies its augment_draw array to the device as augment_choice. */
_Static_assert(sizeof(augment_choice) == sizeof(augment_draw), "augment_choice layout");
_Static_assert(offsetof(augment_choice, flip) == offsetof(augment_draw, flip), "augment_choice layout");
_Static_assert(offsetof(augment_choice, alpha) == offsetof(augment_draw, alpha), "augment_choice layout");
_Static_assert(offsetof(augment_choice, shift) == offsetof(augment_draw, shift), "augment_choice layout");

/* Round-to-nearest-even float -> bf16 bits (finite inputs). */
static uint16_t bf16_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static void test_augment_matches_cpu(void **state)
{
    cuda_context *ctx = *state;
    uint8_t *images = NULL; /* [B, 256, 256, 3], page-locked: it goes up on the copy stream */
    assert_int_equal(cuda_malloc_host((void **)&images, (size_t)B * IMAGE_BYTES, "test images"), AN_OK);
    float *mean = malloc(sizeof(float) * IMAGE_BYTES);    /* [256, 256, 3] */
    float *expect = malloc(sizeof(float) * (size_t)B * OUT); /* [B, 3, 224, 224] */
    assert_true(mean && expect);
    for (size_t i = 0; i < (size_t)B * IMAGE_BYTES; i += 4) {
        philox_block r = philox_draw(7, PHILOX_PURPOSE_TEST, 1, 0, (uint32_t)(i / 4));
        for (int j = 0; j < 4; j++) images[i + (size_t)j] = (uint8_t)(r.v[j] >> 24);
    }
    gpu_test_fill_uniform(mean, IMAGE_BYTES, 90.0f, 140.0f, 1000);

    /* An orthonormal basis (columns: grey, red-green, blue-yellow) and eigenvalues in [0,1] units. */
    augment_params params = {.seed = 2012, .mean_image = mean, .lighting_std = AUGMENT_LIGHTING_STD};
    const float r3 = 0.57735027f, r2 = 0.70710678f, r6 = 0.40824829f;
    const float basis[3][3] = {{r3, r2, r6}, {r3, -r2, r6}, {r3, 0.0f, -2.0f * r6}};
    memcpy(params.eigenvectors, basis, sizeof basis);
    params.eigenvalues[0] = 0.2f, params.eigenvalues[1] = 0.02f, params.eigenvalues[2] = 0.005f;

    augment_draw draws[B];
    const uint32_t ids[B - 1] = {0, 1, 977, 123456};
    for (int b = 0; b < B - 1; b++) augment_draw_for(&params, 3, ids[b], &draws[b]);
    augment_draw_centre(&draws[B - 1]); /* the validation input */
    int flips = 0;
    for (int b = 0; b < B; b++) {
        augment_apply(images + (size_t)b * IMAGE_BYTES, mean, &draws[b], expect + (size_t)b * OUT);
        flips += draws[b].flip;
    }
    printf("  %d of %d draws flip\n", flips, B);

    uint8_t *d_images = NULL;
    augment_choice *d_choices = NULL;
    float *d_mean = gpu_test_upload(mean, IMAGE_BYTES);
    assert_int_equal(cuda_malloc((void **)&d_images, (size_t)B * IMAGE_BYTES, "images"), AN_OK);
    assert_int_equal(cuda_malloc((void **)&d_choices, sizeof draws, "choices"), AN_OK);
    assert_int_equal(cuda_copy_to_device(d_choices, draws, sizeof draws), AN_OK);
    cuda_upload up;
    assert_int_equal(cuda_upload_create(&up), AN_OK);
    assert_int_equal(cuda_upload_async(ctx, &up, d_images, images, (size_t)B * IMAGE_BYTES), AN_OK);
    assert_int_equal(cuda_upload_wait(ctx, &up), AN_OK);
    float *d_out = gpu_test_poisoned(sizeof(float) * (size_t)B * OUT);
    uint16_t *d_bf16 = gpu_test_poisoned(sizeof(uint16_t) * (size_t)B * OUT);
    assert_int_equal(augment_batch_cuda(ctx, d_out, d_images, d_mean, d_choices, B), AN_OK);
    assert_int_equal(augment_batch_bf16_cuda(ctx, d_bf16, d_images, d_mean, d_choices, B), AN_OK);
    assert_int_equal(cuda_upload_release(ctx, &up), AN_OK);
    assert_int_equal(cuda_upload_sync_host(&up), AN_OK);
    cuda_upload_destroy(&up);

    gpu_test_expect_bitwise("augmented batch", d_out, expect, sizeof(float) * (size_t)B * OUT);
    uint16_t *bf16 = gpu_test_download_bytes(d_bf16, sizeof(uint16_t) * (size_t)B * OUT);
    for (size_t i = 0; i < (size_t)B * OUT; i++)
        if (bf16[i] != bf16_bits(expect[i]))
            fail_msg("bf16 element %zu: %04x, expected %04x (from %.9g)", i, bf16[i], bf16_bits(expect[i]),
                     (double)expect[i]);
    assert_int_equal(augment_batch_cuda(ctx, d_out, d_images, d_mean, d_choices, 0), AN_ERR_ARG);
    cuda_free(d_images), cuda_free(d_mean), cuda_free(d_choices), cuda_free(d_out), cuda_free(d_bf16);
    cuda_free_host(images);
    free(mean), free(expect), free(bf16);
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
        cmocka_unit_test(test_augment_matches_cpu),
        cmocka_unit_test(test_bf16_round_trip),
    };
    return cmocka_run_group_tests(tests, gpu_test_setup_context, gpu_test_teardown_context);
}
