/* test_shard_format.c: shard and dataset.h5 round trips through real HDF5
 * files: every field written comes back, pread images match, checksums are
 * verified, a flipped byte is caught and named, statistics sums are exact. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "atomic_file.h"
#include "checksum.h"
#include "dataset.h"
#include "dataset_json.h"
#include "philox.h"
#include "shard_reader.h"
#include "shard_writer.h"

#define TEST_IMAGES 7

typedef struct fixture {
    char dir[256];
    uint8_t *images; /* [TEST_IMAGES, 256, 256, 3] */
    int32_t labels[TEST_IMAGES];
    uint32_t ids[TEST_IMAGES];
    uint32_t checksums[TEST_IMAGES];
    char path_text[TEST_IMAGES][32];
    const char *paths[TEST_IMAGES];
    shard_stats stats;
} fixture;

static void fill_random_image(uint8_t *image, uint32_t id)
{
    for (size_t i = 0; i < IMAGE_STORED_BYTES; i += 4) {
        philox_block b = philox_draw(7, PHILOX_PURPOSE_TEST, 0, id, (uint32_t)(i / 4));
        for (size_t k = 0; k < 4 && i + k < IMAGE_STORED_BYTES; k++) image[i + k] = (uint8_t)b.v[k];
    }
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/alexnet-test-shard-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    f->images = malloc(TEST_IMAGES * IMAGE_STORED_BYTES);
    if (shard_stats_init(&f->stats) != AN_OK) return -1;
    for (uint32_t i = 0; i < TEST_IMAGES; i++) {
        uint8_t *image = f->images + i * IMAGE_STORED_BYTES;
        fill_random_image(image, i);
        f->labels[i] = (int32_t)(i % 3);
        f->ids[i] = 100 + 2 * i;
        f->checksums[i] = checksum_image(image);
        snprintf(f->path_text[i], sizeof f->path_text[i], "class%u/img-%u.JPEG", i % 3, i);
        f->paths[i] = f->path_text[i];
        shard_stats_add_image(&f->stats, image);
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    shard_stats_free(&f->stats);
    free(f->images);
    free(f);
    return 0;
}

static void write_test_shard(fixture *f, const char *path)
{
    const char *refused_paths[1] = {"class1/bad.JPEG"};
    const char *refused_reasons[1] = {"truncated JPEG"};
    shard_contents c = {
        .dataset_id = "0123456789abcdef", .split = "train", .shard_index = 1, .shard_count = 3,
        .count = TEST_IMAGES, .images = f->images, .labels = f->labels, .image_ids = f->ids,
        .checksums = f->checksums, .paths = f->paths, .stats = &f->stats,
        .refused_count = 1, .refused_paths = refused_paths, .refused_reasons = refused_reasons,
    };
    an_status st = shard_write(path, &c);
    assert_int_equal(st, AN_OK);
}

static void test_shard_round_trip(void **state)
{
    fixture *f = *state;
    char path[512];
    assert_int_equal(shard_file_path(f->dir, "train", 1, 3, path, sizeof path), AN_OK);
    assert_non_null(strstr(path, "train-00001-of-00003.h5"));
    write_test_shard(f, path);

    shard_reader *r = NULL;
    assert_int_equal(shard_reader_open(&r, path), AN_OK);
    assert_string_equal(r->dataset_id, "0123456789abcdef");
    assert_string_equal(r->split, "train");
    assert_int_equal(r->shard_index, 1);
    assert_int_equal(r->shard_count, 3);
    assert_int_equal(shard_reader_count(r), TEST_IMAGES);
    assert_int_equal(r->refused_count, 1);
    assert_string_equal(r->refused_paths[0], "class1/bad.JPEG");
    assert_string_equal(r->refused_reasons[0], "truncated JPEG");
    uint8_t *image = malloc(IMAGE_STORED_BYTES);
    for (size_t i = 0; i < TEST_IMAGES; i++) {
        assert_int_equal(shard_reader_labels(r)[i], f->labels[i]);
        assert_int_equal(shard_reader_image_ids(r)[i], f->ids[i]);
        assert_int_equal(shard_reader_checksums(r)[i], f->checksums[i]);
        assert_string_equal(r->paths[i], f->paths[i]);
        assert_int_equal(shard_reader_read_image(r, i, image), AN_OK);
        assert_memory_equal(image, f->images + i * IMAGE_STORED_BYTES, IMAGE_STORED_BYTES);
    }
    assert_int_equal(shard_reader_read_image(r, TEST_IMAGES, image), AN_ERR_ARG);
    size_t bad = 99;
    assert_int_equal(shard_reader_verify(r, &bad), AN_OK);
    assert_int_equal(bad, 99);

    shard_stats back;
    assert_int_equal(shard_stats_init(&back), AN_OK);
    assert_int_equal(shard_reader_read_stats(r, &back), AN_OK);
    assert_int_equal(back.num_images, TEST_IMAGES);
    assert_memory_equal(back.rgb_sum, f->stats.rgb_sum, sizeof back.rgb_sum);
    assert_memory_equal(back.rgb_outer_sum, f->stats.rgb_outer_sum, sizeof back.rgb_outer_sum);
    assert_memory_equal(back.pixel_sum, f->stats.pixel_sum, IMAGE_STORED_BYTES * sizeof(double));
    shard_stats_free(&back);
    free(image);
    shard_reader_close(r);

    /* No temporary file is left beside the shard. */
    char cmd[400];
    snprintf(cmd, sizeof cmd, "ls -a '%s' | grep -q tmp", f->dir);
    assert_int_not_equal(system(cmd), 0);
}

static void test_flipped_byte_is_caught(void **state)
{
    fixture *f = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/train-00001-of-00003.h5", f->dir);
    write_test_shard(f, path);
    shard_reader *r = NULL;
    assert_int_equal(shard_reader_open(&r, path), AN_OK);
    uint64_t where = r->images_offset + 5 * IMAGE_STORED_BYTES + 12345;
    shard_reader_close(r);

    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t byte = 0;
    assert_int_equal(pread(fd, &byte, 1, (off_t)where), 1);
    byte ^= 0x10;
    assert_int_equal(pwrite(fd, &byte, 1, (off_t)where), 1);
    close(fd);

    assert_int_equal(shard_reader_open(&r, path), AN_OK);
    uint8_t *image = malloc(IMAGE_STORED_BYTES);
    assert_int_equal(shard_reader_read_image(r, 4, image), AN_OK);
    assert_int_equal(shard_reader_read_image(r, 5, image), AN_ERR_CHECKSUM);
    assert_non_null(strstr(error_message(), "train-00001-of-00003.h5"));
    assert_non_null(strstr(error_message(), "image 5"));
    assert_non_null(strstr(error_message(), "img-5.JPEG"));
    size_t bad = 0;
    assert_int_equal(shard_reader_verify(r, &bad), AN_ERR_CHECKSUM);
    assert_int_equal(bad, 5);
    free(image);
    shard_reader_close(r);
}

static void test_truncated_and_garbage_files_refused(void **state)
{
    fixture *f = *state;
    char path[512], cut[512];
    snprintf(path, sizeof path, "%s/train-00001-of-00003.h5", f->dir);
    write_test_shard(f, path);
    snprintf(cut, sizeof cut, "%s/cut.h5", f->dir);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "head -c 600000 '%s' > '%s'", path, cut);
    assert_int_equal(system(cmd), 0);
    shard_reader *r = NULL;
    an_status st = shard_reader_open(&r, cut);
    assert_int_not_equal(st, AN_OK);
    assert_null(r);
    assert_non_null(strstr(error_message(), "cut.h5"));

    snprintf(cmd, sizeof cmd, "echo 'not a shard' > '%s/text.h5'", f->dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cut, sizeof cut, "%s/text.h5", f->dir);
    assert_int_equal(shard_reader_open(&r, cut), AN_ERR_HDF5);
    assert_int_equal(shard_reader_open(&r, "/nonexistent/x.h5"), AN_ERR_IO);
}

