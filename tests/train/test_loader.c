/* test_loader.c: the loader over real shard files: every image exactly once
 * per epoch, different orders in different epochs, batches equal to the
 * augmentation of the right images whatever the thread count and the number
 * of ranks (the hand-over, stored images and crop choices, cut by the input
 * op's CPU twin: bitwise the float views the loader made before it handed
 * over bytes), a resume mid-epoch, validation order and limit, gaps in the ids
 * (the ids of inputs alexnet-prep refused), and a flipped
 * byte in a shard stopping the loader with the shard and image named; the
 * contents, orders and the flipped byte again over JPEG shards. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend_cpu.h"
#include "dataset.h"
#include "loader.h"
#include "shard_reader.h"
#include "net_cpu.h"
#include "train_fixture.h"

enum { NUM_TRAIN = 37, NUM_VAL = 11, CLASSES = 5, SHARDS = 3, BATCH = 8 };

typedef struct fixture {
    char dir[4096];
    dataset *data;
    shard_reader *train[SHARDS];
    shard_reader *val[1];
    augment_params aug;
    shard_store store;
} fixture;

static int setup_store(void **state, shard_store store)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->store = store;
    assert_int_equal(fixture_temp_dir("loader", f->dir), AN_OK);
    if (fixture_write_dataset_store(f->dir, NUM_TRAIN, SHARDS, NUM_VAL, CLASSES, store) != AN_OK)
        fail_msg("%s", error_message());
    if (dataset_open(&f->data, f->dir) != AN_OK) fail_msg("%s", error_message());
    assert_int_equal(f->data->train.num_shards, SHARDS);
    for (int s = 0; s < SHARDS; s++)
        assert_int_equal(shard_reader_open(&f->train[s], f->data->train.shard_paths[s]), AN_OK);
    assert_int_equal(shard_reader_open(&f->val[0], f->data->val.shard_paths[0]), AN_OK);
    f->aug.seed = 42;
    f->aug.mean_image = f->data->mean_image;
    for (int i = 0; i < 3; i++) {
        f->aug.eigenvalues[i] = (float)f->data->eigenvalues[i];
        for (int j = 0; j < 3; j++) f->aug.eigenvectors[i][j] = (float)f->data->eigenvectors[i][j];
    }
    f->aug.lighting_std = AUGMENT_LIGHTING_STD;
    *state = f;
    return 0;
}

static int setup(void **state) { return setup_store(state, SHARD_STORE_RAW); }

/* The JPEG store: the loader decodes only each crop's rows; its batches must
 * equal the augmentation of the whole decoded image. */
static int setup_jpeg(void **state) { return setup_store(state, SHARD_STORE_JPEG); }

static int teardown(void **state)
{
    fixture *f = *state;
    for (int s = 0; s < SHARDS; s++) shard_reader_close(f->train[s]);
    shard_reader_close(f->val[0]);
    dataset_close(f->data);
    fixture_remove_dir(f->dir);
    free(f);
    return 0;
}

static loader_config train_config(fixture *f, int threads, int rank, int ranks)
{
    loader_config c = { 0 };
    c.shards = f->train;
    c.shard_count = SHARDS;
    c.augment = &f->aug;
    c.mode = LOADER_TRAIN;
    c.batch = BATCH;
    c.rank = rank;
    c.ranks = ranks;
    c.threads = threads;
    c.queue_depth = 2;
    return c;
}

/* One epoch's output: images [N, 3, 224, 224], ids [N], labels [N], in order. */
typedef struct epoch_output {
    float *images;
    uint32_t ids[NUM_TRAIN];
    int32_t labels[NUM_TRAIN];
    uint32_t count;
    uint32_t steps;
} epoch_output;

/* out [b->count, 3, 224, 224] = the views of the loader's hand-over (its
 * stored images and crop choices) as the trainer's backend cuts them: the
 * input op's CPU twin, through the CPU backend's table. */
static void cut_views(const loader_batch *b, const float *mean, float *out)
{
    backend *be;
    assert_int_equal(backend_cpu_create(&be, 1), AN_OK);
    assert_int_equal(be->ops->crop_input(be, out, b->images, mean, b->choices, (int)b->count, 1), AN_OK);
    backend_destroy(be);
}

