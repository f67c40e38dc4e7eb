/* threads_cpu.c: one place that sets how many threads the CPU ops use,
 * for OpenMP (the batch loops) and OpenBLAS (the fully connected GEMMs),
 * and a check of which kernels OpenBLAS chose for this CPU. */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "ops_cpu.h"

static int cpu_threads_ = 0; /* 0: not set, use omp_get_max_threads() */

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

const char *cpu_blas_advice(void)
{
    const char *core = openblas_get_corename();
    if (!core || strcmp(core, "Prescott") != 0) return NULL;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return "OpenBLAS chose its generic Prescott (SSE3) kernels on this AVX-512 CPU: "
               "set OPENBLAS_CORETYPE=SkylakeX for several times faster convolutions";
    if (__builtin_cpu_supports("avx2"))
        return "OpenBLAS chose its generic Prescott (SSE3) kernels on this AVX2 CPU: "
               "set OPENBLAS_CORETYPE=Haswell for several times faster convolutions";
    return NULL;
}
