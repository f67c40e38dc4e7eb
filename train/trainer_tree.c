/* trainer_tree.c: the training step of --reproducible (docs/train.md,
 * "Reproducible training"): the global batch in grad_tree.h's fixed chunks,
 * one forward and backward pass per chunk, every network in the fixed order
 * of net.h (net_set_fixed_order), and every gradient sum a node of the one
 * binary tree, so the weights have the same bits on 1, 2, 4 or 8 replicas x
 * processes, with --parallel data, towers or hybrid, and after a resume.
 *
 *   data:   each replica passes its own chunks;
 *   towers: both towers pass every chunk of their process (their exchanges
 *           are steps of each pass);
 *   hybrid: every member passes every chunk of its process, the chunk's
 *           images on the member that owns it (whose slice of the batch
 *           holds it) and none on the others, so the fc layers see the
 *           chunk as one device does; a member's conv gradient of a chunk it
 *           does not own is 0;
 *   on each replica (its own thread and backend): its chunks in order, each
 *     chunk's gradient into the net's gradient block, summed by the binary
 *     counter with log2(its chunks) partial blocks on its device (the
 *     backend's add op);
 *   then on the host, in the calling thread: the replicas' sums of what they
 *     share (data: the whole block; hybrid: the conv layers; towers: nothing)
 *     combined by the tree's next levels (grad_tree_combine), then each
 *     replica's block with the same replica's of the other processes,
 *     all-gathered, by its top levels; the result to the replicas.
 * The scores (loss, errors) are kept per chunk and added in chunk order. */
#include <stdlib.h>
#include <string.h>

#include "image_geometry.h"
#include "log.h"
#include "trainer_internal.h"

struct trainer_tree {
    int parts;          /* the tree's parts, each an aligned subtree: processes x replicas (data, hybrid), processes
                         * (towers) */
    int chunks_each;    /* chunks each part owns: GRAD_TREE_CHUNKS / parts */
    int leaves;         /* chunks each replica passes: chunks_each (data), its process's (towers, hybrid) */
    size_t count[BACKEND_MAX_DEVICES]; /* floats of replica r's gradient block (net_param_count: a split's members
                                        * may differ) */
    float *partials[BACKEND_MAX_DEVICES][GRAD_TREE_LEVELS]; /* replica r's partial sums, [count] each in its
                                                             * backend's memory; levels 0..log2(chunks_each)-1 */
    float *gathered;    /* [processes][the largest count] host: every process's sum; NULL with one process */
};

/* The bounds of `parts` equal parts in chunks: bounds[p] = p x chunks per part, [parts + 1]. */
static void equal_bounds(int parts, int bounds[GRAD_TREE_CHUNKS + 1])
{
    int count = GRAD_TREE_CHUNKS;
    for (int p = 0; p < parts; p++) grad_tree_part_chunks(p, parts, &bounds[p], &count);
    bounds[parts] = GRAD_TREE_CHUNKS;
}

static int levels_of(int chunks)
{
    int levels = 0;
    while ((1 << levels) < chunks) levels++;
    return levels;
}

