/* test_grad_tree.c: the order of --reproducible's gradient sums
 * (common/grad_tree.h). Each part's binary counter and the combine of the
 * parts, run on strings ("(0+1)"), give the one tree
 * (((0+1)+(2+3))+((4+5)+(6+7))) for 1, 2, 4 and 8 equal parts and for
 * unequal subtrees; the counter keeps log2(chunks) partial sums at most; a
 * part's chunks are exactly the loader's slice of the batch
 * (epoch_order.h), short last batches included; and what does not fall on
 * the tree is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "epoch_order.h"
#include "grad_tree.h"

#define EXPR_MAX 256
#define SUM_MAX (2 * EXPR_MAX + 4) /* "(a+b)" of two expressions */
static const char *const whole_tree = "(((0+1)+(2+3))+((4+5)+(6+7)))";

/* A part summing its leaves on strings: the running sum, the partials, the deepest level used. */
typedef struct symbolic_part {
    int first;                            /* the part's first chunk */
    char running[EXPR_MAX];
    char partial[GRAD_TREE_LEVELS + 1][EXPR_MAX];
    int deepest;                          /* highest partial level written, -1 before any */
} symbolic_part;

static an_status sym_leaf(void *ctx, int leaf)
{
    symbolic_part *p = ctx;
    snprintf(p->running, EXPR_MAX, "%d", p->first + leaf);
    return AN_OK;
}

static an_status sym_add_partial(void *ctx, int level)
{
    symbolic_part *p = ctx;
    char sum[SUM_MAX];
    snprintf(sum, sizeof sum, "(%s+%s)", p->partial[level], p->running);
    assert_true(strlen(sum) < EXPR_MAX);
    memcpy(p->running, sum, EXPR_MAX);
    return AN_OK;
}

static an_status sym_store_partial(void *ctx, int level)
{
    symbolic_part *p = ctx;
    assert_true(level < GRAD_TREE_LEVELS); /* log2(chunks) partial sums, not one per chunk */
    memcpy(p->partial[level], p->running, EXPR_MAX);
    if (level > p->deepest) p->deepest = level;
    return AN_OK;
}

static const grad_tree_leaf_ops sym_ops = {sym_leaf, sym_add_partial, sym_store_partial};

static an_status sym_add(void *ctx, int left, int right)
{
    char (*sums)[EXPR_MAX] = ctx;
    char sum[SUM_MAX];
    snprintf(sum, sizeof sum, "(%s+%s)", sums[left], sums[right]);
    assert_true(strlen(sum) < EXPR_MAX);
    memcpy(sums[left], sum, EXPR_MAX);
    return AN_OK;
}

/* The batch's sum as an expression, the parts holding chunks [bounds[p], bounds[p + 1]). */
static void tree_of(int parts, const int *bounds, char out[EXPR_MAX])
{
    char sums[GRAD_TREE_CHUNKS][EXPR_MAX];
    for (int p = 0; p < parts; p++) {
        symbolic_part part = {.first = bounds[p], .deepest = -1};
        assert_int_equal(grad_tree_sum_leaves(bounds[p + 1] - bounds[p], &sym_ops, &part), AN_OK);
        memcpy(sums[p], part.running, EXPR_MAX);
    }
    assert_int_equal(grad_tree_combine(parts, bounds, sym_add, sums), AN_OK);
    memcpy(out, sums[0], EXPR_MAX);
}

static void test_equal_parts_give_one_tree(void **state)
{
    (void)state;
    for (int parts = 1; parts <= GRAD_TREE_CHUNKS; parts *= 2) {
        int bounds[GRAD_TREE_CHUNKS + 1], count;
        for (int p = 0; p < parts; p++) grad_tree_part_chunks(p, parts, &bounds[p], &count);
        bounds[parts] = bounds[parts - 1] + count;
        char expr[EXPR_MAX];
        tree_of(parts, bounds, expr);
        assert_string_equal(expr, whole_tree);
    }
}

