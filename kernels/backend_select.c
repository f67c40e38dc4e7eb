/* backend_select.c: the registry of backends: --device to a backend (see
 * backend_select.h). */
#include "backend_select.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_cpu.h"
#include "communicator_cpu.h"
#include "log.h"
#include "ops_cpu.h"

#ifdef ALEXNET_HAVE_CUDA
#include "backend_cuda.h"
#ifdef ALEXNET_HAVE_NCCL
#include "communicator_nccl.h"
#endif
#endif

/* -1: not a CUDA request; -2: "cuda" (any device); N >= 0: "cuda:N". */
static int cuda_ordinal(const char *text)
{
    if (strcmp(text, "cuda") == 0) return -2;
    if (strncmp(text, "cuda:", 5) != 0 || text[5] == '\0') return -1;
    char *end;
    long n = strtol(text + 5, &end, 10);
    return *end == '\0' && n >= 0 && n < 4096 ? (int)n : -1;
}

an_status backend_device_check(const char *text)
{
    if (strcmp(text, "auto") == 0 || strcmp(text, "cpu") == 0 || cuda_ordinal(text) != -1) return AN_OK;
    return error_set(AN_ERR_ARG, "--device '%s': expected auto, cpu, cuda or cuda:N", text);
}

int backend_cuda_built(void)
{
#ifdef ALEXNET_HAVE_CUDA
    return 1;
#else
    return 0;
#endif
}

/* Usable GPUs; *why says why there are none. */
static int usable_gpus(const char **why)
{
#ifdef ALEXNET_HAVE_CUDA
    int count = backend_cuda_device_count();
    *why = count > 0 ? "" : "the CUDA runtime lists no usable device: no GPU, no driver, or a driver older than this "
                            "build's CUDA runtime (see nvidia-smi)";
    return count;
#else
    *why = "built without the CUDA backend (rebuild with -DALEXNET_CUDA=ON on a machine with the CUDA toolkit)";
    return 0;
#endif
}

static an_status cpu_refuses(backend_precision p, const char *where)
{
    return error_set(AN_ERR_UNSUPPORTED, "--precision %s: %s runs on the CPU, which computes in fp32 only (tf32 and "
                     "bf16 are GPU tensor-core precisions); use --precision fp32, or a GPU (--device cuda)",
                     backend_precision_name(p), where);
}

