/* fuzz_shard.c: libFuzzer target, structure-aware: a shard written by
 * someone else (docs/FORMAT.md 1.1). The input chooses how each attribute and
 * dataset of a small shard departs from the format (its value, its element
 * count, its type, the images' layout and storage, where the file is cut);
 * the shard is written with the HDF5 API and opened with shard_reader_open,
 * then every image and the statistics are read. The reader must refuse what
 * is wrong with a message and never read outside what the file holds. */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checksum.h"
#include "fuzz_util.h"
#include "h5_error.h"
#include "shard_reader.h"

enum { VALID_IMAGES = 2 };

/* Writes attribute `name` as `count` int64 values near `valid`, or as a string (type choice 1). */
static void int_attr(hid_t loc, const char *name, long long valid, fuzz_bytes *b)
{
    unsigned shape = fuzz_byte(b) % 8, kind = fuzz_byte(b) % 8;
    if (shape == 7) return; /* missing */
    hsize_t count = shape == 6 ? 5 : 1;
    long long v[5];
    for (int i = 0; i < 5; i++) v[i] = fuzz_near(b, valid);
    hid_t space = count == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, NULL);
    hid_t type = kind == 7 ? H5Tcopy(H5T_C_S1) : H5Tcopy(kind == 6 ? H5T_IEEE_F64LE : H5T_STD_I64LE);
    if (kind == 7) H5Tset_size(type, 8);
    hid_t attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr >= 0) {
        if (kind == 7) H5Awrite(attr, type, "1234567812345678123456781234567812345678"); /* 5 x 8 bytes */
        else if (kind == 6) { double d[5] = {(double)v[0], 0, 0, 0, 0}; H5Awrite(attr, H5T_NATIVE_DOUBLE, d); }
        else H5Awrite(attr, H5T_NATIVE_LLONG, v);
        H5Aclose(attr);
    }
    H5Tclose(type);
    H5Sclose(space);
}

/* Writes string attribute `name` (valid text `valid`) as a fixed or variable-length string, possibly repeated or long. */
static void string_attr(hid_t loc, const char *name, const char *valid, fuzz_bytes *b)
{
    unsigned kind = fuzz_byte(b) % 8;
    if (kind == 7) return; /* missing */
    char text[300];
    snprintf(text, sizeof text, "%s", valid);
    if (kind == 5) memset(text, 'x', sizeof text - 1), text[sizeof text - 1] = 0; /* too long */
    hsize_t count = kind == 4 ? 3 : 1;
    hid_t space = count == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, NULL);
    hid_t type = H5Tcopy(H5T_C_S1);
    const char *values[3] = {text, text, text};
    size_t width = strlen(text) > 0 ? strlen(text) : 1;
    char packed[3 * sizeof text]; /* [count][width]: fixed-length, as format version 2 writes them */
    for (int i = 0; i < 3; i++) memcpy(packed + (size_t)i * width, text, width);
    if (kind == 6) H5Tset_size(type, H5T_VARIABLE); /* as format version 1 wrote them */
    else H5Tset_size(type, width);
    hid_t attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr >= 0) {
        H5Awrite(attr, type, kind == 6 ? (const void *)values : (const void *)packed);
        H5Aclose(attr);
    }
    H5Tclose(type);
    H5Sclose(space);
}

/* A 1-D dataset of `n` (near valid) elements of an integer type, a float type or strings. */
static void small_dataset(hid_t loc, const char *name, hsize_t valid, hid_t valid_type, fuzz_bytes *b)
{
    unsigned kind = fuzz_byte(b) % 8;
    if (kind == 7) return; /* missing */
    long long n = fuzz_near(b, (long long)valid);
    if (n < 0 || n > 64) n = (long long)valid + 1;
    hsize_t dims[1] = {(hsize_t)n};
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t type = kind == 6 ? H5Tcopy(H5T_IEEE_F32LE) : H5Tcopy(valid_type);
    if (kind == 5) { H5Tclose(type); type = H5Tcopy(H5T_C_S1); H5Tset_size(type, 4); }
    hid_t dset = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (dset >= 0) {
        uint8_t zeros[64 * 16];
        memset(zeros, 0, sizeof zeros);
        for (size_t i = 0; i < sizeof zeros; i++) zeros[i] = (uint8_t)fuzz_byte(b) & 0x3;
        if (H5Tget_class(type) != H5T_STRING && H5Tis_variable_str(type) <= 0)
            H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros);
        H5Dclose(dset);
    }
    H5Tclose(type);
    H5Sclose(space);
}

static void strings_dataset(hid_t loc, const char *name, hsize_t valid, fuzz_bytes *b)
{
    unsigned kind = fuzz_byte(b) % 8;
    if (kind == 7) return;
    if (kind == 6) { small_dataset(loc, name, valid, H5T_STD_I32LE, b); return; } /* not strings */
    long long n = fuzz_near(b, (long long)valid);
    if (n < 0 || n > 64) n = (long long)valid + 1;
    hsize_t dims[1] = {(hsize_t)n};
    static char big[70000];
    memset(big, 'p', sizeof big - 1);
    const char *values[64];
    size_t width = 1;
    for (int i = 0; i < 64; i++) {
        values[i] = fuzz_byte(b) == 1 ? big : "img/a.jpg";
        if (i < n && strlen(values[i]) > width) width = strlen(values[i]);
    }
    /* fixed-length as format version 2 writes them ([n][width]); kind 4: variable-length, as version 1 did;
     * kind 5: 16 bytes of 'q' */
    char *fixed = calloc((size_t)(n > 0 ? n : 1), kind == 5 ? 16 : width);
    if (!fixed) return;
    if (kind == 5) memset(fixed, 'q', (size_t)(n > 0 ? n : 1) * 16);
    else for (long long i = 0; i < n; i++) memcpy(fixed + (size_t)i * width, values[i], strlen(values[i]));
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, kind == 5 ? 16 : kind == 4 ? H5T_VARIABLE : width);
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t dset = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (dset >= 0) {
        if (n > 0) H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, kind == 4 ? (const void *)values : (const void *)fixed);
        H5Dclose(dset);
    }
    free(fixed);
    H5Sclose(space);
    H5Tclose(type);
}

