/* h5_error.c: walks the HDF5 error stack and folds it into status.h's message. */
#include "h5_error.h"

#include <errno.h>
#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void h5_error_init(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

typedef struct h5_walk_state {
    char api[256];  /* the outermost entry: the API call that failed and why, "can't write data (H5Dwrite)" */
    int sys_errno;  /* the innermost entry's "errno = N" (a failed write or open of the file), else 0 */
    int lock;       /* 1: the failure was HDF5 locking the file ("unable to lock file") */
} h5_walk_state;

/* Walked from the API call (n = 0) down to where the failure started. */
static herr_t h5_walk_callback(unsigned n, const H5E_error2_t *err, void *data)
{
    h5_walk_state *state = data;
    const char *desc = err->desc ? err->desc : "";
    if (n == 0) snprintf(state->api, sizeof state->api, "%s (%s)", desc, err->func_name ? err->func_name : "?");
    const char *e = strstr(desc, "errno = ");
    int value;
    if (e && sscanf(e, "errno = %d", &value) == 1) state->sys_errno = value;
    if (strstr(desc, "unable to lock file")) state->lock = 1;
    return 0;
}

an_status h5_error_capture(const char *fmt, ...)
{
    h5_walk_state state;
    memset(&state, 0, sizeof state);
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, h5_walk_callback, &state);
    H5Eclear2(H5E_DEFAULT);
    char context[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(context, sizeof context, fmt, ap);
    va_end(ap);
    if (!state.api[0]) return error_set(AN_ERR_HDF5, "%s: HDF5 call failed", context);
    if (state.sys_errno == ENOSPC || state.sys_errno == EDQUOT)
        return error_set(AN_ERR_IO, "%s: %s (HDF5: %s); free space on that disk or write elsewhere, then run the "
                         "command again (with --resume if it trains a run that has a checkpoint)", context, strerror(state.sys_errno), state.api);
    /* HDF5 locks a file while it is open (shared to read, exclusive to write).
     * A file system without lock support (ENOSYS) is ignored by HDF5 itself. */
    if (state.lock && (state.sys_errno == EAGAIN || state.sys_errno == EWOULDBLOCK))
        return error_set(AN_ERR_IO, "%s: another process holds the file locked, open for writing (HDF5: %s: %s); "
                         "close that program or wait for it to finish, then run the same command again", context,
                         state.api, strerror(state.sys_errno));
    if (state.lock)
        return error_set(AN_ERR_IO, "%s: the file system refuses file locks (HDF5: %s: %s; NFS without a lock "
                         "manager?); alexnet never changes a file in place, so set HDF5_USE_FILE_LOCKING=FALSE in "
                         "the environment and run the same command again (docs/RELIABILITY.md)", context, state.api,
                         strerror(state.sys_errno));
    if (state.sys_errno)
        return error_set(AN_ERR_HDF5, "%s: HDF5: %s: %s", context, state.api, strerror(state.sys_errno));
    return error_set(AN_ERR_HDF5, "%s: HDF5: %s", context, state.api);
}
