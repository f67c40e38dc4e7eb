/* test_crop_cuda.c: crop_input_cuda (ops_cuda.h), the network's input
 * cut from stored images in one pass (§4.1, §2), against a reference loop
 * written here from op_shapes.h's crop_choice formula
 *   out[c, y, x] = (image[y0 + y, x0 + sx, c] - mean[y0 + y, x0 + sx, c]) + shift[c],
 *   sx = flip ? 223 - x : x,
 * in that float order: bit for bit. Also against the CPU twin
 * (kernels/cpu/crop_cpu.h) on the training loader's choices
 * (train/augment.c, when this build has it) for draws of several image ids
 * and the centre crop, again bitwise. A corner outside [0, 32] gives a
 * NaN view; batch 0 does nothing. The images go up through the overlapped
 * copy path (cuda_upload.h). The float <-> bf16 conversions that the bf16
 * convolutions use (convert_cuda.h): round to nearest even, bitwise. Exits
 * 77 (skipped) without a CUDA device. */
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
#include "image_geometry.h"
#include "op_shapes.h"
#include "ops_cuda.h"
#include "philox.h"
#include "convert_cuda.h"
#ifdef CROP_TEST_HAVE_AUGMENT
#include "augment.h"
#include "crop_cpu.h"
#endif

enum { B = 6, OUT = (int)IMAGE_CROP_FLOATS, CROP = IMAGE_CROP_SIZE, SRC = IMAGE_STORED_SIZE };

/* op_shapes.h's formula, one view: out [3, 224, 224] from image [256, 256, 3]
 * uint8 and mean [256, 256, 3]. */
static void reference_crop(float *out, const uint8_t *image, const float *mean, const crop_choice *c)
{
    for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < CROP; y++)
            for (int x = 0; x < CROP; x++) {
                int sx = (c->flip ? CROP - 1 - x : x) + c->x, sy = y + c->y;
                size_t src = ((size_t)sy * SRC + (size_t)sx) * 3 + (size_t)ch;
                float centred = (float)image[src] - mean[src];
                out[(size_t)ch * CROP * CROP + (size_t)y * CROP + (size_t)x] = centred + c->shift[ch];
            }
}

/* Round-to-nearest-even float -> bf16 bits (finite inputs). */
static uint16_t bf16_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    u += 0x7FFFu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

typedef struct fixture {
    cuda_context *ctx;
    uint8_t *images;   /* [B, 256, 256, 3] page-locked host (the copy stream reads it) */
    float *mean;       /* [256, 256, 3] host */
    uint8_t *d_images; /* [B, 256, 256, 3] device */
    float *d_mean;     /* [256, 256, 3] device */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->ctx = gpu_test_context(BACKEND_PRECISION_FP32, 0);
    const size_t bytes = (size_t)B * IMAGE_STORED_BYTES;
    assert_int_equal(cuda_malloc_host((void **)&f->images, bytes, "test images"), AN_OK);
    for (size_t i = 0; i < bytes; i += 4) {
        philox_block r = philox_draw(7, PHILOX_PURPOSE_TEST, 1, 0, (uint32_t)(i / 4));
        for (size_t j = 0; j < 4 && i + j < bytes; j++) f->images[i + j] = (uint8_t)(r.v[j] >> 24);
    }
    f->mean = gpu_test_random(IMAGE_STORED_BYTES, 90.0f, 140.0f, 1000);
    f->d_mean = gpu_test_upload(f->ctx, f->mean, IMAGE_STORED_BYTES);
    assert_int_equal(cuda_malloc((void **)&f->d_images, bytes, "images"), AN_OK);
    /* up on the copy stream, the compute stream waiting on its event */
    cuda_upload up;
    assert_int_equal(cuda_upload_create(&up), AN_OK);
    assert_int_equal(cuda_upload_async(f->ctx, &up, f->d_images, f->images, bytes), AN_OK);
    assert_int_equal(cuda_upload_wait(f->ctx, &up), AN_OK);
    assert_int_equal(cuda_upload_release(f->ctx, &up), AN_OK);
    assert_int_equal(cuda_upload_sync_host(&up), AN_OK);
    cuda_upload_destroy(&up);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    cuda_free(f->d_images), cuda_free(f->d_mean);
    cuda_free_host(f->images);
    free(f->mean);
    gpu_test_context_destroy(f->ctx);
    free(f);
    return 0;
}

