/* run_dir.c: run directory layout, the `latest` pointer, checkpoint retention
 * and metrics.csv. See run_dir.h. */
#include "run_dir.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "directory.h"

const char run_dir_metrics_header[] = "split,epoch,step,lr,loss,top1_error,top5_error,images_per_s,time_s";

an_status run_dir_check(const char *dir)
{
    char path[RUN_PATH_MAX];
    AN_TRY(run_dir_file(dir, RUN_CONFIG_FILE, path, sizeof path));
    if (access(path, F_OK) == 0) return AN_OK;
    if (errno != ENOENT && errno != ENOTDIR) return error_set(AN_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    return error_set(AN_ERR_ARG, "%s is not a run directory (no config.json): give the --run directory of an "
                     "alexnet-train run", dir);
}

an_status run_dir_file(const char *run, const char *name, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/%s", run, name);
    if (n < 0 || (size_t)n >= size) return error_set(AN_ERR_ARG, "path too long: %s/%s", run, name);
    return AN_OK;
}

an_status run_dir_checkpoint_path(const char *run, const char *name, char *out, size_t size)
{
    int n = snprintf(out, size, "%s/checkpoints/%s", run, name);
    if (n < 0 || (size_t)n >= size) return error_set(AN_ERR_ARG, "path too long: %s/checkpoints/%s", run, name);
    return AN_OK;
}

/* The name inside RUN/checkpoints/latest, or "" when there is none. */
static an_status read_latest_name(const char *run, char *name, size_t size)
{
    char path[RUN_PATH_MAX];
    AN_TRY(run_dir_checkpoint_path(run, "latest", path, sizeof path));
    name[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return AN_OK;
        return error_set(AN_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    }
    an_status st = AN_OK;
    if (!fgets(name, (int)size, f)) {
        st = error_set(AN_ERR_FORMAT, "%s is empty (it should name a checkpoint file)", path);
    } else {
        name[strcspn(name, "\n")] = '\0';
        if (!name[0] || strchr(name, '/'))
            st = error_set(AN_ERR_FORMAT, "%s does not name a checkpoint file in its directory", path);
    }
    fclose(f);
    return st;
}

an_status run_dir_prepare(const char *run, int resume)
{
    char path[RUN_PATH_MAX], latest[256];
    AN_TRY(run_dir_file(run, "checkpoints", path, sizeof path));
    AN_TRY(directory_make(path));
    AN_TRY(read_latest_name(run, latest, sizeof latest));
    if (!resume && latest[0])
        return error_set(AN_ERR_ARG, "run directory %s already has checkpoint %s: add --resume to continue it, "
                         "or choose a new --run", run, latest);
    if (resume && !latest[0])
        return error_set(AN_ERR_ARG, "--resume: run directory %s has no checkpoint yet (no checkpoints/latest)",
                         run);
    return AN_OK;
}

an_status run_dir_latest(const char *run, char *path, size_t size)
{
    char name[256];
    AN_TRY(read_latest_name(run, name, sizeof name));
    if (!name[0]) return error_set(AN_ERR_IO, "no checkpoint in %s/checkpoints yet", run);
    return run_dir_checkpoint_path(run, name, path, size);
}

an_status run_dir_scored_checkpoint(const char *run, char *path, size_t size)
{
    AN_TRY(run_dir_checkpoint_path(run, "best.h5", path, size));
    if (access(path, R_OK) == 0) return AN_OK;
    char name[256];
    AN_TRY(read_latest_name(run, name, sizeof name));
    if (!name[0])
        return error_set(AN_ERR_IO, "run %s has neither checkpoints/best.h5 nor checkpoints/latest: train first", run);
    return run_dir_checkpoint_path(run, name, path, size);
}

void run_dir_checkpoint_name(uint32_t epochs_done, uint64_t global_step, char *out, size_t size)
{
    snprintf(out, size, "ckpt-%04" PRIu32 "-%09" PRIu64 ".h5", epochs_done, global_step);
}

/* best.h5 <- a hard link to NAME, replaced atomically. */
static an_status link_best(const char *run, const char *name)
{
    char target[RUN_PATH_MAX], best[RUN_PATH_MAX], tmp[RUN_PATH_MAX];
    AN_TRY(run_dir_checkpoint_path(run, name, target, sizeof target));
    AN_TRY(run_dir_checkpoint_path(run, "best.h5", best, sizeof best));
    AN_TRY(atomic_temp_name(best, tmp, sizeof tmp));
    if (link(target, tmp) != 0)
        return error_set(AN_ERR_IO, "cannot link %s to %s: %s", target, tmp, strerror(errno));
    an_status st = atomic_rename_durable(tmp, best);
    if (st != AN_OK) unlink(tmp);
    return st;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_checkpoint_name(const char *name)
{
    size_t n = strlen(name);
    return strncmp(name, "ckpt-", 5) == 0 && n > 8 && strcmp(name + n - 3, ".h5") == 0;
}

/* Removes the oldest ckpt-*.h5 beyond `keep`, sparing `latest` (best.h5 is a
 * separate link, so removing its source name keeps its data). */
static an_status prune(const char *run, const char *latest, int keep)
{
    char dir_path[RUN_PATH_MAX];
    AN_TRY(run_dir_file(run, "checkpoints", dir_path, sizeof dir_path));
    DIR *dir = opendir(dir_path);
    if (!dir) return error_set(AN_ERR_IO, "cannot list %s: %s", dir_path, strerror(errno));
    char **names = NULL;
    size_t count = 0, cap = 0;
    an_status st = AN_OK;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (!is_checkpoint_name(e->d_name)) continue;
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown) { st = error_set(AN_ERR_NOMEM, "out of memory listing %s", dir_path); goto done; }
            names = grown;
        }
        names[count] = strdup(e->d_name);
        if (!names[count]) { st = error_set(AN_ERR_NOMEM, "out of memory listing %s", dir_path); goto done; }
        count++;
    }
    qsort(names, count, sizeof *names, compare_names);
    /* Names sort chronologically (zero-padded epoch, then step). */
    for (size_t i = 0; i + (size_t)keep < count; i++) {
        if (strcmp(names[i], latest) == 0) continue;
        char path[RUN_PATH_MAX];
        AN_TRY_GOTO(st, run_dir_checkpoint_path(run, names[i], path, sizeof path), done);
        if (unlink(path) != 0 && errno != ENOENT) {
            st = error_set(AN_ERR_IO, "cannot remove old checkpoint %s: %s", path, strerror(errno));
            goto done;
        }
    }
done:
    for (size_t i = 0; i < count; i++) free(names[i]);
    free(names);
    closedir(dir);
    return st;
}