static void run_epoch(loader *l, const float *mean, uint32_t epoch, uint64_t first_step, epoch_output *out)
{
    out->images = malloc(sizeof(float) * IMAGE_CROP_FLOATS * NUM_TRAIN);
    assert_non_null(out->images);
    out->count = out->steps = 0;
    assert_int_equal(loader_start_epoch(l, epoch, first_step), AN_OK);
    for (;;) {
        loader_batch *b;
        if (loader_next(l, &b) != AN_OK) fail_msg("%s", error_message());
        if (!b) break;
        assert_int_equal(b->step, first_step + out->steps);
        assert_int_equal(b->epoch, epoch);
        assert_true(b->count <= BATCH);
        cut_views(b, mean, out->images + (size_t)out->count * IMAGE_CROP_FLOATS);
        memcpy(out->ids + out->count, b->image_ids, b->count * sizeof(uint32_t));
        memcpy(out->labels + out->count, b->labels, b->count * sizeof(int32_t));
        out->count += b->count;
        out->steps++;
        loader_release(l, b);
    }
}

/* Each entry of an epoch's output is the augmentation (epoch `epoch`) of the
 * image it claims to be, with that image's label. */
static void assert_train_contents(const fixture *f, const epoch_output *e, uint32_t epoch)
{
    uint8_t *img = malloc(IMAGE_STORED_BYTES);
    float *want = malloc(sizeof(float) * IMAGE_CROP_FLOATS);
    assert_non_null(img);
    assert_non_null(want);
    for (uint32_t i = 0; i < e->count; i++) {
        fixture_stored_image(0, e->ids[i], f->store, img);
        augment_draw d;
        augment_draw_for(&f->aug, epoch, e->ids[i], &d);
        crop_cut(img, f->aug.mean_image, augment_choice(&d), want);
        assert_memory_equal(want, e->images + (size_t)i * IMAGE_CROP_FLOATS, sizeof(float) * IMAGE_CROP_FLOATS);
        assert_int_equal(e->labels[i], fixture_label(e->ids[i], CLASSES));
    }
    free(img);
    free(want);
}

/* One validation pass of l yields exactly the images ids[count], in that
 * order, centre-cropped. */
static void assert_validation_pass(const fixture *f, loader *l, uint32_t epoch, const uint32_t *ids, uint32_t count)
{
    uint8_t *img = malloc(IMAGE_STORED_BYTES);
    float *want = malloc(sizeof(float) * IMAGE_CROP_FLOATS);
    assert_non_null(img);
    assert_non_null(want);
    assert_int_equal(loader_start_epoch(l, epoch, 0), AN_OK);
    uint32_t got = 0;
    loader_batch *b;
    float *views = malloc(sizeof(float) * IMAGE_CROP_FLOATS * BATCH); /* [BATCH, 3, 224, 224] */
    assert_non_null(views);
    while (loader_next(l, &b) == AN_OK && b) {
        cut_views(b, f->aug.mean_image, views);
        for (uint32_t k = 0; k < b->count; k++, got++) {
            assert_true(got < count);
            assert_int_equal(b->image_ids[k], ids[got]);
            fixture_stored_image(1, ids[got], f->store, img);
            augment_draw centre;
            augment_draw_centre(&centre);
            crop_cut(img, f->aug.mean_image, augment_choice(&centre), want);
            assert_memory_equal(want, views + (size_t)k * IMAGE_CROP_FLOATS, sizeof(float) * IMAGE_CROP_FLOATS);
        }
        loader_release(l, b);
    }
    assert_int_equal(got, count);
    free(views);
    free(img);
    free(want);
}

static void test_every_image_once_and_right_content(void **state)
{
    fixture *f = *state;
    loader *l;
    loader_config c = train_config(f, 2, 0, 1);
    if (loader_create(&l, &c) != AN_OK) fail_msg("%s", error_message());
    assert_int_equal(loader_num_images(l), NUM_TRAIN);
    assert_int_equal(loader_steps_per_epoch(l), (NUM_TRAIN + BATCH - 1) / BATCH);
    epoch_output e0, e1;
    run_epoch(l, f->aug.mean_image, 0, 0, &e0);
    run_epoch(l, f->aug.mean_image, 1, 0, &e1);
    loader_destroy(l);
    assert_int_equal(e0.count, NUM_TRAIN);
    assert_int_equal(e1.count, NUM_TRAIN);
    int seen0[NUM_TRAIN] = { 0 }, seen1[NUM_TRAIN] = { 0 }, same_place = 0;
    for (int i = 0; i < NUM_TRAIN; i++) {
        seen0[e0.ids[i]]++;
        seen1[e1.ids[i]]++;
        same_place += e0.ids[i] == e1.ids[i];
    }
    for (int i = 0; i < NUM_TRAIN; i++) {
        assert_int_equal(seen0[i], 1);
        assert_int_equal(seen1[i], 1);
    }
    assert_true(same_place < NUM_TRAIN / 2); /* a different order */
    assert_train_contents(f, &e1, 1);
    free(e0.images);
    free(e1.images);
}

