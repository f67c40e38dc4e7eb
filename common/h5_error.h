/* h5_error.h: HDF5 errors turned into our own messages.
 * h5_error_init() silences HDF5's automatic stack printing (call once from
 * main() or a library's open function; idempotent); h5_error_capture() sets
 * this thread's message from a caller's context plus the innermost HDF5
 * description, e.g. "writing images to train-00003.h5: HDF5: Write failed".
 * Returns AN_ERR_HDF5. */
#ifndef ALEXNET_H5_ERROR_H
#define ALEXNET_H5_ERROR_H

#include "status.h"

void h5_error_init(void);
an_status h5_error_capture(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
