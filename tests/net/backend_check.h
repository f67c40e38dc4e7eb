/* backend_check.h: a checking backend for tests. It wraps any backend (the
 * CPU's, or the GPU's where one is present) and, around every op of the table
 * (kernels/backend.h), checks what the contract promises:
 *   - an op reads only memory that something has written since it was
 *     allocated or discarded (the plan produced it before it is used);
 *   - every element an op owns is written: its outputs are poisoned with a
 *     NaN pattern before the call, and none of the pattern may be left;
 *   - nothing else changes: every allocation, with a guard region on both
 *     sides, is compared byte for byte with its state before the call, except
 *     the regions the op owns.
 * The first violation fails the op with AN_ERR_INTERNAL and a message that
 * names the op, the buffer and the offset, so the network's error says where.
 * All memory goes through the inner backend's own alloc/upload/download, so
 * the same checks run on a device. Slow: for small networks only.
 */
#ifndef ALEXNET_BACKEND_CHECK_H
#define ALEXNET_BACKEND_CHECK_H

#include "backend.h"

/* A checking backend around inner (which it does not own). */
an_status backend_check_create(backend **out, backend *inner);

/* The bytes of the live allocations whose name ends in `suffix` ("scales"). */
size_t backend_check_bytes_named(const backend *be, const char *suffix);

/* Op calls checked so far. */
long backend_check_calls(const backend *be);

#endif
