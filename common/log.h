/* log.h: levelled logging to stderr (and optionally a run's log file).
 * --quiet shows warnings and errors only; --verbose adds detail. Library code
 * may log progress and warnings, but reports failures through status.h. */
#ifndef ALEXNET_LOG_H
#define ALEXNET_LOG_H

#include <stdio.h>

typedef enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_VERBOSE = 3, LOG_DEBUG = 4 } log_level;

void log_set_level(log_level level);
log_level log_get_level(void);
/* Also write every message (at any shown level) to `file`, with a timestamp; NULL stops. */
void log_set_file(FILE *file);
/* Prefix every stderr line with this program's name ("alexnet-prep: "). */
void log_set_program(const char *name);

void log_message(log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_message(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_message(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_message(LOG_INFO, __VA_ARGS__)
#define log_verbose(...) log_message(LOG_VERBOSE, __VA_ARGS__)
#define log_debug(...) log_message(LOG_DEBUG, __VA_ARGS__)

#endif
