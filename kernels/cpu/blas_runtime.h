/* blas_runtime.h: makes OpenBLAS run the kernels made for this CPU.
 *
 * Debian's OpenBLAS (DYNAMIC_ARCH) picks its kernels when the library loads.
 * On CPUs it does not recognise (virtual CPUs reporting a generic model name)
 * it falls back to generic kernels (Prescott, SSE3) that are several times
 * slower than the AVX2 (Haswell) or AVX-512 (SkylakeX) ones the CPU runs.
 * The choice can only be changed by OPENBLAS_CORETYPE in the environment
 * before the library loads, so blas_runtime_select() sets it and re-executes
 * the program (/proc/self/exe, same PID, same arguments) when that helps.
 *
 * Only a DYNAMIC_ARCH build of OpenBLAS (Debian's) reads the variable; with
 * any other build nothing happens.
 *
 * Environment:
 *   OPENBLAS_CORETYPE        set by the user (even empty): never overridden;
 *   ALEXNET_BLAS_AUTO=0      disables the automatic choice;
 *   ALEXNET_BLAS_AUTO_CORE   set by the re-execution to the core OpenBLAS
 *                            had detected (the marker that prevents a second).
 */
#ifndef ALEXNET_BLAS_RUNTIME_H
#define ALEXNET_BLAS_RUNTIME_H

/* The environment variable that marks a re-executed process. */
#define BLAS_RUNTIME_MARKER "ALEXNET_BLAS_AUTO_CORE"

/* Call as the first statement of main(), before MPI_Init, threads or any
 * output: when OPENBLAS_CORETYPE is unset, ALEXNET_BLAS_AUTO is not "0",
 * OpenBLAS chose a generic fallback core and the CPU has AVX-512 (or
 * AVX2 + FMA), sets OPENBLAS_CORETYPE=SkylakeX (or Haswell) and the marker and
 * re-executes the program; returns only when it did not (nothing to do, or
 * the exec failed: then a warning is logged and the program goes on with the
 * cores OpenBLAS chose). argv is main's, unchanged (argv[argc] == NULL). */
void blas_runtime_select(int argc, char **argv);

/* The best of OpenBLAS's x86-64 cores this CPU and its OS can run:
 * "SkylakeX" (AVX-512 F, BW, DQ, VL, CD), "Haswell" (AVX2 and FMA), or NULL. */
const char *blas_runtime_cpu_core(void);

/* Nonzero for the cores OpenBLAS names for CPUs without AVX2 kernels (its
 * fallback on CPUs it does not recognise, Prescott, and older ones); NULL counts. */
int blas_runtime_core_is_generic(const char *core);

/* One line for the log at --verbose: the kernels OpenBLAS runs and why, with
 * advice when they are generic on a CPU that has better ones, e.g.
 * "OpenBLAS kernels: SkylakeX (OPENBLAS_CORETYPE=SkylakeX set automatically:
 * OpenBLAS detected Prescott on this CPU; ALEXNET_BLAS_AUTO=0 turns this off)".
 * Static storage, rewritten by each call. */
const char *blas_runtime_describe(void);

#endif
