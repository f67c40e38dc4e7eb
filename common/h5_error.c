/* h5_error.c: walks the HDF5 error stack and folds it into status.h's message. */
#include "h5_error.h"

#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void h5_error_init(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

typedef struct h5_walk_state {
    char first[256]; /* the innermost description (where the failure started) */
    char last[256];  /* the outermost (the API call) */
} h5_walk_state;

static herr_t h5_walk_callback(unsigned n, const H5E_error2_t *err, void *data)
{
    h5_walk_state *state = data;
    const char *desc = err->desc ? err->desc : "";
    if (n == 0) snprintf(state->first, sizeof state->first, "%s (%s)", desc, err->func_name ? err->func_name : "?");
    snprintf(state->last, sizeof state->last, "%s", desc);
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
    if (state.first[0])
        return error_set(AN_ERR_HDF5, "%s: HDF5: %s", context, state.first);
    return error_set(AN_ERR_HDF5, "%s: HDF5 call failed", context);
}
