/* grad_tree.c: the fixed summation tree of --reproducible (grad_tree.h). */
#include "grad_tree.h"

_Static_assert(1 << GRAD_TREE_LEVELS == GRAD_TREE_CHUNKS, "GRAD_TREE_LEVELS is log2(GRAD_TREE_CHUNKS)");

static int power_of_two(int n) { return n > 0 && (n & (n - 1)) == 0; }

an_status grad_tree_check_parts(int parts)
{
    if (power_of_two(parts) && parts <= GRAD_TREE_CHUNKS) return AN_OK;
    return error_set(AN_ERR_ARG, "--reproducible splits every batch into %d fixed chunks summed in a binary tree, "
                     "so the replicas times processes must be 1, 2, 4 or 8, not %d", GRAD_TREE_CHUNKS, parts);
}

an_status grad_tree_check_batch(uint32_t batch)
{
    if (batch % GRAD_TREE_CHUNKS == 0) return AN_OK;
    return error_set(AN_ERR_ARG, "--reproducible splits every batch into %d fixed chunks, so --batch must be a "
                     "multiple of %d, not %u", GRAD_TREE_CHUNKS, GRAD_TREE_CHUNKS, batch);
}

void grad_tree_chunk(uint32_t size, int chunk, uint32_t *begin, uint32_t *count)
{
    uint64_t lo = (uint64_t)size * (uint64_t)chunk / GRAD_TREE_CHUNKS;
    uint64_t hi = (uint64_t)size * (uint64_t)(chunk + 1) / GRAD_TREE_CHUNKS;
    *begin = (uint32_t)lo;
    *count = (uint32_t)(hi - lo);
}

void grad_tree_part_chunks(int part, int parts, int *first, int *count)
{
    *count = GRAD_TREE_CHUNKS / parts;
    *first = part * *count;
}

/* The trailing one bits of k: the levels whose partial sums leaf k closes. */
static int trailing_ones(int k)
{
    int n = 0;
    while (k & 1) {
        n++;
        k >>= 1;
    }
    return n;
}

an_status grad_tree_sum_leaves(int leaves, const grad_tree_leaf_ops *ops, void *ctx)
{
    if (!power_of_two(leaves) || leaves > GRAD_TREE_CHUNKS)
        return error_set(AN_ERR_ARG, "a part of the gradient tree holds %d chunks, not a power of two up to %d",
                         leaves, GRAD_TREE_CHUNKS);
    for (int k = 0; k < leaves; k++) {
        AN_TRY(ops->leaf(ctx, k));
        const int closes = trailing_ones(k);
        for (int level = 0; level < closes; level++) AN_TRY(ops->add_partial(ctx, level));
        if (k < leaves - 1) AN_TRY(ops->store_partial(ctx, closes));
    }
    return AN_OK;
}

/* The node of chunks [lo, hi): its holder in *holder, after adding its two halves when no part holds it whole. */
static an_status combine_node(int parts, const int *bounds, int lo, int hi, grad_tree_add_fn add, void *ctx,
                              int *holder)
{
    for (int p = 0; p < parts; p++)
        if (bounds[p] == lo && bounds[p + 1] == hi) {
            *holder = p;
            return AN_OK;
        }
    if (hi - lo < 2) return error_set(AN_ERR_INTERNAL, "chunk %d of the gradient tree belongs to no part", lo);
    const int mid = lo + (hi - lo) / 2;
    int left, right;
    AN_TRY(combine_node(parts, bounds, lo, mid, add, ctx, &left));
    AN_TRY(combine_node(parts, bounds, mid, hi, add, ctx, &right));
    *holder = left;
    return add(ctx, left, right);
}

an_status grad_tree_combine(int parts, const int *bounds, grad_tree_add_fn add, void *ctx)
{
    if (parts < 1 || parts > GRAD_TREE_CHUNKS || bounds[0] != 0 || bounds[parts] != GRAD_TREE_CHUNKS)
        return error_set(AN_ERR_ARG, "%d parts of the gradient tree must cover its %d chunks from 0", parts,
                         GRAD_TREE_CHUNKS);
    for (int p = 0; p < parts; p++) {
        const int size = bounds[p + 1] - bounds[p];
        if (!power_of_two(size) || bounds[p] % size != 0)
            return error_set(AN_ERR_ARG, "part %d of the gradient tree holds chunks [%d, %d): not a subtree of "
                             "the tree (2^k chunks starting at a multiple of 2^k)", p, bounds[p], bounds[p + 1]);
    }
    int holder;
    return combine_node(parts, bounds, 0, GRAD_TREE_CHUNKS, add, ctx, &holder);
}