an_status trainer_tree_open(trainer *t)
{
    const int parts = t->world->size * (t->mode == PARALLEL_TOWERS ? 1 : t->replicas);
    AN_TRY(grad_tree_check_parts(parts));
    AN_TRY(grad_tree_check_batch(t->state.batch));
    if (t->mode == PARALLEL_HYBRID && t->replicas > 2 && strcmp(t->exchange->kind, "cpu") != 0)
        return error_set(AN_ERR_ARG, "--reproducible with --parallel hybrid on %d %s devices: NCCL adds the members' "
                         "shares of the fc layers' input gradients in its own order, not the fixed tree's (two "
                         "devices add in either order alike); use 2 devices per process, or --parallel data",
                         t->replicas, t->exchange->kind);
    trainer_tree *tree = calloc(1, sizeof *tree);
    AN_CHECK_ALLOC(tree, sizeof *tree);
    t->tree = tree;
    tree->parts = parts;
    tree->chunks_each = GRAD_TREE_CHUNKS / parts;
    tree->leaves = t->mode == PARALLEL_DATA ? tree->chunks_each : GRAD_TREE_CHUNKS / t->world->size;
    size_t largest = 0;
    for (int r = 0; r < t->replicas; r++) {
        tree->count[r] = net_param_count(t->nets[r]);
        if (tree->count[r] > largest) largest = tree->count[r];
    }
    for (int r = 0; r < t->replicas; r++) {
        const size_t bytes = tree->count[r] * sizeof(float);
        backend *be = net_backend(t->nets[r]);
        for (int level = 0; level < levels_of(tree->leaves); level++)
            AN_TRY(be->ops->alloc(be, (void **)&tree->partials[r][level], bytes, "a partial sum of the gradients"));
        AN_TRY(net_set_fixed_order(t->nets[r], (int)(t->state.batch / GRAD_TREE_CHUNKS)));
    }
    if (t->world->size > 1) {
        tree->gathered = malloc((size_t)t->world->size * largest * sizeof(float));
        AN_CHECK_ALLOC(tree->gathered, (size_t)t->world->size * largest * sizeof(float));
    }
    if (t->world->rank == 0)
        log_info("--reproducible: every batch in %d chunks of %u images, %d passed by each replica, their gradients "
                 "summed in one binary tree", GRAD_TREE_CHUNKS, t->state.batch / GRAD_TREE_CHUNKS, tree->leaves);
    return AN_OK;
}

void trainer_tree_close(trainer *t)
{
    trainer_tree *tree = t->tree;
    if (!tree) return;
    for (int r = 0; r < t->replicas; r++) {
        if (!t->nets[r]) continue;
        backend *be = net_backend(t->nets[r]);
        for (int level = 0; level < GRAD_TREE_LEVELS; level++) be->ops->free(be, tree->partials[r][level]);
        net_set_fixed_order(t->nets[r], 0); /* frees its scratch; cannot fail */
    }
    free(tree->gathered);
    free(tree);
    t->tree = NULL;
}

/* One replica's chunks of one global batch, as grad_tree_sum_leaves sees them. */
typedef struct replica_chunks {
    trainer *t;
    int r;
    loader_batch *const *slices;   /* [replicas] each replica's slice of the global batch (towers: the process's) */
    int first;                     /* the first chunk the replica passes */
    double (*scores)[4];           /* [GRAD_TREE_CHUNKS] per chunk: loss sum, top-1, top-5 errors, images */
} replica_chunks;

/* The replica of this process whose slice holds global chunk c: the one that passes its images. */
static int chunk_owner(const replica_chunks *rc, int c)
{
    const trainer *t = rc->t;
    return t->mode == PARALLEL_TOWERS ? rc->r : c / t->tree->chunks_each - t->world->rank * t->replicas;
}

/* Global chunk c as a batch of its own: *chunk views its owner's slice's arrays. */
static an_status chunk_view(const replica_chunks *rc, int c, loader_batch *chunk)
{
    const int owner = chunk_owner(rc, c);
    if (owner < 0 || owner >= rc->t->replicas)
        return error_set(AN_ERR_INTERNAL, "chunk %d belongs to no replica of process %d", c, rc->t->world->rank);
    const loader_batch *slice = rc->slices[owner];
    uint32_t begin, count, slice_begin, first_count;
    grad_tree_chunk(slice->global_count, c, &begin, &count);
    /* the slice starts with its owner's first chunk (towers: the process's) */
    const int slice_first = rc->t->mode == PARALLEL_TOWERS ? rc->first : c - c % rc->t->tree->chunks_each;
    grad_tree_chunk(slice->global_count, slice_first, &slice_begin, &first_count);
    const uint32_t at = begin - slice_begin;
    if (begin < slice_begin || at + count > slice->count)
        return error_set(AN_ERR_INTERNAL, "chunk %d [%u, %u) is outside replica %d's slice of %u images", c, begin,
                         begin + count, owner, slice->count);
    *chunk = *slice;
    chunk->images += (size_t)at * IMAGE_STORED_BYTES;
    chunk->choices += at;
    chunk->labels += at;
    chunk->image_ids += at;
    chunk->count = count;
    return AN_OK;
}

