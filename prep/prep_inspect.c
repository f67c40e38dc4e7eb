/* prep_inspect.c: verify and info subcommands. */
#include "prep_inspect.h"

#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "shard_reader.h"

static an_status verify_shard(const dataset *d, const char *split, int index, uint64_t *images, int64_t *counts)
{
    const dataset_split *s = dataset_get_split(d, split);
    shard_reader *r = NULL;
    AN_TRY(shard_reader_open(&r, s->shard_paths[index]));
    an_status st = dataset_check_shard(d, r);
    if (st != AN_OK) goto done;
    if (strcmp(r->split, split) != 0 || r->shard_index != index ||
        r->shard_count != s->num_shards) {
        st = error_set(AN_ERR_FORMAT, "%s: header says dataset %s %s shard %d of %d, expected %s %s %d of %d",
                       r->path, r->dataset_id, r->split, r->shard_index, r->shard_count, d->dataset_id, split, index,
                       s->num_shards);
        goto done;
    }
    for (size_t i = 0; i < r->count; i++) {
        if (r->labels[i] < 0 || r->labels[i] >= d->num_classes) {
            st = error_set(AN_ERR_FORMAT, "%s: image %zu has label %d outside 0..%d", r->path, i, r->labels[i],
                           d->num_classes - 1);
            goto done;
        }
        counts[r->labels[i]]++;
    }
    size_t bad = 0;
    st = shard_reader_verify(r, &bad);
    *images += r->count;
done:
    shard_reader_close(r);
    return st;
}

/* The shards and dataset.h5 disagree: which one is damaged is not known. */
#define DISAGREE_ADVICE "a shard or dataset.h5 is damaged: make the dataset again, or get another copy"

an_status prep_verify(const char *dir, FILE *out)
{
    dataset *d = NULL;
    AN_TRY(dataset_open(&d, dir));
    an_status st = AN_OK;
    int64_t *counts = calloc((size_t)d->num_classes, sizeof *counts); /* [C] */
    if (!counts) {
        st = error_set(AN_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int k = 0; k < 2 && st == AN_OK; k++) {
        const char *split = k == 0 ? "train" : "val";
        const dataset_split *s = dataset_get_split(d, split);
        uint64_t images = 0;
        memset(counts, 0, (size_t)d->num_classes * sizeof *counts);
        for (int i = 0; i < s->num_shards && st == AN_OK; i++) st = verify_shard(d, split, i, &images, counts);
        if (st != AN_OK) break;
        if (images != s->num_images) {
            st = error_set(AN_ERR_FORMAT, "%s: shards hold %llu images, dataset.h5 says %llu (%s)", split,
                           (unsigned long long)images, (unsigned long long)s->num_images, DISAGREE_ADVICE);
            break;
        }
        for (int c = 0; c < d->num_classes; c++)
            if (counts[c] != s->class_counts[c]) {
                st = error_set(AN_ERR_FORMAT, "%s: class %d (%s) has %lld images in the shards, dataset.h5 says %lld (%s)",
                               split, c, d->class_ids[c], (long long)counts[c], (long long)s->class_counts[c],
                               DISAGREE_ADVICE);
                break;
            }
        if (st == AN_OK)
            fprintf(out, "%s: %d shards, %llu images, all checksums good\n", split, s->num_shards,
                    (unsigned long long)images);
    }
done:
    free(counts);
    dataset_close(d);
    if (st != AN_OK) return error_context(st, "verify %s", dir);
    fprintf(out, "dataset %s: OK\n", dir);
    return AN_OK;
}

/* The image data's size on disk against the raw store's, from the shards' headers. */
static an_status print_stored_size(const dataset *d, FILE *out)
{
    char store[64] = "raw";
    for (int k = 0; k < 2; k++) {
        const char *name = k == 0 ? "train" : "val";
        const dataset_split *s = dataset_get_split(d, name);
        uint64_t bytes = 0, images = 0;
        for (int i = 0; i < s->num_shards; i++) {
            shard_reader *r = NULL;
            AN_TRY(shard_reader_open(&r, s->shard_paths[i]));
            bytes += r->stored_bytes;
            images += r->count;
            if (r->store == SHARD_STORE_JPEG)
                snprintf(store, sizeof store, "jpeg (quality %d, %s)", r->jpeg_quality, r->jpeg_subsampling);
            shard_reader_close(r);
        }
        if (k == 0) fprintf(out, "store     %s\n", store);
        const double raw = (double)images * (double)IMAGE_STORED_BYTES;
        if (images == 0) {
            fprintf(out, "%-9s no images\n", name);
            continue;
        }
        fprintf(out, "%-9s %.1f MB of images, %.0f bytes per image; raw: %.1f MB (%.2fx)\n", name, (double)bytes / 1e6,
                (double)bytes / (double)images, raw / 1e6, raw / (double)bytes);
    }
    return AN_OK;
}

an_status prep_info(const char *dir, FILE *out)
{
    dataset *d = NULL;
    AN_TRY(dataset_open(&d, dir));
    fprintf(out, "dataset   %s\nid        %s\nsource    %s\nclasses   %d\n", dir, d->dataset_id, d->source,
            d->num_classes);
    fprintf(out, "train     %llu images in %d shards\nval       %llu images in %d shards\n",
            (unsigned long long)d->train.num_images, d->train.num_shards, (unsigned long long)d->val.num_images,
            d->val.num_shards);
    fprintf(out, "rgb mean  %.3f %.3f %.3f (0..255)\nrgb std   %.3f %.3f %.3f (0..255)\n", d->rgb_mean[0],
            d->rgb_mean[1], d->rgb_mean[2], d->rgb_std[0], d->rgb_std[1], d->rgb_std[2]);
    fprintf(out, "eigenvalues %.6g %.6g %.6g ([0,1] units)\n", d->eigenvalues[0], d->eigenvalues[1],
            d->eigenvalues[2]);
    for (int r = 0; r < 3; r++)
        fprintf(out, "eigenvectors[%d] % .6f % .6f % .6f\n", r, d->eigenvectors[r][0], d->eigenvectors[r][1],
                d->eigenvectors[r][2]);
    int shown = d->num_classes < 10 ? d->num_classes : 10;
    for (int c = 0; c < shown; c++)
        fprintf(out, "class %4d %-12s %-24s train %lld val %lld\n", c, d->class_ids[c], d->class_names[c],
                (long long)d->train.class_counts[c], (long long)d->val.class_counts[c]);
    if (shown < d->num_classes) fprintf(out, "... %d more classes (see dataset.json)\n", d->num_classes - shown);
    an_status st = print_stored_size(d, out);
    dataset_close(d);
    return st;
}
