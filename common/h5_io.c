/* h5_io.c: attribute, dataset and string helpers over the HDF5 C API
 * (strings fixed-length: h5_io.h says why). */
#include "h5_io.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "h5_error.h"

static pthread_mutex_t h5_mutex = PTHREAD_MUTEX_INITIALIZER;

/* Links and attributes per object kept in its header ("compact"): more than
 * any object we write holds. */
#define H5IO_COMPACT_MAX 1024

/* The creation properties shared by the root group (a file's) and every
 * other group: compact links and attributes, no modification times. */
static int set_group_properties(hid_t plist)
{
    return H5Pset_link_phase_change(plist, H5IO_COMPACT_MAX, H5IO_COMPACT_MAX) >= 0 &&
           H5Pset_attr_phase_change(plist, H5IO_COMPACT_MAX, H5IO_COMPACT_MAX) >= 0 &&
           H5Pset_obj_track_times(plist, 0) >= 0;
}

hid_t h5_io_create_file(const char *path, unsigned flags)
{
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE), fapl = H5Pcreate(H5P_FILE_ACCESS), file = H5I_INVALID_HID;
    if (fcpl >= 0 && fapl >= 0 && set_group_properties(fcpl) &&
        H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) >= 0)
        file = H5Fcreate(path, flags, fcpl, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    if (fcpl >= 0) H5Pclose(fcpl);
    return file;
}

hid_t h5_io_create_group(hid_t loc, const char *name)
{
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    if (gcpl < 0) return -1;
    hid_t group = -1;
    if (set_group_properties(gcpl)) group = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    return group;
}

void h5_io_lock(void) { pthread_mutex_lock(&h5_mutex); }
void h5_io_unlock(void) { pthread_mutex_unlock(&h5_mutex); }

/* ------------------------------------------------------------ attributes */

an_status h5_io_check_attr(hid_t attr, const char *name, H5T_class_t expected)
{
    hid_t space = H5Aget_space(attr), type = H5Aget_type(attr);
    hssize_t points = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (points < 0 || cls == H5T_NO_CLASS) return h5_error_capture("inspecting attribute %s", name);
    if (points != 1)
        return error_set(AN_ERR_FORMAT, "attribute %s holds %lld values, one expected", name, (long long)points);
    if (cls != expected)
        return error_set(AN_ERR_FORMAT, "attribute %s is not %s", name,
                         expected == H5T_INTEGER ? "an integer" : expected == H5T_FLOAT ? "a number" : "a string");
    return AN_OK;
}

/* Opens attribute `name` of loc into *attr: AN_ERR_FORMAT when it is missing. */
static an_status attr_open(hid_t loc, const char *name, hid_t *attr)
{
    htri_t exists = H5Aexists(loc, name);
    if (exists < 0) return h5_error_capture("looking for attribute %s", name);
    if (exists == 0) return error_set(AN_ERR_FORMAT, "attribute '%s' is missing", name);
    *attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (*attr < 0) return h5_error_capture("opening attribute %s", name);
    return AN_OK;
}

static an_status attr_write(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, const void *value)
{
    an_status st = AN_OK;
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = space < 0 ? H5I_INVALID_HID : H5Acreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0 || H5Awrite(attr, mem_type, value) < 0) st = h5_error_capture("writing attribute %s", name);
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    return st;
}

an_status h5_io_write_attr(hid_t loc, const char *name, hid_t type, const void *value)
{
    return attr_write(loc, name, type, type, value);
}

an_status h5_io_read_attr(hid_t loc, const char *name, hid_t type, void *value)
{
    hid_t attr = H5I_INVALID_HID;
    AN_TRY(attr_open(loc, name, &attr));
    an_status st = h5_io_check_attr(attr, name, H5Tget_class(type));
    if (st == AN_OK && H5Aread(attr, type, value) < 0) st = h5_error_capture("reading attribute %s", name);
    H5Aclose(attr);
    return st;
}

an_status h5_io_write_attr_int(hid_t loc, const char *name, long long value)
{
    return attr_write(loc, name, H5T_STD_I64LE, H5T_NATIVE_LLONG, &value);
}

an_status h5_io_read_attr_int(hid_t loc, const char *name, long long *value)
{
    return h5_io_read_attr(loc, name, H5T_NATIVE_LLONG, value);
}

/* ------------------------------------------------------------ string types */

/* A fixed-length string type of `bytes` bytes, padded with zeros (`pad`
 * H5T_STR_NULLPAD in files, H5T_STR_NULLTERM for C strings in memory), of
 * character set `cset` (UTF-8 in files; a file's own when reading it, as
 * HDF5 converts between no two character sets). */
