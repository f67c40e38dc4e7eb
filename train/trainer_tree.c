/* trainer_tree.c: the training step of --reproducible (docs/train.md,
 * "Reproducible training"): the global batch in grad_tree.h's fixed chunks,
 * one forward and backward pass per chunk, and every gradient sum a node of
 * the one binary tree, so the weights have the same bits on 1, 2, 4 or 8
 * replicas x processes and after a resume.
 *
 *   on each replica (its own thread and backend): its chunks in order, each
 *     chunk's gradient into the net's gradient block, summed by the binary
 *     counter with log2(its chunks) partial blocks on its device (the
 *     backend's add op);
 *   then on the host, in the calling thread: the replicas' sums combined by
 *     the tree's next levels (grad_tree_combine), then the processes' sums,
 *     all-gathered, by its top levels; the result to every replica.
 * The scores (loss, errors) are kept per chunk and added in chunk order. */
#include <stdlib.h>

#include "image_geometry.h"
#include "log.h"
#include "trainer_internal.h"

struct trainer_tree {
    int parts;          /* processes x replicas: the tree's parts, each an aligned subtree */
    int chunks_each;    /* chunks per replica: GRAD_TREE_CHUNKS / parts */
    size_t count;       /* floats of a gradient block (net_param_count) */
    float *partials[BACKEND_MAX_DEVICES][GRAD_TREE_LEVELS]; /* replica r's partial sums, [count] each in its
                                                             * backend's memory; levels 0..log2(chunks_each)-1 */
    float *gathered;    /* [processes][count] host: every process's sum; NULL with one process */
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
    const int parts = t->world->size * t->replicas;
    AN_TRY(grad_tree_check_parts(parts));
    AN_TRY(grad_tree_check_batch(t->state.batch));
    trainer_tree *tree = calloc(1, sizeof *tree);
    AN_CHECK_ALLOC(tree, sizeof *tree);
    t->tree = tree;
    tree->parts = parts;
    tree->chunks_each = GRAD_TREE_CHUNKS / parts;
    tree->count = net_param_count(t->nets[0]);
    const size_t bytes = tree->count * sizeof(float);
    for (int r = 0; r < t->replicas; r++) {
        backend *be = net_backend(t->nets[r]);
        for (int level = 0; level < levels_of(tree->chunks_each); level++)
            AN_TRY(be->ops->alloc(be, (void **)&tree->partials[r][level], bytes, "a partial sum of the gradients"));
    }
    if (t->world->size > 1) {
        tree->gathered = malloc((size_t)t->world->size * bytes);
        AN_CHECK_ALLOC(tree->gathered, (size_t)t->world->size * bytes);
    }
    if (t->world->rank == 0)
        log_info("--reproducible: every batch in %d chunks of %u images, %d per replica, their gradients summed in "
                 "one binary tree", GRAD_TREE_CHUNKS, t->state.batch / GRAD_TREE_CHUNKS, tree->chunks_each);
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
    }
    free(tree->gathered);
    free(tree);
    t->tree = NULL;
}

/* One replica's chunks of one global batch, as grad_tree_sum_leaves sees them. */
typedef struct replica_chunks {
    trainer *t;
    int r;
    const loader_batch *slice;     /* the replica's slice of the global batch */
    int first;                     /* its first chunk */
    uint32_t slice_begin;          /* the slice's position in the global batch */
    double (*scores)[4];           /* [GRAD_TREE_CHUNKS] per chunk: loss sum, top-1, top-5 errors, images */
} replica_chunks;