typedef struct reader_thread_arg {
    const shard_reader *r;
    const uint8_t *expected;
    int failures;
} reader_thread_arg;

static void *reader_thread(void *p)
{
    reader_thread_arg *a = p;
    uint8_t *image = malloc(IMAGE_STORED_BYTES);
    for (int round = 0; round < 20; round++)
        for (size_t i = 0; i < TEST_IMAGES; i++) {
            size_t k = (i + (size_t)round) % TEST_IMAGES;
            if (shard_reader_read_image(a->r, k, image) != AN_OK ||
                memcmp(image, a->expected + k * IMAGE_STORED_BYTES, IMAGE_STORED_BYTES) != 0)
                a->failures++;
        }
    free(image);
    return NULL;
}

static void test_concurrent_reads(void **state)
{
    fixture *f = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/train-00001-of-00003.h5", f->dir);
    write_test_shard(f, path);
    shard_reader *r = NULL;
    assert_int_equal(shard_reader_open(&r, path), AN_OK);
    pthread_t threads[4];
    reader_thread_arg args[4];
    for (int t = 0; t < 4; t++) {
        args[t] = (reader_thread_arg){r, f->images, 0};
        assert_int_equal(pthread_create(&threads[t], NULL, reader_thread, &args[t]), 0);
    }
    for (int t = 0; t < 4; t++) {
        pthread_join(threads[t], NULL);
        assert_int_equal(args[t].failures, 0);
    }
    shard_reader_close(r);
}

