/* communicator_cpu.c: sums, all-gathers and reduce-scatters of host blocks
 * across in-process CPU replicas (communicator_cpu.h). The collectives that
 * every member calls from its own thread meet at a rendezvous: each member
 * posts its block, waits until all have, works on the posted blocks, and
 * waits again until all are done reading, so no member overwrites a block
 * another still reads. */
#include "communicator_cpu.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct communicator_cpu {
    communicator base;       /* first: a communicator * of this kind is a communicator_cpu * */
    pthread_mutex_t lock;
    pthread_cond_t turned;   /* a rendezvous completed, or the communicator was aborted */
    int arrived;             /* members at the current rendezvous */
    unsigned long turn;      /* rendezvous completed so far */
    int aborted;
    const float **posted;    /* [members] each member's block of the current collective */
} communicator_cpu;

/* The most members of a CPU communicator (communicator_cpu_create). */
#define COMMUNICATOR_CPU_MAX_MEMBERS 64

/* The sum of members [lo, hi)'s float `at` in a balanced binary tree, left
 * operand first: sum(lo, hi) = sum(lo, mid) + sum(mid, hi), mid = lo + (hi -
 * lo) / 2. For 2, 4 and 8 members it is exactly the tree of
 * train/grad_tree.h, in which --reproducible combines its chunk gradients
 * (docs/train.md, "Reproducible training"): (0+1), (0+1)+(2+3),
 * ((0+1)+(2+3))+((4+5)+(6+7)); for 3, 0+(1+2). The same order on every run
 * and every thread timing (communicator.h). */
static float tree_sum(const float *const *blocks, size_t at, int lo, int hi)
{
    if (hi - lo == 1) return blocks[lo][at];
    const int mid = lo + (hi - lo) / 2;
    const float left = tree_sum(blocks, at, lo, mid);
    return left + tree_sum(blocks, at, mid, hi);
}

/* out [n] = tree_sum of blocks[0 .. members) [n], element by element; the
 * common counts as plain loops the compiler vectorises. */
static void tree_sum_block(float *out, const float *const *b, int members, size_t n)
{
    switch (members) {
    case 1:
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) out[i] = b[0][i];
        return;
    case 2:
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) out[i] = b[0][i] + b[1][i];
        return;
    case 4:
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) out[i] = (b[0][i] + b[1][i]) + (b[2][i] + b[3][i]);
        return;
    default:
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) out[i] = tree_sum(b, i, 0, members);
    }
}

/* Every member's block [n] = their tree_sum, in one pass over the blocks (each element read, then written
 * to every block). */
static an_status cpu_sum(communicator *c, float *const *b, size_t n)
{
    switch (c->members) {
    case 1:
        return AN_OK;
    case 2:
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) b[0][i] = b[1][i] = b[0][i] + b[1][i];
        return AN_OK;
    case 4:
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) b[0][i] = b[1][i] = b[2][i] = b[3][i] = (b[0][i] + b[1][i]) + (b[2][i] + b[3][i]);
        return AN_OK;
    default:
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) {
            const float s = tree_sum((const float *const *)b, i, 0, c->members);
            for (int m = 0; m < c->members; m++) b[m][i] = s;
        }
        return AN_OK;
    }
}

static an_status aborted_error(void)
{
    return error_set(AN_ERR_INTERRUPTED, "the exchange between replicas was abandoned: another replica failed");
}

/* Waits until every member has arrived here (one member: returns at once). */
static an_status rendezvous(communicator_cpu *c)
{
    pthread_mutex_lock(&c->lock);
    if (c->aborted) {
        pthread_mutex_unlock(&c->lock);
        return aborted_error();
    }
    const unsigned long mine = c->turn;
    if (++c->arrived == c->base.members) {
        c->arrived = 0;
        c->turn++;
        pthread_cond_broadcast(&c->turned);
    } else {
        while (c->turn == mine && !c->aborted) pthread_cond_wait(&c->turned, &c->lock);
    }
    const int failed = c->turn == mine; /* woken by the abort, not by the last member */
    pthread_mutex_unlock(&c->lock);
    return failed ? aborted_error() : AN_OK;
}

/* Posts this member's block and waits for everyone's. */
static an_status post(communicator_cpu *c, int member, const float *block)
{
    if (member < 0 || member >= c->base.members)
        return error_set(AN_ERR_ARG, "member %d of a communicator of %d", member, c->base.members);
    c->posted[member] = block; /* read by the others only after the rendezvous */
    return rendezvous(c);
}

