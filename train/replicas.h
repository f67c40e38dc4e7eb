/* replicas.h: data-parallel training across processes (docs/train.md, "Processes (MPI)").
 *
 * Under mpirun (and when the build found MPI) every process is one replica:
 * it takes its slice of each global batch, and the replicas' gradients are
 * summed with MPI_Allreduce so every replica applies the same update. Rank 0
 * writes the run directory. Without MPI, or when not started by mpirun, the
 * world is one process and every call below is a no-op.
 */
#ifndef ALEXNET_REPLICAS_H
#define ALEXNET_REPLICAS_H

#include <stddef.h>

#include "status.h"

typedef struct replicas {
    int rank;        /* 0..size-1 */
    int size;        /* number of processes */
    int mpi_started; /* this program called MPI_Init */
} replicas;

/* 1 when this build can run several processes. */
int replicas_compiled_with_mpi(void);

/* Starts MPI when the process was launched by mpirun (OMPI_COMM_WORLD_SIZE,
 * PMI_SIZE or PMIX_RANK in the environment); otherwise a world of one. */
an_status replicas_init(replicas *r, int *argc, char ***argv);

/* In-place sums over all processes (identical results on every rank). */
an_status replicas_sum_floats(const replicas *r, float *data, size_t n);
an_status replicas_sum_doubles(const replicas *r, double *data, size_t n);
/* all [size][n] = every process's mine [n], in rank order, on every rank
 * (MPI_Allgather; n at most INT_MAX): --reproducible's sums, which add the
 * processes' parts in a fixed tree rather than in MPI's order. */
an_status replicas_gather_floats(const replicas *r, const float *mine, float *all, size_t n);
/* In-place maximum of an int (e.g. "some process was asked to stop"). */
an_status replicas_max_int(const replicas *r, int *value);
/* Rank 0's bytes to every rank. */
an_status replicas_broadcast(const replicas *r, void *data, size_t bytes);

/* After a fatal error on one rank: stops every process (MPI_Abort). */
void replicas_abort(const replicas *r, int code);
void replicas_finalize(replicas *r);

#endif