/* Runs the crop for choices [B] and compares it with expect [B, 3, 224, 224]. */
static void check_choices(fixture *f, const crop_choice *choices, const float *expect, const char *what)
{
    crop_choice *d_choices = gpu_test_upload_bytes(f->ctx, choices, sizeof(crop_choice) * B); /* [B] */
    float *d_out = gpu_test_poisoned(f->ctx, sizeof(float) * (size_t)B * OUT);          /* [B, 3, 224, 224] */
    assert_int_equal(crop_input_cuda(gpu_test_backend(f->ctx), d_out, f->d_images, f->d_mean, d_choices, B, 1), AN_OK);
    gpu_test_expect_bitwise(f->ctx, what, d_out, expect, sizeof(float) * (size_t)B * OUT);
    cuda_free(d_choices), cuda_free(d_out);
}

/* Every corner case of the geometry: both extremes of the offsets, flips, shifts of either sign. */
static void test_crop_matches_reference(void **state)
{
    fixture *f = *state;
    const crop_choice choices[B] = {
        {0, 0, 0, {0.0f, 0.0f, 0.0f}},
        {IMAGE_MAX_OFFSET, IMAGE_MAX_OFFSET, 1, {0.0f, 0.0f, 0.0f}},
        {IMAGE_CENTRE_OFFSET, IMAGE_CENTRE_OFFSET, 0, {0.0f, 0.0f, 0.0f}},
        {3, 29, 1, {12.5f, -7.25f, 0.1f}},
        {31, 1, 0, {-3.3f, 4.4f, -5.5f}},
        {IMAGE_MAX_OFFSET, 0, 1, {1e-3f, -1e-3f, 255.0f}},
    };
    float *expect = malloc(sizeof(float) * (size_t)B * OUT); /* [B, 3, 224, 224] */
    assert_non_null(expect);
    for (int b = 0; b < B; b++)
        reference_crop(expect + (size_t)b * OUT, f->images + (size_t)b * IMAGE_STORED_BYTES, f->mean, &choices[b]);
    check_choices(f, choices, expect, "crop against op_shapes.h's formula");
    free(expect);
}

#ifdef CROP_TEST_HAVE_AUGMENT
/* The loader's draws (crop, flip, PCA lighting shift) as crop_choices: the
 * GPU view equals the loader's augment_apply bit for bit. */
static void test_crop_matches_loader_augmentation(void **state)
{
    fixture *f = *state;
    /* An orthonormal basis (columns: grey, red-green, blue-yellow) and eigenvalues in [0,1] units. */
    augment_params params = {.seed = 2012, .mean_image = f->mean, .lighting_std = AUGMENT_LIGHTING_STD};
    const float r3 = 0.57735027f, r2 = 0.70710678f, r6 = 0.40824829f;
    const float basis[3][3] = {{r3, r2, r6}, {r3, -r2, r6}, {r3, 0.0f, -2.0f * r6}};
    memcpy(params.eigenvectors, basis, sizeof basis);
    params.eigenvalues[0] = 0.2f, params.eigenvalues[1] = 0.02f, params.eigenvalues[2] = 0.005f;
    augment_draw draws[B];
    const uint32_t ids[B - 1] = {0, 1, 977, 123456, 5};
    for (int b = 0; b < B - 1; b++) augment_draw_for(&params, 3, ids[b], &draws[b]);
    augment_draw_centre(&draws[B - 1]); /* the validation input */
    crop_choice choices[B];
    float *expect = malloc(sizeof(float) * (size_t)B * OUT); /* [B, 3, 224, 224] */
    assert_non_null(expect);
    int flips = 0;
    for (int b = 0; b < B; b++) {
        choices[b] = augment_choice(&draws[b]);
        crop_batch_cpu(expect + (size_t)b * OUT, f->images + (size_t)b * IMAGE_STORED_BYTES, f->mean, &choices[b], 1);
        flips += draws[b].flip;
    }
    printf("  %d of %d draws flip\n", flips, B);
    check_choices(f, choices, expect, "crop against the CPU twin on the loader's choices");
    free(expect);
}
#endif