/* The forward pass of global chunk c (train: with dropout) on the replica: its own images in data and towers
 * mode; in hybrid mode the owner's, the other members passing none of their own. */
static an_status chunk_forward(const replica_chunks *rc, int c, const loader_batch *chunk, int train)
{
    trainer *t = rc->t;
    if (t->mode != PARALLEL_HYBRID) return trainer_forward_images(t, rc->r, chunk, train);
    int batches[BACKEND_MAX_DEVICES] = {0}; /* the members' images in this pass */
    const int owner = chunk_owner(rc, c);
    batches[owner] = (int)chunk->count;
    AN_TRY(net_set_member_batches(t->nets[rc->r], batches));
    loader_batch mine = *chunk;
    if (rc->r != owner) mine.count = 0; /* the ids and labels stay the chunk's: every member's (net.h) */
    uint32_t step = train ? (uint32_t)t->state.global_step : 0;
    return net_forward_images(t->nets[rc->r], mine.images, t->augment.mean_image, mine.choices, (int)mine.count,
                              chunk->image_ids, step, t->augment.seed, train);
}

/* The chunk's scores into scores[c]: every replica's in data mode, replica 0's of a split network (each
 * member holds the chunk's whole logits). */
static an_status chunk_scores(const replica_chunks *rc, int c, const loader_batch *chunk)
{
    if (rc->t->mode != PARALLEL_DATA && rc->r != 0) return AN_OK;
    AN_TRY(trainer_read_scores(rc->t, rc->r, chunk, rc->scores[c]));
    rc->scores[c][3] += chunk->count;
    return AN_OK;
}

/* Leaf k: the gradient of the replica's k-th chunk in the net's gradient block, and its scores. */
static an_status chunk_gradient(void *ctx, int k)
{
    replica_chunks *rc = ctx;
    const int c = rc->first + k;
    net *n = rc->t->nets[rc->r];
    loader_batch chunk;
    AN_TRY(chunk_view(rc, c, &chunk));
    if (chunk.count == 0) return net_zero_grads(n); /* a short last batch */
    AN_TRY(chunk_forward(rc, c, &chunk, 1));
    /* d(sum of the chunk's losses) / global batch: the tree's sum is the batch mean (§5) */
    AN_TRY(net_backward(n, chunk.labels, (int)chunk.count, (float)chunk.global_count));
    return chunk_scores(rc, c, &chunk);
}

static an_status add_partial(void *ctx, int level)
{
    replica_chunks *rc = ctx;
    net *n = rc->t->nets[rc->r];
    backend *be = net_backend(n);
    float *grads = net_grads(n);
    return be->ops->add(be, grads, rc->t->tree->partials[rc->r][level], grads, rc->t->tree->count[rc->r]);
}

static an_status store_partial(void *ctx, int level)
{
    replica_chunks *rc = ctx;
    net *n = rc->t->nets[rc->r];
    backend *be = net_backend(n);
    return be->ops->add(be, rc->t->tree->partials[rc->r][level], net_grads(n), NULL, rc->t->tree->count[rc->r]);
}

static replica_chunks chunks_of(trainer *t, int r, loader_batch *const *slices, double scores[][4])
{
    replica_chunks rc = {.t = t, .r = r, .slices = slices, .scores = scores};
    if (t->mode == PARALLEL_DATA)
        rc.first = (t->world->rank * t->replicas + r) * t->tree->chunks_each;
    else
        rc.first = t->world->rank * t->tree->leaves; /* the process's chunks */
    return rc;
}

an_status trainer_tree_gradients(trainer *t, int r, loader_batch *const *slices, double scores[][4])
{
    static const grad_tree_leaf_ops ops = {chunk_gradient, add_partial, store_partial};
    replica_chunks rc = chunks_of(t, r, slices, scores);
    return grad_tree_sum_leaves(t->tree->leaves, &ops, &rc);
}

