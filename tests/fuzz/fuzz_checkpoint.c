/* fuzz_checkpoint.c: libFuzzer target, structure-aware: a checkpoint from
 * someone else (docs/FORMAT.md section 2). A valid checkpoint of a tiny
 * network is written once; each input then applies up to eight edits to a
 * copy with the HDF5 API (an attribute rewritten with another value, element
 * count or type, or deleted; a tensor replaced with another shape or type;
 * the trainer state replaced by the input's text or by another type) and may
 * cut the file. The copy is loaded as alexnet-train --resume and alexnet-eval
 * load one: checkpoint_read_config, net_create from it, checkpoint_load, and
 * the trainer state parsed. Refusals must come with a message, never a crash. */
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fuzz_h5.h"
#include "fuzz_util.h"
#include "h5_error.h"
#include "train_state.h"
#include "net_cpu.h"

static const char *const root_attrs[] = {"format_version", "kind", "step", "epoch", "learning_rate",
                                         "lr_drops", "seed", "dataset_id"};
static const char *const config_attrs[] = {"width", "num_classes", "lrn_convention", "init", "dropout_rate"};
static const char *const tensors[] = {"weights/conv1.weight", "weights/fc8.bias", "momentum/fc6.weight",
                                      "momentum/conv2.bias"};

/* The strings an attribute may be rewritten with: the checkpoint's own values and an empty one. */
static const char *const strings[7] = {"paper", "caffe", "literal", "divided_by_n", "fan_in", "alexnet-checkpoint", ""};

static uint8_t *template_bytes;
static size_t template_size;

static void make_template(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/template.h5", fuzz_dir());
    net_config cfg;
    net_config_default(&cfg);
    cfg.width = 0.02;
    cfg.num_classes = 3;
    net *n = NULL;
    if (net_create_cpu(&n, &cfg, 1) != AN_OK) abort();
    checkpoint_meta meta = {.step = 5, .epoch = 1, .learning_rate = 0.01, .seed = 1};
    memcpy(meta.dataset_id, "0123456789abcdef", 17);
    train_state s;
    memset(&s, 0, sizeof s);
    s.batch = 8;
    lr_schedule_init(&s.schedule, 0.01, 3);
    char *json = NULL;
    if (train_state_to_json(&s, &json) != AN_OK || checkpoint_save(path, n, &meta, json) != AN_OK) abort();
    free(json);
    net_destroy(n);
    template_bytes = fuzz_read_file(path, &template_size);
}

static void replace_state(hid_t file, fuzz_bytes *b)
{
    H5Ldelete(file, "trainer_state", H5P_DEFAULT);
    unsigned kind = fuzz_byte(b) % 4;
    if (kind == 3) return; /* deleted */
    size_t n = b->size - b->used; /* the rest of the input is the text */
    char *text = malloc(n + 1);
    if (!text) return;
    memcpy(text, b->data + b->used, n);
    text[n] = 0;
    b->used = b->size;
    /* kind 0: [1] fixed-length, as format version 2 writes it; 1: a fixed-length scalar;
     * 2: three variable-length strings; 3: deleted (above) */
    hsize_t count = kind == 2 ? 3 : 1;
    hid_t space = kind == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &count, NULL);
    hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, kind == 2 ? H5T_VARIABLE : n + 1);
    hid_t dset = H5Dcreate2(file, "trainer_state", type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const char *values[3] = {text, text, text};
    if (dset >= 0) {
        H5Dwrite(dset, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, kind != 2 ? (const void *)text : (const void *)values);
        H5Dclose(dset);
    }
    H5Tclose(type);
    H5Sclose(space);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    h5_error_init();
    if (!template_bytes) make_template();
    char path[4096];
    hid_t file = fuzz_h5_open_copy("ckpt.h5", template_bytes, template_size, path);
    fuzz_bytes b = {data, size, 0};
    for (int edit = 0; edit < 8 && b.used < b.size; edit++) {
        unsigned op = fuzz_byte(&b) % 5, which = fuzz_byte(&b);
        if (op == 0) fuzz_h5_rewrite_attr(file, ".", root_attrs[which % 8], strings, &b);
        else if (op == 1) fuzz_h5_rewrite_attr(file, "config", config_attrs[which % 5], strings, &b);
        else if (op == 2) fuzz_h5_replace_dataset(file, tensors[which % 4], &b);
        else if (op == 3) replace_state(file, &b);
        else break;
    }
    H5Fclose(file);
    fuzz_h5_cut(path, template_size, &b);

    net_config cfg;
    if (checkpoint_read_config(path, &cfg) != AN_OK) return 0;
    net *n = NULL;
    if (net_create_cpu(&n, &cfg, 1) != AN_OK) return 0;
    checkpoint_meta meta;
    char *json = NULL;
    if (checkpoint_load(path, n, &meta, &json) == AN_OK) {
        train_state s;
        (void)train_state_from_json(json, &s);
    }
    free(json);
    net_destroy(n);
    return 0;
}
