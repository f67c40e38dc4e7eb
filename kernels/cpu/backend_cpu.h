/* backend_cpu.h: the CPU instance of the backend table (kernels/backend.h):
 * the ops of ops_cpu.h (OpenMP + OpenBLAS) over host memory. Its memory is
 * the host's, so upload_view and download_view hand back the pointers they
 * are given (no copy), and a net on it reads its input in place.
 */
#ifndef ALEXNET_BACKEND_CPU_H
#define ALEXNET_BACKEND_CPU_H

#include "backend.h"

/* A CPU backend whose ops run `threads` OpenMP threads, each with
 * single-threaded OpenBLAS (0: the calling thread's count when created,
 * ops_cpu.h's cpu_threads_get). Each instance owns its convolution workspace
 * and sets its thread count on the host thread that calls its ops, so two
 * nets on two instances may run in two host threads with their own counts.
 * AN_ERR_ARG for threads < 0. */
an_status backend_cpu_create(backend **out, int threads);

/* Changes a CPU backend's thread count (threads >= 1), for the registry,
 * which shares the threads among the replicas it opens. */
void backend_cpu_set_threads(backend *be, int threads);

#endif
