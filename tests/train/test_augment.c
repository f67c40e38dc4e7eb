/* test_augment.c: crop bounds, flips, PCA lighting against its formula, mean
 * subtraction at the source pixel, thread-count independence (§4.1), and the
 * one CPU crop underneath (kernels/cpu/crop_cpu.h) over a batch. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "augment.h"
#include "crop_cpu.h"
#include "net_cpu.h"

enum { S = IMAGE_STORED_SIZE, W = IMAGE_CROP_SIZE, PLANE = W * W };

/* An image whose bytes are a non-symmetric function of (y, x, c). */
static uint8_t *make_image(uint32_t salt)
{
    uint8_t *img = malloc(IMAGE_STORED_BYTES); /* [256,256,3] */
    assert_non_null(img);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            for (int c = 0; c < 3; c++)
                img[(y * S + x) * 3 + c] = (uint8_t)((y * 7 + x * 13 + c * 101 + (int)salt) & 0xff);
    return img;
}

/* A mean image that differs at every position (so a flipped mean would be caught). */
static float *make_mean(void)
{
    float *mean = malloc(sizeof(float) * IMAGE_STORED_BYTES); /* [256,256,3] */
    assert_non_null(mean);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++)
            for (int c = 0; c < 3; c++)
                mean[(y * S + x) * 3 + c] = 0.25f * (float)x + 0.5f * (float)y + 10.0f * (float)c + 0.125f;
    return mean;
}

static void make_params(augment_params *p, const float *mean)
{
    memset(p, 0, sizeof *p);
    p->seed = 12345;
    p->mean_image = mean;
    /* An orthonormal basis (a rotation), columns are eigenvectors. */
    const float c = cosf(0.7f), s = sinf(0.7f);
    float rot[3][3] = { { c, -s, 0 }, { s, c, 0 }, { 0, 0, 1 } };
    memcpy(p->eigenvectors, rot, sizeof rot);
    p->eigenvalues[0] = 0.2f;
    p->eigenvalues[1] = 0.02f;
    p->eigenvalues[2] = 0.005f;
    p->lighting_std = AUGMENT_LIGHTING_STD;
}

static void test_crop_bounds_and_flip_rate(void **state)
{
    (void)state;
    float mean[1] = { 0 };
    augment_params p;
    make_params(&p, mean);
    int seen_x[IMAGE_MAX_OFFSET + 1] = { 0 }, seen_y[IMAGE_MAX_OFFSET + 1] = { 0 };
    int flips = 0;
    const int n = 20000;
    for (int id = 0; id < n; id++) {
        augment_draw d;
        augment_draw_for(&p, 3, (uint32_t)id, &d);
        assert_true(d.x >= 0 && d.x <= IMAGE_MAX_OFFSET);
        assert_true(d.y >= 0 && d.y <= IMAGE_MAX_OFFSET);
        assert_true(d.flip == 0 || d.flip == 1);
        seen_x[d.x]++;
        seen_y[d.y]++;
        flips += d.flip;
    }
    /* Every one of the 33 offsets occurs, including both ends. */
    for (int i = 0; i <= IMAGE_MAX_OFFSET; i++) {
        assert_true(seen_x[i] > 0);
        assert_true(seen_y[i] > 0);
    }
    /* p = 0.5: within 5 standard deviations (sd = sqrt(n)/2). */
    assert_true(fabs(flips - n / 2.0) < 5.0 * sqrt((double)n) / 2.0);
}

static void test_draws_depend_on_key(void **state)
{
    (void)state;
    float mean[1] = { 0 };
    augment_params p;
    make_params(&p, mean);
    int same_epoch = 0, same_seed = 0;
    for (int id = 0; id < 200; id++) {
        augment_draw a, b, c, d;
        augment_draw_for(&p, 0, (uint32_t)id, &a);
        augment_draw_for(&p, 0, (uint32_t)id, &b);
        assert_memory_equal(&a, &b, sizeof a); /* a pure function of the key */
        augment_draw_for(&p, 1, (uint32_t)id, &c);
        same_epoch += (a.x == c.x && a.y == c.y && a.flip == c.flip);
        augment_params q = p;
        q.seed = 999;
        augment_draw_for(&q, 0, (uint32_t)id, &d);
        same_seed += (a.x == d.x && a.y == d.y && a.flip == d.flip);
    }
    /* Chance agreement of all three is 1/2178 per image. */
    assert_true(same_epoch < 5);
    assert_true(same_seed < 5);
}

