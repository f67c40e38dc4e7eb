/* prep_source_idx.c: MNIST-format IDX files (gzip or plain, read through zlib). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "prep_source.h"

static const char *const fashion_names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
static const char *const fashion_ids[10] = {"tshirt_top", "trouser", "pullover", "dress", "coat",
                                            "sandal",     "shirt",   "sneaker",  "bag",   "ankle_boot"};
static const char *const digit_names[10] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

/* Finds DIR/NAME or DIR/NAME.gz; writes the path and the relative name. */
static an_status find_idx_file(const char *dir, const char *name, char *path, size_t size, char *rel, size_t rel_size)
{
    snprintf(path, size, "%s/%s.gz", dir, name);
    snprintf(rel, rel_size, "%s.gz", name);
    if (access(path, R_OK) == 0) return AN_OK;
    snprintf(path, size, "%s/%s", dir, name);
    snprintf(rel, rel_size, "%s", name);
    if (access(path, R_OK) == 0) return AN_OK;
    return error_set(AN_ERR_IO, "cannot find %s/%s[.gz] (is --input an IDX directory such as "
                     "/usr/share/datasets/fashion-mnist?)", dir, name);
}

static an_status read_exact(gzFile f, void *buf, size_t n, const char *path)
{
    uint8_t *p = buf;
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        int got = gzread(f, p, chunk);
        if (got <= 0) {
            int zerr = 0;
            const char *msg = gzerror(f, &zerr);
            return error_set(AN_ERR_FORMAT, "%s is truncated or corrupt (%s)", path, zerr ? msg : "unexpected end");
        }
        p += got;
        n -= (size_t)got;
    }
    return AN_OK;
}

/* Reads the `total` bytes of an IDX body into a malloc'd *out. The buffer
 * grows (16 MiB, doubling) as the bytes arrive, so a header that claims more
 * than the file holds costs at most twice what is there, not what it claims. */
static an_status read_body(gzFile f, size_t total, const char *path, uint8_t **out)
{
    size_t cap = total < ((size_t)16 << 20) ? total : ((size_t)16 << 20), have = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) return error_set(AN_ERR_NOMEM, "out of memory for %zu bytes of %s", cap, path);
    while (have < total) {
        if (have == cap) {
            size_t grown = 2 * cap < total ? 2 * cap : total;
            uint8_t *g = realloc(buf, grown);
            if (!g) {
                free(buf);
                return error_set(AN_ERR_NOMEM, "out of memory for %zu bytes of %s", grown, path);
            }
            buf = g;
            cap = grown;
        }
        an_status st = read_exact(f, buf + have, cap - have, path);
        if (st != AN_OK) {
            free(buf);
            return st;
        }
        have = cap;
    }
    *out = buf;
    return AN_OK;
}

static uint32_t be32(const uint8_t *b) { return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]; }

/* Reads an IDX file of uint8 with `rank` dims; *data is [dims...] (malloc'd). */
static an_status read_idx(const char *path, int rank, uint32_t *dims, uint8_t **data)
{
    *data = NULL;
    gzFile f = gzopen(path, "rb");
    if (!f) return error_set(AN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    an_status st = AN_OK;
    uint8_t header[4 + 4 * 3];
    AN_TRY_GOTO(st, read_exact(f, header, 4 + 4 * (size_t)rank, path), done);
    if (header[0] != 0 || header[1] != 0 || header[2] != 0x08 || header[3] != rank) {
        st = error_set(AN_ERR_FORMAT, "%s is not an IDX file of %d-D unsigned bytes", path, rank);
        goto done;
    }
    size_t total = 1;
    for (int i = 0; i < rank; i++) {
        dims[i] = be32(header + 4 + 4 * i);
        if (dims[i] == 0 || dims[i] > 100000000u) {
            st = error_set(AN_ERR_FORMAT, "%s: dimension %d is %u", path, i, dims[i]);
            goto done;
        }
        total *= dims[i];
    }
    if (total > ((size_t)1 << 33)) {
        st = error_set(AN_ERR_FORMAT, "%s: %zu bytes is too large", path, total);
        goto done;
    }
    st = read_body(f, total, path, data);
done:
    gzclose(f);
    if (st != AN_OK) {
        free(*data);
        *data = NULL;
    }
    return st;
}

static an_status load_split(prep_listing *l, const char *dir, int split, const char *prefix)
{
    char images_path[4200], labels_path[4200], images_rel[256], labels_rel[256], name[256];
    snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
    AN_TRY(find_idx_file(dir, name, images_path, sizeof images_path, images_rel, sizeof images_rel));
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
    AN_TRY(find_idx_file(dir, name, labels_path, sizeof labels_path, labels_rel, sizeof labels_rel));
    uint32_t image_dims[3] = {0, 0, 0}, label_dims[1] = {0};
    uint8_t *labels = NULL;
    AN_TRY(read_idx(images_path, 3, image_dims, &l->idx_pixels[split]));
    an_status st = read_idx(labels_path, 1, label_dims, &labels);
    if (st != AN_OK) return st;
    if (label_dims[0] != image_dims[0]) {
        st = error_set(AN_ERR_FORMAT, "%s has %u images but %s has %u labels", images_path, image_dims[0],
                       labels_path, label_dims[0]);
        goto done;
    }
    if (l->idx_rows && (l->idx_rows != (int)image_dims[1] || l->idx_cols != (int)image_dims[2])) {
        st = error_set(AN_ERR_FORMAT, "%s images are %ux%u, the other split's %dx%d", images_path, image_dims[1],
                       image_dims[2], l->idx_rows, l->idx_cols);
        goto done;
    }
    l->idx_rows = (int)image_dims[1];
    l->idx_cols = (int)image_dims[2];
    l->idx_count[split] = image_dims[0];
    char item[300];
    for (uint32_t i = 0; i < image_dims[0]; i++) {
        if (labels[i] >= l->num_classes) {
            st = error_set(AN_ERR_FORMAT, "%s: label %u of image %u is not below %d classes", labels_path, labels[i],
                           i, l->num_classes);
            goto done;
        }
        /* Zero-padded index, so that sorting by path keeps file order. */
        snprintf(item, sizeof item, "%s#%08u", images_rel, i);
        AN_TRY_GOTO(st, prep_listing_add(&l->split[split], item, labels[i], i), done);
    }
done:
    free(labels);
    return st;
}

an_status prep_source_idx(prep_listing *l, const char *dir, const char *classes_file)
{
    snprintf(l->source, sizeof l->source, "idx");
    snprintf(l->input_root, sizeof l->input_root, "%s", dir);
    if (classes_file)
        AN_TRY(prep_listing_read_classes(l, classes_file));
    else if (strstr(dir, "fashion")) {
        AN_TRY(prep_listing_set_classes(l, 10, fashion_ids, fashion_names));
    } else {
        AN_TRY(prep_listing_set_classes(l, 10, digit_names, digit_names));
    }
    AN_TRY(load_split(l, dir, PREP_TRAIN, "train"));
    AN_TRY(load_split(l, dir, PREP_VAL, "t10k"));
    return AN_OK;
}