static hid_t fixed_string_type(size_t bytes, H5T_str_t pad, H5T_cset_t cset)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return t;
    if (H5Tset_size(t, bytes) < 0 || H5Tset_strpad(t, pad) < 0 || H5Tset_cset(t, cset) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

static hid_t vlen_string_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return t;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return H5I_INVALID_HID;
    }
    return t;
}

/* The width of the fixed-length strings of file type `type` into *bytes, or
 * 0 for variable-length strings (when `accept` allows them). */
static an_status string_width(hid_t type, const char *what, const char *name, h5_io_strings accept, size_t *bytes)
{
    if (H5Tget_class(type) != H5T_STRING)
        return error_set(AN_ERR_FORMAT, "%s %s does not hold strings", what, name);
    htri_t is_vlen = H5Tis_variable_str(type);
    if (is_vlen < 0) return h5_error_capture("inspecting %s %s", what, name);
    if (is_vlen > 0) {
        if (accept != H5IO_STRINGS_LEGACY)
            return error_set(AN_ERR_FORMAT, "%s %s holds variable-length strings, which this format version never "
                             "writes", what, name);
        *bytes = 0;
        return AN_OK;
    }
    size_t n = H5Tget_size(type);
    if (n == 0 || n > H5IO_STRING_MAX)
        return error_set(AN_ERR_FORMAT, "%s %s holds strings of %zu bytes, 1 to %d expected", what, name, n,
                         H5IO_STRING_MAX);
    *bytes = n;
    return AN_OK;
}

an_status h5_io_write_attr_string(hid_t loc, const char *name, const char *value)
{
    size_t n = strlen(value);
    if (n > H5IO_STRING_MAX)
        return error_set(AN_ERR_ARG, "attribute %s: a string of %zu bytes, at most %d allowed", name, n,
                         H5IO_STRING_MAX);
    hid_t type = fixed_string_type(n > 0 ? n : 1, H5T_STR_NULLPAD, H5T_CSET_UTF8);
    if (type < 0) return h5_error_capture("making a string type for attribute %s", name);
    char empty[1] = {0};
    an_status st = attr_write(loc, name, type, type, n > 0 ? value : empty);
    H5Tclose(type);
    return st;
}

an_status h5_io_read_attr_string(hid_t loc, h5_io_strings accept, const char *name, char *buf, size_t size)
{
    hid_t attr = H5I_INVALID_HID, type = H5I_INVALID_HID, mem = H5I_INVALID_HID;
    AN_TRY(attr_open(loc, name, &attr));
    size_t width = 0;
    an_status st = h5_io_check_attr(attr, name, H5T_STRING);
    if (st != AN_OK) goto done;
    type = H5Aget_type(attr);
    if (type < 0) {
        st = h5_error_capture("inspecting attribute %s", name);
        goto done;
    }
    AN_TRY_GOTO(st, string_width(type, "attribute", name, accept, &width), done);
    if (width == 0) { /* variable-length: a file of an earlier format version */
        char *value = NULL;
        mem = vlen_string_type();
        if (mem < 0 || H5Aread(attr, mem, &value) < 0) {
            st = h5_error_capture("reading attribute %s", name);
        } else {
            size_t n = value ? strnlen(value, size) : 0;
            if (n >= size) st = error_set(AN_ERR_FORMAT, "attribute %s is longer than %zu bytes", name, size - 1);
            else memcpy(buf, value ? value : "", n + 1);
            H5free_memory(value);
        }
        goto done;
    }
    if (width + 1 > size) {
        st = error_set(AN_ERR_FORMAT, "attribute %s is a string of %zu bytes, at most %zu expected", name, width,
                       size - 1);
        goto done;
    }
    memset(buf, 0, size);
    mem = fixed_string_type(width + 1, H5T_STR_NULLTERM, H5Tget_cset(type));
    if (mem < 0 || H5Aread(attr, mem, buf) < 0) st = h5_error_capture("reading attribute %s", name);
done:
    if (mem >= 0) H5Tclose(mem);
    if (type >= 0) H5Tclose(type);
    H5Aclose(attr);
    return st;
}

/* ------------------------------------------------------------ datasets */

an_status h5_io_write_dataset(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, int rank,
                              const hsize_t *dims, const void *data)
{
    an_status st = AN_OK;
    hsize_t total = 1;
    for (int i = 0; i < rank; i++) total *= dims[i];
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t dset = -1;
    if (space < 0 || dcpl < 0 || H5Pset_layout(dcpl, H5D_CONTIGUOUS) < 0 ||
        H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) < 0 || H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) < 0 ||
        H5Pset_obj_track_times(dcpl, 0) < 0 || H5Pset_attr_phase_change(dcpl, H5IO_COMPACT_MAX, H5IO_COMPACT_MAX) < 0) {
        st = h5_error_capture("preparing dataset %s", name);
        goto done;
    }
    dset = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dset < 0) {
        st = h5_error_capture("creating dataset %s", name);
        goto done;
    }
    if (total > 0 && H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        st = h5_error_capture("writing dataset %s", name);
done:
    if (dset >= 0) H5Dclose(dset);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return st;
}