static void test_crop_and_flip_copy_the_right_pixels(void **state)
{
    (void)state;
    uint8_t *img = make_image(0);
    float *mean = calloc(IMAGE_STORED_BYTES, sizeof(float));
    float *out = malloc(sizeof(float) * IMAGE_CROP_FLOATS); /* [3,224,224] */
    assert_non_null(mean);
    assert_non_null(out);
    int offsets[3][2] = { { 0, 0 }, { 32, 32 }, { 5, 27 } };
    for (int k = 0; k < 3; k++) {
        for (int flip = 0; flip <= 1; flip++) {
            augment_draw d;
            augment_draw_centre(&d);
            d.x = offsets[k][0];
            d.y = offsets[k][1];
            d.flip = flip;
            crop_cut(img, mean, augment_choice(&d), out);
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < W; y++)
                    for (int x = 0; x < W; x++) {
                        int sx = d.x + (flip ? W - 1 - x : x), sy = d.y + y;
                        float want = (float)img[(sy * S + sx) * 3 + c];
                        assert_true(out[c * PLANE + y * W + x] == want);
                    }
        }
    }
    free(img);
    free(mean);
    free(out);
}

static void test_mean_subtracted_at_source_pixel(void **state)
{
    (void)state;
    uint8_t *img = make_image(17);
    float *mean = make_mean();
    float *out = malloc(sizeof(float) * IMAGE_CROP_FLOATS);
    assert_non_null(out);
    augment_draw d;
    augment_draw_centre(&d);
    d.x = 3;
    d.y = 30;
    d.flip = 1;
    crop_cut(img, mean, augment_choice(&d), out);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < W; y++)
            for (int x = 0; x < W; x++) {
                int sx = d.x + W - 1 - x, sy = d.y + y;
                size_t src = (size_t)(sy * S + sx) * 3 + (size_t)c;
                float want = (float)img[src] - mean[src];
                assert_true(out[c * PLANE + y * W + x] == want);
            }
    free(img);
    free(mean);
    free(out);
}

static void test_lighting_equals_formula(void **state)
{
    (void)state;
    uint8_t *img = make_image(3);
    float *mean = make_mean();
    float *out = malloc(sizeof(float) * IMAGE_CROP_FLOATS);
    assert_non_null(out);
    augment_params p;
    make_params(&p, mean);
    double alpha_sum[3] = { 0 }, alpha_sq[3] = { 0 };
    const int n = 4000;
    for (int id = 0; id < n; id++) {
        augment_draw d;
        augment_draw_for(&p, 7, (uint32_t)id, &d);
        for (int i = 0; i < 3; i++) {
            alpha_sum[i] += d.alpha[i];
            alpha_sq[i] += (double)d.alpha[i] * d.alpha[i];
        }
        if (id >= 5) continue;
        /* The shift: 255 * sum_i eigvec[:, i] * alpha_i * lambda_i, in byte units. */
        double shift[3];
        for (int c = 0; c < 3; c++) {
            shift[c] = 0;
            for (int i = 0; i < 3; i++)
                shift[c] += 255.0 * p.eigenvectors[c][i] * d.alpha[i] * p.eigenvalues[i];
            assert_true(fabs(shift[c] - d.shift[c]) < 1e-4);
        }
        assert_true(fabs(shift[0]) + fabs(shift[1]) > 0.0); /* lighting is on */
        crop_cut(img, mean, augment_choice(&d), out);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < W; y += 37)
                for (int x = 0; x < W; x += 11) {
                    int sx = d.x + (d.flip ? W - 1 - x : x), sy = d.y + y;
                    size_t src = (size_t)(sy * S + sx) * 3 + (size_t)c;
                    double want = (double)img[src] - mean[src] + shift[c];
                    assert_true(fabs(out[c * PLANE + y * W + x] - want) < 1e-3);
                }
    }
    /* alpha ~ N(0, 0.1): sample mean and standard deviation. */
    for (int i = 0; i < 3; i++) {
        double m = alpha_sum[i] / n, sd = sqrt(alpha_sq[i] / n - m * m);
        assert_true(fabs(m) < 5 * 0.1 / sqrt((double)n));
        assert_true(fabs(sd - 0.1) < 0.01);
    }
    /* lighting_std 0 turns it off. */
    p.lighting_std = 0.0f;
    augment_draw d;
    augment_draw_for(&p, 7, 1, &d);
    for (int c = 0; c < 3; c++) assert_true(d.shift[c] == 0.0f);
    free(img);
    free(mean);
    free(out);
}

