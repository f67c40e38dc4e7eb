/* parallel_mode.c: the parallel modes of alexnet-train (parallel_mode.h). */
#include "parallel_mode.h"

#include <stdlib.h>
#include <string.h>

const char *parallel_mode_name(parallel_mode m)
{
    return m == PARALLEL_TOWERS ? "towers" : m == PARALLEL_HYBRID ? "hybrid" : "data";
}

an_status parallel_mode_parse(const char *name, parallel_mode *out)
{
    if (strcmp(name, "data") == 0) *out = PARALLEL_DATA;
    else if (strcmp(name, "towers") == 0) *out = PARALLEL_TOWERS;
    else if (strcmp(name, "hybrid") == 0) *out = PARALLEL_HYBRID;
    else return error_set(AN_ERR_ARG, "unknown parallel mode '%s' (data, towers or hybrid)", name);
    return AN_OK;
}

/* The kind of one --devices name: "cpu" or "cuda" ("cuda:1" is "cuda"); "auto" is unknown (NULL). */
static const char *device_kind(const char *name, size_t len)
{
    if (len == 3 && strncmp(name, "cpu", 3) == 0) return "cpu";
    if (len >= 4 && strncmp(name, "cuda", 4) == 0) return "cuda";
    return NULL;
}

an_status parallel_mode_check_list(parallel_mode m, const char *devices, int cfg_towers)
{
    if (m == PARALLEL_TOWERS && cfg_towers != 2)
        return error_set(AN_ERR_ARG, "--parallel towers puts one of the network's two towers on each device: it "
                         "needs --towers 2, not --towers %d", cfg_towers);
    if (m == PARALLEL_DATA) return AN_OK;
    int count = 0, known = 1;
    const char *first_kind = NULL;
    for (const char *p = devices;;) {
        size_t len = strcspn(p, ",");
        const char *kind = device_kind(p, len);
        /* a lone "cuda" or "auto" opens as many devices as there are: checked once open */
        if (!kind || (len == 4 && strchr(devices, ',') == NULL)) known = 0;
        if (kind && first_kind && strcmp(kind, first_kind) != 0)
            return error_set(AN_ERR_ARG, "--parallel %s: --devices '%s' mixes %s and %s devices; the members of a "
                             "split network are all CPUs or all GPUs", parallel_mode_name(m), devices, first_kind,
                             kind);
        if (kind && !first_kind) first_kind = kind;
        count++;
        if (p[len] == '\0') break;
        p += len + 1;
    }
    return known ? parallel_mode_check_open(m, count) : AN_OK;
}

an_status parallel_mode_check_open(parallel_mode m, int count)
{
    if (m == PARALLEL_TOWERS && count != 2)
        return error_set(AN_ERR_ARG, "--parallel towers needs exactly 2 devices per process (one per tower, §3.2), "
                         "not %d: give --devices cpu,cpu or cuda:0,cuda:1", count);
    if (m == PARALLEL_HYBRID && (count < 2 || count > NET_SPLIT_MAX_MEMBERS))
        return error_set(AN_ERR_ARG, "--parallel hybrid splits the fc layers over 2 to %d devices per process, not "
                         "%d: give --devices cpu,cpu (or more), or --parallel data", NET_SPLIT_MAX_MEMBERS, count);
    return AN_OK;
}

net_split parallel_split(parallel_mode m, int replica, int replicas, communicator *comm)
{
    net_split s = {.kind = NET_SPLIT_NONE, .index = 0, .count = 1, .comm = NULL};
    if (m == PARALLEL_DATA) return s;
    s.kind = m == PARALLEL_TOWERS ? NET_SPLIT_TOWERS : NET_SPLIT_FC_SLICES;
    s.index = replica;
    s.count = replicas;
    s.comm = comm;
    return s;
}

int parallel_batch_slices(parallel_mode m, int processes, int replicas)
{
    return m == PARALLEL_TOWERS ? processes : processes * replicas;
}

size_t parallel_shared_floats(parallel_mode m, const net *n)
{
    if (m == PARALLEL_DATA) return net_param_count(n);
    if (m == PARALLEL_TOWERS) return 0;
    /* hybrid: the views of the conv layers come first in the block, then the fc layers' */
    for (int i = 0; i < net_layer_count(n); i++) {
        const net_layer_info *l = net_layer_at(n, i);
        if (l->kind == NET_LAYER_FC) return net_param_view_at(n, l->weight_view)->offset;
    }
    return net_param_count(n);
}

double parallel_bytes_per_step(parallel_mode m, const net *n, int replicas, int batch)
{
    double floats = (double)net_exchange_floats_per_step(n, batch);
    if (replicas > 1) {
        /* the shared gradients' views (the padding between them is summed too, and counted) */
        floats += 2.0 * (double)parallel_shared_floats(m, n) * (replicas - 1) / replicas;
    }
    return floats * sizeof(float);
}

/* ------------------------------------------------------------ the plan's table */