/* Global chunk c of the replica's slice as a batch of its own: *chunk views the slice's arrays. */
static an_status chunk_view(const replica_chunks *rc, int c, loader_batch *chunk)
{
    uint32_t begin, count;
    grad_tree_chunk(rc->slice->global_count, c, &begin, &count);
    const uint32_t at = begin - rc->slice_begin;
    if (begin < rc->slice_begin || at + count > rc->slice->count)
        return error_set(AN_ERR_INTERNAL, "chunk %d [%u, %u) is outside replica %d's slice of %u images", c, begin,
                         begin + count, rc->r, rc->slice->count);
    *chunk = *rc->slice;
    chunk->images += (size_t)at * IMAGE_STORED_BYTES;
    chunk->choices += at;
    chunk->labels += at;
    chunk->image_ids += at;
    chunk->count = count;
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
    AN_TRY(trainer_forward_images(rc->t, rc->r, &chunk, 1));
    /* d(sum of the chunk's losses) / global batch: the tree's sum is the batch mean (§5) */
    AN_TRY(net_backward(n, chunk.labels, (int)chunk.count, (float)chunk.global_count));
    AN_TRY(trainer_read_scores(rc->t, rc->r, &chunk, rc->scores[c]));
    rc->scores[c][3] += chunk.count;
    return AN_OK;
}

static an_status add_partial(void *ctx, int level)
{
    replica_chunks *rc = ctx;
    net *n = rc->t->nets[rc->r];
    backend *be = net_backend(n);
    float *grads = net_grads(n);
    return be->ops->add(be, grads, rc->t->tree->partials[rc->r][level], grads, rc->t->tree->count);
}

static an_status store_partial(void *ctx, int level)
{
    replica_chunks *rc = ctx;
    net *n = rc->t->nets[rc->r];
    backend *be = net_backend(n);
    return be->ops->add(be, rc->t->tree->partials[rc->r][level], net_grads(n), NULL, rc->t->tree->count);
}

static replica_chunks chunks_of(trainer *t, int r, const loader_batch *slice, double scores[][4])
{
    replica_chunks rc = {.t = t, .r = r, .slice = slice, .scores = scores};
    int count;
    grad_tree_part_chunks(t->world->rank * t->replicas + r, t->tree->parts, &rc.first, &count);
    uint32_t chunk_count;
    grad_tree_chunk(slice->global_count, rc.first, &rc.slice_begin, &chunk_count);
    return rc;
}

an_status trainer_tree_gradients(trainer *t, int r, const loader_batch *slice, double scores[][4])
{
    static const grad_tree_leaf_ops ops = {chunk_gradient, add_partial, store_partial};
    replica_chunks rc = chunks_of(t, r, slice, scores);
    return grad_tree_sum_leaves(t->tree->chunks_each, &ops, &rc);
}

an_status trainer_tree_validate(trainer *t, int r, const loader_batch *slice, double scores[][4])
{
    replica_chunks rc = chunks_of(t, r, slice, scores);
    for (int k = 0; k < t->tree->chunks_each; k++) {
        const int c = rc.first + k;
        loader_batch chunk;
        AN_TRY(chunk_view(&rc, c, &chunk));
        if (chunk.count == 0) continue;
        AN_TRY(trainer_forward_images(t, r, &chunk, 0));
        AN_TRY(trainer_read_scores(t, r, &chunk, scores[c]));
        scores[c][3] += chunk.count;
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
    host_sums replica_sums = {sums, tree->count};
    /* the replicas split this process's subtree as equal parts split the whole tree: the same pairs */
    equal_bounds(t->replicas, bounds);
    AN_TRY(grad_tree_combine(t->replicas, bounds, host_add, &replica_sums));
    float *total = sums[0];
    if (t->world->size > 1) {
        float *processes[GRAD_TREE_CHUNKS]; /* [world size] of gathered */
        AN_TRY(replicas_gather_floats(t->world, sums[0], tree->gathered, tree->count));
        for (int p = 0; p < t->world->size; p++) processes[p] = tree->gathered + (size_t)p * tree->count;
        host_sums process_sums = {processes, tree->count};
        equal_bounds(t->world->size, bounds);
        AN_TRY(grad_tree_combine(t->world->size, bounds, host_add, &process_sums));
        total = processes[0];
    }
    for (int r = 0; r < t->replicas; r++) AN_TRY(net_block_from_host(t->nets[r], NET_BLOCK_GRADS, total));
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
