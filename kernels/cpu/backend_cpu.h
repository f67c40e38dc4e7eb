/* backend_cpu.h: the CPU instance of the backend table (kernels/backend.h):
 * the ops of ops_cpu.h (OpenMP + OpenBLAS) over host memory. Its memory is
 * the host's, so upload_view and download_view hand back the pointers they
 * are given (no copy), and a net on it reads its input in place.
 */
#ifndef ALEXNET_BACKEND_CPU_H
#define ALEXNET_BACKEND_CPU_H

#include "backend.h"

/* A CPU backend using cpu_threads_get() threads (ops_cpu.h: cpu_threads_set).
 * Each instance owns its convolution workspace, so two nets on two instances
 * may run in two host threads. */
an_status backend_cpu_create(backend **out);

#endif
