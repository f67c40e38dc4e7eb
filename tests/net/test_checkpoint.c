/* test_checkpoint.c: a checkpoint written and read back gives the same
 * weights, momentum, metadata and trainer state; a mismatched network, a
 * missing or foreign file are refused with a message; no temporary file
 * is left behind; hostile checkpoints (a newer format, truncated, shapes that
 * disagree with the config, an attribute holding many values, a config out of
 * range) are refused with a message. Real HDF5 files in a temporary directory. */
#include <dirent.h>
#include <hdf5.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checkpoint.h"
#include "gradcheck.h"
#include "net_cpu.h"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/alexnet-ckpt-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' || strlen(e->d_name) > 2) {
            snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
            unlink(path);
        }
    if (d) closedir(d);
    return rmdir(tmpdir);
}

static net *small_net(double width, int classes)
{
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = width;
    cfg.num_classes = classes;
    cfg.lrn_convention = LRN_ALPHA_LITERAL;
    cfg.init = NET_INIT_CAFFE;
    cfg.dropout_rate = 0.25f;
    net *n = NULL;
    assert_int_equal(net_create_cpu(&n, &cfg, 1), AN_OK);
    return n;
}

static void test_round_trip(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/ckpt-3-1200.h5", tmpdir);
    net *a = small_net(0.125, 7);
    assert_int_equal(net_init_params(a, 5), AN_OK);
    /* every view's momentum, and 1s in the padding between views (net.h),
     * which the file must not carry: b's padding stays zero */
    assert_true(net_param_count(a) > net_parameters(a)); /* this width has padding */
    for (float *m = net_momentum(a), *end = m + net_param_count(a); m < end; m++) *m = 1.0f;
    for (int i = 0; i < net_param_view_count(a); i++) {
        const net_param_view *v = net_param_view_at(a, i);
        gradcheck_fill(net_momentum(a) + v->offset, v->count, 9 + (uint32_t)i, 0.01f);
    }
    checkpoint_meta meta = {.step = 1200, .epoch = 3, .learning_rate = 0.001, .lr_drops = 1,
                            .seed = 0x123456789abcull, .dataset_id = "0123456789abcdef"};
    const char *state_json = "{\"best_val_error\": 0.42, \"loader\": [1, 2, 3]}";
    an_status saved = checkpoint_save(path, a, &meta, state_json);
    if (saved != AN_OK) print_error("%s\n", error_message());
    assert_int_equal(saved, AN_OK);

    net_config cfg;
    an_status read = checkpoint_read_config(path, &cfg);
    if (read != AN_OK) print_error("%s\n", error_message());
    assert_int_equal(read, AN_OK);
    assert_true(cfg.width == 0.125 && cfg.num_classes == 7);
    assert_int_equal(cfg.lrn_convention, LRN_ALPHA_LITERAL);
    assert_int_equal(cfg.init, NET_INIT_CAFFE);
    assert_true(cfg.dropout_rate == 0.25f);

    net *b = NULL;
    assert_int_equal(net_create_cpu(&b, &cfg, 1), AN_OK);
    checkpoint_meta got;
    char *got_state = NULL;
    assert_int_equal(checkpoint_load(path, b, &got, &got_state), AN_OK);
    assert_memory_equal(net_params(a), net_params(b), net_param_count(a) * sizeof(float));
    size_t end = 0;
    for (int i = 0; i < net_param_view_count(b); i++) {
        const net_param_view *v = net_param_view_at(b, i);
        assert_memory_equal(net_momentum(a) + v->offset, net_momentum(b) + v->offset, v->count * sizeof(float));
        for (size_t k = end; k < v->offset; k++) assert_true(net_momentum(b)[k] == 0.0f);
        end = v->offset + v->count;
    }
    assert_true(got.step == 1200 && got.epoch == 3 && got.lr_drops == 1);
    assert_true(got.learning_rate == 0.001 && got.seed == 0x123456789abcull);
    assert_string_equal(got.dataset_id, "0123456789abcdef");
    assert_string_equal(got_state, state_json);
    free(got_state);

    /* overwriting is atomic and leaves no temporary file */
    meta.step = 1300;
    assert_int_equal(checkpoint_save(path, a, &meta, NULL), AN_OK);
    assert_int_equal(checkpoint_load(path, b, &got, &got_state), AN_OK);
    assert_true(got.step == 1300);
    assert_string_equal(got_state, "{}");
    free(got_state);
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) files++;
    closedir(d);
    assert_int_equal(files, 1);

    /* weights by name, readable by any HDF5 reader */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_true(H5Lexists(f, "weights/fc8.bias", H5P_DEFAULT) > 0);
    assert_true(H5Lexists(f, "momentum/conv2.weight", H5P_DEFAULT) > 0);
    H5Fclose(f);

    /* a network of another shape is refused, naming the difference */
    net *c = small_net(0.25, 7);
    assert_int_equal(checkpoint_load(path, c, &got, NULL), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "width"));
    net_destroy(c);
    net_destroy(b);
    net_destroy(a);
}

