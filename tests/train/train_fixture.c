/* train_fixture.c: see train_fixture.h. */
#define _XOPEN_SOURCE 700
#include "train_fixture.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checksum.h"
#include "dataset.h"
#include "dataset_json.h"
#include "shard_format.h"
#include "shard_jpeg.h"
#include "shard_writer.h"

#define FIXTURE_JPEG_QUALITY 90

void fixture_image(int split, uint32_t id, uint8_t *out)
{
    /* A smooth gradient per image (so it is learnable) plus a fine texture. */
    uint32_t h = id * 2654435761u + (uint32_t)split * 40503u;
    for (int y = 0; y < IMAGE_STORED_SIZE; y++)
        for (int x = 0; x < IMAGE_STORED_SIZE; x++)
            for (int c = 0; c < 3; c++)
                out[((size_t)y * IMAGE_STORED_SIZE + (size_t)x) * 3 + (size_t)c] =
                    (uint8_t)((h >> (c * 8)) + (uint32_t)(x * (c + 1)) + (uint32_t)(y * 3) + ((x ^ y) & 7));
}

void fixture_stored_image(int split, uint32_t id, shard_store store, uint8_t *out)
{
    fixture_image(split, id, out);
    if (store != SHARD_STORE_JPEG) return;
    uint8_t *stream = NULL;
    size_t size = 0;
    if (shard_jpeg_encode(out, FIXTURE_JPEG_QUALITY, SHARD_JPEG_420, &stream, &size) != AN_OK ||
        shard_jpeg_decode(stream, size, out) != AN_OK)
        memset(out, 0, IMAGE_STORED_BYTES); /* cannot happen for a fixture image; a test comparing will fail */
    free(stream);
}

/* The jpeg store: count images [count,256,256,3] -> their streams back to back
 * in *blob (malloc'ed), their lengths [count] and CRC-32s [count]. */
static an_status encode_shard(const uint8_t *images, uint32_t count, uint8_t **blob, uint32_t *lengths,
                              uint32_t *sums)
{
    size_t total = 0;
    *blob = NULL;
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *stream = NULL;
        size_t size = 0;
        AN_TRY(shard_jpeg_encode(images + (size_t)i * IMAGE_STORED_BYTES, FIXTURE_JPEG_QUALITY, SHARD_JPEG_420,
                                 &stream, &size));
        uint8_t *grown = realloc(*blob, total + size);
        if (!grown) {
            free(stream);
            return error_set(AN_ERR_NOMEM, "fixture: out of memory");
        }
        *blob = grown;
        memcpy(*blob + total, stream, size);
        free(stream);
        lengths[i] = (uint32_t)size;
        sums[i] = checksum_crc32(*blob + total, size);
        total += size;
    }
    return AN_OK;
}

int32_t fixture_label(uint32_t id, int classes) { return (int32_t)(id % (uint32_t)classes); }

/* The id of the k-th image of a split whose ids skip missing[] (increasing). */
static uint32_t gapped_id(uint32_t k, const uint32_t *missing, int missing_count)
{
    uint32_t id = k;
    for (int m = 0; m < missing_count && missing[m] <= id; m++) id++;
    return id;
}

