/* checkpoint.c: the network's state in one HDF5 file (docs/FORMAT.md §2),
 * written under a temporary name and renamed durably. A checkpoint may come
 * from someone else: every attribute is checked to hold one value of the
 * right class, the configuration's ranges, each tensor's type and shape and
 * the trainer state's type and length are checked before anything is read
 * into memory sized by them. */
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "checkpoint.h"
#include "h5_error.h"
#include "h5_io.h"
#include "net_internal.h"

#define CHECKPOINT_KIND "alexnet-checkpoint"
#define CHECKPOINT_DAMAGED "the checkpoint is damaged: use another checkpoint of the run, or train again"
#define CHECKPOINT_MAX_CLASSES (1 << 20)       /* more classes than any dataset prep accepts */

/* ------------------------------------------------------------ tensors */

/* block [plan->param_count] in the plan's layout (a whole network's). */
static an_status tensors_write(hid_t file, const char *group, const net_plan *plan, const float *block)
{
    an_status st = AN_OK;
    hid_t g = h5_io_create_group(file, group);
    if (g < 0) return h5_error_capture("creating group %s", group);
    for (int i = 0; i < plan->view_count && st == AN_OK; i++) {
        const net_param_view *v = &plan->views[i];
        hsize_t dims[4];
        for (int d = 0; d < v->ndim; d++) dims[d] = (hsize_t)v->shape[d];
        hid_t space = H5Screate_simple(v->ndim, dims, NULL);
        hid_t ds = space < 0 ? H5I_INVALID_HID
                             : H5Dcreate2(g, v->name, H5T_IEEE_F32LE, space, H5P_DEFAULT,
                                          H5P_DEFAULT, H5P_DEFAULT);
        if (ds < 0 || H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                               block + v->offset) < 0)
            st = h5_error_capture("writing %s/%s", group, v->name);
        if (ds >= 0) H5Dclose(ds);
        if (space >= 0) H5Sclose(space);
    }
    H5Gclose(g);
    return st;
}

