/* status.h: the status codes every library function returns, and the
 * per-thread error message that says which file, what failed and what to do.
 *
 * Library code never prints and never exits: it sets a message with
 * error_set() and returns the code; callers may add context on the way up
 * with error_context(); only main() prints error_message() and exits.
 */
#ifndef ALEXNET_STATUS_H
#define ALEXNET_STATUS_H

#include <stddef.h>

typedef enum an_status {
    AN_OK = 0,
    AN_ERR_ARG,         /* a bad argument or option value */
    AN_ERR_IO,          /* open/read/write/fsync/rename failed */
    AN_ERR_NOMEM,       /* an allocation failed */
    AN_ERR_FORMAT,      /* a file is not what it should be (bad shard, bad checkpoint) */
    AN_ERR_IMAGE,       /* an image could not be decoded or was refused */
    AN_ERR_HDF5,        /* an HDF5 call failed */
    AN_ERR_VIPS,        /* a libvips call failed */
    AN_ERR_LAPACK,      /* a LAPACKE call failed */
    AN_ERR_CUDA,        /* a CUDA, cuDNN, cuBLAS or NCCL call failed */
    AN_ERR_MPI,         /* an MPI call failed */
    AN_ERR_NUMERIC,     /* a non-finite value where a finite one was needed */
    AN_ERR_CHECKSUM,    /* stored data does not match its checksum */
    AN_ERR_INTERRUPTED, /* stopped by a signal */
    AN_ERR_UNSUPPORTED, /* asked for something this build cannot do */
    AN_ERR_INTERNAL     /* a broken invariant: a bug */
} an_status;

/* A short fixed name of the code, e.g. "I/O error". */
const char *status_name(an_status s);

/* Sets this thread's message (printf format) and returns s, so that
 * `return error_set(AN_ERR_IO, "cannot open %s: %s", path, strerror(errno));` reads well. */
an_status error_set(an_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the current message with context: "reading train-00001.h5: <old message>".
 * Returns s unchanged. */
an_status error_context(an_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* This thread's last message ("" if none). */
const char *error_message(void);

/* Clears this thread's message. */
void error_clear(void);

/* Propagates a failing status, leaving the message as it is. */
#define AN_TRY(expr)                         \
    do {                                     \
        an_status an_try_s_ = (expr);        \
        if (an_try_s_ != AN_OK) return an_try_s_; \
    } while (0)

/* Jumps to a cleanup label with `st` set, for one-exit functions. */
#define AN_TRY_GOTO(st, expr, label)   \
    do {                               \
        (st) = (expr);                 \
        if ((st) != AN_OK) goto label; \
    } while (0)

/* Checks an allocation; on NULL sets AN_ERR_NOMEM naming the size and returns. */
#define AN_CHECK_ALLOC(ptr, bytes)                                                         \
    do {                                                                                   \
        if ((ptr) == NULL)                                                                 \
            return error_set(AN_ERR_NOMEM, "out of memory allocating %zu bytes at %s:%d", \
                             (size_t)(bytes), __FILE__, __LINE__);                         \
    } while (0)

#endif
