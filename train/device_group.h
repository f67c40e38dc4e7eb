/* device_group.h: the replicas of one process (--devices; docs/train.md,
 * "Several devices in one process"): one backend per device, one host thread per
 * replica, and the communicator that sums their gradients
 * (kernels/communicator.h). Replica 0 runs on the calling thread; replicas
 * 1.. on threads of their own that live as long as the group, so their
 * OpenMP teams and device contexts are made once. With one device the group
 * runs everything on the calling thread, as a process without a group would.
 */
#ifndef ALEXNET_DEVICE_GROUP_H
#define ALEXNET_DEVICE_GROUP_H

#include "backend.h"
#include "backend_select.h" /* BACKEND_MAX_DEVICES */
#include "communicator.h"
#include "status.h"

typedef struct device_group device_group;

/* What each replica does in a step: job(ctx, i) on replica i's thread. */
typedef an_status (*replica_job)(void *ctx, int replica);

/* Opens the devices of `list` (kernels/backend_select.h: backend_open_list) for
 * process `rank` of `processes`, and, with more than one, their communicator
 * and threads. CPU replicas share `threads` cores: each gets threads / count
 * (at least 1). */
an_status device_group_open(device_group **out, const char *list, backend_precision precision, int rank,
                            int processes, int threads);
void device_group_close(device_group *g);

int device_group_size(const device_group *g);
backend *device_group_backend(device_group *g, int replica);
/* "2 x the CPU (1 thread)" or the one backend's description, for the log. */
const char *device_group_describe(const device_group *g);

/* Runs job on every replica at once and waits for all. Returns AN_OK, or the
 * failure of the replica that failed first, its message prefixed with
 * "replica i:" when there are several; the others still finished. A
 * replica's failure aborts the communicator (kernels/communicator.h), so the
 * others, waiting in an exchange of a split network for the one that
 * failed, stop with an error instead of waiting for ever. */
an_status device_group_run(device_group *g, replica_job job, void *ctx);

/* The replicas' communicator; NULL with one replica. */
communicator *device_group_communicator(device_group *g);

/* blocks[i] [n] (replica i's backend memory) = the sum over replicas, on
 * every replica (nothing to do with one). */
an_status device_group_sum(device_group *g, float *const *blocks, size_t n);

#endif