static an_status tensor_read(hid_t g, const char *group, const net_param_view *v, float *dst)
{
    an_status st = AN_OK;
    if (H5Lexists(g, v->name, H5P_DEFAULT) <= 0)
        return error_set(AN_ERR_FORMAT, "%s/%s is missing", group, v->name);
    hid_t ds = H5Dopen2(g, v->name, H5P_DEFAULT);
    if (ds < 0) return h5_error_capture("opening %s/%s", group, v->name);
    hid_t space = H5Dget_space(ds);
    hsize_t dims[4] = {0, 0, 0, 0};
    hid_t type = H5Dget_type(ds);
    int ndim = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    int same = ndim == v->ndim && H5Sget_simple_extent_dims(space, dims, NULL) == ndim;
    for (int d = 0; same && d < ndim; d++) same = dims[d] == (hsize_t)v->shape[d];
    if (!same) {
        char have[96] = "", want[96] = "";
        for (int d = 0; d < ndim && d < 4; d++)
            snprintf(have + strlen(have), sizeof have - strlen(have), "%s%llu", d ? "," : "",
                     (unsigned long long)dims[d]);
        for (int d = 0; d < v->ndim; d++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", d ? "," : "", v->shape[d]);
        st = error_set(AN_ERR_FORMAT, "%s/%s is [%s], but the network its config describes has [%s] "
                       "(the checkpoint is damaged or was edited)", group, v->name, have, want);
    } else if (type < 0 || H5Tget_class(type) != H5T_FLOAT) {
        st = error_set(AN_ERR_FORMAT, "%s/%s does not hold floating-point numbers", group, v->name);
    } else if (H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0) {
        st = h5_error_capture("reading %s/%s", group, v->name);
    }
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Dclose(ds);
    return st;
}

static an_status tensors_read(hid_t file, const char *group, const net_plan *plan, float *block)
{
    hid_t g = H5Gopen2(file, group, H5P_DEFAULT);
    if (g < 0) return error_set(AN_ERR_FORMAT, "group %s is missing", group);
    an_status st = AN_OK;
    for (int i = 0; i < plan->view_count && st == AN_OK; i++) {
        const net_param_view *v = &plan->views[i];
        st = tensor_read(g, group, v, block + v->offset);
    }
    H5Gclose(g);
    return st;
}

/* ------------------------------------------------------------ trainer state */

/* One string [1] (fixed-length: common/h5_io.h); a scalar variable-length
 * string in checkpoints of format version 1. */
static an_status state_write(hid_t file, const char *json)
{
    return h5_io_write_strings(file, "trainer_state", &json, 1);
}

typedef struct state_job {
    hid_t file;
    char **state;
} state_job;

static an_status state_read_legacy(void *ctx)
{
    state_job *j = ctx;
    return h5_io_read_strings(j->file, H5IO_STRINGS_LEGACY, "trainer_state", 1, &j->state);
}

static an_status state_read(hid_t file, int version, char **out)
{
    char **state = NULL;
    if (version < CHECKPOINT_FORMAT_VERSION) {
        /* format version 1: the trainer state is in HDF5's global heap, read
         * first in a child that only checks it (h5_io.h) */
        state_job job = {file, NULL};
        h5_io_lock();
        an_status checked = h5_io_check_in_child(state_read_legacy, &job);
        h5_io_unlock();
        AN_TRY(checked);
        AN_TRY(state_read_legacy(&job));
        state = job.state;
    } else {
        AN_TRY(h5_io_read_strings(file, H5IO_STRINGS_FIXED, "trainer_state", 1, &state));
    }
    *out = state[0];
    state[0] = NULL;
    h5_io_free_strings(state, 1);
    return AN_OK;
}

/* ------------------------------------------------------------ save */

static an_status config_write(hid_t file, const net_config *c)
{
    an_status st = AN_OK;
    hid_t g = h5_io_create_group(file, "config");
    if (g < 0) return h5_error_capture("creating group config");
    double dropout = c->dropout_rate;
    AN_TRY_GOTO(st, h5_io_write_attr(g, "width", H5T_NATIVE_DOUBLE, &c->width), done);
    AN_TRY_GOTO(st, h5_io_write_attr(g, "num_classes", H5T_NATIVE_INT, &c->num_classes), done);
    AN_TRY_GOTO(st, h5_io_write_attr_string(g, "lrn_convention", lrn_convention_name(c->lrn_convention)), done);
    AN_TRY_GOTO(st, h5_io_write_attr_string(g, "init", net_init_scheme_name(c->init)), done);
    AN_TRY_GOTO(st, h5_io_write_attr(g, "dropout_rate", H5T_NATIVE_DOUBLE, &dropout), done);
    /* the experiments' settings (net.h); absent in checkpoints written before them */
    AN_TRY_GOTO(st, h5_io_write_attr(g, "lrn", H5T_NATIVE_INT, &c->lrn), done);
    AN_TRY_GOTO(st, h5_io_write_attr_string(g, "pooling", net_pooling_name(c->pooling)), done);
    AN_TRY_GOTO(st, h5_io_write_attr(g, "towers", H5T_NATIVE_INT, &c->towers), done);
    AN_TRY_GOTO(st, h5_io_write_attr_string(g, "activation", net_activation_name(c->activation)), done);
done:
    H5Gclose(g);
    return st;
}

static an_status meta_write(hid_t file, const checkpoint_meta *m)
{
    int version = CHECKPOINT_FORMAT_VERSION;
    AN_TRY(h5_io_write_attr(file, "format_version", H5T_NATIVE_INT, &version));
    AN_TRY(h5_io_write_attr_string(file, "kind", CHECKPOINT_KIND));
    AN_TRY(h5_io_write_attr(file, "step", H5T_NATIVE_UINT64, &m->step));
    AN_TRY(h5_io_write_attr(file, "epoch", H5T_NATIVE_UINT32, &m->epoch));
    AN_TRY(h5_io_write_attr(file, "learning_rate", H5T_NATIVE_DOUBLE, &m->learning_rate));
    AN_TRY(h5_io_write_attr(file, "lr_drops", H5T_NATIVE_INT, &m->lr_drops));
    AN_TRY(h5_io_write_attr(file, "seed", H5T_NATIVE_UINT64, &m->seed));
    return h5_io_write_attr_string(file, "dataset_id", m->dataset_id);
}

/* The whole network's plan and host blocks of the members of a split
 * network (net.h), or of one whole network (whose own plan and blocks are
 * used, no copy). */
typedef struct whole_blocks {
    net_plan *plan;           /* the whole network's */
    float *weights, *momentum; /* [plan->param_count] host */
    float *owned;             /* [2 x param_count] when gathered, else NULL */
    int own_plan;
} whole_blocks;

static void whole_blocks_free(whole_blocks *w)
{
    free(w->owned);
    if (w->own_plan) free(w->plan);
    memset(w, 0, sizeof *w);
}

static an_status members_check(net *const *members, int count)
{
    const net_split *split = net_get_split(members[0]);
    if (split->kind == NET_SPLIT_NONE) {
        if (count != 1) return error_set(AN_ERR_INTERNAL, "%d whole networks for one checkpoint", count);
        return AN_OK;
    }
    if (count != split->count)
        return error_set(AN_ERR_INTERNAL, "%d of the %d members of a split network", count, split->count);
    for (int j = 0; j < count; j++)
        if (net_get_split(members[j])->index != j)
            return error_set(AN_ERR_INTERNAL, "member %d of a split network is member %d", j,
                             net_get_split(members[j])->index);
    return AN_OK;
}

/* w = the whole network's plan and blocks: the members' views put in place
 * (gather), or with `gather` 0 zeroed blocks for reading into. */
static an_status whole_blocks_open(whole_blocks *w, net *const *members, int count, int gather)
{
    memset(w, 0, sizeof *w);
    AN_TRY(members_check(members, count));
    net *first = members[0];
    if (net_get_split(first)->kind == NET_SPLIT_NONE) {
        w->plan = &first->plan;
        AN_TRY(net_block_to_host(first, NET_BLOCK_PARAMS, &w->weights));
        return net_block_to_host(first, NET_BLOCK_MOMENTUM, &w->momentum);
    }
    w->plan = malloc(sizeof *w->plan);
    AN_CHECK_ALLOC(w->plan, sizeof *w->plan);
    w->own_plan = 1;
    an_status st = net_plan_build(w->plan, net_get_config(first), 1);
    const size_t floats = w->plan->param_count;
    if (st == AN_OK && !(w->owned = calloc(2 * floats, sizeof(float))))
        st = error_set(AN_ERR_NOMEM, "out of memory for the whole network's weights and momentum (%zu floats)",
                       2 * floats);
    if (st == AN_OK) {
        w->weights = w->owned;
        w->momentum = w->owned + floats;
    }
    for (int j = 0; gather && st == AN_OK && j < count; j++) {
        st = net_to_whole(members[j], NET_BLOCK_PARAMS, w->weights);
        if (st == AN_OK) st = net_to_whole(members[j], NET_BLOCK_MOMENTUM, w->momentum);
    }
    if (st != AN_OK) whole_blocks_free(w);
    return st;
}

/* The whole blocks' values into the members (a whole network: its own blocks, made current on its backend). */
static an_status whole_blocks_scatter(const whole_blocks *w, net *const *members, int count)
{
    if (!w->own_plan) {
        AN_TRY(net_block_from_host(members[0], NET_BLOCK_PARAMS, w->weights));
        return net_block_from_host(members[0], NET_BLOCK_MOMENTUM, w->momentum);
    }
    for (int j = 0; j < count; j++) {
        AN_TRY(net_from_whole(members[j], NET_BLOCK_PARAMS, w->weights));
        AN_TRY(net_from_whole(members[j], NET_BLOCK_MOMENTUM, w->momentum));
    }
    return AN_OK;
}

an_status checkpoint_save(const char *path, net *n, const checkpoint_meta *meta, const char *trainer_state_json)
{
    return checkpoint_save_members(path, &n, 1, meta, trainer_state_json);
}

an_status checkpoint_save_members(const char *path, net *const *members, int count, const checkpoint_meta *meta,
                                  const char *trainer_state_json)
{
    char tmp[ATOMIC_PATH_MAX];
    an_status st = AN_OK;
    h5_error_init();
    if (strlen(meta->dataset_id) > CHECKPOINT_DATASET_ID_LEN)
        return error_set(AN_ERR_ARG, "dataset id '%s' is longer than %d characters",
                         meta->dataset_id, CHECKPOINT_DATASET_ID_LEN);
    AN_TRY(atomic_temp_name(path, tmp, sizeof tmp));
    whole_blocks w; /* the whole network's tensors, gathered from the members of a split one */
    AN_TRY(whole_blocks_open(&w, members, count, 1));
    hid_t file = h5_io_create_file(tmp, H5F_ACC_EXCL);
    if (file < 0) {
        whole_blocks_free(&w);
        return h5_error_capture("creating checkpoint %s", tmp);
    }
    AN_TRY_GOTO(st, meta_write(file, meta), fail);
    AN_TRY_GOTO(st, config_write(file, net_get_config(members[0])), fail);
    AN_TRY_GOTO(st, tensors_write(file, "weights", w.plan, w.weights), fail);
    AN_TRY_GOTO(st, tensors_write(file, "momentum", w.plan, w.momentum), fail);
    AN_TRY_GOTO(st, state_write(file, trainer_state_json ? trainer_state_json : "{}"), fail);
    hid_t closing = file;
    file = H5I_INVALID_HID;
    if (H5Fclose(closing) < 0) {
        st = h5_error_capture("closing checkpoint %s", tmp);
        goto fail;
    }
    AN_TRY_GOTO(st, atomic_rename_durable(tmp, path), fail);
    whole_blocks_free(&w);
    return AN_OK;
fail:
    whole_blocks_free(&w);
    if (file >= 0) H5Fclose(file);
    unlink(tmp);
    return error_context(st, "saving checkpoint %s", path);
}

/* ------------------------------------------------------------ load */

/* Opens a checkpoint of a version this program reads; *version_out is its format_version. */
static an_status open_checked(const char *path, hid_t *out, int *version_out)
{
    h5_error_init();
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) return h5_io_advise(h5_error_capture("opening checkpoint %s", path), CHECKPOINT_DAMAGED);
    int version = 0;
    char kind[64];
    an_status st = h5_io_read_attr(file, "format_version", H5T_NATIVE_INT, &version);
    if (st == AN_OK) st = h5_io_read_attr_string(file, H5IO_STRINGS_FIXED, "kind", kind, sizeof kind);
    st = h5_io_advise(st, CHECKPOINT_DAMAGED);
    if (st == AN_OK && strcmp(kind, CHECKPOINT_KIND) != 0)
        st = error_set(AN_ERR_FORMAT, "kind is '%s', not '%s'", kind, CHECKPOINT_KIND);
    if (st == AN_OK && version > CHECKPOINT_FORMAT_VERSION)
        st = error_set(AN_ERR_FORMAT, "format_version %d is newer than this program reads (%d): it was written "
                       "by a newer alexnet; use that version, or upgrade this one", version,
                       CHECKPOINT_FORMAT_VERSION);
    else if (st == AN_OK && version < CHECKPOINT_FORMAT_VERSION_OLDEST)
        st = error_set(AN_ERR_FORMAT, "format_version %d is not %d..%d (written by another version)",
                       version, CHECKPOINT_FORMAT_VERSION_OLDEST, CHECKPOINT_FORMAT_VERSION);
    if (st != AN_OK) {
        H5Fclose(file);
        return error_context(st, "checkpoint %s", path);
    }
    *out = file;
    *version_out = version;
    return AN_OK;
}

