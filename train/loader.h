/* loader.h: the training and validation input pipeline.
 *
 * A pool of threads reads images with shard_reader_read_image_rows (one pread
 * and a CRC-32 check, no HDF5 call; a JPEG shard's image is then decoded, only
 * the rows its crop needs) straight into a ring of `queue_depth` slots, and
 * draws each image's augmentation (augment.h): a batch is the stored uint8
 * images [b, 256, 256, 3] and one crop choice per image, which the trainer's
 * backend turns into the float input on the device (backend_ops.def:
 * crop_input): 192 KiB cross to the device per image instead of the 588 KiB
 * of a float crop (docs/train.md, "The loader's hand-over"). Memory is
 * bounded by queue_depth x local batch x 192 KiB whatever the dataset; the
 * ring's images are host memory of the backend's own (host_alloc: page-locked
 * for CUDA), so the upload reads them in place.
 * Each image is written to its own position in its batch, so a batch does
 * not depend on which thread produced which image: the output is the same
 * with 1 or 16 threads.
 *
 * Training order: epoch e visits the permutation epoch_order_make(seed, e) of
 * the image ids; step s takes this rank's slice of the global batch s
 * (epoch_order.h). Validation order: the image ids in increasing order (the
 * first `limit` of them), centre crops.
 *
 * Image ids need not be dense: alexnet-prep leaves the ids of the inputs it
 * refused unused, so a split's ids are a subset of 0..id_count-1
 * (dataset_split.id_count). The loader visits the ids that exist: the epoch
 * permutation is a permutation of the existing ids (the k-th smallest id
 * takes the place of k), each seen exactly once per epoch.
 *
 * A checksum mismatch stops the loader: loader_next returns AN_ERR_CHECKSUM
 * with the shard and the image named.
 */
#ifndef ALEXNET_LOADER_H
#define ALEXNET_LOADER_H

#include <stdint.h>

#include "augment.h"
#include "backend.h"
#include "shard_reader.h"
#include "status.h"

typedef enum loader_mode {
    LOADER_TRAIN = 0, /* permuted, random crop/flip/lighting */
    LOADER_VAL = 1    /* in id order, centre crop */
} loader_mode;

typedef struct loader_config {
    shard_reader *const *shards; /* [shard_count] open readers of one split; not owned */
    int shard_count;
    uint64_t id_count;    /* every image id is < id_count (dataset_split.id_count); 0: the number of images */
    const augment_params *augment; /* seed, mean image, eigen; not owned, must outlive the loader */
    loader_mode mode;
    uint32_t batch;       /* global batch size B */
    int rank, ranks;      /* this process's slice of every global batch */
    int threads;          /* worker threads, >= 1 */
    int queue_depth;      /* batches in flight, >= 1 */
    uint32_t limit;       /* LOADER_VAL: only the first `limit` images in id order; 0 for all */
    backend *host_memory; /* whose host_alloc holds the ring's images (the trainer's); not owned,
                             must outlive the loader; NULL: ordinary memory (tests, benchmarks) */
} loader_config;

typedef struct loader_batch {
    uint8_t *images;      /* [count, 256, 256, 3] uint8 HWC as stored; of image k only the rows
                             [choices[k].y, choices[k].y + 224) are sure to be written */
    crop_choice *choices; /* [count] each image's crop, flip and lighting (augment_choice) */
    int32_t *labels;      /* [count] */
    uint32_t *image_ids;  /* [count] */
    uint32_t count;       /* this rank's images in this step (may be 0) */
    uint32_t global_count;/* images of the global batch (all ranks) */
    uint32_t epoch;
    uint64_t step;        /* step within the epoch */
} loader_batch;

typedef struct loader loader;

/* Checks that the shards' image ids are unique and below id_count
 * (AN_ERR_FORMAT otherwise), allocates the ring and starts the threads (idle until an epoch
 * starts). */
an_status loader_create(loader **out, const loader_config *cfg);

/* Images the loader visits per epoch (N' = the split's N, or the validation
 * limit) and steps per epoch (ceil(N' / B)). */
uint32_t loader_num_images(const loader *l);
uint64_t loader_steps_per_epoch(const loader *l);

/* Begins producing epoch `epoch` from step `first_step` (a resume starts
 * mid-epoch). Any batches of a previous epoch not yet taken are dropped. */
an_status loader_start_epoch(loader *l, uint32_t epoch, uint64_t first_step);

/* Waits for the next batch of the epoch, in step order. *out is NULL after the
 * last step. The batch stays valid until loader_release. Returns a worker's
 * error (e.g. AN_ERR_CHECKSUM) if one failed. */
an_status loader_next(loader *l, loader_batch **out);

/* Gives the batch's slot back to the workers. */
void loader_release(loader *l, loader_batch *batch);

/* Stops and joins the threads and frees everything. NULL is fine. */
void loader_destroy(loader *l);

#endif
