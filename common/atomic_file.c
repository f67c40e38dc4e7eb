/* atomic_file.c: temp file + fsync + rename + directory fsync. */
#include "atomic_file.h"
#include "fault_point.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static atomic_uint temp_counter;

void path_dirname(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash) { snprintf(out, size, "."); return; }
    if (slash == path) { snprintf(out, size, "/"); return; }
    snprintf(out, size, "%.*s", (int)(slash - path), path);
}

an_status atomic_temp_name(const char *final_path, char *tmp_path, size_t size)
{
    char dir[ATOMIC_PATH_MAX];
    path_dirname(final_path, dir, sizeof dir);
    const char *slash = strrchr(final_path, '/');
    const char *base = slash ? slash + 1 : final_path;
    unsigned n = atomic_fetch_add(&temp_counter, 1);
    int len = snprintf(tmp_path, size, "%s/.%s.tmp.%ld.%u", dir, base, (long)getpid(), n);
    if (len < 0 || (size_t)len >= size)
        return error_set(AN_ERR_ARG, "path too long: %s", final_path);
    return AN_OK;
}

an_status fsync_directory(const char *dir_path)
{
    int fd = open(dir_path, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return error_set(AN_ERR_IO, "cannot open directory %s to sync it: %s", dir_path, strerror(errno));
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc != 0 && saved != EINVAL)
        return error_set(AN_ERR_IO, "cannot sync directory %s: %s", dir_path, strerror(saved));
    return AN_OK;
}

an_status atomic_rename_durable(const char *tmp_path, const char *final_path)
{
    fault_point("written");
    int fd = open(tmp_path, O_RDONLY);
    if (fd < 0) return error_set(AN_ERR_IO, "cannot open %s to sync it: %s", tmp_path, strerror(errno));
    if (fsync(fd) != 0) {
        int saved = errno;
        close(fd);
        return error_set(AN_ERR_IO, "cannot sync %s: %s (is the disk full?)", tmp_path, strerror(saved));
    }
    close(fd);
    fault_point("synced");
    if (rename(tmp_path, final_path) != 0)
        return error_set(AN_ERR_IO, "cannot rename %s to %s: %s", tmp_path, final_path, strerror(errno));
    fault_point("renamed");
    char dir[ATOMIC_PATH_MAX];
    path_dirname(final_path, dir, sizeof dir);
    return fsync_directory(dir);
}

an_status atomic_file_open(atomic_file *f, const char *final_path)
{
    f->fd = -1;
    if (strlen(final_path) >= sizeof f->final_path)
        return error_set(AN_ERR_ARG, "path too long: %s", final_path);
    snprintf(f->final_path, sizeof f->final_path, "%s", final_path);
    AN_TRY(atomic_temp_name(final_path, f->tmp_path, sizeof f->tmp_path));
    f->fd = open(f->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (f->fd < 0)
        return error_set(AN_ERR_IO, "cannot create %s: %s (is the directory writable?)", f->tmp_path, strerror(errno));
    return AN_OK;
}

an_status atomic_file_write(atomic_file *f, const void *data, size_t n)
{
    const char *p = data;
    while (n > 0) {
        ssize_t w = write(f->fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            an_status s = error_set(AN_ERR_IO, "cannot write %s: %s%s", f->final_path, strerror(saved),
                                    saved == ENOSPC ? " (free some space and run the command again, with --resume "
                                                      "if it trains a run that has a checkpoint; the previous file "
                                                      "is intact)" : "");
            atomic_file_abort(f);
            return s;
        }
        p += w;
        n -= (size_t)w;
    }
    return AN_OK;
}

an_status atomic_file_commit(atomic_file *f)
{
    fault_point("written");
    if (fsync(f->fd) != 0) {
        an_status s = error_set(AN_ERR_IO, "cannot sync %s: %s (is the disk full?)", f->tmp_path, strerror(errno));
        atomic_file_abort(f);
        return s;
    }
    if (close(f->fd) != 0) {
        f->fd = -1;
        an_status s = error_set(AN_ERR_IO, "cannot close %s: %s", f->tmp_path, strerror(errno));
        atomic_file_abort(f);
        return s;
    }
    f->fd = -1;
    fault_point("synced");
    if (rename(f->tmp_path, f->final_path) != 0) {
        an_status s = error_set(AN_ERR_IO, "cannot rename %s to %s: %s", f->tmp_path, f->final_path, strerror(errno));
        atomic_file_abort(f);
        return s;
    }
    fault_point("renamed");
    char dir[ATOMIC_PATH_MAX];
    path_dirname(f->final_path, dir, sizeof dir);
    return fsync_directory(dir);
}

void atomic_file_abort(atomic_file *f)
{
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    if (f->tmp_path[0]) unlink(f->tmp_path);
    f->tmp_path[0] = '\0';
}

an_status atomic_write_file(const char *final_path, const void *data, size_t n)
{
    atomic_file f;
    AN_TRY(atomic_file_open(&f, final_path));
    AN_TRY(atomic_file_write(&f, data, n));
    return atomic_file_commit(&f);
}
