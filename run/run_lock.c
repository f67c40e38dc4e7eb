/* run_lock.c: RUN/lock, one writer per run directory. See run_lock.h. */
#include "run_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "log.h"

#define LOCK_NAME "lock"
#define FIELD_MAX 256

struct run_lock {
    char path[ATOMIC_PATH_MAX]; /* RUN/lock */
    int fd;                     /* the lock file this process made */
    dev_t dev;                  /* its identity: RUN/lock is ours while it names this inode */
    ino_t ino;
    pthread_t heartbeat;
    pthread_mutex_t mutex;      /* guards stop */
    pthread_cond_t wake;        /* signalled by run_lock_release */
    int stop;
};

/* One holder, as read from a lock file. */
typedef struct holder {
    long pid;
    char host[FIELD_MAX];
    char started[FIELD_MAX];
    char boot[FIELD_MAX];
    unsigned long long pid_start; /* 0 when unknown */
    int parsed;                   /* pid and host were found */
    time_t mtime;                 /* the heartbeat */
    dev_t dev;
    ino_t ino;
} holder;

/* The first line of a small file, without its newline; "" when unreadable. */
static void read_first_line(const char *path, char *out, size_t size)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (!fgets(out, (int)size, f)) out[0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    fclose(f);
}

/* Field 22 of /proc/PID/stat: the process's start time in ticks since boot; 0 when unknown. */
static unsigned long long process_start_ticks(long pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    read_first_line(path, line, sizeof line);
    const char *p = strrchr(line, ')'); /* the command name (field 2) may hold spaces */
    if (!p) return 0;
    p++;
    for (int field = 3; field < 22 && p; field++) p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

static void local_host(char *out, size_t size)
{
    if (gethostname(out, size) != 0) snprintf(out, size, "unknown");
    out[size - 1] = '\0';
}

/* The lock file's text for this process. */
static void describe_self(char *out, size_t size)
{
    char host[FIELD_MAX], boot[FIELD_MAX], started[64];
    local_host(host, sizeof host);
    read_first_line("/proc/sys/kernel/random/boot_id", boot, sizeof boot);
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(started, sizeof started, "%Y-%m-%dT%H:%M:%SZ", &utc);
    long pid = (long)getpid();
    snprintf(out, size, "pid %ld\nhost %s\nstarted %s\nboot %s\npid_start %llu\n", pid, host, started,
             boot[0] ? boot : "unknown", process_start_ticks(pid));
}

/* Reads the lock file at path. AN_OK with h filled; ENOENT (the lock went
 * away meanwhile) gives AN_OK with *gone = 1. */
static an_status read_holder(const char *path, holder *h, int *gone)
{
    memset(h, 0, sizeof *h);
    h->pid = -1;
    *gone = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) { *gone = 1; return AN_OK; }
        return error_set(AN_ERR_IO, "cannot read the run directory's lock %s: %s", path, strerror(errno));
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        fclose(f);
        return error_set(AN_ERR_IO, "cannot stat %s: %s", path, strerror(errno));
    }
    h->mtime = sb.st_mtime;
    h->dev = sb.st_dev;
    h->ino = sb.st_ino;
    char line[FIELD_MAX + 32];
    int have_pid = 0, have_host = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *value = strchr(line, ' ');
        if (!value) continue;
        *value++ = '\0';
        if (strcmp(line, "pid") == 0) {
            char *end;
            h->pid = strtol(value, &end, 10);
            have_pid = end != value && *end == '\0' && h->pid > 0;
        } else if (strcmp(line, "host") == 0) {
            snprintf(h->host, sizeof h->host, "%s", value);
            have_host = value[0] != '\0';
        } else if (strcmp(line, "started") == 0) {
            snprintf(h->started, sizeof h->started, "%s", value);
        } else if (strcmp(line, "boot") == 0) {
            snprintf(h->boot, sizeof h->boot, "%s", value);
        } else if (strcmp(line, "pid_start") == 0) {
            h->pid_start = strtoull(value, NULL, 10);
        }
    }
    fclose(f);
    h->parsed = have_pid && have_host;
    return AN_OK;
}