static an_status config_read(hid_t file, net_config *c)
{
    hid_t g = H5Gopen2(file, "config", H5P_DEFAULT);
    if (g < 0) return error_set(AN_ERR_FORMAT, "group config is missing");
    an_status st = AN_OK;
    char name[64];
    double dropout = 0.0;
    net_config_default(c);
    AN_TRY_GOTO(st, h5_io_read_attr(g, "width", H5T_NATIVE_DOUBLE, &c->width), done);
    AN_TRY_GOTO(st, h5_io_read_attr(g, "num_classes", H5T_NATIVE_INT, &c->num_classes), done);
    AN_TRY_GOTO(st, h5_io_read_attr_string(g, H5IO_STRINGS_FIXED, "lrn_convention", name, sizeof name), done);
    AN_TRY_GOTO(st, lrn_convention_parse(name, &c->lrn_convention), done);
    AN_TRY_GOTO(st, h5_io_read_attr_string(g, H5IO_STRINGS_FIXED, "init", name, sizeof name), done);
    AN_TRY_GOTO(st, net_init_scheme_parse(name, &c->init), done);
    AN_TRY_GOTO(st, h5_io_read_attr(g, "dropout_rate", H5T_NATIVE_DOUBLE, &dropout), done);
    c->dropout_rate = (float)dropout;
    /* A checkpoint written before the experiments' settings has none of them:
     * it holds the paper's network (net_config_default's values, kept above). */
    if (H5Aexists(g, "lrn") > 0) AN_TRY_GOTO(st, h5_io_read_attr(g, "lrn", H5T_NATIVE_INT, &c->lrn), done);
    if (H5Aexists(g, "pooling") > 0) {
        AN_TRY_GOTO(st, h5_io_read_attr_string(g, H5IO_STRINGS_FIXED, "pooling", name, sizeof name), done);
        AN_TRY_GOTO(st, net_pooling_parse(name, &c->pooling), done);
    }
    if (H5Aexists(g, "towers") > 0) AN_TRY_GOTO(st, h5_io_read_attr(g, "towers", H5T_NATIVE_INT, &c->towers), done);
    if (H5Aexists(g, "activation") > 0) {
        AN_TRY_GOTO(st, h5_io_read_attr_string(g, H5IO_STRINGS_FIXED, "activation", name, sizeof name), done);
        AN_TRY_GOTO(st, net_activation_parse(name, &c->activation), done);
    }
    /* Ranges before anything is sized by them (net_plan_build checks them again). */
    if (!(c->width >= NET_WIDTH_MIN && c->width <= NET_WIDTH_MAX) || c->num_classes < 2 ||
        c->num_classes > CHECKPOINT_MAX_CLASSES || !(dropout >= 0.0 && dropout < 1.0))
        st = error_set(AN_ERR_FORMAT, "config out of range: width %g [%g, %g], num_classes %d (2..%d), "
                       "dropout_rate %g [0, 1)", c->width, NET_WIDTH_MIN, NET_WIDTH_MAX, c->num_classes,
                       CHECKPOINT_MAX_CLASSES, dropout);
    else if ((c->lrn != 0 && c->lrn != 1) || (c->towers != 1 && c->towers != 2))
        st = error_set(AN_ERR_FORMAT, "config out of range: lrn %d (0 or 1), towers %d (1 or 2)", c->lrn, c->towers);
done:
    H5Gclose(g);
    return st;
}

