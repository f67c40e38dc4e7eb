/* shard_reader.c: HDF5 for the metadata at open, pread for the pixels. */
#include "shard_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checksum.h"
#include "h5_error.h"
#include "h5_io.h"
#include "shard_jpeg.h"

size_t shard_reader_count(const shard_reader *r) { return r->count; }
const int32_t *shard_reader_labels(const shard_reader *r) { return r->labels; }
const uint32_t *shard_reader_image_ids(const shard_reader *r) { return r->image_ids; }
const uint32_t *shard_reader_checksums(const shard_reader *r) { return r->checksums; }

/* Variable-length strings only in shards of format version 1 (shard_format.h). */
static h5_io_strings shard_reader_strings(const shard_reader *r)
{
    return r->format_version < SHARD_FORMAT_VERSION ? H5IO_STRINGS_LEGACY : H5IO_STRINGS_FIXED;
}

/* Checks that dataset `name` is contiguous, unfiltered uint8 of shape
 * dims[rank], stored as one block of exactly that many bytes inside the file
 * of `file_size` bytes, and finds the file offset of its first byte (left
 * alone when it is empty): every pread of the reader then stays inside that
 * block (docs/FORMAT.md 1.1). A shard from someone else is untrusted. */
static an_status locate_data(hid_t file, const char *name, int rank, const hsize_t *want, uint64_t file_size,
                             uint64_t *offset_out)
{
    an_status st = AN_OK;
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    if (dset < 0) return h5_error_capture("dataset %s missing", name);
    hid_t space = H5Dget_space(dset), type = H5Dget_type(dset), dcpl = H5Dget_create_plist(dset);
    hsize_t dims[4] = {0, 0, 0, 0}, elements = 1;
    if (space < 0 || type < 0 || dcpl < 0) {
        st = h5_error_capture("inspecting dataset %s", name);
        goto done;
    }
    int same = H5Sget_simple_extent_ndims(space) == rank && H5Sget_simple_extent_dims(space, dims, NULL) == rank;
    for (int k = 0; k < rank && same; k++) {
        same = dims[k] == want[k];
        elements *= want[k];
    }
    if (!same) {
        st = rank == 1 ? error_set(AN_ERR_FORMAT, "%s must be uint8 [%llu]", name, (unsigned long long)want[0])
                       : error_set(AN_ERR_FORMAT, "%s must be uint8 [%llu,%d,%d,%d]", name,
                                   (unsigned long long)want[0], IMAGE_STORED_SIZE, IMAGE_STORED_SIZE,
                                   IMAGE_CHANNELS);
        goto done;
    }
    if (H5Tget_class(type) != H5T_INTEGER || H5Tget_size(type) != 1 || H5Tget_sign(type) != H5T_SGN_NONE ||
        H5Pget_layout(dcpl) != H5D_CONTIGUOUS || H5Pget_nfilters(dcpl) != 0) {
        st = error_set(AN_ERR_FORMAT, "%s must be contiguous, unfiltered uint8", name);
        goto done;
    }
    if (elements > 0) {
        haddr_t offset = H5Dget_offset(dset);
        hsize_t stored = H5Dget_storage_size(dset);
        if (offset == HADDR_UNDEF || stored != elements) {
            st = error_set(AN_ERR_FORMAT, "%s is not one block of %llu bytes (%llu stored; was the shard written "
                           "completely?)", name, (unsigned long long)elements, (unsigned long long)stored);
            goto done;
        }
        if ((uint64_t)offset > file_size || file_size - (uint64_t)offset < elements) {
            st = error_set(AN_ERR_FORMAT, "file is %llu bytes, too short for %s's %llu bytes at byte %llu "
                           "(truncated?)", (unsigned long long)file_size, name, (unsigned long long)elements,
                           (unsigned long long)offset);
            goto done;
        }
        *offset_out = (uint64_t)offset;
    }
done:
    if (dcpl >= 0) H5Pclose(dcpl);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Dclose(dset);
    return st;
}

