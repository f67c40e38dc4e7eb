/* test_communicator_cpu.c: the CPU communicator (kernels/communicator.h,
 * kernels/cpu/communicator_cpu.h): the all-gather and reduce-scatter that
 * each member calls from its own thread, with parts of unequal and zero
 * size, the order of the sums (a balanced tree of the members: (0+1)+(2+3)
 * for four), a member's part taken back, and an abort that releases the
 * members waiting for one that failed. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "communicator_cpu.h"

#define MEMBERS 3
#define ROWS 2

/* parts of 3, 0 and 5 floats per row: unequal, one empty (a replica without images) */
static const size_t parts[MEMBERS] = {3, 0, 5};
#define TOTAL 8

typedef struct member_job {
    communicator *c;
    int member;
    int collectives;          /* 0: all-gather then reduce-scatter; 1: abort instead of calling */
    float part[ROWS * 5];     /* [ROWS, parts[member]] */
    float gathered[ROWS * TOTAL];
    float block[ROWS * TOTAL];
    float scattered[ROWS * 5];
    an_status gather_status, scatter_status;
} member_job;

static void *member_main(void *arg)
{
    member_job *j = arg;
    if (j->collectives == 1) {
        j->c->ops->abort(j->c);
        return NULL;
    }
    j->gather_status = j->c->ops->all_gather(j->c, j->member, j->gathered, j->part, ROWS, parts);
    if (j->gather_status != AN_OK) return NULL;
    j->scatter_status = j->c->ops->reduce_scatter(j->c, j->member, j->scattered, j->block, ROWS, parts);
    return NULL;
}

static void run_members(member_job *jobs)
{
    pthread_t threads[MEMBERS];
    for (int m = 0; m < MEMBERS; m++) assert_int_equal(pthread_create(&threads[m], NULL, member_main, &jobs[m]), 0);
    for (int m = 0; m < MEMBERS; m++) assert_int_equal(pthread_join(threads[m], NULL), 0);
}

static void test_gather_and_scatter_uneven(void **state)
{
    (void)state;
    communicator *c;
    assert_int_equal(communicator_cpu_create(&c, MEMBERS), AN_OK);
    static member_job jobs[MEMBERS];
    memset(jobs, 0, sizeof jobs);
    for (int m = 0; m < MEMBERS; m++) {
        jobs[m] = (member_job){.c = c, .member = m};
        for (size_t r = 0; r < ROWS; r++)
            for (size_t i = 0; i < parts[m]; i++) jobs[m].part[r * parts[m] + i] = (float)(100 * m + 10 * r + i);
        for (int k = 0; k < ROWS * TOTAL; k++) jobs[m].block[k] = (float)(k + 1000 * m);
    }
    /* one float whose sum depends on the order: 1e8 + (1 - 1e8), the tree of three, is 0, not 1 */
    jobs[0].block[TOTAL + 3] = 1e8f;
    jobs[1].block[TOTAL + 3] = 1.0f;
    jobs[2].block[TOTAL + 3] = -1e8f;
    run_members(jobs);
    for (int m = 0; m < MEMBERS; m++) {
        assert_int_equal(jobs[m].gather_status, AN_OK);
        assert_int_equal(jobs[m].scatter_status, AN_OK);
        /* row r: member 0's 3 floats, then member 2's 5 */
        for (size_t r = 0; r < ROWS; r++) {
            for (size_t i = 0; i < 3; i++) assert_true(jobs[m].gathered[r * TOTAL + i] == (float)(10 * r + i));
            for (size_t i = 0; i < 5; i++)
                assert_true(jobs[m].gathered[r * TOTAL + 3 + i] == (float)(200 + 10 * r + i));
        }
    }
    /* member 0's part: columns 0..2 summed over members; member 2's: columns 3..7 */
    for (size_t r = 0; r < ROWS; r++) {
        for (size_t i = 0; i < 3; i++) {
            const size_t k = r * TOTAL + i;
            assert_true(jobs[0].scattered[r * 3 + i] == (float)(3 * k + 3000));
        }
        for (size_t i = 0; i < 5; i++) {
            const size_t k = r * TOTAL + 3 + i;
            const float want = k == TOTAL + 3 ? 0.0f : (float)(3 * k + 3000);
            assert_true(jobs[2].scattered[r * 5 + i] == want);
        }
    }
    /* take_part: member 2's columns of a gathered block, taken by member 0 alone; put_part puts them back */
    float taken[ROWS * 5], block[ROWS * TOTAL];
    assert_int_equal(c->ops->take_part(c, 0, 2, taken, jobs[0].gathered, ROWS, parts), AN_OK);
    for (size_t r = 0; r < ROWS; r++)
        for (size_t i = 0; i < 5; i++) assert_true(taken[r * 5 + i] == jobs[2].part[r * 5 + i]);
    for (int k = 0; k < ROWS * TOTAL; k++) block[k] = -1.0f;
    assert_int_equal(c->ops->put_part(c, 1, 2, block, taken, ROWS, parts), AN_OK);
    for (size_t r = 0; r < ROWS; r++)
        for (size_t k = 0; k < TOTAL; k++)
            assert_true(block[r * TOTAL + k] == (k < 3 ? -1.0f : jobs[0].gathered[r * TOTAL + k]));
    communicator_destroy(c);
}