/* A checkpoint holds the weights and the momentum, each [param_count] float32
 * uncompressed (docs/FORMAT.md section 2): a file smaller than that cannot be
 * one of the network its config describes. Checked before anything is sized
 * by the config, so that a damaged or hostile `width` cannot make a reader
 * allocate gigabytes for a file of a few kilobytes. */
static an_status config_fits_file(hid_t file, const net_config *c)
{
    net_plan *plan = malloc(sizeof *plan);
    AN_CHECK_ALLOC(plan, sizeof *plan);
    an_status st = net_plan_build(plan, c, 1);
    hsize_t file_bytes = 0;
    if (st == AN_OK && H5Fget_filesize(file, &file_bytes) < 0) st = h5_error_capture("cannot read the file's size");
    if (st == AN_OK && file_bytes / (2 * sizeof(float)) < plan->parameters)
        st = error_set(AN_ERR_FORMAT, "its config describes a network of %zu parameters (%.1f MB of weights and "
                       "momentum), but the file is only %llu bytes: it is truncated or its config is damaged; "
                       "use another checkpoint", plan->parameters,
                       (double)plan->parameters * 2 * sizeof(float) / 1e6, (unsigned long long)file_bytes);
    free(plan);
    return st;
}

an_status checkpoint_read_config(const char *path, net_config *cfg)
{
    hid_t file;
    int version;
    AN_TRY(open_checked(path, &file, &version));
    an_status st = h5_io_advise(config_read(file, cfg), CHECKPOINT_DAMAGED);
    if (st == AN_OK) st = config_fits_file(file, cfg);
    H5Fclose(file);
    return st == AN_OK ? st : error_context(st, "checkpoint %s", path);
}

