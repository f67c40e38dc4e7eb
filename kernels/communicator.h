/* communicator.h: the contract for summing a block across the replicas of
 * one process, each on its own backend (train/device_group.h, docs/train.md
 * "Several devices in one process"). kernels/cpu (communicator_cpu.h) sums
 * host blocks in member order; kernels/cuda (communicator_nccl.h) sums
 * device blocks with NCCL on each replica's stream. Like the backend table
 * (backend.h), a communicator is chosen at run time.
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
     * instance adds in member order (0 + 1 + ...), so the result does not
     * depend on thread timing; NCCL's order is its own. */
    an_status (*sum)(communicator *c, float *const *blocks, size_t n);
    /* Frees the communicator (not the blocks). */
    void (*destroy)(communicator *c);
} communicator_ops;

struct communicator {
    const communicator_ops *ops;
    int members;      /* >= 1 */
    const char *kind; /* "cpu", "nccl" */
};

/* NULL is fine. */
static inline void communicator_destroy(communicator *c)
{
    if (c) c->ops->destroy(c);
}

#ifdef __cplusplus
}
#endif

#endif