/* Whether the holder is gone, with the reason in why. */
static int holder_is_stale(const holder *h, char *why, size_t size)
{
    time_t age = time(NULL) - h->mtime;
    char host[FIELD_MAX];
    local_host(host, sizeof host);
    if (h->parsed && strcmp(h->host, host) == 0) {
        char boot[FIELD_MAX];
        read_first_line("/proc/sys/kernel/random/boot_id", boot, sizeof boot);
        if (boot[0] && h->boot[0] && strcmp(h->boot, "unknown") != 0 && strcmp(boot, h->boot) != 0) {
            snprintf(why, size, "this host has rebooted since");
            return 1;
        }
        if (kill((pid_t)h->pid, 0) != 0 && errno == ESRCH) {
            snprintf(why, size, "no process %ld runs on this host", h->pid);
            return 1;
        }
        unsigned long long start = process_start_ticks(h->pid);
        if (h->pid_start && start && start != h->pid_start) {
            snprintf(why, size, "PID %ld is now another process", h->pid);
            return 1;
        }
        return 0;
    }
    if (age > RUN_LOCK_STALE_S) {
        snprintf(why, size, "its heartbeat stopped %lld s ago (more than %d s)", (long long)age, RUN_LOCK_STALE_S);
        return 1;
    }
    return 0;
}

static void describe_holder(const holder *h, char *out, size_t size)
{
    if (!h->parsed)
        snprintf(out, size, "an unreadable lock (no pid and host lines)");
    else
        snprintf(out, size, "PID %ld on host %s, started %s", h->pid, h->host, h->started[0] ? h->started : "(unknown)");
}

static an_status refuse(const char *run, const char *path, const holder *h)
{
    long long age = (long long)(time(NULL) - h->mtime);
    if (!h->parsed)
        return error_set(AN_ERR_ARG,
                         "run directory %s has a lock file %s that names no holder (no pid and host lines; "
                         "modified %lld s ago): if no alexnet-train uses %s, remove %s; it is taken over by "
                         "itself %d s after its last change", run, path, age, run, path, RUN_LOCK_STALE_S);
    return error_set(AN_ERR_ARG,
                     "run directory %s is in use by another alexnet-train: PID %ld on host %s, started %s (lock %s, "
                     "heartbeat %lld s ago). Wait for it to finish, stop it (kill -TERM %ld on %s: it writes a "
                     "checkpoint; then continue with --resume), or train into another --run. A lock whose holder "
                     "is gone is taken over by itself: at once on the same host, %d s after the last heartbeat "
                     "from another host",
                     run, h->pid, h->host, h->started[0] ? h->started : "(unknown)", path, age, h->pid, h->host,
                     RUN_LOCK_STALE_S);
}

/* Moves the stale lock h out of the way. Returns 1 when it was moved (and
 * removed), 0 when the lock changed meanwhile (another process took it over
 * first; the caller tries again). */
static int take_over(const char *path, const holder *h)
{
    char moved[ATOMIC_PATH_MAX + 64];
    snprintf(moved, sizeof moved, "%s.stale.%ld", path, (long)getpid());
    if (rename(path, moved) != 0) return 0;
    struct stat sb;
    if (stat(moved, &sb) == 0 && (sb.st_dev != h->dev || sb.st_ino != h->ino)) {
        /* Another process replaced the stale lock with its own between our read and the
         * rename: put its lock back (link fails if a third one got in; the displaced
         * holder then finds out at its next check and stops). */
        if (link(moved, path) != 0) log_warn("the lock %s changed hands twice at once; the newer holder stops", path);
        unlink(moved);
        return 0;
    }
    unlink(moved);
    return 1;
}

/* The heartbeat: the lock file's modification time, every RUN_LOCK_HEARTBEAT_S seconds. */
static void *heartbeat_main(void *arg)
{
    run_lock *l = arg;
    pthread_mutex_lock(&l->mutex);
    while (!l->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += RUN_LOCK_HEARTBEAT_S;
        int rc = 0;
        while (!l->stop && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&l->wake, &l->mutex, &until);
        if (l->stop) break;
        if (futimens(l->fd, NULL) != 0) log_warn("cannot refresh the heartbeat of %s: %s", l->path, strerror(errno));
    }
    pthread_mutex_unlock(&l->mutex);
    return NULL;
}

/* Whether RUN/lock is still the file this process made. */
static int still_ours(const run_lock *l)
{
    struct stat sb;
    return stat(l->path, &sb) == 0 && sb.st_dev == l->dev && sb.st_ino == l->ino;
}

/* Writes this process's description to a new file beside path and links it
 * to path. *taken = 1 on success, 0 when path exists. */
