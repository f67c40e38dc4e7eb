/* shard_writer.c: one shard file written in one go under a temporary name. */
#include "shard_writer.h"

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "h5_error.h"
#include "h5_io.h"

static an_status write_stats_group(hid_t file, const shard_stats *s)
{
    an_status st = AN_OK;
    hid_t group = h5_io_create_group(file, "stats");
    if (group < 0) return h5_error_capture("creating group stats");
    double rgb_sum[3], rgb_outer[9]; /* [3], [3,3] in [0,1] units */
    uint64_t outer_bytes[9];
    for (int i = 0; i < 3; i++) {
        rgb_sum[i] = (double)s->rgb_sum[i] / 255.0;
        for (int j = 0; j < 3; j++) {
            rgb_outer[3 * i + j] = (double)s->rgb_outer_sum[i][j] / (255.0 * 255.0);
            outer_bytes[3 * i + j] = s->rgb_outer_sum[i][j];
        }
    }
    hsize_t dims_pixel[3] = {IMAGE_STORED_SIZE, IMAGE_STORED_SIZE, IMAGE_CHANNELS};
    hsize_t dims3[1] = {3}, dims33[2] = {3, 3};
    AN_TRY_GOTO(st, h5_io_write_attr_int(group, "num_images", (long long)s->num_images), done);
    AN_TRY_GOTO(st, h5_io_write_dataset(group, "pixel_sum", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, dims_pixel,
                                        s->pixel_sum), done);
    AN_TRY_GOTO(st, h5_io_write_dataset(group, "rgb_sum", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, dims3, rgb_sum),
                done);
    AN_TRY_GOTO(st, h5_io_write_dataset(group, "rgb_outer_sum", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dims33,
                                        rgb_outer), done);
    /* The exact integer sums in byte units, so merged statistics are exact. */
    AN_TRY_GOTO(st, h5_io_write_dataset(group, "rgb_sum_bytes", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, dims3,
                                        s->rgb_sum), done);
    AN_TRY_GOTO(st, h5_io_write_dataset(group, "rgb_outer_sum_bytes", H5T_STD_U64LE, H5T_NATIVE_UINT64, 2,
                                        dims33, outer_bytes), done);
done:
    H5Gclose(group);
    return st;
}

static an_status write_refused_group(hid_t file, const shard_contents *c)
{
    an_status st = AN_OK;
    hid_t group = h5_io_create_group(file, "refused");
    if (group < 0) return h5_error_capture("creating group refused");
    AN_TRY_GOTO(st, h5_io_write_attr_int(group, "count", (long long)c->refused_count), done);
    AN_TRY_GOTO(st, h5_io_write_strings(group, "paths", c->refused_paths, c->refused_count), done);
    AN_TRY_GOTO(st, h5_io_write_strings(group, "reasons", c->refused_reasons, c->refused_count), done);
done:
    H5Gclose(group);
    return st;
}

/* The JPEG store: one contiguous blob `jpeg` and the per-image offsets and lengths into it. */
static an_status write_jpeg_images(hid_t file, const shard_contents *c)
{
    hsize_t n = c->count;
    uint64_t *offsets = malloc((n ? n : 1) * sizeof *offsets); /* [n] */
    AN_CHECK_ALLOC(offsets, (n ? n : 1) * sizeof *offsets);
    uint64_t total = 0;
    for (hsize_t i = 0; i < n; i++) {
        offsets[i] = total;
        total += c->jpeg_lengths[i];
    }
    hsize_t dims_blob[1] = {total};
    an_status st = AN_OK;
    AN_TRY_GOTO(st, h5_io_write_attr_int(file, "jpeg_quality", c->jpeg_quality), done);
    AN_TRY_GOTO(st, h5_io_write_attr_string(file, "jpeg_subsampling",
                                            shard_jpeg_subsampling_name(c->jpeg_subsampling)), done);
    /* Contiguous, unfiltered: a reader finds image i at offset + jpeg_offsets[i]. */
    AN_TRY_GOTO(st, h5_io_write_dataset(file, "jpeg", H5T_STD_U8LE, H5T_NATIVE_UINT8, 1, dims_blob,
                                        c->jpeg_bytes), done);
    AN_TRY_GOTO(st, h5_io_write_dataset(file, "jpeg_offsets", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, &n, offsets),
                done);
    AN_TRY_GOTO(st, h5_io_write_dataset(file, "jpeg_lengths", H5T_STD_U32LE, H5T_NATIVE_UINT32, 1, &n,
                                        c->jpeg_lengths), done);
done:
    free(offsets);
    return st;
}

