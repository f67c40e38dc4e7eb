/* test_net_fixed_order.c: the fixed order of --reproducible (net.h,
 * net_set_fixed_order): one training pass with dropout and LRN on the same
 * images, a whole network against the towers on two CPU members and against
 * hybrid fc slices on 2 and 4 members (the pass's images all on one member,
 * as --reproducible's chunks are). The logits, the loss and every gradient,
 * put back in the whole network's layout, are BITWISE the whole network's.
 * Without the fixed order they are not (asserted too, so that the
 * comparison can fail), and a pass larger than the scratch is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "communicator_cpu.h"
#include "net_cpu.h"
#include "split_members.h"
#include "philox.h"

#define B 4          /* images: a chunk of a batch of 32 */
#define CLASSES 7    /* fewer than the 8 parts: one of fc8's parts is empty */
#define SEED 13
#define IMAGE_FLOATS (3 * 224 * 224)

static net_config config(void)
{
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = 0.05;
    cfg.num_classes = CLASSES;
    return cfg;
}

typedef struct inputs {
    float input[B * IMAGE_FLOATS];
    uint32_t ids[B];
    int32_t labels[B];
} inputs;

static inputs *make_inputs(void)
{
    inputs *in = malloc(sizeof *in);
    assert_non_null(in);
    for (size_t i = 0; i < (size_t)B * IMAGE_FLOATS; i++)
        in->input[i] = 60.0f * (philox_uniform(philox_draw(7, 1, 0, 0, (uint32_t)i).v[0]) - 0.5f);
    for (int b = 0; b < B; b++) {
        in->ids[b] = 200 + 5 * (uint32_t)b;
        in->labels[b] = (3 * b + 1) % CLASSES;
    }
    return in;
}

/* The whole network's pass: its logits [B, CLASSES] copied out, its loss, and its gradients returned in a
 * block of *floats (malloc'd, the caller frees). */
static float *whole_pass(const inputs *in, int fixed, float *logits, double *loss, size_t *floats)
{
    net_config cfg = config();
    net *whole;
    assert_int_equal(net_create_cpu(&whole, &cfg, B), AN_OK);
    assert_int_equal(net_init_params(whole, SEED), AN_OK);
    if (fixed) assert_int_equal(net_set_fixed_order(whole, B), AN_OK);
    assert_int_equal(net_forward(whole, in->input, B, in->ids, 3, SEED, 1), AN_OK);
    assert_int_equal(net_loss(whole, in->labels, B, loss), AN_OK);
    const float *l;
    assert_int_equal(net_read_logits(whole, &l), AN_OK);
    memcpy(logits, l, B * CLASSES * sizeof(float));
    assert_int_equal(net_backward(whole, in->labels, B, 32.0f), AN_OK);
    *floats = net_param_count(whole);
    float *grads = malloc(*floats * sizeof(float));
    assert_non_null(grads);
    memcpy(grads, net_grads(whole), *floats * sizeof(float));
    net_destroy(whole);
    return grads;
}

/* The split's pass in the fixed order (owner: the member with the images, FC_SLICES): its logits, loss,
 * and gradients in the whole layout, each member's views written in turn, the owner's last (a hybrid
 * member without images has conv gradients of 0; every member's fc slice is its own). */
static void split_pass(const inputs *in, net_split_kind kind, int members, int owner, float *logits, float *grads,
                       double *loss)
{
    net_config cfg = config();
    communicator *comm;
    assert_int_equal(communicator_cpu_create(&comm, members), AN_OK);
    net *parts[NET_SPLIT_MAX_MEMBERS];
    backend *bes[NET_SPLIT_MAX_MEMBERS];
    member_job jobs[NET_SPLIT_MAX_MEMBERS];
    int batches[NET_SPLIT_MAX_MEMBERS] = {0};
    batches[owner] = B;
    for (int m = 0; m < members; m++) {
        assert_int_equal(backend_cpu_create(&bes[m], 1), AN_OK);
        const net_split split = {.kind = kind, .index = m, .count = members, .comm = comm};
        assert_int_equal(net_create_split(&parts[m], &cfg, B, bes[m], &split), AN_OK);
        assert_int_equal(net_init_params(parts[m], SEED), AN_OK);
        assert_int_equal(net_set_fixed_order(parts[m], B), AN_OK);
        const int own = kind == NET_SPLIT_TOWERS ? B : batches[m];
        jobs[m] = (member_job){.n = parts[m], .input = in->input, .own = own,
                               .batches = kind == NET_SPLIT_FC_SLICES ? batches : NULL, .ids = in->ids,
                               .labels = in->labels, .images = B, .normalizer = 32.0f, .step = 3, .seed = SEED};
    }
    assert_int_equal(members_pass(jobs, members), 0);
    for (int m = 0; m < members; m++) assert_int_equal(jobs[m].status, AN_OK);
    for (int m = 0; m < members; m++) {
        const float *l;
        assert_int_equal(net_read_logits(parts[m], &l), AN_OK);
        if (m == 0) memcpy(logits, l, B * CLASSES * sizeof(float));
        assert_memory_equal(l, logits, B * CLASSES * sizeof(float)); /* every member holds the same logits */
        double member_loss;
        assert_int_equal(net_loss(parts[m], in->labels, B, &member_loss), AN_OK);
        if (m == 0) *loss = member_loss;
        assert_memory_equal(&member_loss, loss, sizeof member_loss);
    }
    for (int k = 0; k < members; k++) {
        const int m = kind == NET_SPLIT_TOWERS ? k : (owner + 1 + k) % members; /* the owner last */
        assert_int_equal(net_to_whole(parts[m], NET_BLOCK_GRADS, grads), AN_OK);
    }
    for (int m = 0; m < members; m++) {
        net_destroy(parts[m]);
        backend_destroy(bes[m]);
    }
    communicator_destroy(comm);
}