/* The raw store: images uint8 [count, 256, 256, 3]. */
static an_status locate_images(hid_t file, shard_reader *r, uint64_t file_size)
{
    const hsize_t dims[4] = {r->count, IMAGE_STORED_SIZE, IMAGE_STORED_SIZE, IMAGE_CHANNELS};
    r->stored_bytes = (uint64_t)r->count * IMAGE_STORED_BYTES;
    return locate_data(file, "images", 4, dims, file_size, &r->images_offset);
}

/* The JPEG store: the streams lie back to back in `jpeg`, in image order. */
static an_status locate_jpeg(hid_t file, shard_reader *r, uint64_t file_size)
{
    long long quality = 0;
    AN_TRY(h5_io_read_attr_int(file, "jpeg_quality", &quality));
    if (quality < 1 || quality > 100) return error_set(AN_ERR_FORMAT, "jpeg_quality %lld is not in 1..100", quality);
    r->jpeg_quality = (int)quality;
    AN_TRY(h5_io_read_attr_string(file, shard_reader_strings(r), "jpeg_subsampling", r->jpeg_subsampling,
                                  sizeof r->jpeg_subsampling));
    size_t n = r->count ? r->count : 1;
    r->jpeg_offsets = malloc(n * sizeof *r->jpeg_offsets);
    r->jpeg_lengths = malloc(n * sizeof *r->jpeg_lengths);
    if (!r->jpeg_offsets || !r->jpeg_lengths)
        return error_set(AN_ERR_NOMEM, "out of memory for %zu images' JPEG offsets", r->count);
    AN_TRY(h5_io_read_dataset(file, "jpeg_offsets", H5T_NATIVE_UINT64, r->count, r->jpeg_offsets));
    AN_TRY(h5_io_read_dataset(file, "jpeg_lengths", H5T_NATIVE_UINT32, r->count, r->jpeg_lengths));
    uint64_t total = 0;
    for (size_t i = 0; i < r->count; i++) {
        if (r->jpeg_offsets[i] != total || r->jpeg_lengths[i] == 0)
            return error_set(AN_ERR_FORMAT, "image %zu's JPEG stream (offset %llu, %u bytes) does not follow the "
                             "previous one at %llu", i, (unsigned long long)r->jpeg_offsets[i], r->jpeg_lengths[i],
                             (unsigned long long)total);
        total += r->jpeg_lengths[i];
    }
    r->stored_bytes = total;
    const hsize_t dims[1] = {total};
    return locate_data(file, "jpeg", 1, dims, file_size, &r->images_offset);
}

static an_status alloc_arrays(shard_reader *r)
{
    size_t n = r->count ? r->count : 1;
    r->labels = malloc(n * sizeof *r->labels);
    r->image_ids = malloc(n * sizeof *r->image_ids);
    r->checksums = malloc(n * sizeof *r->checksums);
    if (!r->labels || !r->image_ids || !r->checksums)
        return error_set(AN_ERR_NOMEM, "out of memory for %zu images' metadata", r->count);
    return AN_OK;
}

static an_status read_refused(hid_t file, shard_reader *r)
{
    an_status st = AN_OK;
    hid_t group = H5Gopen2(file, "refused", H5P_DEFAULT);
    if (group < 0) return h5_error_capture("group refused missing");
    long long n = 0;
    AN_TRY_GOTO(st, h5_io_read_attr_int(group, "count", &n), done);
    if (n < 0) {
        st = error_set(AN_ERR_FORMAT, "refused count %lld is negative", n);
        goto done;
    }
    r->refused_count = (size_t)n;
    h5_io_strings strings = shard_reader_strings(r);
    AN_TRY_GOTO(st, h5_io_read_strings(group, strings, "paths", r->refused_count, &r->refused_paths), done);
    AN_TRY_GOTO(st, h5_io_read_strings(group, strings, "reasons", r->refused_count, &r->refused_reasons), done);
done:
    H5Gclose(group);
    return st;
}