an_status run_dir_commit_checkpoint(const char *run, const char *name, int is_best, int keep)
{
    char latest[RUN_PATH_MAX], line[300];
    AN_TRY(run_dir_checkpoint_path(run, "latest", latest, sizeof latest));
    int n = snprintf(line, sizeof line, "%s\n", name);
    if (n < 0 || (size_t)n >= sizeof line) return error_set(AN_ERR_ARG, "checkpoint name too long: %s", name);
    if (is_best) AN_TRY(link_best(run, name));
    AN_TRY(atomic_write_file(latest, line, (size_t)n));
    return prune(run, name, keep);
}

/* The step column of a metrics row (the third field), or UINT64_MAX if unreadable. */
static uint64_t row_step(const char *line)
{
    const char *p = strchr(line, ',');
    if (!p) return UINT64_MAX;
    p = strchr(p + 1, ',');
    if (!p) return UINT64_MAX;
    char *end;
    unsigned long long v = strtoull(p + 1, &end, 10);
    return end == p + 1 ? UINT64_MAX : (uint64_t)v;
}

/* Rewrites path keeping the header and the rows with step <= keep_through_step. */
static an_status truncate_metrics(const char *path, uint64_t keep_through_step)
{
    FILE *f = fopen(path, "r");
    if (!f) return errno == ENOENT ? AN_OK : error_set(AN_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    char *kept = NULL, *line = NULL;
    size_t kept_len = 0, line_cap = 0;
    an_status st = AN_OK;
    ssize_t n;
    int first = 1;
    while ((n = getline(&line, &line_cap, f)) > 0) {
        if (!first && row_step(line) > keep_through_step) continue;
        first = 0;
        char *grown = realloc(kept, kept_len + (size_t)n + 1);
        if (!grown) { st = error_set(AN_ERR_NOMEM, "out of memory reading %s", path); break; }
        kept = grown;
        memcpy(kept + kept_len, line, (size_t)n);
        kept_len += (size_t)n;
    }
    fclose(f);
    free(line);
    if (st == AN_OK) st = atomic_write_file(path, kept ? kept : "", kept_len);
    free(kept);
    return st;
}

an_status run_dir_open_metrics(const char *run, int resume, uint64_t keep_through_step, FILE **out)
{
    char path[RUN_PATH_MAX];
    AN_TRY(run_dir_file(run, RUN_METRICS_FILE, path, sizeof path));
    if (resume) AN_TRY(truncate_metrics(path, keep_through_step));
    FILE *f = fopen(path, resume ? "a" : "w");
    if (!f) return error_set(AN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    if (ftell(f) == 0 && fprintf(f, "%s\n", run_dir_metrics_header) < 0) {
        fclose(f);
        return error_set(AN_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    fflush(f);
    *out = f;
    return AN_OK;
}
