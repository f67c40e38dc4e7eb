/* test_net_split.c: a network split over CPU members (net.h, net_split)
 * against the whole network, one training pass with dropout on the same
 * images: the members' initial weights are the whole network's, bitwise; the
 * logits every member holds and the loss equal the whole network's; the
 * gradients, put back in the whole network's layout (and, for the conv
 * layers of the fc slices, summed over the members as the trainer does),
 * equal the whole network's within float32 rounding of a regrouped sum.
 * Towers (with LRN, whose window crosses the towers' boundary) and fc
 * slices over 3 members with uneven batches and uneven slices. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "communicator_cpu.h"
#include "net_cpu.h"
#include "philox.h"

#define B 5          /* images */
#define CLASSES 7    /* uneven over 3 members */
#define SEED 11

typedef struct member_job {
    net *n;
    const float *input;  /* [own, 3, 224, 224] */
    int own;             /* images of the member's own */
    const int *batches;  /* [members] FC_SLICES */
    const uint32_t *ids; /* [B] */
    const int32_t *labels; /* [B] */
    an_status status;
} member_job;

static void *member_pass(void *arg)
{
    member_job *j = arg;
    an_status st = net_set_member_batches(j->n, j->batches);
    if (st == AN_OK) st = net_forward(j->n, j->input, j->own, j->ids, 3, SEED, 1);
    if (st == AN_OK) st = net_backward(j->n, j->labels, B, (float)B);
    j->status = st;
    return NULL;
}

static void fill(float *x, size_t n, uint32_t stream)
{
    for (size_t i = 0; i < n; i++) x[i] = 60.0f * (philox_uniform(philox_draw(5, stream, 0, 0, (uint32_t)i).v[0]) - 0.5f);
}

static void check_split(net_split_kind kind, int members, const int *batches)
{
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = 0.05;
    cfg.num_classes = CLASSES;
    const size_t per_image = 3 * 224 * 224;
    float *input = malloc(B * per_image * sizeof(float));
    assert_non_null(input);
    fill(input, B * per_image, 1);
    uint32_t ids[B];
    int32_t labels[B];
    for (int b = 0; b < B; b++) {
        ids[b] = 100 + 7 * (uint32_t)b;
        labels[b] = b % CLASSES;
    }

    net *whole;
    assert_int_equal(net_create_cpu(&whole, &cfg, B), AN_OK);
    assert_int_equal(net_init_params(whole, SEED), AN_OK);
    assert_int_equal(net_forward(whole, input, B, ids, 3, SEED, 1), AN_OK);
    double whole_loss, loss;
    assert_int_equal(net_loss(whole, labels, B, &whole_loss), AN_OK);
    const float *whole_logits;
    assert_int_equal(net_read_logits(whole, &whole_logits), AN_OK);
    assert_int_equal(net_backward(whole, labels, B, (float)B), AN_OK);
    const size_t floats = net_param_count(whole);

    communicator *comm;
    assert_int_equal(communicator_cpu_create(&comm, members), AN_OK);
    net *parts[NET_SPLIT_MAX_MEMBERS];
    backend *bes[NET_SPLIT_MAX_MEMBERS]; /* the members' own backends (a split member does not own its backend) */
    member_job jobs[NET_SPLIT_MAX_MEMBERS];
    pthread_t threads[NET_SPLIT_MAX_MEMBERS];
    float *init = calloc(floats, sizeof(float)), *grads = calloc(floats, sizeof(float));
    float *one = calloc(floats, sizeof(float));
    assert_true(init && grads && one);
    int offset = 0;
    for (int m = 0; m < members; m++) {
        assert_int_equal(backend_cpu_create(&bes[m], 1), AN_OK);
        backend *be = bes[m];
        const net_split split = {.kind = kind, .index = m, .count = members, .comm = comm};
        const int own = kind == NET_SPLIT_FC_SLICES ? batches[m] : B;
        assert_int_equal(net_create_split(&parts[m], &cfg, kind == NET_SPLIT_FC_SLICES ? 2 : B, be, &split), AN_OK);
        assert_int_equal(net_whole_param_count(parts[m]), floats);
        assert_int_equal(net_init_params(parts[m], SEED), AN_OK);
        assert_int_equal(net_to_whole(parts[m], NET_BLOCK_PARAMS, init), AN_OK);
        jobs[m] = (member_job){.n = parts[m], .input = input + (size_t)offset * per_image, .own = own,
                               .batches = batches, .ids = ids, .labels = labels};
        if (kind == NET_SPLIT_FC_SLICES) offset += own;
    }
    /* the members' weights are the whole network's, bitwise */
    assert_memory_equal(init, net_params(whole), floats * sizeof(float));
    for (int m = 0; m < members; m++) assert_int_equal(pthread_create(&threads[m], NULL, member_pass, &jobs[m]), 0);
    for (int m = 0; m < members; m++) assert_int_equal(pthread_join(threads[m], NULL), 0);
    for (int m = 0; m < members; m++) assert_int_equal(jobs[m].status, AN_OK);

    for (int m = 0; m < members; m++) {
        const float *logits;
        assert_int_equal(net_read_logits(parts[m], &logits), AN_OK);
        for (int k = 0; k < B * CLASSES; k++) assert_true(fabsf(logits[k] - whole_logits[k]) <= 1e-4f * (1.0f + fabsf(whole_logits[k])));
        assert_int_equal(net_loss(parts[m], labels, B, &loss), AN_OK);
        assert_true(fabs(loss - whole_loss) <= 1e-5 * (1.0 + fabs(whole_loss)));
        /* the member's gradients in the whole layout, zero elsewhere, added up over the members */
        memset(one, 0, floats * sizeof(float));
        assert_int_equal(net_to_whole(parts[m], NET_BLOCK_GRADS, one), AN_OK);
        for (size_t i = 0; i < floats; i++) grads[i] += one[i];
    }
    const float *want = net_grads(whole);
    for (int v = 0; v < net_param_view_count(whole); v++) {
        const net_param_view *view = net_param_view_at(whole, v);
        double largest = 0.0;
        for (size_t i = 0; i < view->count; i++) largest = fmax(largest, fabs(want[view->offset + i]));
        for (size_t i = 0; i < view->count; i++) {
            const double d = fabs((double)grads[view->offset + i] - want[view->offset + i]);
            if (d > 1e-4 * largest + 1e-9) fail_msg("%s[%zu]: %g, the whole network's %g", view->name, i,
                                                    grads[view->offset + i], want[view->offset + i]);
        }
    }
    for (int m = 0; m < members; m++) {
        net_destroy(parts[m]);
        backend_destroy(bes[m]);
    }
    communicator_destroy(comm);
    net_destroy(whole);
    free(init);
    free(grads);
    free(one);
    free(input);
}