static void test_refusals(void **state)
{
    (void)state;
    char path[512];
    net_config cfg;
    snprintf(path, sizeof path, "%s/missing.h5", tmpdir);
    assert_int_equal(checkpoint_read_config(path, &cfg), AN_ERR_HDF5);
    assert_non_null(strstr(error_message(), "missing.h5"));
    /* an HDF5 file that is not a checkpoint */
    snprintf(path, sizeof path, "%s/other.h5", tmpdir);
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    assert_true(f >= 0);
    H5Fclose(f);
    assert_int_equal(checkpoint_read_config(path, &cfg), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "format_version"));
    /* a too long dataset id */
    net *a = small_net(0.125, 3);
    checkpoint_meta meta = {0};
    memset(meta.dataset_id, 'a', CHECKPOINT_DATASET_ID_LEN);
    snprintf(path, sizeof path, "%s/ok.h5", tmpdir);
    assert_int_equal(checkpoint_save(path, a, &meta, NULL), AN_OK);
    /* a directory that does not exist */
    snprintf(path, sizeof path, "%s/no/such/dir/ckpt.h5", tmpdir);
    assert_int_not_equal(checkpoint_save(path, a, &meta, NULL), AN_OK);
    assert_non_null(strstr(error_message(), "ckpt.h5"));
    net_destroy(a);
}

/* The experiments' settings travel with the checkpoint; a checkpoint written
 * before they existed (no such attributes) reads as the paper's network. */
static void test_variant_and_older_checkpoints(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/variant.h5", tmpdir);
    net_config cfg, got;
    net_config_default(&cfg);
    cfg.width = 0.0625;
    cfg.num_classes = 4;
    cfg.lrn = 0;
    cfg.pooling = NET_POOL_PLAIN;
    cfg.towers = 1;
    cfg.activation = NET_ACTIVATION_TANH;
    net *a = NULL, *paper = NULL;
    assert_int_equal(net_create_cpu(&a, &cfg, 1), AN_OK);
    assert_int_equal(net_init_params(a, 2), AN_OK);
    checkpoint_meta meta = {.step = 1};
    assert_int_equal(checkpoint_save(path, a, &meta, NULL), AN_OK);
    assert_int_equal(checkpoint_read_config(path, &got), AN_OK);
    assert_true(got.lrn == 0 && got.pooling == NET_POOL_PLAIN && got.towers == 1 &&
                got.activation == NET_ACTIVATION_TANH);

    /* a network of another variant is refused, naming both */
    net_config other = cfg;
    other.activation = NET_ACTIVATION_RELU;
    net *b = NULL;
    assert_int_equal(net_create_cpu(&b, &other, 1), AN_OK);
    checkpoint_meta m;
    assert_int_equal(checkpoint_load(path, b, &m, NULL), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "tanh"));
    assert_non_null(strstr(error_message(), "relu"));
    net_destroy(b);
    other = cfg;
    other.lrn = 1;
    assert_int_equal(net_create_cpu(&b, &other, 1), AN_OK);
    assert_int_equal(checkpoint_load(path, b, &m, NULL), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "LRN is off"));
    net_destroy(b);

    /* an older checkpoint: the paper's network, without the four attributes */
    net_config paper_cfg;
    net_config_default(&paper_cfg);
    paper_cfg.width = 0.0625;
    paper_cfg.num_classes = 4;
    assert_int_equal(net_create_cpu(&paper, &paper_cfg, 1), AN_OK);
    assert_int_equal(checkpoint_save(path, paper, &meta, NULL), AN_OK);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    const char *added[] = {"lrn", "pooling", "towers", "activation"};
    for (int i = 0; i < 4; i++) assert_true(H5Adelete_by_name(f, "config", added[i], H5P_DEFAULT) >= 0);
    H5Fclose(f);
    got = cfg; /* every field the opposite of the paper's */
    assert_int_equal(checkpoint_read_config(path, &got), AN_OK);
    assert_true(got.lrn == 1 && got.pooling == NET_POOL_OVERLAP && got.towers == 2 &&
                got.activation == NET_ACTIVATION_RELU);
    assert_int_equal(checkpoint_load(path, paper, &m, NULL), AN_OK);
    net_destroy(paper);
    net_destroy(a);
}