an_status trainer_tree_validate(trainer *t, int r, loader_batch *const *slices, double scores[][4])
{
    replica_chunks rc = chunks_of(t, r, slices, scores);
    for (int k = 0; k < t->tree->leaves; k++) {
        const int c = rc.first + k;
        loader_batch chunk;
        AN_TRY(chunk_view(&rc, c, &chunk));
        if (chunk.count == 0) continue;
        AN_TRY(chunk_forward(&rc, c, &chunk, 0));
        AN_TRY(chunk_scores(&rc, c, &chunk));
    }
    return AN_OK;
}

/* sums[left] += sums[right], element by element, the left operand first (grad_tree_add_fn). */
typedef struct host_sums {
    float **blocks; /* [parts] host blocks of `count` floats */
    size_t count;
} host_sums;

static an_status host_add(void *ctx, int left, int right)
{
    host_sums *h = ctx;
    float *a = h->blocks[left];
    const float *b = h->blocks[right];
    for (size_t i = 0; i < h->count; i++) a[i] = a[i] + b[i];
    return AN_OK;
}

an_status trainer_tree_sum_grads(trainer *t)
{
    trainer_tree *tree = t->tree;
    int bounds[GRAD_TREE_CHUNKS + 1];
    float *sums[BACKEND_MAX_DEVICES]; /* replica r's subtree sum, [count] host (the block itself on the CPU) */
    for (int r = 0; r < t->replicas; r++) AN_TRY(net_block_to_host(t->nets[r], NET_BLOCK_GRADS, &sums[r]));
    /* what the replicas share (parallel_shared_floats: data the whole block, hybrid the conv layers' views,
     * towers nothing), summed by the tree's levels above them: they split this process's subtree as equal
     * parts split the whole tree, the same pairs; every replica then holds the sum */
    const size_t shared = parallel_shared_floats(t->mode, t->nets[0]);
    if (t->replicas > 1 && shared > 0) {
        host_sums replica_sums = {sums, shared};
        equal_bounds(t->replicas, bounds);
        AN_TRY(grad_tree_combine(t->replicas, bounds, host_add, &replica_sums));
        if (t->mode != PARALLEL_DATA) /* data: replica 0's whole block goes to every replica below */
            for (int r = 1; r < t->replicas; r++) memcpy(sums[r], sums[0], shared * sizeof(float));
    }
    /* each replica's block with the same replica's of the other processes (data: replica 0's for all) */
    const int blocks = t->mode == PARALLEL_DATA ? 1 : t->replicas;
    float *totals[BACKEND_MAX_DEVICES];
    for (int r = 0; r < blocks; r++) {
        totals[r] = sums[r];
        if (t->world->size == 1) continue;
        float *processes[GRAD_TREE_CHUNKS]; /* [world size] of gathered */
        AN_TRY(replicas_gather_floats(t->world, sums[r], tree->gathered, tree->count[r]));
        for (int p = 0; p < t->world->size; p++) processes[p] = tree->gathered + (size_t)p * tree->count[r];
        host_sums process_sums = {processes, tree->count[r]};
        equal_bounds(t->world->size, bounds);
        AN_TRY(grad_tree_combine(t->world->size, bounds, host_add, &process_sums));
        memcpy(sums[r], processes[0], tree->count[r] * sizeof(float));
    }
    for (int r = 0; r < t->replicas; r++)
        AN_TRY(net_block_from_host(t->nets[r], NET_BLOCK_GRADS, totals[t->mode == PARALLEL_DATA ? 0 : r]));
    return AN_OK;
}

an_status trainer_tree_total(trainer *t, double scores[][4], double total[4])
{
    /* each chunk's entries come from one replica of one process, the others' are 0: the sum over the
     * processes is exact in any order */
    AN_TRY(replicas_sum_doubles(t->world, &scores[0][0], (size_t)GRAD_TREE_CHUNKS * 4));
    for (int k = 0; k < 4; k++) total[k] = 0.0;
    for (int c = 0; c < GRAD_TREE_CHUNKS; c++)
        for (int k = 0; k < 4; k++) total[k] += scores[c][k];
    return AN_OK;
}
