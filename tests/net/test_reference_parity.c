/* test_reference_parity.c: the CPU network against PyTorch 1.13 on the same
 * weights and inputs, from tests/reference/parity.h5 (written by
 * tests/reference/gen_fixture.py, which holds the PyTorch side; the weights
 * and inputs come from a formula both sides compute, so none is stored).
 * Cases: width 1/16 batch 8 and width 1.0 batch 2, each with both LRN alpha
 * conventions, dropout off. Compared: logits, loss, every parameter
 * gradient's norm and 16 of its entries, the losses of 5 SGD steps (§5).
 *
 * Tolerances. Both sides compute in float32 but sum in different orders
 * (OpenBLAS vs oneDNN GEMMs with fan-ins up to 9216), so each value differs
 * by about sqrt(fan-in) * 2^-24 ~ 1e-6 relative to the magnitudes summed,
 * compounded over 8 layers forward and back. Measured worst differences
 * (all four cases): logits 1.6e-6 of the largest |logit|, loss 1.3e-7
 * relative, gradient norms 1.4e-6 relative, gradient entries 4.6e-6 of
 * their tensor's RMS (entries near zero have no relative precision, hence
 * the RMS), SGD losses 1.1e-6 relative. The test allows about 10x that;
 * a wrong layer gives errors of order 1. This needs well-conditioned
 * inputs: with smooth ones, PyTorch's own float32 and float64 gradients
 * differ by 1e-2 (near-ties in pooling windows), see alexnet_torch.py.
 */
#include <hdf5.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net.h"
#include "philox.h"
#include "net_cpu.h"

#define TOL_LOGITS 2e-5
#define TOL_LOSS 2e-6
#define TOL_GRAD_NORM 2e-5
#define TOL_GRAD_ENTRY 5e-5
#define TOL_SGD_LOSS 2e-5
#define SAMPLES 16
#define MAX_VIEWS 16

/* The fill formula (scripts/alexnet_torch.py): Philox keyed by seed
 * 2012, purpose TEST, stream t; v = 2 u - 1 in (-1, 1); weights
 * sqrt(6 / fan in) v (fc8's times 0.02), biases 0.1 v, inputs 60 v (stream 1000;
 * 1 v where tanh would saturate). */
static double fill_value(uint32_t stream, size_t i)
{
    philox_block b = philox_draw(2012, PHILOX_PURPOSE_TEST, stream, (uint32_t)(i / 4), 0);
    return 2.0 * (double)philox_uniform(b.v[i % 4]) - 1.0;
}

static void fill_params(net *n)
{
    for (int t = 0; t < net_param_view_count(n); t++) {
        const net_param_view *v = net_param_view_at(n, t);
        float *p = net_params(n) + v->offset;
        double scale = v->ndim == 1 ? 0.1 : sqrt(6.0 / (double)(v->count / (size_t)v->shape[0]));
        if (v->ndim > 1 && t >= net_param_view_count(n) - 2) scale *= 0.02; /* fc8 */
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < v->count; i++) p[i] = (float)(scale * fill_value((uint32_t)t, i));
    }
}

/* scale: 60 (byte-sized inputs), 1 for the tanh cases (the case's input_scale) */
static void fill_input(float *x, int batch, double scale)
{
    size_t n = (size_t)batch * IMAGE_CROP_FLOATS;
    for (size_t i = 0; i < n; i++) x[i] = (float)(scale * fill_value(1000, i));
}

static void read_doubles(hid_t g, const char *name, double *out, size_t expect)
{
    hid_t ds = H5Dopen2(g, name, H5P_DEFAULT);
    assert_true(ds >= 0);
    hid_t space = H5Dget_space(ds);
    assert_int_equal((size_t)H5Sget_simple_extent_npoints(space), expect);
    assert_true(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) >= 0);
    H5Sclose(space);
    H5Dclose(ds);
}

static void read_attr(hid_t g, const char *name, hid_t type, void *out)
{
    hid_t a = H5Aopen(g, name, H5P_DEFAULT);
    assert_true(a >= 0);
    assert_true(H5Aread(a, type, out) >= 0);
    H5Aclose(a);
}