static void test_thread_count_and_ranks_do_not_matter(void **state)
{
    fixture *f = *state;
    loader *l;
    loader_config c = train_config(f, 1, 0, 1);
    assert_int_equal(loader_create(&l, &c), AN_OK);
    epoch_output one;
    run_epoch(l, f->aug.mean_image, 3, 0, &one);
    loader_destroy(l);

    c = train_config(f, 4, 0, 1);
    c.queue_depth = 3;
    backend *host; /* the ring in a backend's host memory, as the trainer has it */
    assert_int_equal(backend_cpu_create(&host, 1), AN_OK);
    c.host_memory = host;
    assert_int_equal(loader_create(&l, &c), AN_OK);
    epoch_output four;
    run_epoch(l, f->aug.mean_image, 3, 0, &four);
    loader_destroy(l);
    backend_destroy(host);
    assert_int_equal(four.count, NUM_TRAIN);
    assert_memory_equal(one.ids, four.ids, sizeof one.ids);
    assert_memory_equal(one.images, four.images, sizeof(float) * IMAGE_CROP_FLOATS * NUM_TRAIN);

    /* Three ranks: the slices of each step, concatenated in rank order, make the global batch. */
    loader *ranks[3];
    for (int r = 0; r < 3; r++) {
        c = train_config(f, 2, r, 3);
        assert_int_equal(loader_create(&ranks[r], &c), AN_OK);
        assert_int_equal(loader_start_epoch(ranks[r], 3, 0), AN_OK);
    }
    uint32_t at = 0;
    float *views = malloc(sizeof(float) * IMAGE_CROP_FLOATS * BATCH); /* [BATCH, 3, 224, 224] */
    assert_non_null(views);
    for (uint64_t step = 0; step < loader_steps_per_epoch(ranks[0]); step++) {
        uint32_t global = 0;
        for (int r = 0; r < 3; r++) {
            loader_batch *b;
            assert_int_equal(loader_next(ranks[r], &b), AN_OK);
            assert_non_null(b);
            assert_int_equal(b->step, step);
            global = b->global_count;
            assert_memory_equal(b->image_ids, one.ids + at, b->count * sizeof(uint32_t));
            cut_views(b, f->aug.mean_image, views);
            assert_memory_equal(views, one.images + (size_t)at * IMAGE_CROP_FLOATS,
                                sizeof(float) * IMAGE_CROP_FLOATS * b->count);
            at += b->count;
            loader_release(ranks[r], b);
        }
        assert_int_equal(global, step + 1 < loader_steps_per_epoch(ranks[0]) ? BATCH : NUM_TRAIN % BATCH);
    }
    assert_int_equal(at, NUM_TRAIN);
    for (int r = 0; r < 3; r++) loader_destroy(ranks[r]);
    free(views);
    free(one.images);
    free(four.images);
}

static void test_resume_mid_epoch(void **state)
{
    fixture *f = *state;
    loader *l;
    loader_config c = train_config(f, 2, 0, 1);
    assert_int_equal(loader_create(&l, &c), AN_OK);
    epoch_output full, tail;
    run_epoch(l, f->aug.mean_image, 5, 0, &full);
    /* Start the same epoch again but part-way, as a resume does (also after
     * abandoning an epoch with batches still queued). */
    assert_int_equal(loader_start_epoch(l, 5, 0), AN_OK);
    loader_batch *b;
    assert_int_equal(loader_next(l, &b), AN_OK);
    loader_release(l, b);
    run_epoch(l, f->aug.mean_image, 5, 2, &tail);
    loader_destroy(l);
    assert_int_equal(tail.count, NUM_TRAIN - 2 * BATCH);
    assert_memory_equal(tail.ids, full.ids + 2 * BATCH, tail.count * sizeof(uint32_t));
    assert_memory_equal(tail.images, full.images + (size_t)2 * BATCH * IMAGE_CROP_FLOATS,
                        sizeof(float) * IMAGE_CROP_FLOATS * tail.count);
    free(full.images);
    free(tail.images);
}

