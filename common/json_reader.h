/* json_reader.h: reads the JSON documents that come from outside the process
 * (a dataset's dataset.json, a checkpoint's trainer state) with json-c in
 * strict mode: valid UTF-8, nesting at most JSON_READ_MAX_DEPTH, nothing after
 * the value, no trailing commas, comments or leading zeros. Two leniencies of
 * json-c 0.16 remain (single-quoted strings and the literals NaN and Infinity
 * are accepted); json_doc_double refuses non-finite numbers. Lookups check the member's type and range, and
 * every error names the document and the key (docs/ARCHITECTURE.md, "JSON"). */
#ifndef ALEXNET_JSON_READER_H
#define ALEXNET_JSON_READER_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define JSON_READ_MAX_DEPTH 16

struct json_object; /* json-c's value */

typedef struct json_doc {
    struct json_object *root; /* an object (anything else is refused) */
    char what[512];           /* the document's name in messages, e.g. "/data/dataset.json" */
} json_doc;

/* Parses text[0..length) (need not be NUL-terminated); AN_ERR_FORMAT saying
 * where the text stops being JSON, or that it is not an object. */
an_status json_doc_parse(json_doc *d, const char *text, size_t length, const char *what);
/* Reads and parses a file of at most max_bytes (AN_ERR_FORMAT beyond). */
an_status json_doc_read_file(json_doc *d, const char *path, size_t max_bytes);
void json_doc_free(json_doc *d);

/* Members of the root object. AN_ERR_FORMAT when the key is missing, of another
 * type, or (integers) outside [min, max] or (strings) holding a NUL. Strings
 * stay owned by the document. */
an_status json_doc_int(const json_doc *d, const char *key, int64_t min, int64_t max, int64_t *out);
an_status json_doc_double(const json_doc *d, const char *key, double *out); /* an integer is a number too */
an_status json_doc_string(const json_doc *d, const char *key, const char **out);
/* 1 when the root object has the member key (of any type): optional members
 * that documents written by older versions lack. */
int json_doc_has(const json_doc *d, const char *key);

#endif
