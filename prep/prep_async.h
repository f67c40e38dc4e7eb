/* prep_async.h: one background thread that runs one task at a time, so the
 * main thread can decode the next shard while the previous one is written.
 * prep_async_submit() waits for the previous task, then hands over the next;
 * prep_async_wait() returns the status of the last finished task (its error
 * message is carried over to the waiting thread). */
#ifndef ALEXNET_PREP_ASYNC_H
#define ALEXNET_PREP_ASYNC_H

#include "status.h"

typedef struct prep_async prep_async;
typedef an_status (*prep_async_fn)(void *ctx);

an_status prep_async_create(prep_async **out);
/* Waits until the thread is idle; returns the first failure of any task so far. */
an_status prep_async_wait(prep_async *a);
/* Waits (as prep_async_wait) and, if all went well, starts fn(ctx) in the background. */
an_status prep_async_submit(prep_async *a, prep_async_fn fn, void *ctx);
/* Waits for the running task and stops the thread. */
void prep_async_destroy(prep_async *a);

#endif