static void test_validation_order_and_limit(void **state)
{
    fixture *f = *state;
    loader_config c = train_config(f, 2, 0, 1);
    c.shards = f->val;
    c.shard_count = 1;
    c.mode = LOADER_VAL;
    c.limit = 6;
    c.batch = 4;
    loader *l;
    assert_int_equal(loader_create(&l, &c), AN_OK);
    assert_int_equal(loader_num_images(l), 6);
    assert_int_equal(loader_steps_per_epoch(l), 2);
    const uint32_t ids[6] = { 0, 1, 2, 3, 4, 5 };
    for (uint32_t pass = 0; pass < 2; pass++) assert_validation_pass(f, l, pass, ids, 6);
    loader_destroy(l);
}

/* Ids with gaps, as alexnet-prep leaves them when it refuses inputs: the
 * loader visits the images that exist, each once per epoch, in an order that
 * depends only on (seed, epoch), and validates them in id order. */
static void test_gapped_ids(void **state)
{
    fixture *f = *state;
    enum { MISSING = 4, ID_COUNT = NUM_TRAIN + MISSING };
    const uint32_t missing[MISSING] = { 0, 5, 20, ID_COUNT - 1 }; /* first, middle and last ids */
    char dir[4096];
    assert_int_equal(fixture_temp_dir("loader-gaps", dir), AN_OK);
    if (fixture_write_dataset_gapped(dir, NUM_TRAIN, SHARDS, NUM_VAL, CLASSES, missing, MISSING) != AN_OK)
        fail_msg("%s", error_message());
    dataset *d;
    if (dataset_open(&d, dir) != AN_OK) fail_msg("%s", error_message());
    assert_int_equal(d->train.num_images, NUM_TRAIN);
    assert_int_equal(d->train.id_count, ID_COUNT);
    assert_int_equal(d->val.id_count, NUM_VAL + MISSING);
    shard_reader *train[SHARDS], *val[1];
    for (int s = 0; s < SHARDS; s++) assert_int_equal(shard_reader_open(&train[s], d->train.shard_paths[s]), AN_OK);
    assert_int_equal(shard_reader_open(&val[0], d->val.shard_paths[0]), AN_OK);

    loader_config c = train_config(f, 2, 0, 1);
    c.shards = train;
    /* Sized by the image count alone, the ids do not fit: the old failure. */
    loader *l = NULL;
    assert_int_equal(loader_create(&l, &c), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "id count"));

    c.id_count = d->train.id_count;
    if (loader_create(&l, &c) != AN_OK) fail_msg("%s", error_message());
    assert_int_equal(loader_num_images(l), NUM_TRAIN);
    assert_int_equal(loader_steps_per_epoch(l), (NUM_TRAIN + BATCH - 1) / BATCH);
    epoch_output e0, e1, again;
    run_epoch(l, f->aug.mean_image, 0, 0, &e0);
    run_epoch(l, f->aug.mean_image, 1, 0, &e1);
    loader_destroy(l);
    c.threads = 3; /* a second loader: the same order for the same (seed, epoch) */
    assert_int_equal(loader_create(&l, &c), AN_OK);
    run_epoch(l, f->aug.mean_image, 1, 0, &again);
    loader_destroy(l);
    assert_int_equal(e0.count, NUM_TRAIN);
    assert_int_equal(e1.count, NUM_TRAIN);
    assert_memory_equal(e1.ids, again.ids, sizeof e1.ids);
    assert_memory_equal(e1.images, again.images, sizeof(float) * IMAGE_CROP_FLOATS * NUM_TRAIN);
    int seen0[ID_COUNT] = { 0 }, seen1[ID_COUNT] = { 0 }, same_place = 0;
    for (int i = 0; i < NUM_TRAIN; i++) {
        assert_true(e0.ids[i] < ID_COUNT);
        assert_true(e1.ids[i] < ID_COUNT);
        seen0[e0.ids[i]]++;
        seen1[e1.ids[i]]++;
        same_place += e0.ids[i] == e1.ids[i];
    }
    for (uint32_t id = 0, m = 0; id < ID_COUNT; id++) {
        int is_missing = m < MISSING && missing[m] == id;
        m += (uint32_t)is_missing;
        assert_int_equal(seen0[id], is_missing ? 0 : 1);
        assert_int_equal(seen1[id], is_missing ? 0 : 1);
    }
    assert_true(same_place < NUM_TRAIN / 2);
    assert_train_contents(f, &e1, 1);

    /* Validation: the existing ids in increasing order; the limit counts images, not ids. */
    c = train_config(f, 2, 0, 1);
    c.shards = val;
    c.shard_count = 1;
    c.id_count = d->val.id_count;
    c.mode = LOADER_VAL;
    c.limit = 6;
    c.batch = 4;
    assert_int_equal(loader_create(&l, &c), AN_OK);
    assert_int_equal(loader_num_images(l), 6);
    const uint32_t want_ids[6] = { 1, 2, 3, 4, 6, 7 };
    assert_validation_pass(f, l, 0, want_ids, 6);
    loader_destroy(l);

    free(e0.images);
    free(e1.images);
    free(again.images);
    for (int s = 0; s < SHARDS; s++) shard_reader_close(train[s]);
    shard_reader_close(val[0]);
    dataset_close(d);
    fixture_remove_dir(dir);
}

