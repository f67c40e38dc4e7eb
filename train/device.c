/* device.c: --device resolution. See device.h. */
#include "device.h"

#include <string.h>

#include "log.h"

#ifdef ALEXNET_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

an_status device_parse(const char *text, train_device *out)
{
    if (strcmp(text, "auto") == 0) *out = DEVICE_AUTO;
    else if (strcmp(text, "cpu") == 0) *out = DEVICE_CPU;
    else if (strcmp(text, "cuda") == 0) *out = DEVICE_CUDA;
    else return error_set(AN_ERR_ARG, "--device '%s': expected auto, cpu or cuda", text);
    return AN_OK;
}

const char *device_name(train_device d)
{
    switch (d) {
    case DEVICE_CPU: return "cpu";
    case DEVICE_CUDA: return "cuda";
    default: return "auto";
    }
}

/* Number of CUDA devices, 0 without CUDA; *why says why there are none. */
static int cuda_device_count(const char **why)
{
#ifdef ALEXNET_HAVE_CUDA
    int count = 0;
    cudaError_t rc = cudaGetDeviceCount(&count);
    if (rc != cudaSuccess) {
        *why = cudaGetErrorString(rc);
        return 0;
    }
    *why = count > 0 ? "" : "no CUDA device found";
    return count;
#else
    *why = "this build has no CUDA backend (rebuild with -DALEXNET_CUDA=ON on a machine with the CUDA toolkit)";
    return 0;
#endif
}

an_status device_resolve(train_device requested, train_device *chosen)
{
    const char *why = "";
    if (requested == DEVICE_CPU) {
        *chosen = DEVICE_CPU;
        return AN_OK;
    }
    int count = cuda_device_count(&why);
    if (count > 0) {
        *chosen = DEVICE_CUDA;
        return AN_OK;
    }
    if (requested == DEVICE_CUDA) return error_set(AN_ERR_UNSUPPORTED, "--device cuda: %s", why);
    log_info("no GPU: %s; training on the CPU", why);
    *chosen = DEVICE_CPU;
    return AN_OK;
}
