/* neighbours.c: fc7 features and nearest training images (§6.1). */
#include "neighbours.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ten_crop.h"

an_status fc7_features(net *model, const eval_split *s, const float *mean_image,
                       const uint64_t *positions, int n, int batch, float *out)
{
    an_status st = AN_OK;
    if (batch > net_max_batch(model)) batch = net_max_batch(model);
    const size_t F = (size_t)net_fc7_features(model);
    uint8_t *images = malloc((size_t)batch * IMAGE_STORED_BYTES);    /* [batch, 256, 256, 3] */
    crop_choice *centre = malloc((size_t)batch * sizeof(crop_choice)); /* [batch] */
    if (!images || !centre) {
        st = error_set(AN_ERR_NOMEM, "out of memory for fc7 features of %d images", batch);
        goto done;
    }
    for (int b = 0; b < batch; b++) centre[b] = ten_crop_view(TEN_CROP_CENTRE_VIEW);
    for (int first = 0; first < n; first += batch) {
        int m = n - first < batch ? n - first : batch;
        for (int b = 0; b < m; b++) {
            int shard;
            uint32_t index;
            AN_TRY_GOTO(st, eval_split_locate(s, positions[first + b], &shard, &index), done);
            AN_TRY_GOTO(st, shard_reader_read_image(s->shards[shard], index, images + (size_t)b * IMAGE_STORED_BYTES),
                        done);
        }
        const float *fc7 = NULL; /* [m, F7] */
        AN_TRY_GOTO(st, net_forward_crops(model, images, 1, mean_image, centre, m), done);
        AN_TRY_GOTO(st, net_read_fc7(model, &fc7), done);
        memcpy(out + (size_t)first * F, fc7, (size_t)m * F * sizeof(float));
    }
done:
    free(images);
    free(centre);
    return st;
}

void nearest_neighbours(const float *queries, int num_queries, const float *pool, int pool_size, int features,
                        int k, int *nearest, float *distance)
{
#pragma omp parallel for schedule(static)
    for (int q = 0; q < num_queries; q++) {
        const float *a = queries + (size_t)q * features; /* [F] */
        int *best = nearest + (size_t)q * k;             /* [k] sorted prefix */
        float *best_d = distance + (size_t)q * k;        /* [k] */
        int filled = 0;
        for (int p = 0; p < pool_size; p++) {
            const float *b = pool + (size_t)p * features;
            double d2 = 0.0;
            for (int f = 0; f < features; f++) {
                double diff = (double)a[f] - (double)b[f];
                d2 += diff * diff;
            }
            float d = (float)sqrt(d2);
            /* a later pool index never beats an equal distance: strict < keeps ties by index */
            if (filled == k && !(d < best_d[k - 1])) continue;
            int pos = filled < k ? filled++ : k - 1;
            while (pos > 0 && d < best_d[pos - 1]) {
                best[pos] = best[pos - 1];
                best_d[pos] = best_d[pos - 1];
                pos--;
            }
            best[pos] = p;
            best_d[pos] = d;
        }
    }
}

void evenly_spaced(uint64_t total, int count, uint64_t *positions)
{
    for (int i = 0; i < count; i++) positions[i] = (uint64_t)i * total / (uint64_t)count;
}
