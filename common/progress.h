/* progress.h: a progress bar for long work (count, rate, ETA).
 *
 * On a terminal it redraws one line in place; when stderr is not a terminal
 * (a log file, CI, nohup) it prints a plain line every `interval` seconds and
 * one at the end, so logs stay readable. Thread-safe: workers call
 * progress_add() from any thread. Silent under --quiet.
 */
#ifndef ALEXNET_PROGRESS_H
#define ALEXNET_PROGRESS_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

typedef struct progress {
    char label[64];
    uint64_t total;        /* 0 if unknown */
    uint64_t done;
    double start_time;     /* monotonic seconds */
    double last_print;
    double interval;       /* seconds between plain lines (non-terminal) or redraws */
    int is_terminal;
    int enabled;
    char extra[96];        /* caller's status text, e.g. "loss 2.31 lr 0.01" */
    FILE *out;
    pthread_mutex_t mutex;
} progress;

/* Starts a bar on stderr. Terminal-ness is read from stderr; the interval of
 * plain lines defaults to 10 s (environment ALEXNET_PROGRESS_INTERVAL overrides). */
void progress_start(progress *p, const char *label, uint64_t total);
/* Same, writing to `out`, deciding terminal-ness and interval explicitly (for tests). */
void progress_start_on(progress *p, FILE *out, int is_terminal, double interval, const char *label, uint64_t total);
void progress_add(progress *p, uint64_t n);
/* Sets the free text shown after the rate (copied). */
void progress_set_extra(progress *p, const char *text);
/* Prints the final line (count, elapsed, rate) and releases the bar. */
void progress_finish(progress *p);

/* Seconds from a monotonic clock. */
double progress_now(void);

#endif