static void test_centre_crop(void **state)
{
    (void)state;
    uint8_t *img = make_image(9);
    float *mean = make_mean();
    float *out = malloc(sizeof(float) * IMAGE_CROP_FLOATS);
    assert_non_null(out);
    augment_params p;
    make_params(&p, mean);
    augment_draw centre;
    augment_draw_centre(&centre);
    crop_cut(img, p.mean_image, augment_choice(&centre), out);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < W; y += 5)
            for (int x = 0; x < W; x += 3) {
                size_t src = (size_t)((y + 16) * S + x + 16) * 3 + (size_t)c;
                assert_true(out[c * PLANE + y * W + x] == (float)img[src] - mean[src]);
            }
    free(img);
    free(mean);
    free(out);
}

/* crop_batch_cpu over a batch: choice b cuts image b into view b, each value
 * exactly ((float)pixel - mean) + shift in that float order, the same bits as
 * crop_cut image by image; a batch of 0 writes nothing. */
static void test_crop_batch_cpu(void **state)
{
    (void)state;
    enum { B = 3 };
    uint8_t *images = malloc((size_t)B * IMAGE_STORED_BYTES);              /* [B,256,256,3] */
    float *batch = malloc(sizeof(float) * (size_t)B * IMAGE_CROP_FLOATS); /* [B,3,224,224] */
    float *one = malloc(sizeof(float) * IMAGE_CROP_FLOATS);               /* [3,224,224] */
    float *mean = make_mean();
    assert_true(images && batch && one);
    for (int b = 0; b < B; b++) {
        uint8_t *img = make_image((uint32_t)(40 + 71 * b));
        memcpy(images + (size_t)b * IMAGE_STORED_BYTES, img, IMAGE_STORED_BYTES);
        free(img);
    }
    augment_params p;
    make_params(&p, mean);
    augment_draw d[B];
    crop_choice choices[B];
    int flips = 0;
    for (int b = 0; b < B; b++) {
        augment_draw_for(&p, 4, (uint32_t)(b + 3), &d[b]);
        if (b == 1) d[b].flip = !d[0].flip; /* both mirror states in one batch */
        choices[b] = (crop_choice){.x = d[b].x, .y = d[b].y, .flip = d[b].flip,
                                   .shift = {d[b].shift[0], d[b].shift[1], d[b].shift[2]}};
        flips += d[b].flip;
    }
    assert_true(flips > 0 && flips < B);
    crop_batch_cpu(batch, images, mean, choices, B);
    for (int b = 0; b < B; b++) {
        const uint8_t *img = images + (size_t)b * IMAGE_STORED_BYTES;
        const float *view = batch + (size_t)b * IMAGE_CROP_FLOATS;
        assert_true(fabsf(d[b].shift[0]) + fabsf(d[b].shift[1]) > 0.0f); /* lighting is on */
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < W; y += 7)
                for (int x = 0; x < W; x += 5) {
                    int sx = d[b].x + (d[b].flip ? W - 1 - x : x), sy = d[b].y + y;
                    size_t src = (size_t)(sy * S + sx) * 3 + (size_t)c;
                    float want = ((float)img[src] - mean[src]) + d[b].shift[c];
                    if (view[c * PLANE + y * W + x] != want)
                        fail_msg("image %d c %d y %d x %d: got %.9g want %.9g", b, c, y, x,
                                 (double)view[c * PLANE + y * W + x], (double)want);
                }
        crop_cut(img, mean, augment_choice(&d[b]), one);
        assert_memory_equal(one, view, sizeof(float) * IMAGE_CROP_FLOATS);
    }
    memset(batch, 0xab, sizeof(float) * IMAGE_CROP_FLOATS);
    memcpy(one, batch, sizeof(float) * IMAGE_CROP_FLOATS);
    crop_batch_cpu(batch, images, mean, choices, 0);
    assert_memory_equal(one, batch, sizeof(float) * IMAGE_CROP_FLOATS);
    free(images);
    free(batch);
    free(one);
    free(mean);
}

/* ------------------------------------------------------------ threads */

enum { BATCH = 24 };

typedef struct job {
    const augment_params *p;
    uint8_t *const *images;
    float *out;      /* [BATCH, 3, 224, 224] */
    int first, step; /* this thread does images first, first+step, ... */
} job;

