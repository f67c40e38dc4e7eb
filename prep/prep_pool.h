/* prep_pool.h: a fixed set of worker threads that run one parallel loop at a
 * time: prep_pool_run(pool, fn, ctx, n) calls fn(ctx, i, worker) for every i
 * in [0, n) across the workers (dynamic, one index at a time) and returns
 * when all calls are done. */
#ifndef ALEXNET_PREP_POOL_H
#define ALEXNET_PREP_POOL_H

#include <stddef.h>

#include "status.h"

typedef struct prep_pool prep_pool;
typedef void (*prep_pool_fn)(void *ctx, size_t index, int worker);

an_status prep_pool_create(prep_pool **out, int workers);
int prep_pool_workers(const prep_pool *p);
void prep_pool_run(prep_pool *p, prep_pool_fn fn, void *ctx, size_t n);
void prep_pool_destroy(prep_pool *p);

#endif
