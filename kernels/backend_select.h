/* backend_select.h: the registry of backends: the backend a program runs on,
 * chosen at run time from its --device option, with its options (the CPU's
 * thread count). It lives with the backends, as ggml's backend registry does:
 * the one place where the CUDA backend is registered (behind
 * ALEXNET_HAVE_CUDA), so that the programs call these functions and contain
 * no CUDA code of their own, and the network (net/) knows only backend.h.
 *
 *   auto     CUDA when this build has it and a GPU is usable, else the CPU
 *            (said once in the log)
 *   cpu      the CPU
 *   cuda     a GPU, or an error: asking for a GPU never silently runs on
 *            the CPU. Process r of several takes device r % (devices).
 *   cuda:N   GPU N
 */
#ifndef ALEXNET_BACKEND_SELECT_H
#define ALEXNET_BACKEND_SELECT_H

#include "backend.h"
#include "communicator.h"
#include "precision.h"
#include "status.h"

#define BACKEND_MAX_DEVICES 8

/* AN_ERR_UNSUPPORTED when `devices` (a --devices list, NULL: auto) would run
 * on the CPU and p is not fp32: the CPU backend computes in fp32 only. */
an_status backend_precision_check(const char *devices, backend_precision p);

typedef struct backend_request {
    const char *device; /* as above; NULL means auto */
    backend_precision precision; /* precision.h; the CPU refuses all but fp32 (backend_precision_check) */
    int rank;           /* this process's rank among several (0 alone) */
    int deterministic;  /* GPU: only algorithms that repeat bitwise (train and eval ask for it) */
    int threads;        /* CPU: OpenMP threads of each CPU backend's ops; 0: the calling thread's count */
} backend_request;

/* AN_ERR_ARG with the accepted forms when text is none of the above. */
an_status backend_device_check(const char *text);

/* Opens the backend r asks for; *out is the caller's (backend_destroy). */
an_status backend_open(backend **out, const backend_request *r);

/* 1 when this build has the CUDA backend. */
int backend_cuda_built(void);

/* --devices LIST: a comma-separated list of the names above, one replica
 * each, all CPUs or all distinct GPUs ("cpu,cpu", "cuda:0,cuda:1"). A single
 * "cuda" (or "auto" where there is a GPU) means every visible GPU, at most
 * two — in a process of several (r->rank under mpirun, *one per process*)
 * the GPU r mod count alone. Opens out[0..*count-1] (at most max). */
an_status backend_open_list(backend **out, int *count, int max, const char *list, const backend_request *r,
                            int processes);

/* The OpenMP threads of each of `replicas` CPU replicas sharing `threads`
 * (0: the calling thread's count, ops_cpu.h's cpu_threads_get); at least 1.
 * backend_open_list gives each CPU replica of a list this many. */
int backend_cpu_threads_each(int threads, int replicas);

/* The communicator that sums blocks across bes[0..members-1]: in a fixed tree
 * of the members on CPUs (communicator.h), NCCL on GPUs (AN_ERR_UNSUPPORTED in
 * a build without NCCL). */
an_status communicator_open(communicator **out, backend *const *bes, int members);

#endif
