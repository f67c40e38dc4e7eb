/* fuzz_h5.c: HDF5 edits for the structure-aware fuzz targets (fuzz_h5.h). */
#include "fuzz_h5.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void fuzz_h5_rewrite_attr(hid_t file, const char *obj, const char *name, const char *const strings[7], fuzz_bytes *b)
{
    H5Adelete_by_name(file, obj, name, H5P_DEFAULT);
    unsigned kind = fuzz_byte(b) % 6;
    if (kind == 5) return; /* deleted */
    hsize_t count = fuzz_byte(b) % 4 == 3 ? 7 : 1;
    hid_t space = count == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, NULL);
    hid_t type = kind == 0 ? H5Tcopy(H5T_STD_I64LE) : kind == 1 ? H5Tcopy(H5T_IEEE_F64LE) : H5Tcopy(H5T_C_S1);
    if (kind == 2) H5Tset_size(type, 1 + fuzz_byte(b) % 40);
    if (kind == 3) H5Tset_size(type, H5T_VARIABLE);
    if (kind == 4) H5Tset_size(type, 100000);
    hid_t attr = H5Acreate_by_name(file, obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (attr >= 0) {
        long long ints[7];
        double reals[7];
        for (int i = 0; i < 7; i++) ints[i] = fuzz_near(b, 1);
        for (int i = 0; i < 7; i++) reals[i] = (double)fuzz_near(b, 1) / (1 + fuzz_byte(b));
        static char text[7 * 100000];
        memset(text, 'a' + (int)(fuzz_byte(b) % 26), sizeof text);
        if (kind == 0) H5Awrite(attr, H5T_NATIVE_LLONG, ints);
        else if (kind == 1) H5Awrite(attr, H5T_NATIVE_DOUBLE, reals);
        else if (kind == 3) H5Awrite(attr, type, strings);
        else H5Awrite(attr, type, text);
        H5Aclose(attr);
    }
    H5Tclose(type);
    H5Sclose(space);
}

void fuzz_h5_replace_dataset(hid_t file, const char *name, fuzz_bytes *b)
{
    H5Ldelete(file, name, H5P_DEFAULT);
    unsigned kind = fuzz_byte(b) % 4;
    if (kind == 3) return; /* deleted */
    hsize_t dims[4];
    int rank = 1 + (int)(fuzz_byte(b) % 4);
    for (int i = 0; i < rank; i++) dims[i] = 1 + fuzz_byte(b) % 40;
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t type = kind == 0 ? H5T_IEEE_F32LE : kind == 1 ? H5T_STD_I16LE : H5T_IEEE_F64BE;
    hid_t dset = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (dset >= 0) H5Dclose(dset);
    H5Sclose(space);
}


hid_t fuzz_h5_open_copy(const char *name, const uint8_t *bytes, size_t size, char *path)
{
    fuzz_write_file(name, bytes, size, path);
    hid_t file = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    if (file < 0) abort();
    return file;
}

void fuzz_h5_cut(const char *path, size_t size, fuzz_bytes *b)
{
    unsigned cut = fuzz_byte(b);
    if (cut >= 200 && truncate(path, (off_t)(size * (cut - 200) / 56)) != 0) abort();
}