static void test_flipped_byte_names_shard_and_image(void **state)
{
    fixture *f = *state;
    /* Corrupt one byte of image 4 of shard 1 on disk, then reopen that shard. */
    shard_reader *victim = f->train[1];
    char path[4096];
    snprintf(path, sizeof path, "%s", victim->path);
    uint32_t bad_id = victim->image_ids[4];
    off_t at = (off_t)(victim->images_offset + (f->store == SHARD_STORE_JPEG
                                                    ? victim->jpeg_offsets[4] + victim->jpeg_lengths[4] / 2
                                                    : 4 * (uint64_t)IMAGE_STORED_BYTES + 1234));
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t byte;
    assert_int_equal(pread(fd, &byte, 1, at), 1);
    byte ^= 0x10;
    assert_int_equal(pwrite(fd, &byte, 1, at), 1);
    close(fd);

    loader *l;
    loader_config c = train_config(f, 2, 0, 1);
    assert_int_equal(loader_create(&l, &c), AN_OK);
    assert_int_equal(loader_start_epoch(l, 0, 0), AN_OK);
    an_status st = AN_OK;
    loader_batch *b = NULL;
    for (;;) {
        st = loader_next(l, &b);
        if (st != AN_OK || !b) break;
        for (uint32_t k = 0; k < b->count; k++) assert_int_not_equal(b->image_ids[k], bad_id);
        loader_release(l, b);
    }
    loader_destroy(l);
    assert_int_equal(st, AN_ERR_CHECKSUM);
    const char *msg = error_message();
    assert_non_null(strstr(msg, path));
    char id_text[32];
    snprintf(id_text, sizeof id_text, "id %u", bad_id);
    assert_non_null(strstr(msg, id_text));
}

static void test_rejects_bad_ids(void **state)
{
    fixture *f = *state;
    loader_config c = train_config(f, 1, 0, 1);
    shard_reader *twice[2] = { f->train[0], f->train[0] }; /* every id of shard 0 twice */
    c.shards = twice;
    c.shard_count = 2;
    loader *l = NULL;
    assert_int_equal(loader_create(&l, &c), AN_ERR_FORMAT);
    assert_null(l);
    assert_non_null(strstr(error_message(), "id"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_image_once_and_right_content),
        cmocka_unit_test(test_thread_count_and_ranks_do_not_matter),
        cmocka_unit_test(test_resume_mid_epoch),
        cmocka_unit_test(test_validation_order_and_limit),
        cmocka_unit_test(test_rejects_bad_ids),
        cmocka_unit_test(test_gapped_ids),
        cmocka_unit_test(test_flipped_byte_names_shard_and_image), /* last: corrupts the fixture */
    };
    const struct CMUnitTest jpeg_tests[] = {
        cmocka_unit_test(test_every_image_once_and_right_content),
        cmocka_unit_test(test_thread_count_and_ranks_do_not_matter),
        cmocka_unit_test(test_validation_order_and_limit),
        cmocka_unit_test(test_flipped_byte_names_shard_and_image), /* last: corrupts the fixture */
    };
    int failed = cmocka_run_group_tests_name("raw store", tests, setup, teardown);
    return failed + cmocka_run_group_tests_name("jpeg store", jpeg_tests, setup_jpeg, teardown);
}
