/* communicator_cpu.h: the communicator (kernels/communicator.h) of CPU
 * replicas in one process: their blocks are host memory, summed element by
 * element in a balanced binary tree of the members (communicator.h, `sum`)
 * by OpenMP threads, the sum written to every block; all-gathers copy,
 * reduce-scatters add in the same tree, each member on its own thread after
 * a rendezvous of all of them. */
#ifndef ALEXNET_COMMUNICATOR_CPU_H
#define ALEXNET_COMMUNICATOR_CPU_H

#include "communicator.h"

an_status communicator_cpu_create(communicator **out, int members);

#endif
