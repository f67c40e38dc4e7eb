/* replicas.c: MPI when compiled with it (ALEXNET_HAVE_MPI), one process otherwise. */
#include "replicas.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#ifdef ALEXNET_HAVE_MPI
#include <mpi.h>

int replicas_compiled_with_mpi(void) { return 1; }

static an_status mpi_check(int rc, const char *what)
{
    if (rc == MPI_SUCCESS) return AN_OK;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) text[0] = '\0';
    return error_set(AN_ERR_MPI, "%s failed: %s", what, text);
}

static int launched_by_mpirun(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

an_status replicas_init(replicas *r, int *argc, char ***argv)
{
    r->rank = 0;
    r->size = 1;
    r->mpi_started = 0;
    if (!launched_by_mpirun()) return AN_OK;
    AN_TRY(mpi_check(MPI_Init(argc, argv), "MPI_Init"));
    r->mpi_started = 1;
    /* Errors come back as codes, not aborts, so messages can name them. */
    AN_TRY(mpi_check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler"));
    AN_TRY(mpi_check(MPI_Comm_rank(MPI_COMM_WORLD, &r->rank), "MPI_Comm_rank"));
    AN_TRY(mpi_check(MPI_Comm_size(MPI_COMM_WORLD, &r->size), "MPI_Comm_size"));
    return AN_OK;
}

an_status replicas_sum_floats(const replicas *r, float *data, size_t n)
{
    if (r->size <= 1) return AN_OK;
    for (size_t done = 0; done < n;) {
        int chunk = n - done > (size_t)INT_MAX ? INT_MAX : (int)(n - done);
        AN_TRY(mpi_check(MPI_Allreduce(MPI_IN_PLACE, data + done, chunk, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD),
                         "MPI_Allreduce of gradients"));
        done += (size_t)chunk;
    }
    return AN_OK;
}

an_status replicas_gather_floats(const replicas *r, const float *mine, float *all, size_t n)
{
    if (r->size <= 1) {
        if (all != mine) memcpy(all, mine, n * sizeof(float));
        return AN_OK;
    }
    if (n > (size_t)INT_MAX) return error_set(AN_ERR_ARG, "a gather of %zu floats is too large for MPI", n);
    return mpi_check(MPI_Allgather(mine, (int)n, MPI_FLOAT, all, (int)n, MPI_FLOAT, MPI_COMM_WORLD),
                     "MPI_Allgather of gradients");
}

an_status replicas_sum_doubles(const replicas *r, double *data, size_t n)
{
    if (r->size <= 1) return AN_OK;
    return mpi_check(MPI_Allreduce(MPI_IN_PLACE, data, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD),
                     "MPI_Allreduce of metrics");
}

an_status replicas_max_int(const replicas *r, int *value)
{
    if (r->size <= 1) return AN_OK;
    return mpi_check(MPI_Allreduce(MPI_IN_PLACE, value, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD), "MPI_Allreduce");
}

an_status replicas_broadcast(const replicas *r, void *data, size_t bytes)
{
    if (r->size <= 1) return AN_OK;
    if (bytes > (size_t)INT_MAX) return error_set(AN_ERR_ARG, "broadcast of %zu bytes is too large", bytes);
    return mpi_check(MPI_Bcast(data, (int)bytes, MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast");
}

void replicas_abort(const replicas *r, int code)
{
    if (r->mpi_started && r->size > 1) MPI_Abort(MPI_COMM_WORLD, code);
}

void replicas_finalize(replicas *r)
{
    if (r->mpi_started) MPI_Finalize();
    r->mpi_started = 0;
}

#else /* one process */

int replicas_compiled_with_mpi(void) { return 0; }

an_status replicas_init(replicas *r, int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    r->rank = 0;
    r->size = 1;
    r->mpi_started = 0;
    if (getenv("OMPI_COMM_WORLD_SIZE") && atoi(getenv("OMPI_COMM_WORLD_SIZE")) > 1)
        return error_set(AN_ERR_UNSUPPORTED, "started by mpirun with %s processes, but this build has no MPI "
                         "(install an MPI library and rebuild)", getenv("OMPI_COMM_WORLD_SIZE"));
    return AN_OK;
}

an_status replicas_sum_floats(const replicas *r, float *data, size_t n) { (void)r; (void)data; (void)n; return AN_OK; }
an_status replicas_gather_floats(const replicas *r, const float *mine, float *all, size_t n)
{
    (void)r;
    if (all != mine) memcpy(all, mine, n * sizeof(float));
    return AN_OK;
}
an_status replicas_sum_doubles(const replicas *r, double *data, size_t n) { (void)r; (void)data; (void)n; return AN_OK; }
an_status replicas_max_int(const replicas *r, int *value) { (void)r; (void)value; return AN_OK; }
an_status replicas_broadcast(const replicas *r, void *data, size_t bytes) { (void)r; (void)data; (void)bytes; return AN_OK; }
void replicas_abort(const replicas *r, int code) { (void)r; (void)code; }
void replicas_finalize(replicas *r) { (void)r; }

#endif
