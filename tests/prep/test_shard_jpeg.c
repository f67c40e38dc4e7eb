/* test_shard_jpeg.c: the JPEG store through real HDF5 files and libjpeg-turbo:
 * every image read back equals a plain libjpeg decode (the library's default
 * settings, as Pillow decodes) of the bytes stored for it; decoding only a
 * crop's rows gives exactly those rows of the whole decode and writes no
 * other; a flipped byte is caught by the CRC-32 and named; a stream whose
 * CRC-32 is right but which does not decode is named; inconsistent offsets
 * are refused at open; a dataset refuses a shard of the other store. */
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
#include <hdf5.h>
#include <jpeglib.h>

#include "checksum.h"
#include "dataset.h"
#include "philox.h"
#include "shard_jpeg.h"
#include "shard_reader.h"
#include "shard_writer.h"

#define TEST_IMAGES 5

/* A photo-like image: smooth colour gradients, an edge, and mild noise. */
static void fill_photo(uint8_t *image /* [256,256,3] */, uint32_t id)
{
    for (int y = 0; y < IMAGE_STORED_SIZE; y++)
        for (int x = 0; x < IMAGE_STORED_SIZE; x++) {
            philox_block b = philox_draw(11, PHILOX_PURPOSE_TEST, id, (uint32_t)y, (uint32_t)x);
            for (int c = 0; c < 3; c++) {
                int v = (int)((x * (c + 1) + y * (3 - c)) / 3 + 40 * (int)id) % 200;
                if ((x - 128) * (x - 128) + (y - 100) * (y - 100) < 2500) v = 230 - c * 60;
                v += (int)(b.v[c] % 9) - 4;
                image[((size_t)y * IMAGE_STORED_SIZE + (size_t)x) * 3 + (size_t)c] =
                    (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
}

/* libjpeg-turbo with nothing set but RGB output: the reference decode. */
static void plain_libjpeg_decode(const uint8_t *data, size_t size, uint8_t *out /* [256,256,3] */)
{
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr err;
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    assert_int_equal(jpeg_read_header(&cinfo, TRUE), JPEG_HEADER_OK);
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    assert_int_equal(cinfo.output_width, IMAGE_STORED_SIZE);
    assert_int_equal(cinfo.output_height, IMAGE_STORED_SIZE);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out + (size_t)cinfo.output_scanline * IMAGE_STORED_SIZE * 3;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    assert_int_equal(err.num_warnings, 0);
    jpeg_destroy_decompress(&cinfo);
}

typedef struct fixture {
    char dir[256];
    uint8_t *pixels;                 /* [TEST_IMAGES, 256, 256, 3] before encoding */
    uint8_t *streams[TEST_IMAGES];   /* each image's JPEG stream */
    uint32_t lengths[TEST_IMAGES];
    uint8_t *blob;                   /* the streams back to back */
    int32_t labels[TEST_IMAGES];
    uint32_t ids[TEST_IMAGES], checksums[TEST_IMAGES];
    char path_text[TEST_IMAGES][32];
    const char *paths[TEST_IMAGES];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/alexnet-test-jpeg-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    f->pixels = malloc(TEST_IMAGES * IMAGE_STORED_BYTES);
    size_t total = 0;
    for (uint32_t i = 0; i < TEST_IMAGES; i++) {
        fill_photo(f->pixels + i * IMAGE_STORED_BYTES, i);
        size_t size = 0;
        shard_jpeg_subsampling sub = i % 2 ? SHARD_JPEG_444 : SHARD_JPEG_420;
        if (shard_jpeg_encode(f->pixels + i * IMAGE_STORED_BYTES, 90, sub, &f->streams[i], &size) != AN_OK) return -1;
        f->lengths[i] = (uint32_t)size;
        f->checksums[i] = checksum_crc32(f->streams[i], size);
        total += size;
        f->labels[i] = (int32_t)i;
        f->ids[i] = 10 + i;
        snprintf(f->path_text[i], sizeof f->path_text[i], "photos/p%u.jpg", i);
        f->paths[i] = f->path_text[i];
    }
    f->blob = malloc(total);
    size_t at = 0;
    for (int i = 0; i < TEST_IMAGES; i++) {
        memcpy(f->blob + at, f->streams[i], f->lengths[i]);
        at += f->lengths[i];
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
    for (int i = 0; i < TEST_IMAGES; i++) free(f->streams[i]);
    free(f->blob);
    free(f->pixels);
    free(f);
    return 0;
}

static void write_jpeg_shard(const fixture *f, const char *path, const uint32_t *checksums)
{
    shard_contents c = {.dataset_id = "0123456789abcdef", .split = "val", .shard_index = 0, .shard_count = 1,
                        .count = TEST_IMAGES, .labels = f->labels, .image_ids = f->ids, .checksums = checksums,
                        .paths = f->paths, .store = SHARD_STORE_JPEG, .jpeg_quality = 90,
                        .jpeg_subsampling = SHARD_JPEG_420, .jpeg_bytes = f->blob, .jpeg_lengths = f->lengths};
    if (shard_write(path, &c) != AN_OK) fail_msg("%s", error_message());
}

/* Writes the fixture's shard as DIR/val-00000-of-00001.h5 into path[512]. */
static void write_val_shard(const fixture *f, char *path)
{
    snprintf(path, 512, "%s/val-00000-of-00001.h5", f->dir);
    write_jpeg_shard(f, path, f->checksums);
}

/* XORs the byte at offset `where` of the file with mask. */
static void flip_byte(const char *path, uint64_t where, uint8_t mask)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t byte = 0;
    assert_int_equal(pread(fd, &byte, 1, (off_t)where), 1);
    byte ^= mask;
    assert_int_equal(pwrite(fd, &byte, 1, (off_t)where), 1);
    close(fd);
}

static void test_codec(void **state)
{
    fixture *f = *state;
    uint8_t *whole = malloc(IMAGE_STORED_BYTES), *rows = malloc(IMAGE_STORED_BYTES);
    for (int i = 0; i < TEST_IMAGES; i++) {
        assert_int_equal(shard_jpeg_decode(f->streams[i], f->lengths[i], whole), AN_OK);
        plain_libjpeg_decode(f->streams[i], f->lengths[i], rows);
        assert_memory_equal(whole, rows, IMAGE_STORED_BYTES);
        /* A lossy copy, but a close one at quality 90. */
        double diff = 0;
        for (size_t k = 0; k < IMAGE_STORED_BYTES; k++) diff += abs((int)whole[k] - (int)f->pixels[i * IMAGE_STORED_BYTES + k]);
        assert_true(diff / IMAGE_STORED_BYTES < 4.0);
        assert_true(diff > 0);
        /* Every crop's rows, and nothing else written. */
        for (int y = 0; y <= IMAGE_MAX_OFFSET; y++) {
            memset(rows, 0xA5, IMAGE_STORED_BYTES);
            assert_int_equal(shard_jpeg_decode_rows(f->streams[i], f->lengths[i], rows, y, y + IMAGE_CROP_SIZE),
                             AN_OK);
            const size_t stride = (size_t)IMAGE_STORED_SIZE * 3;
            assert_memory_equal(rows + y * stride, whole + y * stride, IMAGE_CROP_SIZE * stride);
            for (size_t k = 0; k < (size_t)y * stride; k++) assert_int_equal(rows[k], 0xA5);
            for (size_t k = (size_t)(y + IMAGE_CROP_SIZE) * stride; k < IMAGE_STORED_BYTES; k++)
                assert_int_equal(rows[k], 0xA5);
        }
    }
    /* 4:4:4 keeps more colour than 4:2:0 and costs more bytes (same image). */
    uint8_t *s420 = NULL, *s444 = NULL;
    size_t n420 = 0, n444 = 0;
    assert_int_equal(shard_jpeg_encode(f->pixels, 90, SHARD_JPEG_420, &s420, &n420), AN_OK);
    assert_int_equal(shard_jpeg_encode(f->pixels, 90, SHARD_JPEG_444, &s444, &n444), AN_OK);
    assert_true(n444 > n420);
    /* Not a 256x256 JPEG, or cut short: refused with libjpeg's reason. */
    assert_int_equal(shard_jpeg_decode(s420, n420 / 2, whole), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "corrupt JPEG data"));
    assert_int_equal(shard_jpeg_decode(f->pixels, 1000, whole), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "not a decodable JPEG"));
    assert_int_equal(shard_jpeg_decode_rows(s420, n420, whole, 30, 20), AN_ERR_ARG);
    free(s444);
    assert_int_equal(shard_jpeg_encode(f->pixels, 0, SHARD_JPEG_420, &s444, &n444), AN_ERR_ARG);
    assert_null(s444);
    free(s420);
    free(rows);
    free(whole);
}

static void test_shard_round_trip(void **state)
{
    fixture *f = *state;
    char path[512];
    write_val_shard(f, path);
    shard_reader *r = NULL;
    assert_int_equal(shard_reader_open(&r, path), AN_OK);
    assert_int_equal(r->store, SHARD_STORE_JPEG);
    assert_int_equal(r->jpeg_quality, 90);
    assert_string_equal(r->jpeg_subsampling, "4:2:0");
    uint64_t total = 0;
    uint8_t *image = malloc(IMAGE_STORED_BYTES), *want = malloc(IMAGE_STORED_BYTES);
    for (int i = 0; i < TEST_IMAGES; i++) {
        assert_int_equal(r->jpeg_lengths[i], f->lengths[i]);
        assert_int_equal(r->jpeg_offsets[i], total);
        total += f->lengths[i];
        /* The stored bytes are the stream, and read back decode as a plain decode of it. */
        uint8_t *stored = malloc(f->lengths[i]);
        assert_int_equal(pread(r->fd, stored, f->lengths[i], (off_t)(r->images_offset + r->jpeg_offsets[i])),
                         (ssize_t)f->lengths[i]);
        assert_memory_equal(stored, f->streams[i], f->lengths[i]);
        plain_libjpeg_decode(stored, f->lengths[i], want);
        free(stored);
        assert_int_equal(shard_reader_read_image(r, (size_t)i, image), AN_OK);
        assert_memory_equal(image, want, IMAGE_STORED_BYTES);
        assert_int_equal(r->labels[i], f->labels[i]);
        assert_string_equal(r->paths[i], f->paths[i]);
    }
    assert_int_equal(r->stored_bytes, total);
    assert_int_equal(shard_reader_verify(r, NULL), AN_OK);
    free(image);
    free(want);
    shard_reader_close(r);
}

static void test_flipped_byte_and_undecodable_stream(void **state)
{
    fixture *f = *state;
    char path[512];
    write_val_shard(f, path);
    shard_reader *r = NULL;
    assert_int_equal(shard_reader_open(&r, path), AN_OK);
    uint64_t where = r->images_offset + r->jpeg_offsets[3] + f->lengths[3] / 2;
    shard_reader_close(r);
    flip_byte(path, where, 0x01);
    assert_int_equal(shard_reader_open(&r, path), AN_OK);
    uint8_t *image = malloc(IMAGE_STORED_BYTES);
    assert_int_equal(shard_reader_read_image(r, 2, image), AN_OK);
    assert_int_equal(shard_reader_read_image_rows(r, 3, image, 16, 240), AN_ERR_CHECKSUM);
    assert_non_null(strstr(error_message(), "image 3 (id 13, photos/p3.jpg)"));
    assert_non_null(strstr(error_message(), "val-00000-of-00001.h5"));
    size_t bad = 0;
    assert_int_equal(shard_reader_verify(r, &bad), AN_ERR_CHECKSUM);
    assert_int_equal(bad, 3);
    shard_reader_close(r);

    /* A stream whose checksum is right but which is not a JPEG: named, not a crash. */
    char cut[512];
    snprintf(cut, sizeof cut, "%s/cut.h5", f->dir);
    uint32_t lied[TEST_IMAGES];
    memcpy(lied, f->checksums, sizeof lied);
    memset(f->blob + f->lengths[0] + 2, 0, f->lengths[1] - 2); /* image 1 after its SOI marker */
    lied[1] = checksum_crc32(f->blob + f->lengths[0], f->lengths[1]);
    write_jpeg_shard(f, cut, lied);
    assert_int_equal(shard_reader_open(&r, cut), AN_OK);
    assert_int_equal(shard_reader_read_image(r, 1, image), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "image 1 (id 11, photos/p1.jpg)"));
    shard_reader_close(r);
    free(image);
}

