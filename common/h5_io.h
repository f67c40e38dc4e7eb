/* h5_io.h: small generic HDF5 helpers (dataset/ is their main user): scalar
 * attributes, whole-dataset writes and reads, variable-length UTF-8 string
 * arrays.
 *
 * The Debian HDF5 build is not thread-safe: every HDF5 call in dataset/ runs
 * under h5_io_lock(), so shard readers may be opened from any thread. All
 * functions return AN_ERR_HDF5 (with the object's name) or
 * AN_ERR_FORMAT (wrong shape or type) on failure. Objects are created without
 * modification times: the same contents always give the same file bytes.
 *
 * An HDF5 file from someone else is untrusted: every reader here checks an
 * object's element count and type class before reading it into memory sized
 * by the caller, and strings are at most H5IO_STRING_MAX bytes.
 */
#ifndef ALEXNET_H5_IO_H
#define ALEXNET_H5_IO_H

#include <hdf5.h>
#include <stddef.h>

#include "status.h"

void h5_io_lock(void);
/* A group without modification times (so rewriting a file gives the same bytes); <0 on failure. */
hid_t h5_io_create_group(hid_t loc, const char *name);
void h5_io_unlock(void);

/* The longest string (attribute or dataset element) a reader accepts. */
#define H5IO_STRING_MAX 65536

/* AN_ERR_FORMAT unless attribute `attr` (called `name` in the message) holds
 * exactly one element of type class `expected`. */
an_status h5_io_check_attr(hid_t attr, const char *name, H5T_class_t expected);

an_status h5_io_write_attr_int(hid_t loc, const char *name, long long value);
an_status h5_io_write_attr_string(hid_t loc, const char *name, const char *value);
an_status h5_io_read_attr_int(hid_t loc, const char *name, long long *value);
/* Reads a fixed or variable-length string attribute into buf (truncated to size-1). */
an_status h5_io_read_attr_string(hid_t loc, const char *name, char *buf, size_t size);

/* Creates dataset `name` with file type `file_type`, shape dims[rank], contiguous,
 * and writes `data` (memory type `mem_type`). Zero-sized dims are allowed. */
an_status h5_io_write_dataset(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, int rank,
                              const hsize_t *dims, const void *data);
/* Reads a whole dataset of exactly `count` elements of the class of
 * `mem_type` (integer or float) as `mem_type` into data. */
an_status h5_io_read_dataset(hid_t loc, const char *name, hid_t mem_type, size_t count, void *data);
/* The number of elements of dataset `name` (product of dims). */
an_status h5_io_dataset_size(hid_t loc, const char *name, size_t *count);

/* A 1-D dataset of variable-length UTF-8 strings. */
an_status h5_io_write_strings(hid_t loc, const char *name, const char *const *strings, size_t count);
/* Reads a 1-D string dataset of exactly `count` elements: *out is an array of
 * count malloc'd strings (free with h5_io_free_strings). */
an_status h5_io_read_strings(hid_t loc, const char *name, size_t count, char ***out);
void h5_io_free_strings(char **strings, size_t count);

#endif
