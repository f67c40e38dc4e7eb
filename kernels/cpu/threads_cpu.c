/* threads_cpu.c: one place that sets how many threads the CPU ops use,
 * for OpenMP (the batch loops) and OpenBLAS (the fully connected GEMMs).
 * Which kernels OpenBLAS runs is common/blas_runtime.h's business. */
#include <cblas.h>
#include <omp.h>

#include "ops_cpu.h"

/* Per host thread: the replicas of one process (train/device_group.c) each
 * run their ops on a thread of their own with their share of the cores.
 * 0: not set on this thread, use omp_get_max_threads(). */
static _Thread_local int cpu_threads_ = 0;

void cpu_threads_set(int n)
{
    if (n < 1) n = 1;
    cpu_threads_ = n;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

int cpu_threads_get(void)
{
    if (cpu_threads_ > 0) return cpu_threads_;
    int n = omp_get_max_threads();
    return n > 0 ? n : 1;
}
