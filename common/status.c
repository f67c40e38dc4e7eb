/* status.c: status names and the per-thread error message buffer. */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ERROR_MESSAGE_MAX 2048

static _Thread_local char error_buffer[ERROR_MESSAGE_MAX];

const char *status_name(an_status s)
{
    switch (s) {
    case AN_OK: return "ok";
    case AN_ERR_ARG: return "bad argument";
    case AN_ERR_IO: return "I/O error";
    case AN_ERR_NOMEM: return "out of memory";
    case AN_ERR_FORMAT: return "bad file format";
    case AN_ERR_IMAGE: return "bad image";
    case AN_ERR_HDF5: return "HDF5 error";
    case AN_ERR_VIPS: return "libvips error";
    case AN_ERR_LAPACK: return "LAPACK error";
    case AN_ERR_CUDA: return "CUDA error";
    case AN_ERR_MPI: return "MPI error";
    case AN_ERR_NUMERIC: return "non-finite value";
    case AN_ERR_CHECKSUM: return "checksum mismatch";
    case AN_ERR_INTERRUPTED: return "interrupted";
    case AN_ERR_UNSUPPORTED: return "unsupported";
    case AN_ERR_INTERNAL: return "internal error";
    }
    return "unknown status";
}

an_status error_set(an_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(error_buffer, sizeof error_buffer, fmt, ap);
    va_end(ap);
    return s;
}

an_status error_context(an_status s, const char *fmt, ...)
{
    char old[ERROR_MESSAGE_MAX];
    memcpy(old, error_buffer, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(error_buffer, sizeof error_buffer, fmt, ap);
    va_end(ap);
    if (n < 0 || old[0] == '\0') return s;
    /* Append ": <old message>", truncating to the buffer (intended). */
    size_t used = strlen(error_buffer);
    const char *parts[2] = {": ", old};
    for (int i = 0; i < 2; i++) {
        size_t room = sizeof error_buffer - 1 - used;
        size_t len = strlen(parts[i]);
        if (len > room) len = room;
        memcpy(error_buffer + used, parts[i], len);
        used += len;
    }
    error_buffer[used] = '\0';
    return s;
}

const char *error_message(void) { return error_buffer; }

void error_clear(void) { error_buffer[0] = '\0'; }