/* Everything after the format version. */
static an_status read_contents(hid_t file, shard_reader *r, uint64_t file_size)
{
    long long index = 0, count = 0, num = 0, size = 0;
    AN_TRY(h5_io_read_attr_string(file, shard_reader_strings(r), "dataset_id", r->dataset_id,
                                  sizeof r->dataset_id));
    AN_TRY(h5_io_read_attr_string(file, shard_reader_strings(r), "split", r->split, sizeof r->split));
    AN_TRY(h5_io_read_attr_int(file, "shard_index", &index));
    AN_TRY(h5_io_read_attr_int(file, "shard_count", &count));
    AN_TRY(h5_io_read_attr_int(file, "num_images", &num));
    AN_TRY(h5_io_read_attr_int(file, "image_size", &size));
    if (size != IMAGE_STORED_SIZE) return error_set(AN_ERR_FORMAT, "image_size %lld is not %d", size, IMAGE_STORED_SIZE);
    if (count < 1 || index < 0 || index >= count || num < 0 || num > 0x7fffffff)
        return error_set(AN_ERR_FORMAT, "bad shard attributes (index %lld, count %lld, images %lld)", index, count, num);
    if (strcmp(r->split, "train") != 0 && strcmp(r->split, "val") != 0)
        return error_set(AN_ERR_FORMAT, "split '%s' is neither train nor val", r->split);
    r->shard_index = (int)index;
    r->shard_count = (int)count;
    r->count = (size_t)num;
    /* before sizing anything by num: every image has at least its label, id
     * and checksum (12 bytes) in the file, whatever the store */
    if ((uint64_t)num > file_size / 12)
        return error_set(AN_ERR_FORMAT, "num_images %lld cannot fit in a file of %llu bytes (truncated?)", num,
                         (unsigned long long)file_size);
    AN_TRY(alloc_arrays(r));
    AN_TRY(h5_io_read_dataset(file, "labels", H5T_NATIVE_INT32, r->count, r->labels));
    AN_TRY(h5_io_read_dataset(file, "image_ids", H5T_NATIVE_UINT32, r->count, r->image_ids));
    AN_TRY(h5_io_read_dataset(file, "checksums", H5T_NATIVE_UINT32, r->count, r->checksums));
    AN_TRY(h5_io_read_strings(file, shard_reader_strings(r), "paths", r->count, &r->paths));
    AN_TRY(read_refused(file, r));
    htri_t has_stats = H5Lexists(file, "stats", H5P_DEFAULT);
    if (has_stats < 0) return h5_error_capture("looking for group stats");
    r->has_stats = has_stats > 0;
    htri_t has_store = H5Aexists(file, "store");
    if (has_store < 0) return h5_error_capture("looking for attribute store");
    char store[SHARD_STORE_NAME_MAX] = "raw"; /* shards written before the JPEG store have none */
    if (has_store > 0) AN_TRY(h5_io_read_attr_string(file, shard_reader_strings(r), "store", store, sizeof store));
    AN_TRY(shard_store_parse(store, &r->store));
    return r->store == SHARD_STORE_JPEG ? locate_jpeg(file, r, file_size) : locate_images(file, r, file_size);
}

typedef struct contents_job {
    hid_t file;
    shard_reader *r;
    uint64_t file_size;
} contents_job;

static an_status read_contents_job(void *ctx)
{
    contents_job *j = ctx;
    return read_contents(j->file, j->r, j->file_size);
}

static an_status read_metadata(hid_t file, shard_reader *r, uint64_t file_size)
{
    long long version = 0;
    AN_TRY(h5_io_read_attr_int(file, "format_version", &version));
    if (version < SHARD_FORMAT_VERSION_OLDEST || version > SHARD_FORMAT_VERSION)
        return error_set(AN_ERR_FORMAT, "format_version %lld is not %d..%d (written by another alexnet version?)",
                         version, SHARD_FORMAT_VERSION_OLDEST, SHARD_FORMAT_VERSION);
    r->format_version = (int)version;
    /* A shard of format version 1 keeps its strings in HDF5's global heap:
     * they are read first in a child that only checks them (h5_io.h). */
    if (r->format_version < SHARD_FORMAT_VERSION) {
        contents_job job = {file, r, file_size};
        AN_TRY(h5_io_check_in_child(read_contents_job, &job));
    }
    return read_contents(file, r, file_size);
}

