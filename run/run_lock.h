/* run_lock.h: one writer per run directory (docs/train.md, "One writer per
 * run directory").
 *
 * The trainer's rank 0 holds RUN/lock from start to end. The lock is a file,
 * not flock(2), because run directories live on shared file systems where
 * flock is not always honoured across machines (NFS without a lock manager,
 * Lustre mounted without -o flock): a file made with link(2), which every
 * NFS version performs atomically on the server, works wherever the files
 * themselves do. It holds, one "key value" per line:
 *
 *   pid 12345            the holder's process id
 *   host node17          the holder's host name (gethostname)
 *   started 2026-...Z    when it took the lock (UTC)
 *   boot 5f0c...         the holder's kernel boot id (a reboot ends every holder)
 *   pid_start 8812345    the holder's start time in clock ticks since boot (/proc/PID/stat),
 *                        so a recycled PID is not mistaken for the holder
 *
 * The holder refreshes the file's modification time every
 * RUN_LOCK_HEARTBEAT_S seconds (the heartbeat). A lock is stale, and taken
 * over, when its holder is gone: on the same host, at once (no such process,
 * another process under that PID, or another boot); from another host, when
 * its heartbeat is older than RUN_LOCK_STALE_S seconds (a lost node). A
 * holder that finds, at a heartbeat or before a checkpoint, that its lock
 * was taken over stops writing (run_lock_check).
 */
#ifndef ALEXNET_RUN_LOCK_H
#define ALEXNET_RUN_LOCK_H

#include "status.h"

#define RUN_LOCK_HEARTBEAT_S 30
#define RUN_LOCK_STALE_S 300

typedef struct run_lock run_lock;

/* Creates RUN if needed and takes RUN/lock, taking over a stale one (with a
 * warning naming its holder). A live holder: AN_ERR_ARG (this --run is in
 * use), with a message naming its PID, host and start time and what to do. */
an_status run_lock_acquire(const char *run, run_lock **out);

/* AN_OK while this process still holds the lock; an error naming the new
 * holder when another process took it over (this process's heartbeat had
 * stopped for RUN_LOCK_STALE_S seconds, e.g. the job was suspended). */
an_status run_lock_check(const run_lock *lock);

/* Stops the heartbeat and removes RUN/lock if it is still this process's.
 * NULL is a no-op. */
void run_lock_release(run_lock *lock);

#endif
