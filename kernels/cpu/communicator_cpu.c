/* communicator_cpu.c: sums of host blocks across in-process CPU replicas
 * (communicator_cpu.h). */
#include "communicator_cpu.h"

#include <stdlib.h>

static an_status cpu_sum(communicator *c, float *const *blocks, size_t n)
{
    const int members = c->members;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        float s = blocks[0][i];
        for (int m = 1; m < members; m++) s += blocks[m][i]; /* member order: the same on every run */
        for (int m = 0; m < members; m++) blocks[m][i] = s;
    }
    return AN_OK;
}

static void cpu_destroy(communicator *c) { free(c); }

static const communicator_ops cpu_communicator_ops = {.sum = cpu_sum, .destroy = cpu_destroy};

an_status communicator_cpu_create(communicator **out, int members)
{
    *out = NULL;
    if (members < 1) return error_set(AN_ERR_ARG, "a communicator needs at least 1 member, got %d", members);
    communicator *c = calloc(1, sizeof *c);
    AN_CHECK_ALLOC(c, sizeof *c);
    c->ops = &cpu_communicator_ops;
    c->members = members;
    c->kind = "cpu";
    *out = c;
    return AN_OK;
}