an_status shard_reader_open(shard_reader **out, const char *path)
{
    *out = NULL;
    shard_reader *r = calloc(1, sizeof *r);
    AN_CHECK_ALLOC(r, sizeof *r);
    r->fd = -1;
    an_status st = AN_OK;
    if (strlen(path) >= sizeof r->path) {
        st = error_set(AN_ERR_ARG, "path too long: %s", path);
        goto done;
    }
    snprintf(r->path, sizeof r->path, "%s", path);
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
        st = error_set(AN_ERR_IO, "cannot open shard %s: %s", path, strerror(errno));
        goto done;
    }
    struct stat sb;
    if (fstat(r->fd, &sb) != 0) {
        st = error_set(AN_ERR_IO, "cannot stat %s: %s", path, strerror(errno));
        goto done;
    }
    h5_error_init();
    h5_io_lock();
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        st = h5_error_capture("opening %s", path);
        if (st == AN_ERR_HDF5) { /* not a lock or a system error with its own remedy */
            char message[1024];
            snprintf(message, sizeof message, "%s", error_message());
            st = error_set(st, "%s (not an HDF5 file, or truncated?)", message);
        }
    } else {
        st = h5_io_advise(read_metadata(file, r, (uint64_t)sb.st_size),
                          "the shard is damaged, or not one this alexnet-prep writes: make the dataset again, or "
                          "get another copy");
        H5Fclose(file);
    }
    h5_io_unlock();
done:
    if (st != AN_OK) {
        shard_reader_close(r);
        return error_context(st, "shard %s", path);
    }
    *out = r;
    return AN_OK;
}

/* Reads n bytes at the file offset `at` of the image data into out (one pread, restarted on EINTR). */
static an_status read_stored(const shard_reader *r, size_t i, uint64_t at, size_t n, uint8_t *out)
{
    size_t done = 0;
    off_t base = (off_t)(r->images_offset + at);
    while (done < n) {
        ssize_t got = pread(r->fd, out + done, n - done, base + (off_t)done);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return error_set(AN_ERR_IO, "reading image %zu of %s: %s", i, r->path, strerror(errno));
        if (got == 0) return error_set(AN_ERR_FORMAT, "reading image %zu of %s: unexpected end of file", i, r->path);
        done += (size_t)got;
    }
    return AN_OK;
}

static an_status check_crc(const shard_reader *r, size_t i, const uint8_t *bytes, size_t n)
{
    uint32_t crc = checksum_crc32(bytes, n);
    if (crc != r->checksums[i])
        return error_set(AN_ERR_CHECKSUM,
                         "image %zu (id %u, %s) of shard %s is corrupt: crc32 %08x, expected %08x "
                         "(re-run alexnet-prep to rewrite the shard)",
                         i, r->image_ids[i], r->paths ? r->paths[i] : "?", r->path, crc, r->checksums[i]);
    return AN_OK;
}

/* The JPEG store: the stream's bytes, their CRC-32, then the rows asked for. */
static an_status read_jpeg_rows(const shard_reader *r, size_t i, uint8_t *out, int row_begin, int row_end)
{
    const size_t n = r->jpeg_lengths[i];
    uint8_t *bytes = malloc(n); /* [n] the JPEG stream */
    AN_CHECK_ALLOC(bytes, n);
    an_status st = read_stored(r, i, r->jpeg_offsets[i], n, bytes);
    if (st == AN_OK) st = check_crc(r, i, bytes, n);
    if (st == AN_OK) {
        st = shard_jpeg_decode_rows(bytes, n, out, row_begin, row_end);
        if (st != AN_OK)
            st = error_context(st, "image %zu (id %u, %s) of shard %s (its checksum is right: the shard was "
                               "written so; re-run alexnet-prep)", i, r->image_ids[i], r->paths ? r->paths[i] : "?",
                               r->path);
    }
    free(bytes);
    return st;
}

