/* h5_legacy.c: rewrites a file we write (a shard, dataset.h5, prep-plan.h5
 * or a checkpoint) in format version 1, the encoding before the fixed-length
 * strings (docs/FORMAT.md): every string dataset and, except in a checkpoint
 * (whose attributes were fixed-length already), every string attribute
 * becomes variable-length UTF-8, kept in HDF5's global heap; the trainer
 * state becomes a scalar; format_version becomes 1. Everything else is
 * copied as it is. The tests make old-format files with it from files of the
 * current programs.
 *
 *   h5_legacy IN OUT
 */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct copy_ctx {
    hid_t dst;
    int checkpoint; /* attributes stay fixed-length */
    int failed;
} copy_ctx;

static hid_t vlen_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

/* A zeroed [count][size of type + 1] block for `count` fixed-length strings
 * of `type` read as C strings; *width is the size of one. */
static char *fixed_strings(hid_t type, size_t count, size_t *width)
{
    *width = H5Tget_size(type) + 1;
    return calloc(count ? count : 1, *width);
}

static herr_t copy_attr(hid_t src, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    copy_ctx *c = data;
    hid_t a = H5Aopen(src, name, H5P_DEFAULT), type = H5Aget_type(a), space = H5Aget_space(a), out = -1;
    int is_fixed_string = H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) == 0;
    if (strcmp(name, "format_version") == 0) {
        long long one = 1;
        out = H5Acreate2(c->dst, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
        if (out < 0 || H5Awrite(out, H5T_NATIVE_LLONG, &one) < 0) c->failed = 1;
    } else if (is_fixed_string && !c->checkpoint) {
        size_t width;
        char *buf = fixed_strings(type, 1, &width);
        hid_t mem = H5Tcopy(H5T_C_S1), vt = vlen_type();
        H5Tset_size(mem, width);
        H5Tset_cset(mem, H5Tget_cset(type));
        const char *value = buf;
        out = H5Acreate2(c->dst, name, vt, space, H5P_DEFAULT, H5P_DEFAULT);
        if (H5Aread(a, mem, buf) < 0 || out < 0 || H5Awrite(out, vt, &value) < 0) c->failed = 1;
        H5Tclose(vt);
        H5Tclose(mem);
        free(buf);
    } else {
        size_t bytes = H5Tget_size(type) * (size_t)H5Sget_simple_extent_npoints(space);
        void *buf = calloc(bytes ? bytes : 1, 1);
        out = H5Acreate2(c->dst, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
        if (H5Aread(a, type, buf) < 0 || out < 0 || H5Awrite(out, type, buf) < 0) c->failed = 1;
        free(buf);
    }
    if (out >= 0) H5Aclose(out);
    H5Sclose(space);
    H5Tclose(type);
    H5Aclose(a);
    return 0;
}

static int copy_group(hid_t src, hid_t dst, int checkpoint);

/* A fixed-length string dataset as variable-length strings (a scalar for the trainer state). */
static int copy_strings(hid_t dst, const char *name, hid_t dset, hid_t type)
{
    hid_t space = H5Dget_space(dset);
    size_t count = (size_t)H5Sget_simple_extent_npoints(space), width;
    char *buf = fixed_strings(type, count, &width);
    const char **values = calloc(count ? count : 1, sizeof *values);
    hid_t mem = H5Tcopy(H5T_C_S1), vt = vlen_type();
    H5Tset_size(mem, width);
    H5Tset_cset(mem, H5Tget_cset(type));
    int failed = count > 0 && H5Dread(dset, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0;
    for (size_t i = 0; i < count; i++) values[i] = buf + i * width;
    hid_t out_space = strcmp(name, "trainer_state") == 0 ? H5Screate(H5S_SCALAR) : H5Scopy(space);
    hid_t out = H5Dcreate2(dst, name, vt, out_space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (out < 0 || (count > 0 && H5Dwrite(out, vt, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0)) failed = 1;
    if (out >= 0) {
        copy_ctx c = {out, 0, 0};
        H5Aiterate2(dset, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, copy_attr, &c);
        failed |= c.failed;
        H5Dclose(out);
    }
    H5Sclose(out_space);
    H5Tclose(vt);
    H5Tclose(mem);
    free(values);
    free(buf);
    H5Sclose(space);
    return failed;
}

typedef struct link_ctx {
    hid_t dst;
    int checkpoint;
    int failed;
} link_ctx;

static herr_t copy_link(hid_t src, const char *name, const H5L_info_t *info, void *data)
{
    (void)info;
    link_ctx *c = data;
    H5O_info_t oi;
    if (H5Oget_info_by_name2(src, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
        c->failed = 1;
        return 0;
    }
    if (oi.type == H5O_TYPE_GROUP) {
        hid_t g = H5Gopen2(src, name, H5P_DEFAULT), h = H5Gcreate2(c->dst, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        c->failed |= g < 0 || h < 0 || copy_group(g, h, c->checkpoint);
        if (h >= 0) H5Gclose(h);
        if (g >= 0) H5Gclose(g);
        return 0;
    }
    hid_t d = H5Dopen2(src, name, H5P_DEFAULT), type = H5Dget_type(d);
    if (H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) == 0)
        c->failed |= copy_strings(c->dst, name, d, type);
    else if (H5Ocopy(src, name, c->dst, name, H5P_DEFAULT, H5P_DEFAULT) < 0)
        c->failed = 1;
    H5Tclose(type);
    H5Dclose(d);
    return 0;
}

static int copy_group(hid_t src, hid_t dst, int checkpoint)
{
    copy_ctx a = {dst, checkpoint, 0};
    link_ctx l = {dst, checkpoint, 0};
    if (H5Aiterate2(src, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, copy_attr, &a) < 0) return 1;
    if (H5Literate(src, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, copy_link, &l) < 0) return 1;
    return a.failed || l.failed;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: h5_legacy IN OUT\n");
        return 2;
    }
    hid_t in = H5Fopen(argv[1], H5F_ACC_RDONLY, H5P_DEFAULT);
    if (in < 0) return 1;
    int checkpoint = H5Aexists(in, "kind") > 0; /* only checkpoints carry "kind" */
    hid_t out = H5Fcreate(argv[2], H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (out < 0) return 1;
    int failed = copy_group(in, out, checkpoint);
    failed |= H5Fclose(out) < 0;
    H5Fclose(in);
    if (failed) fprintf(stderr, "h5_legacy: cannot rewrite %s\n", argv[1]);
    return failed ? 1 : 0;
}