/* Saves a width-0.125, 3-class checkpoint at `path`. */
static void save_small(const char *path)
{
    net *a = small_net(0.125, 3);
    checkpoint_meta meta = {.step = 7, .epoch = 1, .learning_rate = 0.01, .seed = 3};
    assert_int_equal(checkpoint_save(path, a, &meta, "{}"), AN_OK);
    net_destroy(a);
}

/* Loads `path` into the network its own config describes; returns the status. */
static an_status load_as_written(const char *path)
{
    net_config cfg;
    an_status st = checkpoint_read_config(path, &cfg);
    if (st != AN_OK) return st;
    net *n = NULL;
    assert_int_equal(net_create_cpu(&n, &cfg, 1), AN_OK);
    checkpoint_meta meta;
    char *state_json = NULL;
    st = checkpoint_load(path, n, &meta, &state_json);
    free(state_json);
    net_destroy(n);
    return st;
}

/* Rewrites attribute `name` of object `obj` in `path` as `count` values
 * `value` of file type `type` (H5T_STD_I64LE, H5T_IEEE_F64LE). */
static void rewrite_attr(const char *path, const char *obj, const char *name, hid_t type, hsize_t count, double value)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    assert_true(f >= 0);
    assert_true(H5Adelete_by_name(f, obj, name, H5P_DEFAULT) >= 0);
    hid_t space = count == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, NULL);
    hid_t attr = H5Acreate_by_name(f, obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    double values[64];
    for (int i = 0; i < 64; i++) values[i] = value;
    assert_true(attr >= 0 && H5Awrite(attr, H5T_NATIVE_DOUBLE, values) >= 0);
    H5Aclose(attr);
    H5Sclose(space);
    H5Fclose(f);
}

static void test_hostile_checkpoints(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/hostile.h5", tmpdir);

    /* A newer format_version: refused, saying so and what to do. */
    save_small(path);
    rewrite_attr(path, ".", "format_version", H5T_STD_I64LE, 1, CHECKPOINT_FORMAT_VERSION + 1);
    assert_int_equal(load_as_written(path), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "newer"));
    assert_non_null(strstr(error_message(), "hostile.h5"));

    /* An attribute holding many values where one is expected (would overflow the one it is read into). */
    save_small(path);
    rewrite_attr(path, ".", "format_version", H5T_STD_I64LE, 64, CHECKPOINT_FORMAT_VERSION);
    assert_int_equal(load_as_written(path), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "holds 64 values"));

    /* A config out of range (num_classes sizes fc8). */
    save_small(path);
    rewrite_attr(path, "config", "num_classes", H5T_STD_I64LE, 1, 2000000000);
    assert_int_equal(load_as_written(path), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "num_classes 2000000000"));

    /* A config describing a far bigger network than the file holds (width 64:
     * about 2e11 parameters): refused before anything is allocated for it
     * (found by the fuzz campaign: net_create asked for 8 GB). */
    save_small(path);
    rewrite_attr(path, "config", "width", H5T_IEEE_F64LE, 1, 64);
    net_config big;
    assert_int_equal(checkpoint_read_config(path, &big), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "but the file is only"));
    assert_non_null(strstr(error_message(), "hostile.h5"));

    /* Shapes that disagree with the config: a checkpoint of 3 classes whose config says 5. */
    save_small(path);
    rewrite_attr(path, "config", "num_classes", H5T_STD_I64LE, 1, 5);
    assert_int_equal(load_as_written(path), AN_ERR_FORMAT);
    assert_non_null(strstr(error_message(), "fc8.weight is ["));
    assert_non_null(strstr(error_message(), "but the network its config describes has [5,"));

    /* Truncated at several places: refused with a message naming the file, never a crash. */
    save_small(path);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    for (long keep = 0; keep < size; keep += size / 7 + 1) {
        save_small(path);
        assert_int_equal(truncate(path, keep), 0);
        assert_int_not_equal(load_as_written(path), AN_OK);
        assert_non_null(strstr(error_message(), "hostile.h5"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_variant_and_older_checkpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_checkpoints, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
