/* json_writer.h: a small streaming JSON writer into a growable buffer, for
 * dataset.json, config.json and report.json. Commas and indentation are
 * handled; strings are escaped (control characters as \u00XX, invalid UTF-8
 * bytes replaced by U+FFFD so the output is always valid JSON). Non-finite
 * numbers are written as null. The first error sticks and is returned by
 * json_finish(). */
#ifndef ALEXNET_JSON_WRITER_H
#define ALEXNET_JSON_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define JSON_MAX_DEPTH 32

typedef struct json_writer {
    char *data;        /* the text so far, NUL-terminated */
    size_t length, capacity;
    int depth;
    int count[JSON_MAX_DEPTH]; /* values written at each depth, for commas */
    int after_key;
    an_status status;
} json_writer;

void json_init(json_writer *w);
void json_free(json_writer *w);

void json_begin_object(json_writer *w);
void json_end_object(json_writer *w);
void json_begin_array(json_writer *w);
void json_end_array(json_writer *w);
void json_key(json_writer *w, const char *key);
void json_string(json_writer *w, const char *value);
void json_double(json_writer *w, double value);
void json_int(json_writer *w, int64_t value);
void json_bool(json_writer *w, int value);
void json_null(json_writer *w);

/* Shorthands for "key": value inside an object. */
void json_kv_string(json_writer *w, const char *key, const char *value);
void json_kv_double(json_writer *w, const char *key, double value);
void json_kv_int(json_writer *w, const char *key, int64_t value);
void json_kv_bool(json_writer *w, const char *key, int value);

/* Checks the document is closed and returns the sticky status. */
an_status json_finish(json_writer *w);

#endif