static void test_empty_shard(void **state)
{
    fixture *f = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/val-00000-of-00001.h5", f->dir);
    shard_contents c = {.dataset_id = "0123456789abcdef", .split = "val", .shard_index = 0, .shard_count = 1};
    assert_int_equal(shard_write(path, &c), AN_OK);
    shard_reader *r = NULL;
    assert_int_equal(shard_reader_open(&r, path), AN_OK);
    assert_int_equal(r->count, 0);
    assert_int_equal(r->has_stats, 0);
    assert_int_equal(shard_reader_verify(r, NULL), AN_OK);
    shard_reader_close(r);
}

static void test_dataset_round_trip(void **state)
{
    fixture *f = *state;
    char path[512];
    for (int i = 0; i < 2; i++) {
        shard_file_path(f->dir, "train", i, 2, path, sizeof path);
        write_test_shard(f, path);
    }
    shard_file_path(f->dir, "val", 0, 1, path, sizeof path);
    write_test_shard(f, path);

    dataset *d = NULL;
    assert_int_equal(dataset_alloc(&d, 3), AN_OK);
    snprintf(d->dataset_id, sizeof d->dataset_id, "fedcba9876543210");
    snprintf(d->source, sizeof d->source, "folder");
    const char *ids[3] = {"n01", "n02", "n03"}, *names[3] = {"cat", "dog", "sea snake"};
    for (int i = 0; i < 3; i++) {
        d->class_ids[i] = strdup(ids[i]);
        d->class_names[i] = strdup(names[i]);
        d->train.class_counts[i] = 10 + i;
        d->val.class_counts[i] = i;
    }
    for (size_t i = 0; i < IMAGE_STORED_BYTES; i++) d->mean_image[i] = (float)(i % 256) + 0.25f;
    for (int i = 0; i < 3; i++) {
        d->rgb_mean[i] = 100.0 + i;
        d->rgb_std[i] = 50.0 + i;
        d->eigenvalues[i] = 0.1 / (i + 1);
        for (int j = 0; j < 3; j++) {
            d->rgb_covariance[i][j] = 0.01 * (i + 1) * (j + 1);
            d->eigenvectors[i][j] = i == j ? 1.0 : 0.0;
        }
    }
    d->train.num_images = 33;
    d->train.num_shards = 2;
    d->val.num_images = 3;
    d->val.num_shards = 1;
    assert_int_equal(dataset_write(d, f->dir), AN_OK);

    /* Without dataset.json (a prep still running or one that died before its
     * last write) the dataset is refused, saying what is missing and what to do. */
    dataset *back = NULL;
    char json_path[ATOMIC_PATH_MAX + 32];
    snprintf(json_path, sizeof json_path, "%s/dataset.json", f->dir);
    assert_int_equal(dataset_open(&back, f->dir), AN_ERR_FORMAT);
    assert_null(back);
    assert_non_null(strstr(error_message(), "not a complete dataset"));
    assert_non_null(strstr(error_message(), json_path));
    assert_non_null(strstr(error_message(), "alexnet-prep"));
    dataset_provenance provenance = {.tool = "test", .input = "in", .params = "p=1", .max_bad = "0"};
    /* A dataset.json of another dataset, or one that is damaged, is refused too. */
    snprintf(d->dataset_id, sizeof d->dataset_id, "0123456789abcdef");
    assert_int_equal(dataset_write_json(d, f->dir, &provenance), AN_OK);
    assert_int_equal(dataset_open(&back, f->dir), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "names dataset 0123456789abcdef but dataset.h5 names fedcba9876543210"));
    snprintf(d->dataset_id, sizeof d->dataset_id, "fedcba9876543210");
    d->val.num_images = 4;
    assert_int_equal(dataset_write_json(d, f->dir, &provenance), AN_OK);
    assert_int_equal(dataset_open(&back, f->dir), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "num_val 4 but dataset.h5 says 3"));
    d->val.num_images = 3;
    assert_int_equal(atomic_write_file(json_path, "{\"format_version\": 1,", 20), AN_OK);
    assert_int_equal(dataset_open(&back, f->dir), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "not valid JSON"));
    assert_int_equal(dataset_write_json(d, f->dir, &provenance), AN_OK);
    assert_int_equal(dataset_open(&back, f->dir), AN_OK);
    assert_string_equal(back->dataset_id, "fedcba9876543210");
    assert_string_equal(back->source, "folder");
    assert_int_equal(back->num_classes, 3);
    assert_string_equal(back->class_names[2], "sea snake");
    assert_string_equal(back->class_ids[1], "n02");
    assert_memory_equal(back->mean_image, d->mean_image, IMAGE_STORED_BYTES * sizeof(float));
    assert_memory_equal(back->rgb_covariance, d->rgb_covariance, sizeof d->rgb_covariance);
    assert_memory_equal(back->eigenvectors, d->eigenvectors, sizeof d->eigenvectors);
    assert_memory_equal(back->eigenvalues, d->eigenvalues, sizeof d->eigenvalues);
    assert_memory_equal(back->rgb_std, d->rgb_std, sizeof d->rgb_std);
    assert_int_equal(back->train.num_images, 33);
    assert_int_equal(back->train.num_shards, 2);
    assert_int_equal(back->train.id_count, 33); /* not set by the writer: num_images */
    assert_int_equal(back->val.class_counts[2], 2);
    assert_non_null(strstr(back->train.shard_paths[1], "train-00001-of-00002.h5"));
    assert_non_null(strstr(dataset_get_split(back, "val")->shard_paths[0], "val-00000-of-00001.h5"));
    assert_null(dataset_get_split(back, "test"));
    dataset_close(back);

    /* A missing shard is named. */
    shard_file_path(f->dir, "train", 1, 2, path, sizeof path);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(dataset_open(&back, f->dir), AN_ERR_IO);
    assert_non_null(strstr(error_message(), "train-00001-of-00002.h5"));
    dataset_close(d);

    assert_int_equal(dataset_open(&back, "/nonexistent-dataset"), AN_ERR_IO);
    assert_non_null(strstr(error_message(), "alexnet-prep"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shard_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte_is_caught, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_and_garbage_files_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_shard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dataset_round_trip, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
