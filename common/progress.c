/* progress.c: progress bar rendering for terminals and plain periodic lines for logs. */
#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void format_duration(char *buf, size_t size, double seconds)
{
    if (seconds < 0 || seconds > 1e7) { snprintf(buf, size, "--:--"); return; }
    long s = (long)(seconds + 0.5);
    if (s >= 3600) snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else snprintf(buf, size, "%02ld:%02ld", s / 60, s % 60);
}

void progress_start_on(progress *p, FILE *out, int is_terminal, double interval, const char *label, uint64_t total)
{
    memset(p, 0, sizeof *p);
    snprintf(p->label, sizeof p->label, "%s", label);
    p->total = total;
    p->out = out;
    p->is_terminal = is_terminal;
    p->interval = interval;
    p->enabled = log_get_level() >= LOG_INFO;
    p->start_time = progress_now();
    p->last_print = p->start_time;
    pthread_mutex_init(&p->mutex, NULL);
}

void progress_start(progress *p, const char *label, uint64_t total)
{
    int tty = isatty(fileno(stderr));
    double interval = tty ? 0.2 : 10.0;
    const char *env = getenv("ALEXNET_PROGRESS_INTERVAL");
    if (env && atof(env) > 0) interval = atof(env);
    progress_start_on(p, stderr, tty, interval, label, total);
}

/* Prints one line; caller holds the mutex. */
static void progress_print(progress *p, double now, int final)
{
    double elapsed = now - p->start_time;
    double rate = elapsed > 0 ? (double)p->done / elapsed : 0.0;
    char eta[32], took[32];
    format_duration(took, sizeof took, elapsed);
    if (p->total > 0 && rate > 0) format_duration(eta, sizeof eta, (double)(p->total - p->done) / rate);
    else snprintf(eta, sizeof eta, "--:--");
    const char *sep = p->extra[0] ? "  " : "";
    if (p->is_terminal) {
        char bar[33];
        int filled = p->total ? (int)(32.0 * (double)p->done / (double)p->total) : 0;
        if (filled > 32) filled = 32;
        for (int i = 0; i < 32; i++) bar[i] = i < filled ? '#' : '.';
        bar[32] = '\0';
        fprintf(p->out, "\r%s [%s] %llu/%llu  %.1f/s  %s %s%s%s\033[K", p->label, bar,
                (unsigned long long)p->done, (unsigned long long)p->total, rate, final ? "took" : "eta",
                final ? took : eta, sep, p->extra);
        if (final) fputc('\n', p->out);
    } else if (final) {
        fprintf(p->out, "%s: done %llu/%llu in %s, %.1f/s%s%s\n", p->label, (unsigned long long)p->done,
                (unsigned long long)p->total, took, rate, sep, p->extra);
    } else {
        double pct = p->total ? 100.0 * (double)p->done / (double)p->total : 0.0;
        fprintf(p->out, "%s: %llu/%llu (%.1f%%), %.1f/s, elapsed %s, eta %s%s%s\n", p->label,
                (unsigned long long)p->done, (unsigned long long)p->total, pct, rate, took, eta, sep, p->extra);
    }
    fflush(p->out);
    p->last_print = now;
}

void progress_add(progress *p, uint64_t n)
{
    pthread_mutex_lock(&p->mutex);
    p->done += n;
    if (p->enabled) {
        double now = progress_now();
        if (now - p->last_print >= p->interval) progress_print(p, now, 0);
    }
    pthread_mutex_unlock(&p->mutex);
}

void progress_set_extra(progress *p, const char *text)
{
    pthread_mutex_lock(&p->mutex);
    snprintf(p->extra, sizeof p->extra, "%s", text);
    pthread_mutex_unlock(&p->mutex);
}

void progress_finish(progress *p)
{
    pthread_mutex_lock(&p->mutex);
    if (p->enabled) progress_print(p, progress_now(), 1);
    pthread_mutex_unlock(&p->mutex);
    pthread_mutex_destroy(&p->mutex);
}
