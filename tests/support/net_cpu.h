/* net_cpu.h: a network on a CPU backend of its own, for the tests and
 * benchmarks (the network itself knows only kernels/backend.h; the programs
 * take their backend from the registry, kernels/backend_select.h), and a
 * view cut on the host, the input such a test feeds net_forward.
 *
 *   net *n; AN_TRY(net_create_cpu(&n, &cfg, 128));   ... net_destroy(n);
 */
#ifndef ALEXNET_TESTS_NET_CPU_H
#define ALEXNET_TESTS_NET_CPU_H

#include "backend_cpu.h"
#include "crop_cpu.h"
#include "net.h"

/* net_create on a new CPU backend (the calling thread's thread count) that the net owns. */
static inline an_status net_create_cpu(net **out, const net_config *cfg, int max_batch)
{
    *out = NULL;
    backend *be;
    AN_TRY(backend_cpu_create(&be, 0));
    return net_create(out, cfg, max_batch, be);
}

/* One view of image [256, 256, 3] uint8 into out [3, 224, 224] by the CPU's
 * crop (kernels/cpu/crop_cpu.h: the loader's), mean [256, 256, 3]. */
static inline void crop_cut(const uint8_t *image, const float *mean, crop_choice view, float *out)
{
    crop_batch_cpu(out, image, mean, &view, 1);
}

#endif