/* A variable-length string attribute (h5py's str) into out[size]. */
static void read_string_attr(hid_t g, const char *name, char *out, size_t size)
{
    hid_t a = H5Aopen(g, name, H5P_DEFAULT), t = H5Aget_type(a);
    char *s = NULL;
    assert_true(H5Tis_variable_str(t) > 0);
    assert_true(H5Aread(a, t, &s) >= 0);
    snprintf(out, size, "%s", s);
    H5free_memory(s);
    H5Tclose(t);
    H5Aclose(a);
}

static double rel(double got, double want) { return fabs(got - want) / fmax(fabs(want), 1e-30); }

static void check_case(hid_t file, const char *name)
{
    hid_t g = H5Gopen2(file, name, H5P_DEFAULT);
    assert_true(g >= 0);
    double width, lr, momentum, decay, input_scale;
    int classes, batch, towers;
    char lrn[32] = {0}, pooling[32] = {0}, activation[32] = {0};
    read_attr(g, "width", H5T_NATIVE_DOUBLE, &width);
    read_attr(g, "lr", H5T_NATIVE_DOUBLE, &lr);
    read_attr(g, "momentum", H5T_NATIVE_DOUBLE, &momentum);
    read_attr(g, "weight_decay", H5T_NATIVE_DOUBLE, &decay);
    read_attr(g, "num_classes", H5T_NATIVE_INT, &classes);
    read_attr(g, "batch", H5T_NATIVE_INT, &batch);
    read_attr(g, "towers", H5T_NATIVE_INT, &towers);
    read_attr(g, "input_scale", H5T_NATIVE_DOUBLE, &input_scale);
    read_string_attr(g, "lrn_convention", lrn, sizeof lrn); /* divided_by_n, literal or off */
    read_string_attr(g, "pooling", pooling, sizeof pooling);
    read_string_attr(g, "activation", activation, sizeof activation);

    net_config cfg;
    net_config_default(&cfg);
    cfg.width = width;
    cfg.num_classes = classes;
    cfg.dropout_rate = 0.0f;
    assert_int_equal(net_lrn_parse(lrn, &cfg), AN_OK);
    assert_int_equal(net_pooling_parse(pooling, &cfg.pooling), AN_OK);
    assert_int_equal(net_activation_parse(activation, &cfg.activation), AN_OK);
    cfg.towers = towers;
    net *n = NULL;
    assert_int_equal(net_create_cpu(&n, &cfg, batch), AN_OK);
    fill_params(n);
    float *x = malloc(sizeof(float) * (size_t)batch * IMAGE_CROP_FLOATS);
    int32_t labels[64];
    double *want_logits = malloc(sizeof(double) * (size_t)batch * classes);
    assert_non_null(x);
    assert_non_null(want_logits);
    fill_input(x, batch, input_scale);
    for (int b = 0; b < batch; b++) labels[b] = (7 * b + 3) % classes;

    /* logits and loss */
    double loss, want_loss;
    assert_int_equal(net_forward(n, x, batch, NULL, 0, 0, 1), AN_OK);
    assert_int_equal(net_loss(n, labels, batch, &loss), AN_OK);
    read_doubles(g, "logits", want_logits, (size_t)batch * classes);
    read_doubles(g, "loss", &want_loss, 1);
    double max_logit = 0, worst = 0;
    for (int i = 0; i < batch * classes; i++) max_logit = fmax(max_logit, fabs(want_logits[i]));
    const float *logits; /* [batch, classes] */
    assert_int_equal(net_read_logits(n, &logits), AN_OK);
    for (int i = 0; i < batch * classes; i++)
        worst = fmax(worst, fabs(logits[i] - want_logits[i]) / max_logit);
    print_message("%s: logits %.2g of max, loss %.2g", name, worst, rel(loss, want_loss));
    assert_true(worst < TOL_LOGITS);
    assert_true(rel(loss, want_loss) < TOL_LOSS);

    /* every parameter's gradient: norm and 16 entries */
    assert_int_equal(net_backward(n, labels, batch, (float)batch), AN_OK);
    int views = net_param_view_count(n);
    assert_true(views <= MAX_VIEWS);
    double norms[MAX_VIEWS], values[MAX_VIEWS * SAMPLES], idx[MAX_VIEWS * SAMPLES];
    read_doubles(g, "grad_norm", norms, (size_t)views);
    read_doubles(g, "grad_value", values, (size_t)views * SAMPLES);
    read_doubles(g, "grad_index", idx, (size_t)views * SAMPLES);
    double worst_norm = 0, worst_entry = 0;
    for (int v = 0; v < views; v++) {
        const net_param_view *view = net_param_view_at(n, v);
        const float *dw = net_grads(n) + view->offset;
        double sq = 0;
        for (size_t i = 0; i < view->count; i++) sq += (double)dw[i] * dw[i];
        double norm = sqrt(sq), rms = norms[v] / sqrt((double)view->count);
        double e = rel(norm, norms[v]);
        worst_norm = fmax(worst_norm, e);
        if (e >= TOL_GRAD_NORM) print_error("%s: %s norm %.9g, PyTorch %.9g\n", name, view->name, norm, norms[v]);
        assert_true(e < TOL_GRAD_NORM);
        for (int k = 0; k < SAMPLES; k++) {
            size_t i = (size_t)idx[v * SAMPLES + k];
            assert_true(i < view->count);
            double d = fabs(dw[i] - values[v * SAMPLES + k]) / rms;
            worst_entry = fmax(worst_entry, d);
            if (d >= TOL_GRAD_ENTRY)
                print_error("%s: %s[%zu] %.9g, PyTorch %.9g\n", name, view->name, i, (double)dw[i],
                            values[v * SAMPLES + k]);
            assert_true(d < TOL_GRAD_ENTRY);
        }
    }
    print_message(", grad norms %.2g, entries %.2g of rms", worst_norm, worst_entry);

    /* 5 steps of §5's update: the loss before each, and after the last */
    double want_sgd[6], got_sgd[6];
    read_doubles(g, "sgd_losses", want_sgd, 6);
    for (int s = 0; s <= 5; s++) {
        assert_int_equal(net_forward(n, x, batch, NULL, 0, 0, 1), AN_OK);
        assert_int_equal(net_loss(n, labels, batch, &got_sgd[s]), AN_OK);
        if (s == 5) break;
        assert_int_equal(net_backward(n, labels, batch, (float)batch), AN_OK);
        assert_int_equal(net_update(n, (float)lr, (float)momentum, (float)decay), AN_OK);
    }
    worst = 0;
    for (int s = 0; s <= 5; s++) worst = fmax(worst, rel(got_sgd[s], want_sgd[s]));
    print_message(", sgd losses %.2g (%.4f -> %.4f)\n", worst, got_sgd[0], got_sgd[5]);
    assert_true(worst < TOL_SGD_LOSS);
    assert_true(got_sgd[5] < got_sgd[0]);
    free(want_logits);
    free(x);
    net_destroy(n);
    H5Gclose(g);
}