/* A corner outside [0, 32] is the caller's error: a NaN view, no read
 * outside the image; the other views are unaffected. Batch 0 writes nothing. */
static void test_bad_corner_and_empty_batch(void **state)
{
    fixture *f = *state;
    crop_choice choices[B];
    for (int b = 0; b < B; b++) choices[b] = (crop_choice){IMAGE_CENTRE_OFFSET, IMAGE_CENTRE_OFFSET, 0, {0, 0, 0}};
    choices[1].x = IMAGE_MAX_OFFSET + 1;
    choices[4].y = -1;
    crop_choice *d_choices = gpu_test_upload_bytes(f->ctx, choices, sizeof choices); /* [B] */
    float *d_out = gpu_test_poisoned(f->ctx, sizeof(float) * (size_t)B * OUT);    /* [B, 3, 224, 224] */
    assert_int_equal(crop_input_cuda(gpu_test_backend(f->ctx), d_out, f->d_images, f->d_mean, d_choices, B, 1), AN_OK);
    float *out = gpu_test_download(f->ctx, d_out, (size_t)B * OUT); /* [B, 3, 224, 224] */
    float *view = malloc(sizeof(float) * OUT); /* [3, 224, 224] */
    assert_non_null(view);
    for (int b = 0; b < B; b++) {
        if (b == 1 || b == 4) {
            for (int i = 0; i < OUT; i++) assert_true(isnan(out[(size_t)b * OUT + (size_t)i]));
            continue;
        }
        reference_crop(view, f->images + (size_t)b * IMAGE_STORED_BYTES, f->mean, &choices[b]);
        gpu_test_assert_bitwise("valid view beside bad ones", out + (size_t)b * OUT, view, sizeof(float) * OUT);
    }
    /* batch 0: the poisoned buffer stays as it was */
    assert_int_equal(cuda_poison(f->ctx, d_out, sizeof(float) * OUT), AN_OK);
    assert_int_equal(crop_input_cuda(gpu_test_backend(f->ctx), d_out, f->d_images, f->d_mean, d_choices, 0, 1), AN_OK);
    float *after = gpu_test_download(f->ctx, d_out, OUT); /* [3, 224, 224] */
    for (int i = 0; i < OUT; i++) assert_true(isnan(after[i]));
    assert_int_equal(crop_input_cuda(gpu_test_backend(f->ctx), d_out, f->d_images, f->d_mean, d_choices, -1, 1), AN_ERR_ARG);
    free(out), free(view), free(after);
    cuda_free(d_choices), cuda_free(d_out);
}

static void test_bf16_round_trip(void **state)
{
    fixture *f = *state;
    enum { N = 1000 };
    float host[N]; /* [N] */
    gpu_test_fill_uniform(host, N, -1000.0f, 1000.0f, 1100);
    float *d_in = gpu_test_upload(f->ctx, host, N);                      /* [N] */
    uint16_t *d_half = gpu_test_poisoned(f->ctx, N * sizeof(uint16_t));  /* [N] */
    float *d_back = gpu_test_poisoned(f->ctx, N * sizeof(float));        /* [N] */
    assert_int_equal(convert_f32_to_bf16_cuda(f->ctx, d_half, d_in, N), AN_OK);
    assert_int_equal(convert_bf16_to_f32_cuda(f->ctx, d_back, d_half, N), AN_OK);
    uint16_t *half = gpu_test_download_bytes(f->ctx, d_half, N * sizeof(uint16_t)); /* [N] */
    float *back = gpu_test_download(f->ctx, d_back, N);                            /* [N] */
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
    if (!gpu_test_have_device("test_crop_cuda")) return GPU_TEST_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crop_matches_reference),
#ifdef CROP_TEST_HAVE_AUGMENT
        cmocka_unit_test(test_crop_matches_loader_augmentation),
#endif
        cmocka_unit_test(test_bad_corner_and_empty_batch),
        cmocka_unit_test(test_bf16_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
