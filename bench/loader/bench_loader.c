/* bench_loader.c: images per second of alexnet-train's input pipeline (read
 * by pread, CRC-32 check, a JPEG shard's decode of the crop's rows, random
 * crop, flip, PCA lighting, mean subtraction into float batches
 * [B,3,224,224]) over a real dataset directory of either store.
 *   bench_loader DATA_DIR [THREADS] [BATCHES] [BATCH]
 * Prints images/s, images/s per thread and images per CPU-second. Not a test: run it beside
 * torch_loader.py (bench/loader/run.sh) for the ratio. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "dataset.h"
#include "h5_error.h"
#include "loader.h"
#include "progress.h"

/* CPU seconds (user + system) of every thread of this process so far. */
static double cpu_seconds(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_sec +
           1e-6 * (double)u.ru_stime.tv_usec;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DATA_DIR [THREADS] [BATCHES] [BATCH]\n", argv[0]);
        return 2;
    }
    int threads = argc > 2 ? atoi(argv[2]) : 1;
    int batches = argc > 3 ? atoi(argv[3]) : 40;
    int batch = argc > 4 ? atoi(argv[4]) : 128;
    h5_error_init();
    dataset *d = NULL;
    shard_reader **shards = NULL;
    loader *l = NULL;
    int rc = 1;
    if (dataset_open(&d, argv[1]) != AN_OK) goto done;
    shards = calloc((size_t)d->train.num_shards, sizeof *shards);
    if (!shards) goto done;
    for (int s = 0; s < d->train.num_shards; s++)
        if (shard_reader_open(&shards[s], d->train.shard_paths[s]) != AN_OK) goto done;
    augment_params a = { 0 };
    a.seed = 1;
    a.mean_image = d->mean_image;
    a.lighting_std = AUGMENT_LIGHTING_STD;
    for (int i = 0; i < 3; i++) {
        a.eigenvalues[i] = (float)d->eigenvalues[i];
        for (int j = 0; j < 3; j++) a.eigenvectors[i][j] = (float)d->eigenvectors[i][j];
    }
    loader_config c = { 0 };
    c.shards = shards;
    c.shard_count = d->train.num_shards;
    c.augment = &a;
    c.mode = LOADER_TRAIN;
    c.batch = (uint32_t)batch;
    c.ranks = 1;
    c.threads = threads;
    c.queue_depth = 3;
    if (loader_create(&l, &c) != AN_OK) goto done;
    /* One warm-up batch (page cache, thread start), then the timed ones. */
    uint64_t images = 0;
    double start = 0, cpu_start = 0;
    uint32_t epoch = 0;
    if (loader_start_epoch(l, epoch, 0) != AN_OK) goto done;
    for (int i = 0; i <= batches;) {
        loader_batch *b;
        if (loader_next(l, &b) != AN_OK) goto done;
        if (!b) {
            if (loader_start_epoch(l, ++epoch, 0) != AN_OK) goto done;
            continue;
        }
        if (i == 0) {
            start = progress_now();
            cpu_start = cpu_seconds();
        }
        else images += b->count;
        loader_release(l, b);
        i++;
    }
    double seconds = progress_now() - start, cpu = cpu_seconds() - cpu_start;
    /* images per CPU-second does not depend on what else the machine runs */
    printf("alexnet loader: %d threads, batch %d: %.0f images/s (%.0f images/s per thread, %.0f images per "
           "CPU-second) over %llu images\n", threads, batch, images / seconds, images / seconds / threads,
           images / cpu, (unsigned long long)images);
    rc = 0;
done:
    if (rc) fprintf(stderr, "bench_loader: %s\n", error_message());
    loader_destroy(l);
    if (shards && d)
        for (int s = 0; s < d->train.num_shards; s++) shard_reader_close(shards[s]);
    free(shards);
    dataset_close(d);
    return rc;
}
