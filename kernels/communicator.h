/* communicator.h: the contract for moving blocks between the replicas of
 * one process, each on its own backend (train/device_group.h, docs/train.md
 * "Several devices in one process" and "Parallel modes"): the sum of the
 * gradients, and the all-gather and reduce-scatter of a network split over
 * the replicas (net.h, net_split). kernels/cpu (communicator_cpu.h) works
 * on host blocks in a fixed order; kernels/cuda (communicator_nccl.h) on
 * device blocks with NCCL on each replica's stream. Like the backend table
 * (backend.h), a communicator is chosen at run time.
 *
 * Two ways of calling. `sum` is called once, from one thread, for every
 * member. `all_gather` and `reduce_scatter` are called by every member, each
 * from its own replica's thread, in the same order on every member (they
 * are steps of the network's one pass, net_pass.c): a member's call returns
 * once its part is done (CPU) or queued on its backend (NCCL). A member that
 * fails before its call would leave the others waiting: its thread calls
 * `abort`, and every waiting and later call fails with a message saying so.
 *
 * The layout of a gathered block: `rows` rows (images), each row the members'
 * parts one after the other, member j's part `parts[j]` floats (a part may be
 * 0 floats, e.g. a replica with no image in a short batch; the parts need not
 * be equal). Every member passes the same rows and parts[].
 */
#ifndef ALEXNET_COMMUNICATOR_H
#define ALEXNET_COMMUNICATOR_H

#include <stddef.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct communicator communicator;

typedef struct communicator_ops {
    /* blocks[m] [n] (member m's backend memory) = the sum over members of
     * blocks[j], for every m: afterwards every member holds the same values.
     * Called once, from one thread, after each member's earlier ops on its
     * backend were queued; each member's later ops see the sum. The CPU
     * instance adds in a balanced binary tree, left operand first: sum(lo,
     * hi) = sum(lo, mid) + sum(mid, hi), mid = lo + (hi - lo) / 2, over
     * members [0, members); for 2, 4 and 8 members (0+1), (0+1)+(2+3) and
     * ((0+1)+(2+3))+((4+5)+(6+7)), the tree of train/grad_tree.h; for 3,
     * 0+(1+2). So its result does not depend on thread timing. NCCL's
     * order is NCCL's own (its ring or tree, chosen by NCCL). */
    an_status (*sum)(communicator *c, float *const *blocks, size_t n);
    /* Member `member`'s call: gathered [rows, total] (total = the sum of
     * parts[0..members-1]) = every member's part, row by row: row r's floats
     * [offset_j, offset_j + parts[j]) (offset_j = parts[0] + ... +
     * parts[j-1]) are member j's part [rows, parts[j]] row r. Not in place:
     * part and gathered do not overlap. Exact copies, in any order. */
    an_status (*all_gather)(communicator *c, int member, float *gathered, const float *part, size_t rows,
                            const size_t *parts);
    /* Member `member`'s call, the adjoint of all_gather: part [rows,
     * parts[member]] = the sum over members j of block_j [rows, total]
     * (member j's own block) restricted to member's floats of each row. Not
     * in place. The CPU instance adds the members' blocks in the tree of
     * `sum` above, so the result does not depend on thread timing; NCCL's
     * order is NCCL's own. */
    an_status (*reduce_scatter)(communicator *c, int member, float *part, const float *block, size_t rows,
                                const size_t *parts);
    /* Copies on member `member`'s own backend, no other member taking part,
     * in the layout above with part `which` (of `members` parts, which need
     * not be the members' own): take_part, part [rows, parts[which]] =
     * gathered [rows, total]'s floats [offset_which, offset_which +
     * parts[which]) of each row; put_part the reverse, the rest of gathered
     * untouched. Not in place. */
    an_status (*take_part)(communicator *c, int member, int which, float *part, const float *gathered, size_t rows,
                           const size_t *parts);
    an_status (*put_part)(communicator *c, int member, int which, float *gathered, const float *part, size_t rows,
                          const size_t *parts);
    /* After a member failed outside a call: every call waiting for it, and
     * every later call, fails (AN_ERR_INTERRUPTED) instead of waiting. Safe
     * from any thread, more than once. */
    void (*abort)(communicator *c);
    /* Frees the communicator (not the blocks). */
    void (*destroy)(communicator *c);
} communicator_ops;

struct communicator {
    const communicator_ops *ops;
    int members;      /* >= 1 */
    const char *kind; /* "cpu", "nccl" */
};

/* The total of parts[0..members-1] and member m's offset in a row (above). */
static inline size_t communicator_parts_total(const communicator *c, const size_t *parts)
{
    size_t total = 0;
    for (int j = 0; j < c->members; j++) total += parts[j];
    return total;
}

static inline size_t communicator_part_offset(const size_t *parts, int member)
{
    size_t offset = 0;
    for (int j = 0; j < member; j++) offset += parts[j];
    return offset;
}

/* NULL is fine. */
static inline void communicator_destroy(communicator *c)
{
    if (c) c->ops->destroy(c);
}

#ifdef __cplusplus
}
#endif

#endif