static void test_bad_offsets_refused(void **state)
{
    fixture *f = *state;
    char path[512];
    write_val_shard(f, path);
    shard_reader *r = NULL;
    assert_int_equal(shard_reader_open(&r, path), AN_OK);
    shard_reader_close(r);
    /* Image 2's offset moved by one byte, through HDF5 itself. */
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(file >= 0);
    hid_t dset = H5Dopen2(file, "jpeg_offsets", H5P_DEFAULT);
    assert_true(dset >= 0);
    uint64_t offsets[TEST_IMAGES];
    assert_true(H5Dread(dset, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, offsets) >= 0);
    offsets[2] += 1;
    assert_true(H5Dwrite(dset, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, offsets) >= 0);
    H5Dclose(dset);
    H5Fclose(file);
    assert_int_equal(shard_reader_open(&r, path), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "image 2's JPEG stream"));
    assert_non_null(strstr(error_message(), "val-00000-of-00001.h5"));
}

static void test_dataset_refuses_the_other_store(void **state)
{
    fixture *f = *state;
    char path[512];
    write_val_shard(f, path);
    dataset *d = NULL;
    assert_int_equal(dataset_alloc(&d, 5), AN_OK);
    snprintf(d->dir, sizeof d->dir, "%s", f->dir);
    snprintf(d->dataset_id, sizeof d->dataset_id, "0123456789abcdef");
    shard_reader *r = NULL;
    assert_int_equal(shard_reader_open(&r, path), AN_OK);
    d->store = SHARD_STORE_RAW;
    assert_int_equal(dataset_check_shard(d, r), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "stores jpeg images"));
    assert_non_null(strstr(error_message(), "raw dataset"));
    d->store = SHARD_STORE_JPEG;
    assert_int_equal(dataset_check_shard(d, r), AN_OK);
    shard_reader_close(r);
    dataset_close(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_codec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shard_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte_and_undecodable_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_offsets_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dataset_refuses_the_other_store, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