an_status checkpoint_read_state(const char *path, char **trainer_state_json)
{
    hid_t file;
    int version;
    *trainer_state_json = NULL;
    AN_TRY(open_checked(path, &file, &version));
    an_status st = h5_io_advise(state_read(file, version, trainer_state_json), CHECKPOINT_DAMAGED);
    H5Fclose(file);
    return st == AN_OK ? st : error_context(st, "checkpoint %s", path);
}

static an_status config_compare(const net_config *file, const net_config *have)
{
    if (file->width != have->width || file->num_classes != have->num_classes)
        return error_set(AN_ERR_FORMAT,
                         "it holds a network of width %g with %d classes, this one has width %g "
                         "with %d classes (create the net from checkpoint_read_config)",
                         file->width, file->num_classes, have->width, have->num_classes);
    if (file->lrn != have->lrn || (file->lrn && file->lrn_convention != have->lrn_convention))
        return error_set(AN_ERR_FORMAT, "its LRN is %s, this network's is %s", net_lrn_name(file),
                         net_lrn_name(have));
    if (file->pooling != have->pooling || file->towers != have->towers || file->activation != have->activation)
        return error_set(AN_ERR_FORMAT,
                         "it holds a network with %s pooling, %d tower(s) and %s, this one has %s pooling, "
                         "%d tower(s) and %s (create the net from checkpoint_read_config)",
                         net_pooling_name(file->pooling), file->towers, net_activation_name(file->activation),
                         net_pooling_name(have->pooling), have->towers, net_activation_name(have->activation));
    return AN_OK;
}

