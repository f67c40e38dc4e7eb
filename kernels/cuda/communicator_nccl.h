/* communicator_nccl.h: the communicator (kernels/communicator.h) of CUDA
 * replicas in one process, one per GPU: NCCL sums the blocks on each
 * replica's compute stream (nccl_replicas.h). Compiled only when NCCL was
 * found (ALEXNET_HAVE_NCCL). NOT YET RUN ON A GPU. */
#ifndef ALEXNET_COMMUNICATOR_NCCL_H
#define ALEXNET_COMMUNICATOR_NCCL_H

#include "backend.h"
#include "communicator.h"

/* A communicator over CUDA backends bes[0..members-1], each on a different
 * GPU (NCCL refuses two ranks on one: AN_ERR_ARG naming the device). */
an_status communicator_nccl_create(communicator **out, backend *const *bes, int members);

#endif
