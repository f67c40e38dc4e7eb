/* backend_select.c: --device to a backend (see backend_select.h). */
#include "backend_select.h"

#include <stdlib.h>
#include <string.h>

#include "backend_cpu.h"
#include "log.h"

#ifdef ALEXNET_HAVE_CUDA
#include "backend_cuda.h"
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

static an_status open_gpu(backend **out, int device, const backend_request *r)
{
#ifdef ALEXNET_HAVE_CUDA
    backend_cuda_options o = backend_cuda_options_default();
    o.device = device;
    o.deterministic = r->deterministic;
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
    if (strcmp(device, "cpu") == 0) return backend_cpu_create(out);
    const char *why = "";
    int count = usable_gpus(&why);
    int ordinal = cuda_ordinal(device);
    if (count < 1) {
        const char *what = backend_cuda_built() ? "no usable GPU" : "no GPU support";
        if (ordinal != -1) return error_set(AN_ERR_UNSUPPORTED, "--device %s: %s (%s)", device, what, why);
        log_info("%s (%s); running on the CPU", what, why);
        return backend_cpu_create(out);
    }
    if (ordinal >= count)
        return error_set(AN_ERR_ARG, "--device %s: this machine has %d GPU%s (cuda:0..cuda:%d)", device, count,
                         count == 1 ? "" : "s", count - 1);
    int chosen = ordinal >= 0 ? ordinal : r->rank % count;
    an_status st = open_gpu(out, chosen, r);
    return st == AN_OK ? st : error_context(st, "opening CUDA device %d", chosen);
}