static an_status try_link(run_lock *l, int *taken)
{
    char tmp[ATOMIC_PATH_MAX], text[1024];
    AN_TRY(atomic_temp_name(l->path, tmp, sizeof tmp));
    describe_self(text, sizeof text);
    int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL, 0644);
    if (fd < 0) return error_set(AN_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    size_t n = strlen(text);
    an_status st = AN_OK;
    if (write(fd, text, n) != (ssize_t)n || fsync(fd) != 0)
        st = error_set(AN_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    *taken = 0;
    if (st == AN_OK) {
        int linked = link(tmp, l->path) == 0;
        int link_errno = errno;
        struct stat sb;
        /* Over NFS a link whose reply was lost reports an error though it was made:
         * the link count of the temporary file tells. */
        if (!linked && fstat(fd, &sb) == 0 && sb.st_nlink == 2) linked = 1;
        if (linked) {
            if (fstat(fd, &sb) != 0) {
                st = error_set(AN_ERR_IO, "cannot stat %s: %s", tmp, strerror(errno));
                unlink(l->path);
            } else {
                l->fd = fd;
                l->dev = sb.st_dev;
                l->ino = sb.st_ino;
                *taken = 1;
            }
        } else if (link_errno != EEXIST) {
            st = error_set(AN_ERR_IO, "cannot create the lock %s: %s", l->path, strerror(link_errno));
        }
    }
    unlink(tmp);
    if (!*taken) close(fd);
    return st;
}

an_status run_lock_acquire(const char *run, run_lock **out)
{
    *out = NULL;
    if (mkdir(run, 0755) != 0 && errno != EEXIST)
        return error_set(AN_ERR_IO, "cannot create run directory %s: %s", run, strerror(errno));
    run_lock *l = calloc(1, sizeof *l);
    AN_CHECK_ALLOC(l, sizeof *l);
    l->fd = -1;
    int n = snprintf(l->path, sizeof l->path, "%s/%s", run, LOCK_NAME);
    if (n < 0 || (size_t)n >= sizeof l->path) {
        free(l);
        return error_set(AN_ERR_ARG, "path too long: %s/%s", run, LOCK_NAME);
    }
    an_status st = AN_OK;
    int taken = 0;
    for (int attempt = 0; attempt < 8 && !taken; attempt++) {
        AN_TRY_GOTO(st, try_link(l, &taken), fail);
        if (taken) break;
        holder h;
        int gone;
        AN_TRY_GOTO(st, read_holder(l->path, &h, &gone), fail);
        if (gone) continue;
        char why[256];
        if (!holder_is_stale(&h, why, sizeof why)) {
            st = refuse(run, l->path, &h);
            goto fail;
        }
        if (take_over(l->path, &h)) {
            char who[3 * FIELD_MAX];
            describe_holder(&h, who, sizeof who);
            log_warn("took over the lock %s of %s: %s", l->path, who, why);
        }
    }
    if (!taken) {
        st = error_set(AN_ERR_IO, "cannot take the lock %s: other processes kept taking it; try again", l->path);
        goto fail;
    }
    pthread_mutex_init(&l->mutex, NULL);
    pthread_cond_init(&l->wake, NULL);
    if (pthread_create(&l->heartbeat, NULL, heartbeat_main, l) != 0) {
        pthread_cond_destroy(&l->wake);
        pthread_mutex_destroy(&l->mutex);
        st = error_set(AN_ERR_INTERNAL, "cannot start the heartbeat thread of %s", l->path);
        goto fail;
    }
    *out = l;
    return AN_OK;
fail:
    if (l->fd >= 0) {
        unlink(l->path);
        close(l->fd);
    }
    free(l);
    return st;
}

an_status run_lock_check(const run_lock *l)
{
    if (!l || still_ours(l)) return AN_OK;
    holder h;
    int gone = 1;
    char who[3 * FIELD_MAX] = "nobody (the lock file was removed)";
    if (read_holder(l->path, &h, &gone) == AN_OK && !gone) describe_holder(&h, who, sizeof who);
    return error_set(AN_ERR_IO, "this process no longer holds the lock %s (now held by %s): another trainer took "
                     "over the run; stopping without writing to it", l->path, who);
}

void run_lock_release(run_lock *l)
{
    if (!l) return;
    pthread_mutex_lock(&l->mutex);
    l->stop = 1;
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->mutex);
    pthread_join(l->heartbeat, NULL);
    pthread_cond_destroy(&l->wake);
    pthread_mutex_destroy(&l->mutex);
    /* The error message is left alone: the caller may be on its way to print one. */
    if (still_ours(l) && unlink(l->path) != 0) log_warn("cannot remove the lock %s: %s", l->path, strerror(errno));
    close(l->fd);
    free(l);
}
