/* run_records.c: the readers of a run's config, report and metrics (run_records.h). */
#include "run_records.h"

#include <string.h>

#include "run_dir.h"

/* Whether path lies in config.json's section `section`. */
static int in_section(const char *path, const char *section)
{
    size_t n = strlen(section);
    return strncmp(path, section, n) == 0 && path[n] == '.';
}

int run_config_is_setting(const char *path)
{
    return in_section(path, RUN_CONFIG_NETWORK) || in_section(path, RUN_CONFIG_TRAINING);
}

an_status run_read_config(const char *run, json_flat *out)
{
    char path[RUN_PATH_MAX];
    AN_TRY(run_dir_file(run, RUN_CONFIG_FILE, path, sizeof path));
    return json_flatten_file(path, out);
}

an_status run_read_report(const char *run, json_flat *out)
{
    char path[RUN_PATH_MAX];
    AN_TRY(run_dir_file(run, RUN_REPORT_FILE, path, sizeof path));
    an_status st = json_flatten_file(path, out);
    if (st == AN_ERR_IO)
        return error_set(AN_ERR_IO, "run %s has not been scored (no %s): run alexnet-eval --data DATA --run %s first",
                         run, path, run);
    return st;
}

an_status run_read_metrics(const char *run, metrics_table *out)
{
    char path[RUN_PATH_MAX];
    AN_TRY(run_dir_file(run, RUN_METRICS_FILE, path, sizeof path));
    return metrics_table_read(out, path);
}