static an_status cpu_all_gather(communicator *base, int member, float *gathered, const float *part, size_t rows,
                                const size_t *parts)
{
    communicator_cpu *c = (communicator_cpu *)base;
    AN_TRY(post(c, member, part));
    const size_t total = communicator_parts_total(base, parts);
    for (int j = 0; j < base->members; j++) {
        const size_t offset = communicator_part_offset(parts, j), n = parts[j];
        const float *from = c->posted[j]; /* [rows, n] */
        if (n == 0) continue;
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < rows; r++) memcpy(gathered + r * total + offset, from + r * n, n * sizeof(float));
    }
    return rendezvous(c); /* nobody changes its part before every member copied it */
}

static an_status cpu_reduce_scatter(communicator *base, int member, float *part, const float *block, size_t rows,
                                    const size_t *parts)
{
    communicator_cpu *c = (communicator_cpu *)base;
    AN_TRY(post(c, member, block));
    const size_t total = communicator_parts_total(base, parts), offset = communicator_part_offset(parts, member),
                 n = parts[member];
    const int members = base->members;
    const float *row_blocks[COMMUNICATOR_CPU_MAX_MEMBERS]; /* [members] row r's part of each posted block */
    for (size_t r = 0; r < rows && n > 0; r++) {
        for (int m = 0; m < members; m++) row_blocks[m] = c->posted[m] + r * total + offset;
        tree_sum_block(part + r * n, row_blocks, members, n); /* as cpu_sum */
    }
    return rendezvous(c);
}

/* Part `which` of each row of a gathered block to part (take 1), or back (take 0). */
static an_status cpu_copy_part(communicator *base, int member, int which, float *part, float *gathered,
                               size_t rows, const size_t *parts, int take)
{
    if (member < 0 || member >= base->members || which < 0 || which >= base->members)
        return error_set(AN_ERR_ARG, "member %d, part %d of a communicator of %d", member, which, base->members);
    const size_t total = communicator_parts_total(base, parts), offset = communicator_part_offset(parts, which),
                 n = parts[which];
    if (n == 0) return AN_OK;
#pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        if (take)
            memcpy(part + r * n, gathered + r * total + offset, n * sizeof(float));
        else
            memcpy(gathered + r * total + offset, part + r * n, n * sizeof(float));
    }
    return AN_OK;
}

static an_status cpu_take_part(communicator *base, int member, int which, float *part, const float *gathered,
                               size_t rows, const size_t *parts)
{
    return cpu_copy_part(base, member, which, part, (float *)gathered, rows, parts, 1); /* gathered only read */
}

static an_status cpu_put_part(communicator *base, int member, int which, float *gathered, const float *part,
                              size_t rows, const size_t *parts)
{
    return cpu_copy_part(base, member, which, (float *)part, gathered, rows, parts, 0); /* part only read */
}

static void cpu_abort(communicator *base)
{
    communicator_cpu *c = (communicator_cpu *)base;
    pthread_mutex_lock(&c->lock);
    c->aborted = 1;
    pthread_cond_broadcast(&c->turned);
    pthread_mutex_unlock(&c->lock);
}

static void cpu_destroy(communicator *base)
{
    communicator_cpu *c = (communicator_cpu *)base;
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->turned);
    free(c->posted);
    free(c);
}

static const communicator_ops cpu_communicator_ops = {.sum = cpu_sum,
                                                      .all_gather = cpu_all_gather,
                                                      .reduce_scatter = cpu_reduce_scatter,
                                                      .take_part = cpu_take_part,
                                                      .put_part = cpu_put_part,
                                                      .abort = cpu_abort,
                                                      .destroy = cpu_destroy};

an_status communicator_cpu_create(communicator **out, int members)
{
    *out = NULL;
    if (members < 1 || members > COMMUNICATOR_CPU_MAX_MEMBERS)
        return error_set(AN_ERR_ARG, "a communicator has 1 to %d members, not %d", COMMUNICATOR_CPU_MAX_MEMBERS,
                         members);
    communicator_cpu *c = calloc(1, sizeof *c);
    AN_CHECK_ALLOC(c, sizeof *c);
    c->posted = calloc((size_t)members, sizeof *c->posted);
    if (!c->posted) {
        free(c);
        return error_set(AN_ERR_NOMEM, "out of memory for a communicator of %d members", members);
    }
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->posted);
        free(c);
        return error_set(AN_ERR_INTERNAL, "cannot initialise a communicator's lock");
    }
    if (pthread_cond_init(&c->turned, NULL) != 0) {
        pthread_mutex_destroy(&c->lock);
        free(c->posted);
        free(c);
        return error_set(AN_ERR_INTERNAL, "cannot initialise a communicator's condition");
    }
    c->base.ops = &cpu_communicator_ops;
    c->base.members = members;
    c->base.kind = "cpu";
    *out = &c->base;
    return AN_OK;
}
