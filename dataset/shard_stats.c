/* shard_stats.c: exact integer sums over training images (mean image, RGB
 * mean and covariance, paper §2 and §4.1), and shard file names. */
#include "shard_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

an_status shard_stats_init(shard_stats *s)
{
    memset(s, 0, sizeof *s);
    s->pixel_sum = calloc(IMAGE_STORED_BYTES, sizeof *s->pixel_sum);
    AN_CHECK_ALLOC(s->pixel_sum, IMAGE_STORED_BYTES * sizeof *s->pixel_sum);
    return AN_OK;
}

void shard_stats_free(shard_stats *s)
{
    free(s->pixel_sum);
    s->pixel_sum = NULL;
}

/* The RGB sums and outer products of one image, and the count. */
static void add_rgb_sums(shard_stats *s, const uint8_t *image /* [256,256,3] */)
{
    /* Per image every sum fits in 32 bits (65536 pixels * 255 * 255 < 2^32), so
     * the inner loops run on uint32 lanes and vectorise; the totals are uint64. */
    uint32_t sum[3] = {0, 0, 0};
    uint32_t outer[6] = {0, 0, 0, 0, 0, 0}; /* rr rg rb gg gb bb */
    for (size_t p = 0; p < (size_t)IMAGE_STORED_SIZE * IMAGE_STORED_SIZE; p++) {
        uint32_t r = image[3 * p], g = image[3 * p + 1], b = image[3 * p + 2];
        sum[0] += r; sum[1] += g; sum[2] += b;
        outer[0] += r * r; outer[1] += r * g; outer[2] += r * b;
        outer[3] += g * g; outer[4] += g * b; outer[5] += b * b;
    }
    for (int c = 0; c < 3; c++) s->rgb_sum[c] += sum[c];
    const int pair[6][2] = {{0, 0}, {0, 1}, {0, 2}, {1, 1}, {1, 2}, {2, 2}};
    for (int k = 0; k < 6; k++) {
        s->rgb_outer_sum[pair[k][0]][pair[k][1]] += outer[k];
        if (pair[k][0] != pair[k][1]) s->rgb_outer_sum[pair[k][1]][pair[k][0]] += outer[k];
    }
    s->num_images++;
}

void shard_stats_add_image(shard_stats *s, const uint8_t *image /* [256,256,3] */)
{
    for (size_t i = 0; i < IMAGE_STORED_BYTES; i++) s->pixel_sum[i] += image[i];
    add_rgb_sums(s, image);
}

void shard_stats_add_image_split(shard_stats *s, uint32_t *pixel_acc /* [256,256,3] */, const uint8_t *image)
{
    for (size_t i = 0; i < IMAGE_STORED_BYTES; i++) pixel_acc[i] += image[i];
    add_rgb_sums(s, image);
}

void shard_stats_fold_pixels(shard_stats *s, uint32_t *pixel_acc /* [256,256,3] */)
{
    for (size_t i = 0; i < IMAGE_STORED_BYTES; i++) {
        s->pixel_sum[i] += pixel_acc[i];
        pixel_acc[i] = 0;
    }
}

void shard_stats_merge(shard_stats *s, const shard_stats *other)
{
    for (size_t i = 0; i < IMAGE_STORED_BYTES; i++) s->pixel_sum[i] += other->pixel_sum[i];
    for (int i = 0; i < 3; i++) {
        s->rgb_sum[i] += other->rgb_sum[i];
        for (int j = 0; j < 3; j++) s->rgb_outer_sum[i][j] += other->rgb_outer_sum[i][j];
    }
    s->num_images += other->num_images;
}

an_status shard_file_path(const char *dir, const char *split, int index, int count, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/%s-%05d-of-%05d.h5", dir, split, index, count);
    if (n < 0 || (size_t)n >= size) return error_set(AN_ERR_ARG, "path too long: %s/%s-...", dir, split);
    return AN_OK;
}
