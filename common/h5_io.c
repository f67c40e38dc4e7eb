/* h5_io.c: attribute, dataset and string helpers over the HDF5 C API. */
#include "h5_io.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "h5_error.h"

static pthread_mutex_t h5_mutex = PTHREAD_MUTEX_INITIALIZER;

hid_t h5_io_create_group(hid_t loc, const char *name)
{
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    if (gcpl < 0) return -1;
    hid_t group = -1;
    if (H5Pset_obj_track_times(gcpl, 0) >= 0) group = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    return group;
}

void h5_io_lock(void) { pthread_mutex_lock(&h5_mutex); }
void h5_io_unlock(void) { pthread_mutex_unlock(&h5_mutex); }

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

an_status h5_io_write_attr_int(hid_t loc, const char *name, long long value)
{
    an_status st = AN_OK;
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = H5Acreate2(loc, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    if (space < 0 || attr < 0 || H5Awrite(attr, H5T_NATIVE_LLONG, &value) < 0)
        st = h5_error_capture("writing attribute %s", name);
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    return st;
}

static hid_t vlen_utf8_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return t;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

an_status h5_io_write_attr_string(hid_t loc, const char *name, const char *value)
{
    an_status st = AN_OK;
    hid_t type = vlen_utf8_type();
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t attr = -1;
    if (type >= 0 && space >= 0) attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0 || H5Awrite(attr, type, &value) < 0) st = h5_error_capture("writing attribute %s", name);
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    return st;
}

an_status h5_io_read_attr_int(hid_t loc, const char *name, long long *value)
{
    an_status st = AN_OK;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0) return h5_error_capture("attribute %s missing", name);
    st = h5_io_check_attr(attr, name, H5T_INTEGER);
    if (st == AN_OK && H5Aread(attr, H5T_NATIVE_LLONG, value) < 0)
        st = h5_error_capture("reading attribute %s", name);
    H5Aclose(attr);
    return st;
}

an_status h5_io_read_attr_string(hid_t loc, const char *name, char *buf, size_t size)
{
    an_status st = AN_OK;
    hid_t attr = H5Aopen(loc, name, H5P_DEFAULT);
    if (attr < 0) return h5_error_capture("attribute %s missing", name);
    hid_t type = H5Aget_type(attr);
    hid_t mem = -1;
    st = h5_io_check_attr(attr, name, H5T_STRING);
    if (st != AN_OK) {
        /* the message is set */
    } else if (type < 0) {
        st = h5_error_capture("inspecting attribute %s", name);
    } else if (H5Tis_variable_str(type) > 0) {
        char *value = NULL;
        mem = vlen_utf8_type();
        if (mem < 0 || H5Aread(attr, mem, &value) < 0) {
            st = h5_error_capture("reading attribute %s", name);
        } else {
            snprintf(buf, size, "%s", value ? value : "");
            H5free_memory(value);
        }
    } else if (H5Tget_size(type) == 0 || H5Tget_size(type) > H5IO_STRING_MAX) {
        st = error_set(AN_ERR_FORMAT, "attribute %s is a string of %zu bytes, at most %d expected", name,
                       H5Tget_size(type), H5IO_STRING_MAX);
    } else {
        size_t n = H5Tget_size(type);
        char *tmp = calloc(n + 1, 1);
        mem = H5Tcopy(H5T_C_S1);
        if (!tmp) {
            st = error_set(AN_ERR_NOMEM, "out of memory reading attribute %s", name);
        } else if (mem < 0 || H5Tset_size(mem, n + 1) < 0 || H5Aread(attr, mem, tmp) < 0) {
            st = h5_error_capture("reading attribute %s", name);
        } else {
            snprintf(buf, size, "%s", tmp);
        }
        free(tmp);
    }
    if (mem >= 0) H5Tclose(mem);
    if (type >= 0) H5Tclose(type);
    H5Aclose(attr);
    return st;
}

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
        H5Pset_obj_track_times(dcpl, 0) < 0) {
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

an_status h5_io_write_strings(hid_t loc, const char *name, const char *const *strings, size_t count)
{
    hid_t type = vlen_utf8_type();
    if (type < 0) return h5_error_capture("making a string type for %s", name);
    hsize_t dims[1] = {count};
    /* Strings keep HDF5's default layout: they are read once, at open. */
    an_status st = AN_OK;
    hid_t space = H5Screate_simple(1, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t dset = -1;
    if (space >= 0 && dcpl >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0)
        dset = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dset < 0) st = h5_error_capture("creating dataset %s", name);
    else if (count > 0 && H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, strings) < 0)
        st = h5_error_capture("writing dataset %s", name);
    if (dset >= 0) H5Dclose(dset);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    H5Tclose(type);
    return st;
}

void h5_io_free_strings(char **strings, size_t count)
{
    if (!strings) return;
    for (size_t i = 0; i < count; i++) free(strings[i]);
    free(strings);
}

an_status h5_io_read_strings(hid_t loc, const char *name, size_t count, char ***out)
{
    *out = NULL;
    size_t have = 0;
    AN_TRY(h5_io_dataset_size(loc, name, &have));
    if (have != count)
        return error_set(AN_ERR_FORMAT, "dataset %s has %zu strings, expected %zu", name, have, count);
    char **result = calloc(count ? count : 1, sizeof *result);
    AN_CHECK_ALLOC(result, count * sizeof *result);
    if (count == 0) { *out = result; return AN_OK; }
    an_status st = AN_OK;
    char **raw = calloc(count, sizeof *raw);
    hid_t type = vlen_utf8_type();
    hid_t dset = H5Dopen2(loc, name, H5P_DEFAULT);
    if (!raw) {
        st = error_set(AN_ERR_NOMEM, "out of memory reading %s", name);
        goto done;
    }
    if (type < 0 || dset < 0) {
        st = h5_error_capture("opening strings %s", name);
        goto done;
    }
    hid_t file_type = H5Dget_type(dset);
    int is_vlen_string = file_type >= 0 && H5Tget_class(file_type) == H5T_STRING && H5Tis_variable_str(file_type) > 0;
    if (file_type >= 0) H5Tclose(file_type);
    if (!is_vlen_string) {
        st = error_set(AN_ERR_FORMAT, "dataset %s does not hold variable-length strings", name);
        goto done;
    }
    if (H5Dread(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) < 0) {
        st = h5_error_capture("reading strings %s", name);
        goto done;
    }
    for (size_t i = 0; i < count && st == AN_OK; i++) {
        size_t len = raw[i] ? strnlen(raw[i], H5IO_STRING_MAX + 1) : 0;
        if (len > H5IO_STRING_MAX) {
            st = error_set(AN_ERR_FORMAT, "string %zu of %s is longer than %d bytes", i, name, H5IO_STRING_MAX);
            break;
        }
        result[i] = strdup(raw[i] ? raw[i] : "");
        if (!result[i]) st = error_set(AN_ERR_NOMEM, "out of memory reading %s", name);
    }
    for (size_t i = 0; i < count; i++) H5free_memory(raw[i]);
done:
    free(raw);
    if (dset >= 0) H5Dclose(dset);
    if (type >= 0) H5Tclose(type);
    if (st == AN_OK) *out = result;
    else h5_io_free_strings(result, count);
    return st;
}