/* One row: the largest member's parameters and the bytes one device moves per step. */
static an_status plan_row(parallel_mode m, const net_config *cfg, int devices, int batch, double *param_bytes,
                          double *moved_bytes)
{
    const int members = m == PARALLEL_DATA ? 1 : m == PARALLEL_TOWERS ? 2 : devices;
    const int groups = devices / members; /* data-parallel with each other (processes under mpirun) */
    const int group_batch = batch / groups;
    *param_bytes = *moved_bytes = 0.0;
    for (int j = 0; j < members; j++) {
        const net_split split = parallel_split(m, j, members, NULL);
        size_t params, conv, exchange;
        AN_TRY(net_split_sizes(cfg, &split, group_batch, &params, &conv, &exchange));
        /* summed across devices: data every parameter, hybrid the conv layers' among the members and every
         * parameter across the groups, towers each tower's across the groups */
        double summed = 0.0;
        if (m == PARALLEL_DATA) summed = 2.0 * (double)params * (devices - 1) / devices;
        else if (m == PARALLEL_HYBRID) summed = 2.0 * (double)conv * (members - 1) / members;
        if (m != PARALLEL_DATA && groups > 1) summed += 2.0 * (double)params * (groups - 1) / groups;
        const double moved = ((double)exchange + summed) * sizeof(float);
        if (params * sizeof(float) > *param_bytes) *param_bytes = (double)(params * sizeof(float));
        if (moved > *moved_bytes) *moved_bytes = moved;
    }
    return AN_OK;
}

an_status parallel_plan_print(FILE *out, const net_config *cfg, int batch)
{
    static const int counts[] = {1, 2, 4, 8};
    int ok = fprintf(out, "| mode | devices | parameters per device (MB) | moved per device per step (MB) | "
                          "over PCIe 4.0 x16 (ms) | over NVLink 4 (ms) |\n| --- | --- | --- | --- | --- | --- |\n") > 0;
    for (int m = PARALLEL_DATA; m <= PARALLEL_HYBRID && ok; m++) {
        for (size_t k = 0; k < sizeof counts / sizeof counts[0] && ok; k++) {
            const int devices = counts[k];
            if (m != PARALLEL_DATA && devices < 2) {
                ok = fprintf(out, "| %s | %d | - | - | - | - |\n", parallel_mode_name((parallel_mode)m), devices) > 0;
                continue;
            }
            double params, moved;
            AN_TRY(plan_row((parallel_mode)m, cfg, devices, batch, &params, &moved));
            ok = fprintf(out, "| %s | %d | %.1f | %.1f | %.2f | %.3f |\n", parallel_mode_name((parallel_mode)m),
                         devices, params / 1e6, moved / 1e6, 1e3 * moved / PARALLEL_PCIE4_X16_BYTES_PER_S,
                         1e3 * moved / PARALLEL_NVLINK4_BYTES_PER_S) > 0;
        }
    }
    if (!ok) return error_set(AN_ERR_IO, "cannot write the plan's table");
    return AN_OK;
}

/* ------------------------------------------------------------ the exchange broken on purpose */

typedef struct dropping {
    communicator base; /* first */
    communicator *inner;
    int drop;
} dropping;

static an_status dropping_sum(communicator *c, float *const *blocks, size_t n)
{
    communicator *inner = ((dropping *)c)->inner;
    return inner->ops->sum(inner, blocks, n);
}

static an_status dropping_all_gather(communicator *c, int member, float *gathered, const float *part, size_t rows,
                                     const size_t *parts)
{
    const dropping *d = (const dropping *)c;
    AN_TRY(d->inner->ops->all_gather(d->inner, member, gathered, part, rows, parts));
    if (member == d->drop) return AN_OK;
    const size_t total = communicator_parts_total(c, parts), offset = communicator_part_offset(parts, d->drop);
    for (size_t r = 0; r < rows; r++) memset(gathered + r * total + offset, 0, parts[d->drop] * sizeof(float));
    return AN_OK;
}

static an_status dropping_reduce_scatter(communicator *c, int member, float *part, const float *block, size_t rows,
                                         const size_t *parts)
{
    communicator *inner = ((dropping *)c)->inner;
    return inner->ops->reduce_scatter(inner, member, part, block, rows, parts);
}

static an_status dropping_take_part(communicator *c, int member, int which, float *part, const float *gathered,
                                    size_t rows, const size_t *parts)
{
    communicator *inner = ((dropping *)c)->inner;
    return inner->ops->take_part(inner, member, which, part, gathered, rows, parts);
}

static an_status dropping_put_part(communicator *c, int member, int which, float *gathered, const float *part,
                                   size_t rows, const size_t *parts)
{
    communicator *inner = ((dropping *)c)->inner;
    return inner->ops->put_part(inner, member, which, gathered, part, rows, parts);
}

static void dropping_abort(communicator *c)
{
    communicator *inner = ((dropping *)c)->inner;
    inner->ops->abort(inner);
}

static void dropping_destroy(communicator *c) { free(c); } /* not the inner one: the device group's */

static const communicator_ops dropping_ops = {.sum = dropping_sum,
                                              .all_gather = dropping_all_gather,
                                              .reduce_scatter = dropping_reduce_scatter,
                                              .take_part = dropping_take_part,
                                              .put_part = dropping_put_part,
                                              .abort = dropping_abort,
                                              .destroy = dropping_destroy};

an_status parallel_dropping_communicator(communicator **out, communicator *inner, int drop)
{
    *out = NULL;
    if (strcmp(inner->kind, "cpu") != 0)
        return error_set(AN_ERR_UNSUPPORTED, "the exchange broken on purpose works on CPU replicas only");
    if (drop < 0 || drop >= inner->members)
        return error_set(AN_ERR_ARG, "no member %d to drop among %d", drop, inner->members);
    dropping *d = calloc(1, sizeof *d);
    AN_CHECK_ALLOC(d, sizeof *d);
    d->base.ops = &dropping_ops;
    d->base.members = inner->members;
    d->base.kind = inner->kind;
    d->inner = inner;
    d->drop = drop;
    *out = &d->base;
    return AN_OK;
}