static hid_t open_fixture(void)
{
    const char *src = getenv("ALEXNET_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/reference/parity.h5", src ? src : ".");
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) print_error("cannot open %s (set ALEXNET_SOURCE_DIR)\n", path);
    assert_true(f >= 0);
    return f;
}

static void test_reduced_width(void **state)
{
    (void)state;
    hid_t f = open_fixture();
    check_case(f, "w0.0625_b8_divided_by_n");
    check_case(f, "w0.0625_b8_literal");
    H5Fclose(f);
}

static void test_full_width(void **state)
{
    (void)state;
    hid_t f = open_fixture();
    check_case(f, "w1_b2_divided_by_n");
    check_case(f, "w1_b2_literal");
    H5Fclose(f);
}

/* The paper's experiments (docs/experiments.md), each against PyTorch built
 * with the same option: one at a time at width 1/16, all together at 1.0. */
static void test_experiment_variants(void **state)
{
    (void)state;
    hid_t f = open_fixture();
    check_case(f, "w0.0625_b8_lrn_off");
    check_case(f, "w0.0625_b8_pool_plain");
    check_case(f, "w0.0625_b8_towers1");
    check_case(f, "w0.0625_b8_tanh");
    check_case(f, "w1_b2_all_variants");
    H5Fclose(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reduced_width),
        cmocka_unit_test(test_full_width),
        cmocka_unit_test(test_experiment_variants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