static void test_towers(void **state)
{
    (void)state;
    check_split(NET_SPLIT_TOWERS, 2, NULL);
}

static void test_fc_slices_uneven(void **state)
{
    (void)state;
    const int batches[3] = {2, 2, 1}; /* and 7 classes over 3: 2, 2, 3 */
    check_split(NET_SPLIT_FC_SLICES, 3, batches);
}

/* The batches of a pass: member 1 may pass none, none may pass more than its max, some must pass one. */
static void test_fc_slices_member_without_images(void **state)
{
    (void)state;
    const int batches[3] = {2, 0, 3}; /* member 2 more than its max (2): refused */
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = 0.05;
    cfg.num_classes = CLASSES;
    communicator *comm;
    assert_int_equal(communicator_cpu_create(&comm, 3), AN_OK);
    backend *be;
    assert_int_equal(backend_cpu_create(&be, 1), AN_OK);
    const net_split split = {.kind = NET_SPLIT_FC_SLICES, .index = 1, .count = 3, .comm = comm};
    net *n;
    assert_int_equal(net_create_split(&n, &cfg, 2, be, &split), AN_OK);
    assert_int_equal(net_set_member_batches(n, batches), AN_ERR_ARG);
    const int fits[3] = {2, 0, 1}; /* member 1 passes no image of its own */
    assert_int_equal(net_set_member_batches(n, fits), AN_OK);
    const int none[3] = {0, 0, 0};
    assert_int_equal(net_set_member_batches(n, none), AN_ERR_ARG); /* no image at all */
    net_destroy(n);
    backend_destroy(be);
    communicator_destroy(comm);
}

/* A split that cannot be: too few classes for the members, the towers of a one-tower network. */
static void test_refused(void **state)
{
    (void)state;
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = 0.05;
    cfg.num_classes = 2;
    communicator *comm;
    assert_int_equal(communicator_cpu_create(&comm, 3), AN_OK);
    backend *be;
    assert_int_equal(backend_cpu_create(&be, 1), AN_OK);
    net *n;
    const net_split three = {.kind = NET_SPLIT_FC_SLICES, .index = 0, .count = 3, .comm = comm};
    assert_int_equal(net_create_split(&n, &cfg, 2, be, &three), AN_ERR_ARG); /* 2 classes over 3 */
    cfg.num_classes = 10;
    cfg.towers = 1;
    communicator *pair;
    assert_int_equal(communicator_cpu_create(&pair, 2), AN_OK);
    const net_split towers = {.kind = NET_SPLIT_TOWERS, .index = 0, .count = 2, .comm = pair};
    assert_int_equal(net_create_split(&n, &cfg, 2, be, &towers), AN_ERR_ARG); /* the towers of a one-tower network */
    cfg.towers = 2;
    assert_int_equal(net_create_split(&n, &cfg, 2, be, &towers), AN_OK);
    net_destroy(n);
    backend_destroy(be);
    communicator_destroy(pair);
    communicator_destroy(comm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_towers),
        cmocka_unit_test(test_fc_slices_uneven),
        cmocka_unit_test(test_fc_slices_member_without_images),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
