/* json_flatten.h: a JSON document (a run's config.json, an eval report.json,
 * a dataset.json) as its leaves, each named by its path: {"network":
 * {"towers": 1}} gives "network.towers" = "1", arrays give "lr_steps[0]".
 * For `alexnet-eval compare`, which looks values up by path and lists the
 * settings in which runs differ. Parsed by common/json_reader.h (json-c,
 * strict; a root that is not an object is refused), so every JSON the project
 * reads goes through one parser; this file only walks the tree. */
#ifndef ALEXNET_RUN_JSON_FLATTEN_H
#define ALEXNET_RUN_JSON_FLATTEN_H

#include "status.h"

typedef struct json_leaf {
    char *path;   /* "network.towers" */
    char *value;  /* strings unescaped; numbers, true, false, null as written */
    int is_string;
} json_leaf;

typedef struct json_flat {
    int count;
    json_leaf *leaves; /* [count], in document order */
} json_flat;

/* Parses text; `what` names it in error messages (a path). AN_ERR_FORMAT
 * (json_reader.h's message) for anything but a JSON object. */
an_status json_flatten(const char *text, const char *what, json_flat *out);
/* Reads the file at path and parses it. */
an_status json_flatten_file(const char *path, json_flat *out);
void json_flat_free(json_flat *f);

/* The leaf at path, NULL when there is none. */
const json_leaf *json_flat_find(const json_flat *f, const char *path);
/* The number at path; AN_ERR_FORMAT naming `what` and the path when missing or not a number. */
an_status json_flat_number(const json_flat *f, const char *path, const char *what, double *out);
/* The string at path; AN_ERR_FORMAT when missing or not a string. */
an_status json_flat_string(const json_flat *f, const char *path, const char *what, const char **out);

#endif