static void images_dataset(hid_t file, fuzz_bytes *b)
{
    unsigned layout = fuzz_byte(b) % 8, type_kind = fuzz_byte(b) % 8, write = fuzz_byte(b) % 8;
    if (layout == 7) return; /* missing */
    hsize_t dims[4] = {VALID_IMAGES, IMAGE_STORED_SIZE, IMAGE_STORED_SIZE, IMAGE_CHANNELS};
    int rank = 4;
    for (int i = 0; i < 4; i++) {
        long long d = fuzz_near(b, (long long)dims[i]);
        if (d >= 0 && d <= 300) dims[i] = (hsize_t)d;
    }
    if (fuzz_byte(b) == 3) rank = 3;
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (layout == 6 && dims[0] > 0 && dims[1] > 0 && dims[2] > 0 && dims[3] > 0) {
        hsize_t chunk[4] = {1, dims[1], dims[2], dims[3]};
        H5Pset_chunk(dcpl, rank, chunk);
    } else {
        H5Pset_layout(dcpl, H5D_CONTIGUOUS);
        if (layout != 5) H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
    }
    hid_t type = type_kind == 6 ? H5T_STD_I8LE : type_kind == 5 ? H5T_STD_U16LE : H5T_STD_U8LE;
    hid_t dset = H5Dcreate2(file, "images", type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dset >= 0 && write != 7) {
        size_t bytes = (size_t)H5Sget_simple_extent_npoints(space) * H5Tget_size(type);
        uint8_t *pixels = calloc(bytes ? bytes : 1, 1);
        if (pixels) {
            for (size_t i = 0; i < bytes; i += 4099) pixels[i] = (uint8_t)fuzz_byte(b);
            H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, pixels);
            free(pixels);
        }
    }
    if (dset >= 0) H5Dclose(dset);
    H5Pclose(dcpl);
    H5Sclose(space);
}

static void build_shard(const char *path, fuzz_bytes *b)
{
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) abort();
    int_attr(file, "format_version", SHARD_FORMAT_VERSION, b);
    string_attr(file, "dataset_id", "0123456789abcdef", b);
    string_attr(file, "split", fuzz_byte(b) & 1 ? "val" : "train", b);
    int_attr(file, "shard_index", 0, b);
    int_attr(file, "shard_count", 1, b);
    int_attr(file, "num_images", VALID_IMAGES, b);
    int_attr(file, "image_size", IMAGE_STORED_SIZE, b);
    small_dataset(file, "labels", VALID_IMAGES, H5T_STD_I32LE, b);
    small_dataset(file, "image_ids", VALID_IMAGES, H5T_STD_U32LE, b);
    small_dataset(file, "checksums", VALID_IMAGES, H5T_STD_U32LE, b);
    strings_dataset(file, "paths", VALID_IMAGES, b);
    if (fuzz_byte(b) != 7) {
        hid_t g = H5Gcreate2(file, "refused", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        int_attr(g, "count", 1, b);
        strings_dataset(g, "paths", 1, b);
        strings_dataset(g, "reasons", 1, b);
        H5Gclose(g);
    }
    if (fuzz_byte(b) != 7) {
        hid_t g = H5Gcreate2(file, "stats", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        int_attr(g, "num_images", VALID_IMAGES, b);
        if (fuzz_byte(b) != 7) small_dataset(g, "pixel_sum", 16, H5T_IEEE_F64LE, b);
        small_dataset(g, "rgb_sum_bytes", 3, H5T_STD_U64LE, b);
        small_dataset(g, "rgb_outer_sum_bytes", 9, H5T_STD_U64LE, b);
        H5Gclose(g);
    }
    images_dataset(file, b);
    H5Fclose(file);
    unsigned cut = fuzz_byte(b);
    if (cut >= 200) { /* cut the file at a fraction of its length */
        FILE *f = fopen(path, "rb");
        if (!f) return;
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fclose(f);
        if (truncate(path, size * (long)(cut - 200) / 56) != 0) abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h5_error_init();
    fuzz_bytes b = {data, size, 0};
    char path[4096];
    snprintf(path, sizeof path, "%s/train-00000-of-00001.h5", fuzz_dir());
    build_shard(path, &b);
    shard_reader *r = NULL;
    if (shard_reader_open(&r, path) == AN_OK) {
        size_t bad = 0;
        (void)shard_reader_verify(r, &bad);
        if (r->has_stats) {
            shard_stats s;
            if (shard_stats_init(&s) == AN_OK) {
                (void)shard_reader_read_stats(r, &s);
                shard_stats_free(&s);
            }
        }
        shard_reader_close(r);
    }
    return 0;
}
