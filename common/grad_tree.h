/* grad_tree.h: the one order in which --reproducible sums the gradients
 * (docs/train.md, "Reproducible training").
 *
 * The global batch is cut into GRAD_TREE_CHUNKS chunks, the same whatever
 * the number of replicas and processes: chunk c is positions
 * [size*c/C, size*(c+1)/C) of a batch of `size` images (C = the chunk count).
 * Each chunk's gradient comes from a backward pass of its own, and the C
 * chunk gradients are the leaves of one complete binary tree in which every
 * node is (left + right), in that order:
 *
 *                 ((0+1)+(2+3)) + ((4+5)+(6+7))
 *
 * A part (a replica, a process, or, for a model-parallel mode, a device's
 * share) holds a run of chunks that is a subtree of that tree: 2^k chunks
 * starting at a multiple of 2^k. It sums its own leaves with a binary counter
 * (grad_tree_sum_leaves: the running sum plus log2(C) partial sums at most,
 * not one buffer per chunk), and the parts' sums are then combined by the
 * upper levels of the same tree (grad_tree_combine). Every node is the same
 * float addition of the same two operands however the batch was split, so
 * the sum has the same bits on 1, 2, 4 or 8 parts.
 *
 * This file knows only the order; what a leaf, a partial sum or an addition
 * is (a block on a device, a host block, a string in the unit test) is the
 * caller's.
 */
#ifndef ALEXNET_GRAD_TREE_H
#define ALEXNET_GRAD_TREE_H

#include <stdint.h>

#include "status.h"

/* The chunks of every global batch under --reproducible: the most devices
 * times processes it can be split over, and the divisor of --batch. */
#define GRAD_TREE_CHUNKS 8
/* log2(GRAD_TREE_CHUNKS): the partial sums a part keeps at most. */
#define GRAD_TREE_LEVELS 3

/* AN_ERR_ARG with a message unless a batch split over `parts` equal parts
 * (replicas x processes) falls on the tree's subtrees: a power of two from 1
 * to GRAD_TREE_CHUNKS. */
an_status grad_tree_check_parts(int parts);
/* AN_ERR_ARG with a message unless `batch` is a multiple of GRAD_TREE_CHUNKS
 * (every chunk of a full batch then has batch / GRAD_TREE_CHUNKS images). */
an_status grad_tree_check_batch(uint32_t batch);

/* Chunk c of a batch of `size` images: positions [*begin, *begin + *count). */
void grad_tree_chunk(uint32_t size, int chunk, uint32_t *begin, uint32_t *count);
/* The chunks of part p of `parts` equal parts (grad_tree_check_parts): [*first, *first + *count). */
void grad_tree_part_chunks(int part, int parts, int *first, int *count);

/* What a part does with its leaves, in order (grad_tree_sum_leaves). */
typedef struct grad_tree_leaf_ops {
    /* the running sum = leaf `leaf` (0-based, the part's own numbering) */
    an_status (*leaf)(void *ctx, int leaf);
    /* the running sum = partial[level] + the running sum (partial on the left) */
    an_status (*add_partial)(void *ctx, int level);
    /* partial[level] = the running sum (a copy; the next leaf overwrites the running sum) */
    an_status (*store_partial)(void *ctx, int level);
} grad_tree_leaf_ops;

/* Sums a part's `leaves` leaves (a power of two up to GRAD_TREE_CHUNKS) in the
 * tree's order with a binary counter: after leaf k, the partial sums of the
 * levels of k's trailing one bits are added on its left, lowest level first;
 * the result is stored at the next level unless k is the last leaf. At the
 * end the running sum is the part's subtree sum; partial levels
 * 0 .. log2(leaves) - 1 are used. AN_ERR_ARG for a count that is not such a
 * power of two; otherwise the first failure of an op. */
an_status grad_tree_sum_leaves(int leaves, const grad_tree_leaf_ops *ops, void *ctx);

/* sum[left] = sum[left] + sum[right]: the parts' sums, in the caller's memory. */
typedef an_status (*grad_tree_add_fn)(void *ctx, int left, int right);

/* Combines the sums of `parts` parts by the upper levels of the tree. Part p
 * holds chunks [bounds[p], bounds[p + 1]); bounds[0] = 0,
 * bounds[parts] = GRAD_TREE_CHUNKS, and every part must be a subtree (2^k
 * chunks starting at a multiple of 2^k; parts may differ in size). Each
 * node above the parts is one add(left, right), the left subtree's holder
 * (its lowest part) receiving it, so part 0 ends with the batch's sum.
 * AN_ERR_ARG naming the part when the bounds are not such subtrees. */
an_status grad_tree_combine(int parts, const int *bounds, grad_tree_add_fn add, void *ctx);

#endif
