/* split_members.h: one training pass of every member of a split network
 * (net.h, net_split), each on a thread of its own as the trainer's replicas
 * run, for the tests of split networks (tests/net).
 *
 *   member_job jobs[N] = {{.n = ..., .input = ..., .own = ..., ...}, ...};
 *   assert_int_equal(members_pass(jobs, N), 0);   then each jobs[m].status
 */
#ifndef ALEXNET_TESTS_SPLIT_MEMBERS_H
#define ALEXNET_TESTS_SPLIT_MEMBERS_H

#include <pthread.h>

#include "net.h"

typedef struct member_job {
    net *n;
    const float *input;    /* [own, 3, 224, 224] */
    int own;               /* images of the member's own */
    const int *batches;    /* [members] every member's images (FC_SLICES); NULL for towers */
    const uint32_t *ids;   /* [images] every member's images' ids */
    const int32_t *labels; /* [images] */
    int images;            /* the pass's images, every member's: the labels net_backward takes */
    float normalizer;      /* net_backward's: the global batch */
    uint32_t step;         /* the forward pass's dropout step and seed */
    uint64_t seed;
    an_status status;      /* the member's pass */
} member_job;

static inline void *member_pass(void *arg)
{
    member_job *j = arg;
    an_status st = j->batches ? net_set_member_batches(j->n, j->batches) : AN_OK;
    if (st == AN_OK) st = net_forward(j->n, j->input, j->own, j->ids, j->step, j->seed, 1);
    if (st == AN_OK) st = net_backward(j->n, j->labels, j->images, j->normalizer);
    j->status = st;
    return NULL;
}

/* Runs jobs[0 .. members) at once, one thread each, and waits for all: 0, or -1 when a thread could not
 * start or be joined (each job's own outcome is its status). */
static inline int members_pass(member_job *jobs, int members)
{
    pthread_t threads[NET_SPLIT_MAX_MEMBERS];
    int started = 0, failed = 0;
    for (; started < members; started++)
        if (pthread_create(&threads[started], NULL, member_pass, &jobs[started]) != 0) {
            failed = 1;
            break;
        }
    for (int m = 0; m < started; m++)
        if (pthread_join(threads[m], NULL) != 0) failed = 1;
    return failed ? -1 : 0;
}

#endif