/* Four members: the tree (a0 + a1) + (a2 + a3), left operand first */
#define TREE_MEMBERS 4
static const size_t tree_parts[TREE_MEMBERS] = {2, 2, 2, 2};

typedef struct tree_job {
    communicator *c;
    int member;
    float block[8];   /* [1, 8]: every member's two floats */
    float part[2];    /* [1, 2]: this member's two, summed */
    an_status status;
} tree_job;

static void *tree_member_main(void *arg)
{
    tree_job *j = arg;
    j->status = j->c->ops->reduce_scatter(j->c, j->member, j->part, j->block, 1, tree_parts);
    return NULL;
}

static void test_four_members_sum_in_a_tree(void **state)
{
    (void)state;
    /* column 0's values: the tree gives (1e8 + 1) + (-1e8 + 1) = 1e8 - 1e8 = 0 (1 is below half an ulp of
     * 1e8), member order ((1e8 + 1) - 1e8) + 1 = 1 */
    const float a[TREE_MEMBERS] = {1e8f, 1.0f, -1e8f, 1.0f};
    volatile float left = a[0] + a[1], right = a[2] + a[3], in_order = a[0] + a[1];
    in_order = in_order + a[2];
    in_order = in_order + a[3];
    const float tree = left + right;
    assert_true(tree != in_order); /* the values tell the two orders apart */
    communicator *c;
    assert_int_equal(communicator_cpu_create(&c, TREE_MEMBERS), AN_OK);
    static tree_job jobs[TREE_MEMBERS];
    memset(jobs, 0, sizeof jobs);
    for (int m = 0; m < TREE_MEMBERS; m++) {
        jobs[m] = (tree_job){.c = c, .member = m};
        for (int k = 0; k < 8; k++) jobs[m].block[k] = (float)(k + 10 * m);
        jobs[m].block[0] = a[m];
    }
    pthread_t threads[TREE_MEMBERS];
    for (int m = 0; m < TREE_MEMBERS; m++)
        assert_int_equal(pthread_create(&threads[m], NULL, tree_member_main, &jobs[m]), 0);
    for (int m = 0; m < TREE_MEMBERS; m++) assert_int_equal(pthread_join(threads[m], NULL), 0);
    for (int m = 0; m < TREE_MEMBERS; m++) assert_int_equal(jobs[m].status, AN_OK);
    assert_memory_equal(&jobs[0].part[0], &tree, sizeof tree);
    assert_true(jobs[0].part[0] != in_order);
    for (int m = 0; m < TREE_MEMBERS; m++)
        for (int i = 0; i < 2; i++) {
            const int k = 2 * m + i;
            if (k > 0) assert_true(jobs[m].part[i] == (float)(4 * k + 60));
        }
    /* sum: the same tree, written to every block */
    float blocks_data[TREE_MEMBERS][3];
    float *blocks[TREE_MEMBERS];
    for (int m = 0; m < TREE_MEMBERS; m++) {
        blocks[m] = blocks_data[m];
        blocks[m][0] = a[m];
        blocks[m][1] = (float)m;
        blocks[m][2] = -(float)m;
    }
    assert_int_equal(c->ops->sum(c, blocks, 3), AN_OK);
    for (int m = 0; m < TREE_MEMBERS; m++) {
        assert_memory_equal(&blocks[m][0], &tree, sizeof tree);
        assert_true(blocks[m][0] != in_order);
        assert_true(blocks[m][1] == 6.0f && blocks[m][2] == -6.0f);
    }
    communicator_destroy(c);
}

/* Member 2 fails before its call and aborts: the others return with an error, none waits for ever. */
static void test_abort_releases_the_others(void **state)
{
    (void)state;
    communicator *c;
    assert_int_equal(communicator_cpu_create(&c, MEMBERS), AN_OK);
    static member_job jobs[MEMBERS];
    memset(jobs, 0, sizeof jobs);
    for (int m = 0; m < MEMBERS; m++) jobs[m] = (member_job){.c = c, .member = m, .collectives = m == 2};
    run_members(jobs);
    assert_int_equal(jobs[0].gather_status, AN_ERR_INTERRUPTED);
    assert_int_equal(jobs[1].gather_status, AN_ERR_INTERRUPTED);
    /* and every later call fails at once */
    float x = 0.0f, y[TOTAL];
    assert_int_equal(c->ops->all_gather(c, 0, y, &x, 1, parts), AN_ERR_INTERRUPTED);
    communicator_destroy(c);
}

/* One member: the gather is a copy, the scatter the block itself. */
static void test_one_member(void **state)
{
    (void)state;
    communicator *c;
    assert_int_equal(communicator_cpu_create(&c, 1), AN_OK);
    const size_t one[1] = {3};
    const float part[6] = {1, 2, 3, 4, 5, 6};
    float out[6] = {0};
    assert_int_equal(c->ops->all_gather(c, 0, out, part, 2, one), AN_OK);
    assert_memory_equal(out, part, sizeof part);
    memset(out, 0, sizeof out);
    assert_int_equal(c->ops->reduce_scatter(c, 0, out, part, 2, one), AN_OK);
    assert_memory_equal(out, part, sizeof part);
    communicator_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gather_and_scatter_uneven),
        cmocka_unit_test(test_four_members_sum_in_a_tree),
        cmocka_unit_test(test_abort_releases_the_others),
        cmocka_unit_test(test_one_member),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