static an_status write_split(const char *dir, const char *split_name, int split, uint32_t n, int shards,
                             int classes, const char *id_hex, const uint32_t *missing, int missing_count,
                             shard_store store, dataset *d)
{
    an_status st = AN_OK;
    uint8_t *images = NULL, *blob = NULL;
    int32_t *labels = NULL;
    uint32_t *ids = NULL, *sums = NULL, *lengths = NULL;
    char **paths = NULL;
    uint32_t per = (n + (uint32_t)shards - 1) / (uint32_t)shards;
    images = malloc((size_t)per * IMAGE_STORED_BYTES);
    labels = malloc(per * sizeof *labels);
    ids = malloc(per * sizeof *ids);
    sums = malloc(per * sizeof *sums);
    lengths = malloc(per * sizeof *lengths);
    paths = calloc(per, sizeof *paths);
    if (!images || !labels || !ids || !sums || !lengths || !paths) {
        st = error_set(AN_ERR_NOMEM, "fixture: out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < per; i++) {
        paths[i] = malloc(32);
        if (!paths[i]) { st = error_set(AN_ERR_NOMEM, "fixture: out of memory"); goto done; }
    }
    /* Ids visited in a scrambled order (7 is coprime with n unless n % 7 == 0). */
    uint32_t stride = (n % 7 != 0) ? 7 : 1;
    for (int s = 0; s < shards; s++) {
        uint32_t first = (uint32_t)s * per, count = first >= n ? 0 : (n - first < per ? n - first : per);
        shard_stats stats;
        int have_stats = 0;
        if (split == 0) {
            AN_TRY_GOTO(st, shard_stats_init(&stats), done);
            have_stats = 1;
        }
        for (uint32_t i = 0; i < count; i++) {
            uint32_t id = gapped_id((uint32_t)(((uint64_t)(first + i) * stride) % n), missing, missing_count);
            uint8_t *img = images + (size_t)i * IMAGE_STORED_BYTES;
            fixture_image(split, id, img);
            ids[i] = id;
            labels[i] = fixture_label(id, classes);
            sums[i] = checksum_image(img);
            snprintf(paths[i], 32, "%s/%u.png", split_name, id);
            if (split == 0) d->train.class_counts[labels[i]]++;
            else d->val.class_counts[labels[i]]++;
        }
        free(blob);
        blob = NULL;
        if (store == SHARD_STORE_JPEG && (st = encode_shard(images, count, &blob, lengths, sums)) != AN_OK) {
            if (have_stats) shard_stats_free(&stats);
            goto done;
        }
        for (uint32_t i = 0; i < count && have_stats; i++) {
            uint8_t *img = images + (size_t)i * IMAGE_STORED_BYTES;
            if (store == SHARD_STORE_JPEG) fixture_stored_image(split, ids[i], store, img);
            shard_stats_add_image(&stats, img);
        }
        shard_contents c = { 0 };
        c.store = store;
        c.jpeg_quality = FIXTURE_JPEG_QUALITY;
        c.jpeg_subsampling = SHARD_JPEG_420;
        c.jpeg_bytes = blob;
        c.jpeg_lengths = lengths;
        c.dataset_id = id_hex;
        c.split = split_name;
        c.shard_index = s;
        c.shard_count = shards;
        c.count = count;
        c.images = images;
        c.labels = labels;
        c.image_ids = ids;
        c.checksums = sums;
        c.paths = (const char *const *)paths;
        c.stats = have_stats ? &stats : NULL;
        char path[4096];
        st = shard_file_path(dir, split_name, s, shards, path, sizeof path);
        if (st == AN_OK) st = shard_write(path, &c);
        if (have_stats) shard_stats_free(&stats);
        if (st != AN_OK) goto done;
    }
done:
    if (paths)
        for (uint32_t i = 0; i < per; i++) free(paths[i]);
    free(paths);
    free(blob);
    free(lengths);
    free(images);
    free(labels);
    free(ids);
    free(sums);
    return st;
}

static an_status write_dataset(const char *dir, uint32_t num_train, int train_shards, uint32_t num_val,
                               int classes, const uint32_t *missing, int missing_count, shard_store store,
                               const char *id_hex);

an_status fixture_write_dataset(const char *dir, uint32_t num_train, int train_shards, uint32_t num_val,
                                int classes)
{
    return write_dataset(dir, num_train, train_shards, num_val, classes, NULL, 0, SHARD_STORE_RAW,
                         FIXTURE_DEFAULT_DATASET_ID);
}

an_status fixture_write_dataset_store(const char *dir, uint32_t num_train, int train_shards, uint32_t num_val,
                                      int classes, shard_store store)
{
    return write_dataset(dir, num_train, train_shards, num_val, classes, NULL, 0, store, FIXTURE_DEFAULT_DATASET_ID);
}

an_status fixture_write_dataset_gapped(const char *dir, uint32_t num_train, int train_shards, uint32_t num_val,
                                       int classes, const uint32_t *missing, int missing_count)
{
    return write_dataset(dir, num_train, train_shards, num_val, classes, missing, missing_count, SHARD_STORE_RAW,
                         FIXTURE_DEFAULT_DATASET_ID);
}

an_status fixture_write_dataset_id(const char *dir, uint32_t num_train, int train_shards, uint32_t num_val,
                                   int classes, const uint32_t *missing, int missing_count, const char *id_hex)
{
    return write_dataset(dir, num_train, train_shards, num_val, classes, missing, missing_count, SHARD_STORE_RAW,
                         id_hex);
}

static an_status write_dataset(const char *dir, uint32_t num_train, int train_shards, uint32_t num_val,
                               int classes, const uint32_t *missing, int missing_count, shard_store store,
                               const char *id_hex)
{
    if (strlen(id_hex) != 16 || strspn(id_hex, "0123456789abcdef") != 16)
        return error_set(AN_ERR_ARG, "dataset id '%s' is not 16 lowercase hex digits", id_hex);
    dataset *d = NULL;
    an_status st;
    AN_TRY_GOTO(st, dataset_alloc(&d, classes), done);
    snprintf(d->dataset_id, sizeof d->dataset_id, "%s", id_hex);
    snprintf(d->source, sizeof d->source, "%s", "fixture");
    d->store = store;
    for (int c = 0; c < classes; c++) {
        char name[32];
        snprintf(name, sizeof name, "class%d", c);
        d->class_ids[c] = strdup(name);
        d->class_names[c] = strdup(name);
        if (!d->class_ids[c] || !d->class_names[c]) {
            st = error_set(AN_ERR_NOMEM, "fixture: out of memory");
            goto done;
        }
    }
    for (size_t i = 0; i < IMAGE_STORED_BYTES; i++) d->mean_image[i] = 100.0f + (float)(i % 7);
    d->eigenvalues[0] = 0.2;
    d->eigenvalues[1] = 0.01;
    d->eigenvalues[2] = 0.002;
    for (int i = 0; i < 3; i++) d->eigenvectors[i][i] = 1.0;
    d->train.num_images = num_train;
    d->train.id_count = num_train + (uint32_t)missing_count;
    d->train.num_shards = train_shards;
    d->val.num_images = num_val;
    d->val.id_count = num_val + (uint32_t)missing_count;
    d->val.num_shards = 1;
    AN_TRY_GOTO(st, write_split(dir, "train", 0, num_train, train_shards, classes, id_hex, missing, missing_count,
                                store, d), done);
    AN_TRY_GOTO(st, write_split(dir, "val", 1, num_val, 1, classes, id_hex, missing, missing_count, store, d),
                done);
    AN_TRY_GOTO(st, dataset_write(d, dir), done);
    AN_TRY_GOTO(st, dataset_write_json(d, dir, &(dataset_provenance){.tool = "test fixture", .input = "", .params = "", .max_bad = "0"}), done);
done:
    dataset_close(d);
    return st;
}

an_status fixture_temp_dir(const char *tag, char *out)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, 4096, "%s/alexnet-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (!mkdtemp(out)) return error_set(AN_ERR_IO, "cannot create a temporary directory %s", out);
    return AN_OK;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(path);
}

void fixture_remove_dir(const char *dir)
{
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
