/* fuzz_h5.h: the edits the structure-aware targets make to a valid HDF5 file
 * of ours (a checkpoint, a dataset.h5) with the HDF5 API, each chosen by the
 * input's bytes (fuzz_util.h): an attribute rewritten with another value,
 * element count or type, or deleted; a dataset replaced by one of another
 * shape and type, or deleted. */
#ifndef ALEXNET_FUZZ_H5_H
#define ALEXNET_FUZZ_H5_H

#include <hdf5.h>

#include "fuzz_util.h"

/* Rewrites attribute `name` of object `obj` (a path from `file`): an int64 or
 * a double near 1, a fixed-length string of 1..40 or 100000 characters, a
 * variable-length string from `strings` (7 of them), 1 or 7 elements; or
 * deletes it. */
void fuzz_h5_rewrite_attr(hid_t file, const char *obj, const char *name, const char *const strings[7], fuzz_bytes *b);

/* Replaces dataset `name` by an empty one of rank 1..4, each extent 1..40,
 * of float32, int16 or big-endian float64; or deletes it. */
void fuzz_h5_replace_dataset(hid_t file, const char *name, fuzz_bytes *b);

/* Writes a fresh copy of a template file (bytes[0..size)) to fuzz_dir()/name,
 * its path into path[4096], and opens it read-write. Aborts on failure. */
hid_t fuzz_h5_open_copy(const char *name, const uint8_t *bytes, size_t size, char *path);

/* After the edits: a last input byte of 200..255 cuts the file at path (a
 * copy of `size` bytes) to (byte - 200)/56 of its size. */
void fuzz_h5_cut(const char *path, size_t size, fuzz_bytes *b);

#endif