/* Counts the gradients that differ from want's in bits, naming the first. */
static size_t differing(const float *got, const float *want, size_t floats, const char *what)
{
    size_t count = 0;
    for (size_t i = 0; i < floats; i++)
        if (memcmp(&got[i], &want[i], sizeof(float)) != 0 && count++ == 0)
            print_message("%s: gradient %zu is %.9g, the whole network's %.9g\n", what, i, got[i], want[i]);
    return count;
}

static void check_bitwise(net_split_kind kind, int members, int owner)
{
    inputs *in = make_inputs();
    float whole_logits[B * CLASSES], logits[B * CLASSES];
    double whole_loss, loss;
    size_t floats;
    float *want = whole_pass(in, 1, whole_logits, &whole_loss, &floats), *got = calloc(floats, sizeof(float));
    assert_non_null(got);
    split_pass(in, kind, members, owner, logits, got, &loss);
    assert_memory_equal(logits, whole_logits, sizeof logits);
    assert_memory_equal(&loss, &whole_loss, sizeof loss);
    assert_int_equal(differing(got, want, floats, kind == NET_SPLIT_TOWERS ? "towers" : "hybrid"), 0);
    free(want);
    free(got);
    free(in);
}

static void test_towers_bitwise(void **state)
{
    (void)state;
    check_bitwise(NET_SPLIT_TOWERS, 2, 0);
}

static void test_hybrid_2_bitwise(void **state)
{
    (void)state;
    check_bitwise(NET_SPLIT_FC_SLICES, 2, 1);
}

static void test_hybrid_4_bitwise(void **state)
{
    (void)state;
    check_bitwise(NET_SPLIT_FC_SLICES, 4, 2);
}

/* Without the fixed order the towers' sums are grouped otherwise: some gradient differs in its bits. */
static void test_unordered_differs(void **state)
{
    (void)state;
    inputs *in = make_inputs();
    float fixed_logits[B * CLASSES], plain_logits[B * CLASSES];
    double fixed_loss, plain_loss;
    size_t floats;
    float *fixed = whole_pass(in, 1, fixed_logits, &fixed_loss, &floats);
    float *plain = whole_pass(in, 0, plain_logits, &plain_loss, &floats);
    assert_true(differing(plain, fixed, floats, "the whole network without the fixed order") > 0);
    free(fixed);
    free(plain);
    free(in);
}

/* A pass larger than the scratch, and scratch larger than the net's batch, are refused; 0 turns it off. */
static void test_refused(void **state)
{
    (void)state;
    net_config cfg = config();
    net *n;
    assert_int_equal(net_create_cpu(&n, &cfg, B), AN_OK);
    assert_int_equal(net_set_fixed_order(n, B + 1), AN_ERR_ARG);
    assert_int_equal(net_set_fixed_order(n, 2), AN_OK);
    inputs *in = make_inputs();
    assert_int_equal(net_forward(n, in->input, B, in->ids, 3, SEED, 1), AN_ERR_ARG);
    assert_int_equal(net_forward(n, in->input, 2, in->ids, 3, SEED, 1), AN_OK);
    assert_int_equal(net_set_fixed_order(n, 0), AN_OK);
    assert_int_equal(net_forward(n, in->input, B, in->ids, 3, SEED, 1), AN_OK);
    net_destroy(n);
    communicator *comm;
    assert_int_equal(communicator_cpu_create(&comm, 3), AN_OK);
    backend *be;
    assert_int_equal(backend_cpu_create(&be, 1), AN_OK);
    const net_split three = {.kind = NET_SPLIT_FC_SLICES, .index = 0, .count = 3, .comm = comm};
    assert_int_equal(net_create_split(&n, &cfg, B, be, &three), AN_OK);
    assert_int_equal(net_set_fixed_order(n, B), AN_ERR_ARG); /* 8 parts over 3 members */
    net_destroy(n);
    backend_destroy(be);
    communicator_destroy(comm);
    free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_towers_bitwise),   cmocka_unit_test(test_hybrid_2_bitwise),
        cmocka_unit_test(test_hybrid_4_bitwise), cmocka_unit_test(test_unordered_differs),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
