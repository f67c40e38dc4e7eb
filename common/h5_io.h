/* h5_io.h: the one set of small HDF5 helpers that every file we write and
 * read goes through (dataset/, prep's plan, net/checkpoint.c): scalar
 * attributes, whole-dataset writes and reads, and strings.
 *
 * Strings are fixed-length UTF-8, padded with zero bytes (docs/FORMAT.md,
 * "Strings"): a string attribute is one fixed-length string as long as its
 * value, a string dataset is 1-D with every element as long as the longest.
 * Their bytes lie in the attribute or the dataset itself, never in HDF5's
 * global heap, whose reader in the HDF5 1.10 that Debian ships crashes on a
 * damaged heap (docs/RELIABILITY.md). Files written by earlier format
 * versions hold variable-length strings: a reader accepts them only when the
 * caller says the file's format version is one of those (H5IO_STRINGS_LEGACY).
 *
 * The Debian HDF5 build is not thread-safe: every HDF5 call in dataset/ runs
 * under h5_io_lock(), so shard readers may be opened from any thread. All
 * functions return AN_ERR_HDF5 (with the object's name) or
 * AN_ERR_FORMAT (missing, wrong shape or type) on failure. Objects are
 * created without modification times: the same contents always give the same
 * file bytes.
 *
 * An HDF5 file from someone else is untrusted: every reader here checks an
 * object's element count and type class before reading it into memory sized
 * by the caller, strings are at most H5IO_STRING_MAX bytes, and a string
 * dataset must fit in its file before memory is sized by it.
 */
#ifndef ALEXNET_H5_IO_H
#define ALEXNET_H5_IO_H

#include <hdf5.h>
#include <stddef.h>

#include "status.h"

void h5_io_lock(void);
/* Creates file `path` (H5Fcreate's flags) in the structures every file we
 * write uses (docs/FORMAT.md, "HDF5 structures"): the HDF5 1.8 file format,
 * whose superblock and object headers carry checksums, so that damaged
 * metadata is refused by HDF5 before it is parsed; every group's links and
 * every object's attributes kept in its object header (no B-tree, no heap);
 * no modification times. <0 on failure. */
hid_t h5_io_create_file(const char *path, unsigned flags);
/* A group in the same structures; <0 on failure. */
hid_t h5_io_create_group(hid_t loc, const char *name);
void h5_io_unlock(void);

/* The longest string (attribute or dataset element) a writer writes and a reader accepts. */
#define H5IO_STRING_MAX 65536

/* Which string encodings a reader accepts, chosen by the file's format version. */
typedef enum h5_io_strings {
    H5IO_STRINGS_FIXED = 0, /* fixed-length only: every current format */
    H5IO_STRINGS_LEGACY = 1 /* also variable-length: formats before the fixed-length strings */
} h5_io_strings;

/* AN_ERR_FORMAT unless attribute `attr` (called `name` in the message) holds
 * exactly one element of type class `expected`. */
an_status h5_io_check_attr(hid_t attr, const char *name, H5T_class_t expected);

/* A scalar attribute of HDF5 type `type` (an integer or floating-point type;
 * the file holds it as that type) from *value. */
an_status h5_io_write_attr(hid_t loc, const char *name, hid_t type, const void *value);
/* Reads scalar attribute `name` as `type` into *value; AN_ERR_FORMAT when it is
 * missing, not one value, or not of type's class. */
an_status h5_io_read_attr(hid_t loc, const char *name, hid_t type, void *value);
/* The same for a 64-bit integer (stored as int64 little-endian). */
an_status h5_io_write_attr_int(hid_t loc, const char *name, long long value);
an_status h5_io_read_attr_int(hid_t loc, const char *name, long long *value);

/* A fixed-length UTF-8 string attribute of strlen(value) bytes (1 for ""). */
an_status h5_io_write_attr_string(hid_t loc, const char *name, const char *value);
/* Reads a string attribute into buf[size]; AN_ERR_FORMAT when it is longer
 * than size-1 bytes, or variable-length and `accept` is H5IO_STRINGS_FIXED. */
an_status h5_io_read_attr_string(hid_t loc, h5_io_strings accept, const char *name, char *buf, size_t size);

/* Creates dataset `name` with file type `file_type`, shape dims[rank], contiguous,
 * and writes `data` (memory type `mem_type`). Zero-sized dims are allowed. */
an_status h5_io_write_dataset(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, int rank,
                              const hsize_t *dims, const void *data);
/* Reads a whole dataset of exactly `count` elements of the class of
 * `mem_type` (integer or float) as `mem_type` into data. */
an_status h5_io_read_dataset(hid_t loc, const char *name, hid_t mem_type, size_t count, void *data);
/* The number of elements of dataset `name` (product of dims). */
an_status h5_io_dataset_size(hid_t loc, const char *name, size_t *count);

/* A 1-D dataset [count] of fixed-length UTF-8 strings, each as long as the
 * longest (at least 1 byte), shorter ones padded with zero bytes. */
an_status h5_io_write_strings(hid_t loc, const char *name, const char *const *strings, size_t count);
/* Reads a string dataset of exactly `count` elements (1-D, or a scalar when
 * count is 1): *out is an array of count malloc'd strings (free with
 * h5_io_free_strings). Variable-length strings only when `accept` says so. */
an_status h5_io_read_strings(hid_t loc, h5_io_strings accept, const char *name, size_t count, char ***out);
void h5_io_free_strings(char **strings, size_t count);

/* For a file found damaged: appends " (advice)" to the message of an
 * AN_ERR_FORMAT or AN_ERR_HDF5 status (what the user can do about it);
 * returns st. */
an_status h5_io_advise(an_status st, const char *advice);

/* Runs check(ctx) first in a forked child that only checks and then exits:
 * for the reading of a file that goes through HDF5's global heap (the
 * variable-length strings of an earlier format version), whose reader in
 * HDF5 1.10 crashes on a damaged heap. AN_ERR_FORMAT "this file is damaged
 * or hostile: HDF5 crashed reading it" when the child dies by a signal or
 * outlives H5IO_CHECK_SECONDS; AN_OK otherwise, whatever check returned
 * (the caller's own reading, in this process, reports a refusal). The
 * caller adds what to do (h5_io_advise). Call it
 * with the HDF5 lock held, so that no other thread is inside HDF5 at the fork. */
#define H5IO_CHECK_SECONDS 10
typedef an_status (*h5_io_check_fn)(void *ctx);
an_status h5_io_check_in_child(h5_io_check_fn check, void *ctx);

#endif