static an_status meta_read(hid_t file, checkpoint_meta *m)
{
    memset(m, 0, sizeof *m);
    AN_TRY(h5_io_read_attr(file, "step", H5T_NATIVE_UINT64, &m->step));
    AN_TRY(h5_io_read_attr(file, "epoch", H5T_NATIVE_UINT32, &m->epoch));
    AN_TRY(h5_io_read_attr(file, "learning_rate", H5T_NATIVE_DOUBLE, &m->learning_rate));
    AN_TRY(h5_io_read_attr(file, "lr_drops", H5T_NATIVE_INT, &m->lr_drops));
    AN_TRY(h5_io_read_attr(file, "seed", H5T_NATIVE_UINT64, &m->seed));
    return h5_io_read_attr_string(file, H5IO_STRINGS_FIXED, "dataset_id", m->dataset_id, sizeof m->dataset_id);
}

an_status checkpoint_load(const char *path, net *n, checkpoint_meta *meta,
                          char **trainer_state_json)
{
    return checkpoint_load_members(path, &n, 1, meta, trainer_state_json);
}

an_status checkpoint_load_members(const char *path, net *const *members, int count, checkpoint_meta *meta,
                                  char **trainer_state_json)
{
    hid_t file;
    int version;
    net_config cfg;
    an_status st = AN_OK;
    whole_blocks w;
    memset(&w, 0, sizeof w);
    if (trainer_state_json) *trainer_state_json = NULL;
    AN_TRY(open_checked(path, &file, &version));
    AN_TRY_GOTO(st, h5_io_advise(config_read(file, &cfg), CHECKPOINT_DAMAGED), done);
    AN_TRY_GOTO(st, config_compare(&cfg, net_get_config(members[0])), done);
    AN_TRY_GOTO(st, h5_io_advise(meta_read(file, meta), CHECKPOINT_DAMAGED), done);
    /* the whole network's tensors, scattered to the members of a split one */
    AN_TRY_GOTO(st, whole_blocks_open(&w, members, count, 0), done);
    AN_TRY_GOTO(st, h5_io_advise(tensors_read(file, "weights", w.plan, w.weights), CHECKPOINT_DAMAGED), done);
    AN_TRY_GOTO(st, h5_io_advise(tensors_read(file, "momentum", w.plan, w.momentum), CHECKPOINT_DAMAGED), done);
    AN_TRY_GOTO(st, whole_blocks_scatter(&w, members, count), done);
    if (trainer_state_json)
        AN_TRY_GOTO(st, h5_io_advise(state_read(file, version, trainer_state_json), CHECKPOINT_DAMAGED), done);
done:
    whole_blocks_free(&w);
    H5Fclose(file);
    return st == AN_OK ? st : error_context(st, "loading checkpoint %s", path);
}