an_status shard_reader_read_image_rows(const shard_reader *r, size_t i, uint8_t *out /* [256,256,3] */,
                                       int row_begin, int row_end)
{
    if (i >= r->count)
        return error_set(AN_ERR_ARG, "image %zu out of range: shard %s has %zu images", i, r->path, r->count);
    if (r->store == SHARD_STORE_JPEG) return read_jpeg_rows(r, i, out, row_begin, row_end);
    AN_TRY(read_stored(r, i, (uint64_t)i * IMAGE_STORED_BYTES, IMAGE_STORED_BYTES, out));
    return check_crc(r, i, out, IMAGE_STORED_BYTES);
}

an_status shard_reader_read_image(const shard_reader *r, size_t i, uint8_t *out /* [256,256,3] */)
{
    return shard_reader_read_image_rows(r, i, out, 0, IMAGE_STORED_SIZE);
}

an_status shard_reader_verify(const shard_reader *r, size_t *first_bad)
{
    uint8_t *image = malloc(IMAGE_STORED_BYTES); /* [256,256,3] */
    AN_CHECK_ALLOC(image, IMAGE_STORED_BYTES);
    an_status st = AN_OK;
    for (size_t i = 0; i < r->count; i++) {
        st = shard_reader_read_image(r, i, image);
        if (st != AN_OK) {
            if (first_bad) *first_bad = i;
            break;
        }
    }
    free(image);
    return st;
}

static an_status read_stats_group(hid_t file, shard_stats *out)
{
    an_status st = AN_OK;
    hid_t group = H5Gopen2(file, "stats", H5P_DEFAULT);
    if (group < 0) return h5_error_capture("group stats missing (not a training shard?)");
    long long n = 0;
    AN_TRY_GOTO(st, h5_io_read_attr_int(group, "num_images", &n), done);
    out->num_images = (uint64_t)n;
    AN_TRY_GOTO(st, h5_io_read_dataset(group, "pixel_sum", H5T_NATIVE_DOUBLE, IMAGE_STORED_BYTES, out->pixel_sum),
                done);
    AN_TRY_GOTO(st, h5_io_read_dataset(group, "rgb_sum_bytes", H5T_NATIVE_UINT64, 3, out->rgb_sum), done);
    AN_TRY_GOTO(st, h5_io_read_dataset(group, "rgb_outer_sum_bytes", H5T_NATIVE_UINT64, 9, out->rgb_outer_sum), done);
done:
    H5Gclose(group);
    return st;
}

an_status shard_reader_read_stats(const shard_reader *r, shard_stats *out)
{
    if (!r->has_stats) return error_set(AN_ERR_FORMAT, "shard %s has no statistics", r->path);
    an_status st;
    h5_io_lock();
    hid_t file = H5Fopen(r->path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        st = h5_error_capture("opening %s", r->path);
    } else {
        st = read_stats_group(file, out);
        H5Fclose(file);
    }
    h5_io_unlock();
    if (st != AN_OK) return error_context(st, "shard %s", r->path);
    if (out->num_images != r->count)
        return error_set(AN_ERR_FORMAT, "shard %s: stats count %llu differs from %zu images", r->path,
                         (unsigned long long)out->num_images, r->count);
    return AN_OK;
}

void shard_reader_close(shard_reader *r)
{
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    free(r->labels);
    free(r->image_ids);
    free(r->checksums);
    free(r->jpeg_offsets);
    free(r->jpeg_lengths);
    h5_io_free_strings(r->paths, r->count);
    h5_io_free_strings(r->refused_paths, r->refused_count);
    h5_io_free_strings(r->refused_reasons, r->refused_count);
    free(r);
}