static an_status write_contents(hid_t file, const shard_contents *c)
{
    hsize_t n = c->count;
    hsize_t dims_images[4] = {n, IMAGE_STORED_SIZE, IMAGE_STORED_SIZE, IMAGE_CHANNELS};
    AN_TRY(h5_io_write_attr_int(file, "format_version", SHARD_FORMAT_VERSION));
    AN_TRY(h5_io_write_attr_string(file, "dataset_id", c->dataset_id));
    AN_TRY(h5_io_write_attr_string(file, "split", c->split));
    AN_TRY(h5_io_write_attr_int(file, "shard_index", c->shard_index));
    AN_TRY(h5_io_write_attr_int(file, "shard_count", c->shard_count));
    AN_TRY(h5_io_write_attr_int(file, "num_images", (long long)c->count));
    AN_TRY(h5_io_write_attr_int(file, "image_size", IMAGE_STORED_SIZE));
    AN_TRY(h5_io_write_attr_string(file, "store", shard_store_name(c->store)));
    if (c->store == SHARD_STORE_JPEG) {
        AN_TRY(write_jpeg_images(file, c));
    } else {
        /* Contiguous, unfiltered: a reader finds image i at offset + i * 196608. */
        AN_TRY(h5_io_write_dataset(file, "images", H5T_STD_U8LE, H5T_NATIVE_UINT8, 4, dims_images, c->images));
    }
    AN_TRY(h5_io_write_dataset(file, "labels", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &n, c->labels));
    AN_TRY(h5_io_write_dataset(file, "image_ids", H5T_STD_U32LE, H5T_NATIVE_UINT32, 1, &n, c->image_ids));
    AN_TRY(h5_io_write_dataset(file, "checksums", H5T_STD_U32LE, H5T_NATIVE_UINT32, 1, &n, c->checksums));
    AN_TRY(h5_io_write_strings(file, "paths", c->paths, c->count));
    if (c->stats) AN_TRY(write_stats_group(file, c->stats));
    AN_TRY(write_refused_group(file, c));
    return AN_OK;
}

an_status shard_write(const char *final_path, const shard_contents *c)
{
    if (strlen(c->dataset_id) != AN_DATASET_ID_LEN)
        return error_set(AN_ERR_ARG, "dataset id '%s' is not %d hex characters", c->dataset_id, AN_DATASET_ID_LEN);
    char tmp[ATOMIC_PATH_MAX];
    AN_TRY(atomic_temp_name(final_path, tmp, sizeof tmp));
    h5_error_init();
    an_status st = AN_OK;
    h5_io_lock();
    hid_t file = h5_io_create_file(tmp, H5F_ACC_EXCL);
    if (file < 0) {
        st = h5_error_capture("creating %s (is the output directory writable?)", tmp);
    } else {
        st = write_contents(file, c);
        if (H5Fclose(file) < 0 && st == AN_OK) st = h5_error_capture("closing %s", tmp);
    }
    h5_io_unlock();
    if (st == AN_OK) st = atomic_rename_durable(tmp, final_path);
    if (st != AN_OK) {
        unlink(tmp);
        return error_context(st, "writing shard %s", final_path);
    }
    return AN_OK;
}