static void test_unequal_subtrees_give_one_tree(void **state)
{
    (void)state;
    const int a[] = {0, 4, 6, 7, 8}, b[] = {0, 1, 2, 4, 8}, c[] = {0, 2, 4, 6, 8};
    char expr[EXPR_MAX];
    tree_of(4, a, expr);
    assert_string_equal(expr, whole_tree);
    tree_of(4, b, expr);
    assert_string_equal(expr, whole_tree);
    tree_of(4, c, expr);
    assert_string_equal(expr, whole_tree);
}

static void test_counter_memory(void **state)
{
    (void)state;
    symbolic_part part = {.first = 0, .deepest = -1};
    assert_int_equal(grad_tree_sum_leaves(GRAD_TREE_CHUNKS, &sym_ops, &part), AN_OK);
    assert_string_equal(part.running, whole_tree);
    assert_int_equal(part.deepest, GRAD_TREE_LEVELS - 1);
    part = (symbolic_part){.first = 6, .deepest = -1};
    assert_int_equal(grad_tree_sum_leaves(1, &sym_ops, &part), AN_OK);
    assert_string_equal(part.running, "6");
    assert_int_equal(part.deepest, -1); /* one leaf: no partial sum at all */
}

/* A part's chunks are the loader's slice of the batch, for every batch size (short last ones too). */
static void test_parts_are_the_loader_slices(void **state)
{
    (void)state;
    for (uint32_t size = 0; size <= 80; size++) {
        uint32_t next = 0;
        for (int c = 0; c < GRAD_TREE_CHUNKS; c++) {
            uint32_t begin, count;
            grad_tree_chunk(size, c, &begin, &count);
            assert_int_equal(begin, next); /* contiguous, in order */
            next = begin + count;
        }
        assert_int_equal(next, size);
        for (int parts = 1; parts <= GRAD_TREE_CHUNKS; parts *= 2)
            for (int p = 0; p < parts; p++) {
                int first, chunks;
                grad_tree_part_chunks(p, parts, &first, &chunks);
                uint32_t lo, n, hi_begin, hi_count;
                grad_tree_chunk(size, first, &lo, &n);
                grad_tree_chunk(size, first + chunks - 1, &hi_begin, &hi_count);
                uint64_t begin, count;
                epoch_batch_slice(size, size, 0, p, parts, &begin, &count);
                assert_int_equal(begin, lo);
                assert_int_equal(count, hi_begin + hi_count - lo);
            }
    }
    uint32_t begin, count;
    grad_tree_chunk(128, 3, &begin, &count);
    assert_int_equal(begin, 48);
    assert_int_equal(count, 16);
}

static void test_refusals(void **state)
{
    (void)state;
    assert_int_equal(grad_tree_check_parts(1), AN_OK);
    assert_int_equal(grad_tree_check_parts(8), AN_OK);
    assert_int_equal(grad_tree_check_parts(3), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "not 3"));
    assert_int_equal(grad_tree_check_parts(0), AN_ERR_ARG);
    assert_int_equal(grad_tree_check_parts(16), AN_ERR_ARG);
    assert_int_equal(grad_tree_check_batch(128), AN_OK);
    assert_int_equal(grad_tree_check_batch(12), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "--batch must be a multiple of 8"));
    const int misaligned[] = {0, 1, 3, 4, 8}, short_cover[] = {0, 4, 6}, empty[] = {0, 4, 4, 8};
    char sums[GRAD_TREE_CHUNKS][EXPR_MAX] = {{0}};
    assert_int_equal(grad_tree_combine(4, misaligned, sym_add, sums), AN_ERR_ARG);
    assert_non_null(strstr(error_message(), "part 1"));
    assert_int_equal(grad_tree_combine(2, short_cover, sym_add, sums), AN_ERR_ARG);
    assert_int_equal(grad_tree_combine(3, empty, sym_add, sums), AN_ERR_ARG);
    symbolic_part part = {.deepest = -1};
    assert_int_equal(grad_tree_sum_leaves(3, &sym_ops, &part), AN_ERR_ARG);
    assert_int_equal(grad_tree_sum_leaves(16, &sym_ops, &part), AN_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_parts_give_one_tree),
        cmocka_unit_test(test_unequal_subtrees_give_one_tree),
        cmocka_unit_test(test_counter_memory),
        cmocka_unit_test(test_parts_are_the_loader_slices),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
