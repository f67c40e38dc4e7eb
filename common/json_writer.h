/* json_writer.h: builds the JSON documents the programs write (dataset.json,
 * config.json, report.json, the checkpoints' trainer state) in document order
 * and serialises them with json-c (docs/ARCHITECTURE.md, "JSON"). json-c does
 * the escaping and the layout; this file adds what json-c leaves to its
 * caller: strings that are not valid UTF-8 have their bad bytes replaced by
 * U+FFFD (so the output is always valid JSON), non-finite numbers are written
 * as null, and every double is written as the shortest text that reads back
 * to the same double (every float, json_float, to the same float). The first error sticks and is returned by
 * json_finish(). */
#ifndef ALEXNET_JSON_WRITER_H
#define ALEXNET_JSON_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define JSON_MAX_DEPTH 32

struct json_object; /* json-c's value */

typedef struct json_writer {
    struct json_object *root;                 /* the whole document, once begun */
    struct json_object *open[JSON_MAX_DEPTH]; /* [depth] the containers not yet closed, outermost first */
    int depth;
    char *key;         /* the key given for the next value inside an object, or NULL */
    char *data;        /* after json_finish: the text, NUL-terminated, ending in a newline */
    size_t length;     /* of data, without the NUL */
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
void json_float(json_writer *w, float value); /* a float setting: 0.9f as 0.9 */
void json_int(json_writer *w, int64_t value);
void json_boolean(json_writer *w, int value);
void json_null(json_writer *w);

/* Shorthands for "key": value inside an object. */
void json_kv_string(json_writer *w, const char *key, const char *value);
void json_kv_double(json_writer *w, const char *key, double value);
void json_kv_float(json_writer *w, const char *key, float value);
void json_kv_int(json_writer *w, const char *key, int64_t value);
void json_kv_bool(json_writer *w, const char *key, int value);

/* Checks the document is closed, serialises it into w->data and returns the
 * sticky status. */
an_status json_finish(json_writer *w);

#endif