an_status backend_precision_check(const char *devices, backend_precision p)
{
    if (p == BACKEND_PRECISION_FP32) return AN_OK;
    const char *list = devices && *devices ? devices : "auto";
    char names[256];
    snprintf(names, sizeof names, "%s", list);
    for (char *save = NULL, *name = strtok_r(names, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        if (strcmp(name, "cpu") == 0) return cpu_refuses(p, "--device cpu");
        const char *why = "";
        if (strcmp(name, "auto") == 0 && usable_gpus(&why) < 1) return cpu_refuses(p, "--device auto on this machine");
    }
    return AN_OK;
}

static an_status open_gpu(backend **out, int device, const backend_request *r)
{
#ifdef ALEXNET_HAVE_CUDA
    backend_cuda_options o = backend_cuda_options_default();
    o.device = device;
    o.deterministic = r->deterministic;
    if (strcmp(backend_precision_name(r->precision), "?") == 0)
        return error_set(AN_ERR_ARG, "unknown precision %d", (int)r->precision);
    o.precision = r->precision;
    return backend_cuda_create(out, &o);
#else
    (void)out, (void)device, (void)r;
    return error_set(AN_ERR_INTERNAL, "no CUDA backend in this build");
#endif
}

an_status backend_open(backend **out, const backend_request *r)
{
    *out = NULL;
    const char *device = r->device ? r->device : "auto";
    AN_TRY(backend_device_check(device));
    if (strcmp(device, "cpu") == 0) {
        if (r->precision != BACKEND_PRECISION_FP32) return cpu_refuses(r->precision, "--device cpu");
        return backend_cpu_create(out, r->threads);
    }
    const char *why = "";
    int count = usable_gpus(&why);
    int ordinal = cuda_ordinal(device);
    if (count < 1) {
        const char *what = backend_cuda_built() ? "no usable GPU" : "no GPU support";
        if (ordinal != -1) return error_set(AN_ERR_UNSUPPORTED, "--device %s: %s (%s)", device, what, why);
        if (r->precision != BACKEND_PRECISION_FP32) return cpu_refuses(r->precision, "--device auto on this machine");
        log_info("%s (%s); running on the CPU", what, why);
        return backend_cpu_create(out, r->threads);
    }
    if (ordinal >= count)
        return error_set(AN_ERR_ARG, "--device %s: this machine has %d GPU%s (cuda:0..cuda:%d)", device, count,
                         count == 1 ? "" : "s", count - 1);
    int chosen = ordinal >= 0 ? ordinal : r->rank % count;
    an_status st = open_gpu(out, chosen, r);
    return st == AN_OK ? st : error_context(st, "opening CUDA device %d", chosen);
}

/* Opens `name` into out[*count] after checking it against the ones before. */
static an_status open_one(backend **out, int *count, int max, const char *name, const backend_request *r)
{
    if (*count >= max) return error_set(AN_ERR_ARG, "--devices: more than %d devices", max);
    int ordinal = cuda_ordinal(name);
    for (int i = 0; i < *count && ordinal >= 0; i++)
        if (strcmp(out[i]->kind, "cuda") == 0 && out[i]->ordinal == ordinal)
            return error_set(AN_ERR_ARG, "--devices names cuda:%d twice: one replica per GPU (NCCL refuses two on "
                             "one device)", ordinal);
    backend_request one = *r;
    one.device = name;
    AN_TRY(backend_open(&out[*count], &one));
    (*count)++;
    if (*count > 1 && strcmp(out[0]->kind, out[*count - 1]->kind) != 0)
        return error_set(AN_ERR_ARG, "--devices mixes %s and %s: replicas are all CPUs or all GPUs", out[0]->kind,
                         out[*count - 1]->kind);
    return AN_OK;
}

an_status backend_open_list(backend **out, int *count, int max, const char *list, const backend_request *r,
                            int processes)
{
    *count = 0;
    if (!list || !*list) list = "auto";
    an_status st = AN_OK;
    if (!strchr(list, ',')) {
        const char *why;
        int gpus = strcmp(list, "cuda") == 0 || strcmp(list, "auto") == 0 ? usable_gpus(&why) : 0;
        if (gpus > 0 && processes == 1) { /* every visible GPU, at most two */
            for (int g = 0; g < gpus && g < 2 && st == AN_OK; g++) {
                char name[32];
                snprintf(name, sizeof name, "cuda:%d", g);
                st = open_one(out, count, max, name, r);
            }
        } else {
            st = open_one(out, count, max, list, r);
        }
    } else {
        char *copy = strdup(list), *save = NULL;
        if (!copy) return error_set(AN_ERR_NOMEM, "out of memory parsing --devices");
        for (char *name = strtok_r(copy, ",", &save); name && st == AN_OK; name = strtok_r(NULL, ",", &save)) {
            if (strcmp(name, "cuda") == 0 || strcmp(name, "auto") == 0)
                st = error_set(AN_ERR_ARG, "--devices %s: in a list, name each GPU (cuda:0,cuda:1) or cpu", list);
            else
                st = open_one(out, count, max, name, r);
        }
        free(copy);
    }
    if (st != AN_OK) {
        for (int i = 0; i < *count; i++) backend_destroy(out[i]);
        *count = 0;
        return error_context(st, "opening --devices %s", list);
    }
    if (*count > 1 && strcmp(out[0]->kind, "cpu") == 0) /* CPU replicas share the threads */
        for (int i = 0; i < *count; i++) backend_cpu_set_threads(out[i], backend_cpu_threads_each(r->threads, *count));
    return AN_OK;
}

int backend_cpu_threads_each(int threads, int replicas)
{
    int all = threads > 0 ? threads : cpu_threads_get();
    return replicas > 0 && all / replicas > 0 ? all / replicas : 1;
}

an_status communicator_open(communicator **out, backend *const *bes, int members)
{
    *out = NULL;
    if (strcmp(bes[0]->kind, "cpu") == 0) return communicator_cpu_create(out, members);
#if defined(ALEXNET_HAVE_CUDA) && defined(ALEXNET_HAVE_NCCL)
    return communicator_nccl_create(out, bes, members);
#else
    return error_set(AN_ERR_UNSUPPORTED, "%d %s replicas in one process need NCCL, which this build lacks", members,
                     bes[0]->kind);
#endif
}
