/* parallel_mode.h: how alexnet-train divides the work among the devices of
 * one process (--parallel; docs/train.md, "Parallel modes"):
 *
 *   data    every device a whole network and its slice of the batch; the
 *           gradients summed across the devices (the default);
 *   towers  two devices, each tower t of the paper's two (§3.2) on the
 *           process's whole batch; no gradient sum inside the pair;
 *   hybrid  N >= 2 devices: conv1..pool5 as data, fc6..fc8 split over the
 *           devices by outputs (Krizhevsky 2014, arXiv 1404.5997); the conv
 *           gradients summed across the devices.
 *
 * Under mpirun the processes are data-parallel with each other in every
 * mode. The split networks are net.h's net_split; this file maps a mode to
 * them, checks a mode against the devices, and holds the exchange broken on
 * purpose that the tests use.
 */
#ifndef ALEXNET_PARALLEL_MODE_H
#define ALEXNET_PARALLEL_MODE_H

#include <stddef.h>
#include <stdio.h>

#include "communicator.h"
#include "net.h"
#include "status.h"

typedef enum parallel_mode { PARALLEL_DATA = 0, PARALLEL_TOWERS = 1, PARALLEL_HYBRID = 2 } parallel_mode;

const char *parallel_mode_name(parallel_mode m);              /* "data", "towers", "hybrid" */
an_status parallel_mode_parse(const char *name, parallel_mode *out);

/* Whether a command line's mode fits its devices: towers needs exactly two
 * devices of one kind and the network of two towers (cfg_towers 2); hybrid
 * at least two. `devices` is the --devices list ("auto" and "cuda" count as
 * unknown here and are checked again once open, parallel_mode_check_open).
 * AN_ERR_ARG with the message a usage error prints. */
an_status parallel_mode_check_list(parallel_mode m, const char *devices, int cfg_towers);
/* The same once the devices are open: `count` devices of one kind. */
an_status parallel_mode_check_open(parallel_mode m, int count);

/* The split of replica r of `replicas` (kind NET_SPLIT_NONE in data mode). */
net_split parallel_split(parallel_mode m, int replica, int replicas, communicator *comm);

/* The slices each global batch is cut into: one per device in data and
 * hybrid modes, one per process with towers (the two towers of a process
 * pass the same images). */
int parallel_batch_slices(parallel_mode m, int processes, int replicas);

/* Floats at the start of replica n's gradient block that are summed across
 * the devices of a process: the whole block (data), the conv layers' views
 * (hybrid: the fc views that follow are each device's own), none (towers). */
size_t parallel_shared_floats(parallel_mode m, const net *n);

/* Bytes one device moves per training step of `batch` images through the
 * process: its exchanges (net_exchange_floats_per_step) and its part of a
 * ring all-reduce of the shared gradients, 2 (N - 1) / N of them. */
double parallel_bytes_per_step(parallel_mode m, const net *n, int replicas, int batch);

/* The links the plan's table (parallel_plan_print) prices bytes on, in
 * bytes per second in one direction: PCIe 4.0 x16, 31.5 GB/s raw of which
 * about 25 GB/s is reached by device-to-device copies; NVLink 4 on an H100
 * SXM, 900 GB/s over 18 links both ways, 450 GB/s each way (NVIDIA's H100
 * data sheet). */
#define PARALLEL_PCIE4_X16_BYTES_PER_S 25e9
#define PARALLEL_NVLINK4_BYTES_PER_S 450e9

/* Writes the table of docs/train.md ("Parallel modes"): for data, towers and
 * hybrid on 1, 2, 4 and 8 devices and a global batch of `batch` images, the
 * largest parameter memory of one device, the bytes one device moves per
 * step, and their time over PCIe 4.0 x16 and NVLink 4; computed from the
 * plans of cfg's network (net_split_sizes). towers on more than 2 devices is
 * pairs data-parallel with each other (as under mpirun). */
an_status parallel_plan_print(FILE *out, const net_config *cfg, int batch);

/* Tests: a communicator over `inner` whose all-gathers lose member `drop`'s
 * part on every other member (zeros instead), to show that a broken
 * exchange fails the comparisons. CPU replicas only (host memory). */
an_status parallel_dropping_communicator(communicator **out, communicator *inner, int drop);

#endif