static void *run_job(void *arg)
{
    job *j = arg;
    for (int i = j->first; i < BATCH; i += j->step) {
        augment_draw d;
        augment_draw_for(j->p, 2, (uint32_t)(1000 + i), &d);
        crop_cut(j->images[i], j->p->mean_image, augment_choice(&d), j->out + (size_t)i * IMAGE_CROP_FLOATS);
    }
    return NULL;
}

static void augment_batch_with_threads(const augment_params *p, uint8_t *const *images, float *out, int threads)
{
    pthread_t tid[8];
    job jobs[8];
    for (int t = 0; t < threads; t++) {
        /* Interleaved assignment, so thread counts put images in different threads. */
        jobs[t] = (job){ p, images, out, t, threads };
        assert_int_equal(pthread_create(&tid[t], NULL, run_job, &jobs[t]), 0);
    }
    for (int t = 0; t < threads; t++) assert_int_equal(pthread_join(tid[t], NULL), 0);
}

static void test_same_values_whatever_the_thread_count(void **state)
{
    (void)state;
    float *mean = make_mean();
    augment_params p;
    make_params(&p, mean);
    uint8_t *images[BATCH];
    for (int i = 0; i < BATCH; i++) images[i] = make_image((uint32_t)i * 31u);
    size_t bytes = sizeof(float) * IMAGE_CROP_FLOATS * BATCH;
    float *one = malloc(bytes), *many = malloc(bytes);
    assert_non_null(one);
    assert_non_null(many);
    augment_batch_with_threads(&p, images, one, 1);
    for (int threads = 2; threads <= 5; threads += 3) {
        memset(many, 0xff, bytes);
        augment_batch_with_threads(&p, images, many, threads);
        assert_memory_equal(one, many, bytes);
    }
    for (int i = 0; i < BATCH; i++) free(images[i]);
    free(one);
    free(many);
    free(mean);
}

/* --augment (§4.1's experiments, docs/experiments.md): no-lighting keeps the
 * paper's crop and flip and draws no shift; centre gives every image in
 * every epoch the centre crop, unflipped, unshifted. */
static void test_augment_modes(void **state)
{
    (void)state;
    float mean[1] = { 0 };
    augment_params full, no_lighting, centre;
    make_params(&full, mean);
    no_lighting = full;
    no_lighting.mode = AUGMENT_NO_LIGHTING;
    centre = full;
    centre.mode = AUGMENT_CENTRE;
    int moved = 0, flipped = 0, shifted = 0;
    for (uint32_t id = 0; id < 200; id++) {
        augment_draw a, b, c;
        augment_draw_for(&full, 5, id, &a);
        augment_draw_for(&no_lighting, 5, id, &b);
        augment_draw_for(&centre, 5, id, &c);
        assert_true(a.x == b.x && a.y == b.y && a.flip == b.flip);
        for (int k = 0; k < 3; k++) {
            assert_true(b.shift[k] == 0.0f && b.alpha[k] == 0.0f);
            assert_true(c.shift[k] == 0.0f);
            shifted += a.shift[k] != 0.0f;
        }
        assert_true(c.x == IMAGE_CENTRE_OFFSET && c.y == IMAGE_CENTRE_OFFSET && c.flip == 0);
        moved += a.x != IMAGE_CENTRE_OFFSET;
        flipped += a.flip;
    }
    assert_true(moved > 150 && flipped > 50 && shifted > 500); /* full really augments */
    augment_mode m;
    assert_int_equal(augment_mode_parse("no-lighting", &m), AN_OK);
    assert_int_equal(m, AUGMENT_NO_LIGHTING);
    assert_string_equal(augment_mode_name(AUGMENT_CENTRE), "centre");
    assert_int_equal(augment_mode_parse("center", &m), AN_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crop_bounds_and_flip_rate),
        cmocka_unit_test(test_draws_depend_on_key),
        cmocka_unit_test(test_crop_and_flip_copy_the_right_pixels),
        cmocka_unit_test(test_mean_subtracted_at_source_pixel),
        cmocka_unit_test(test_lighting_equals_formula),
        cmocka_unit_test(test_centre_crop),
        cmocka_unit_test(test_augment_modes),
        cmocka_unit_test(test_crop_batch_cpu),
        cmocka_unit_test(test_same_values_whatever_the_thread_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