an_status h5_io_dataset_size(hid_t loc, const char *name, size_t *count)
{
    an_status st = AN_OK;
    hid_t dset = H5Dopen2(loc, name, H5P_DEFAULT);
    if (dset < 0) return h5_error_capture("dataset %s missing", name);
    hid_t space = H5Dget_space(dset);
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (n < 0) st = h5_error_capture("reading the shape of %s", name);
    else *count = (size_t)n;
    if (space >= 0) H5Sclose(space);
    H5Dclose(dset);
    return st;
}

an_status h5_io_read_dataset(hid_t loc, const char *name, hid_t mem_type, size_t count, void *data)
{
    size_t have = 0;
    AN_TRY(h5_io_dataset_size(loc, name, &have));
    if (have != count)
        return error_set(AN_ERR_FORMAT, "dataset %s has %zu elements, expected %zu", name, have, count);
    if (count == 0) return AN_OK;
    an_status st = AN_OK;
    hid_t dset = H5Dopen2(loc, name, H5P_DEFAULT);
    hid_t type = dset >= 0 ? H5Dget_type(dset) : -1;
    if (dset < 0 || type < 0) st = h5_error_capture("opening dataset %s", name);
    else if (H5Tget_class(type) != H5Tget_class(mem_type))
        st = error_set(AN_ERR_FORMAT, "dataset %s holds %s, %s expected", name,
                       H5Tget_class(type) == H5T_INTEGER ? "integers" : "something else",
                       H5Tget_class(mem_type) == H5T_INTEGER ? "integers" : "floating-point numbers");
    else if (H5Dread(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        st = h5_error_capture("reading dataset %s", name);
    if (type >= 0) H5Tclose(type);
    if (dset >= 0) H5Dclose(dset);
    return st;
}

/* ------------------------------------------------------------ string datasets */

an_status h5_io_write_strings(hid_t loc, const char *name, const char *const *strings, size_t count)
{
    size_t width = 1;
    for (size_t i = 0; i < count; i++) {
        size_t n = strlen(strings[i]);
        if (n > H5IO_STRING_MAX)
            return error_set(AN_ERR_ARG, "dataset %s: string %zu is %zu bytes, at most %d allowed", name, i, n,
                             H5IO_STRING_MAX);
        if (n > width) width = n;
    }
    /* [count, width] bytes, each string padded with zeros: the file's layout, so no conversion. */
    char *packed = calloc(count ? count : 1, width);
    AN_CHECK_ALLOC(packed, (count ? count : 1) * width);
    for (size_t i = 0; i < count; i++) memcpy(packed + i * width, strings[i], strlen(strings[i]));
    hid_t type = fixed_string_type(width, H5T_STR_NULLPAD, H5T_CSET_UTF8);
    an_status st = AN_OK;
    if (type < 0) {
        st = h5_error_capture("making a string type for dataset %s", name);
    } else {
        hsize_t dims[1] = {count};
        st = h5_io_write_dataset(loc, name, type, type, 1, dims, packed);
        H5Tclose(type);
    }
    free(packed);
    return st;
}

void h5_io_free_strings(char **strings, size_t count)
{
    if (!strings) return;
    for (size_t i = 0; i < count; i++) free(strings[i]);
    free(strings);
}

/* A file of an earlier format version: count variable-length strings, read
 * through HDF5's global heap, into result[count]. */
static an_status read_vlen_strings(hid_t dset, const char *name, size_t count, char **result)
{
    an_status st = AN_OK;
    char **raw = calloc(count, sizeof *raw);
    hid_t type = vlen_string_type();
    if (!raw) {
        st = error_set(AN_ERR_NOMEM, "out of memory reading %s", name);
    } else if (type < 0 || H5Dread(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0) {
        st = h5_error_capture("reading strings %s", name);
    } else {
        for (size_t i = 0; i < count && st == AN_OK; i++) {
            size_t len = raw[i] ? strnlen(raw[i], H5IO_STRING_MAX + 1) : 0;
            if (len > H5IO_STRING_MAX)
                st = error_set(AN_ERR_FORMAT, "string %zu of %s is longer than %d bytes", i, name, H5IO_STRING_MAX);
            else if (!(result[i] = strdup(raw[i] ? raw[i] : "")))
                st = error_set(AN_ERR_NOMEM, "out of memory reading %s", name);
        }
        for (size_t i = 0; i < count; i++) H5free_memory(raw[i]);
    }
    if (type >= 0) H5Tclose(type);
    free(raw);
    return st;
}

/* count fixed-length strings of `width` bytes into result[count]. The
 * dataset's bytes must lie in its file (or, compact, in its object header),
 * so that a damaged shape or width cannot size gigabytes of memory. */
static an_status read_fixed_strings(hid_t dset, hid_t type, const char *name, size_t count, size_t width,
                                    char **result)
{
    hsize_t file_bytes = 0;
    hid_t file = H5Iget_file_id(dset);
    herr_t got = file < 0 ? -1 : H5Fget_filesize(file, &file_bytes);
    if (file >= 0) H5Fclose(file);
    if (got < 0) return h5_error_capture("reading the size of the file holding %s", name);
    if (count > (file_bytes + H5IO_STRING_MAX) / width)
        return error_set(AN_ERR_FORMAT, "dataset %s holds %zu strings of %zu bytes, more than its file of %llu "
                         "bytes can hold (truncated or damaged)", name, count, width,
                         (unsigned long long)file_bytes);
    an_status st = AN_OK;
    char *buf = calloc(count, width + 1); /* [count, width + 1]: each string and its terminator */
    hid_t mem = fixed_string_type(width + 1, H5T_STR_NULLTERM, H5Tget_cset(type));
    if (!buf) {
        st = error_set(AN_ERR_NOMEM, "out of memory reading %s", name);
    } else if (mem < 0 || H5Dread(dset, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        st = h5_error_capture("reading strings %s", name);
    } else {
        for (size_t i = 0; i < count && st == AN_OK; i++) {
            buf[i * (width + 1) + width] = 0;
            if (!(result[i] = strdup(buf + i * (width + 1))))
                st = error_set(AN_ERR_NOMEM, "out of memory reading %s", name);
        }
    }
    if (mem >= 0) H5Tclose(mem);
    free(buf);
    return st;
}

an_status h5_io_read_strings(hid_t loc, h5_io_strings accept, const char *name, size_t count, char ***out)
{
    *out = NULL;
    size_t have = 0;
    AN_TRY(h5_io_dataset_size(loc, name, &have));
    if (have != count)
        return error_set(AN_ERR_FORMAT, "dataset %s has %zu strings, expected %zu", name, have, count);
    char **result = calloc(count ? count : 1, sizeof *result);
    AN_CHECK_ALLOC(result, count * sizeof *result);
    if (count == 0) {
        *out = result;
        return AN_OK;
    }
    an_status st = AN_OK;
    size_t width = 0;
    hid_t dset = H5Dopen2(loc, name, H5P_DEFAULT);
    hid_t type = dset >= 0 ? H5Dget_type(dset) : H5I_INVALID_HID;
    if (dset < 0 || type < 0) st = h5_error_capture("opening strings %s", name);
    else st = string_width(type, "dataset", name, accept, &width);
    if (st == AN_OK)
        st = width == 0 ? read_vlen_strings(dset, name, count, result)
                        : read_fixed_strings(dset, type, name, count, width, result);
    if (type >= 0) H5Tclose(type);
    if (dset >= 0) H5Dclose(dset);
    if (st == AN_OK) *out = result;
    else h5_io_free_strings(result, count);
    return st;
}

/* ------------------------------------------------------------ damaged files */

an_status h5_io_advise(an_status st, const char *advice)
{
    if (st != AN_ERR_FORMAT && st != AN_ERR_HDF5) return st;
    char message[2048];
    snprintf(message, sizeof message, "%s", error_message());
    return error_set(st, "%s (%s)", message, advice);
}


an_status h5_io_check_in_child(h5_io_check_fn check, void *ctx)
{
    fflush(NULL); /* the child must not write this process's buffered output again */
    pid_t pid = fork();
    if (pid < 0) return error_set(AN_ERR_IO, "cannot start a process to check the file: %s", strerror(errno));
    if (pid == 0) {
        alarm(H5IO_CHECK_SECONDS);
        (void)check(ctx);
        _exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return error_set(AN_ERR_IO, "cannot wait for the process checking the file: %s",
                                             strerror(errno));
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        return error_set(AN_ERR_FORMAT, "this file is damaged or hostile: HDF5 did not finish reading it in %d s",
                         H5IO_CHECK_SECONDS);
    if (WIFSIGNALED(status))
        return error_set(AN_ERR_FORMAT, "this file is damaged or hostile: HDF5 crashed reading it (signal %d, %s)",
                         WTERMSIG(status), strsignal(WTERMSIG(status)));
    return AN_OK;
}
