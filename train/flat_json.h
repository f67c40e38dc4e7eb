/* flat_json.h: a reader for the flat JSON objects this program writes itself
 * (the trainer state stored inside checkpoints): {"key": value, ...} with
 * values that are numbers, strings, true, false or null, no nesting. Not a
 * general JSON parser: anything else is AN_ERR_FORMAT. */
#ifndef ALEXNET_FLAT_JSON_H
#define ALEXNET_FLAT_JSON_H

#include <stdint.h>

#include "status.h"

typedef struct flat_json {
    int count;
    char **keys;    /* [count] */
    char **values;  /* [count] strings unescaped; numbers, true, false, null as written */
    int *is_string; /* [count] */
} flat_json;

an_status flat_json_parse(const char *text, flat_json *out);
void flat_json_free(flat_json *j);

/* Lookups: AN_ERR_FORMAT naming the key when it is missing or of the wrong kind. */
an_status flat_json_get_double(const flat_json *j, const char *key, double *out);
an_status flat_json_get_u64(const flat_json *j, const char *key, uint64_t *out);
an_status flat_json_get_int(const flat_json *j, const char *key, int *out);
an_status flat_json_get_string(const flat_json *j, const char *key, const char **out);

#endif
