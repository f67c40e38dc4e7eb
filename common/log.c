/* log.c: levelled logging; one mutex keeps lines from different threads whole. */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <time.h>

static log_level current_level = LOG_INFO;
static FILE *log_file = NULL;
static const char *program_name = NULL;
static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;

void log_set_level(log_level level) { current_level = level; }
log_level log_get_level(void) { return current_level; }
void log_set_file(FILE *file) { log_file = file; }
void log_set_program(const char *name) { program_name = name; }

static const char *level_tag(log_level level)
{
    switch (level) {
    case LOG_ERROR: return "error: ";
    case LOG_WARN: return "warning: ";
    default: return "";
    }
}

void log_message(log_level level, const char *fmt, ...)
{
    if (level > current_level) return;
    pthread_mutex_lock(&log_mutex);
    va_list ap;
    va_start(ap, fmt);
    if (program_name) fprintf(stderr, "%s: ", program_name);
    fputs(level_tag(level), stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    if (log_file) {
        char stamp[32];
        time_t now = time(NULL);
        struct tm tm_now;
        gmtime_r(&now, &tm_now);
        strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm_now);
        va_start(ap, fmt);
        fprintf(log_file, "%s %s", stamp, level_tag(level));
        vfprintf(log_file, fmt, ap);
        fputc('\n', log_file);
        fflush(log_file);
        va_end(ap);
    }
    pthread_mutex_unlock(&log_mutex);
}
