/* eval_model.c: checkpoint -> network, refusing a checkpoint that does not
 * belong to the dataset (docs/FORMAT.md, 1.4 "The dataset id"). */
#include "eval_model.h"

#include "backend_select.h"

#include <string.h>

an_status eval_model_check(const char *path, const net_config *cfg, const checkpoint_meta *meta, const dataset *d)
{
    if (cfg->num_classes != d->num_classes)
        return error_set(AN_ERR_FORMAT,
                         "checkpoint %s was trained for %d classes but dataset %s has %d: "
                         "score it on the dataset it was trained on",
                         path, cfg->num_classes, d->dir, d->num_classes);
    if (meta->dataset_id[0] != '\0' && strcmp(meta->dataset_id, d->dataset_id) != 0)
        return error_set(AN_ERR_FORMAT,
                         "checkpoint %s was trained on dataset %s but %s is dataset %s: "
                         "score it on the dataset directory it was trained on",
                         path, meta->dataset_id, d->dir, d->dataset_id);
    return AN_OK;
}

an_status eval_model_load(const char *path, const dataset *d, int max_views, backend *be, net **out,
                          checkpoint_meta *meta)
{
    an_status st = AN_OK;
    net_config cfg;
    net *n = NULL;
    *out = NULL;
    AN_TRY_GOTO(st, checkpoint_read_config(path, &cfg), done);
    if (be) {
        AN_TRY_GOTO(st, net_create_on(&n, &cfg, max_views, be), done);
    } else { /* a CPU backend of the net's own */
        backend *cpu = NULL;
        backend_request request = {.device = "cpu"};
        AN_TRY_GOTO(st, backend_open(&cpu, &request), done);
        AN_TRY_GOTO(st, net_create(&n, &cfg, max_views, cpu), done);
    }
    AN_TRY_GOTO(st, checkpoint_load(path, n, meta, NULL), done);
    AN_TRY_GOTO(st, eval_model_check(path, &cfg, meta, d), done);
    *out = n;
    n = NULL;
done:
    net_destroy(n);
    return st;
}
