/* json_flatten.c: the leaves of a JSON document by path (json_flatten.h): the
 * document parsed by common/json_reader.h, its tree walked with json-c. */
#include "json_flatten.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_reader.h"

#define JSON_FLATTEN_MAX_BYTES (64u << 20) /* config.json, report.json: kilobytes */
#define JSON_FLATTEN_MAX_PATH 512

typedef struct walk {
    json_flat *out;
    int capacity;
    const char *what;
} walk;

static an_status add_leaf(walk *w, const char *path, const char *value, int is_string)
{
    if (w->out->count == w->capacity) {
        int cap = w->capacity ? 2 * w->capacity : 64;
        json_leaf *grown = realloc(w->out->leaves, (size_t)cap * sizeof *grown);
        AN_CHECK_ALLOC(grown, (size_t)cap * sizeof *grown);
        w->out->leaves = grown;
        w->capacity = cap;
    }
    json_leaf *l = &w->out->leaves[w->out->count];
    l->path = strdup(path);
    l->value = strdup(value);
    if (!l->path || !l->value) {
        free(l->path);
        free(l->value);
        return error_set(AN_ERR_NOMEM, "out of memory reading %s", w->what);
    }
    l->is_string = is_string;
    w->out->count++;
    return AN_OK;
}

/* Appends ".key" (or "key" at the root) or "[i]" to path[len]. */
static an_status extend(const walk *w, char *path, size_t len, const char *key, size_t index, size_t *new_len)
{
    int n = key ? snprintf(path + len, JSON_FLATTEN_MAX_PATH - len, len ? ".%s" : "%s", key)
                : snprintf(path + len, JSON_FLATTEN_MAX_PATH - len, "[%zu]", index);
    if (n < 0 || len + (size_t)n >= JSON_FLATTEN_MAX_PATH)
        return error_set(AN_ERR_FORMAT, "%s: a member's path is longer than %d characters", w->what,
                         JSON_FLATTEN_MAX_PATH - 1);
    *new_len = len + (size_t)n;
    return AN_OK;
}

/* json_reader.h bounds the depth (JSON_READ_MAX_DEPTH), so the recursion is bounded. */
static an_status visit(walk *w, struct json_object *v, char *path, size_t len)
{
    size_t child_len = 0;
    switch (json_object_get_type(v)) {
    case json_type_object: {
        json_object_object_foreach(v, key, child) {
            AN_TRY(extend(w, path, len, key, 0, &child_len));
            AN_TRY(visit(w, child, path, child_len));
            path[len] = '\0';
        }
        return AN_OK;
    }
    case json_type_array:
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            AN_TRY(extend(w, path, len, NULL, i, &child_len));
            AN_TRY(visit(w, json_object_array_get_idx(v, i), path, child_len));
            path[len] = '\0';
        }
        return AN_OK;
    case json_type_string:
        return add_leaf(w, path, json_object_get_string(v), 1);
    case json_type_null:
        return add_leaf(w, path, "null", 0);
    default: /* numbers and booleans as json-c writes them */
        return add_leaf(w, path, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), 0);
    }
}

static an_status flatten_doc(json_doc *doc, const char *what, json_flat *out)
{
    walk w = {.out = out, .what = what};
    char path[JSON_FLATTEN_MAX_PATH] = "";
    an_status st = visit(&w, doc->root, path, 0);
    json_doc_free(doc);
    if (st != AN_OK) json_flat_free(out);
    return st;
}

an_status json_flatten(const char *text, const char *what, json_flat *out)
{
    json_doc doc;
    memset(out, 0, sizeof *out);
    AN_TRY(json_doc_parse(&doc, text, strlen(text), what));
    return flatten_doc(&doc, what, out);
}

an_status json_flatten_file(const char *path, json_flat *out)
{
    json_doc doc;
    memset(out, 0, sizeof *out);
    AN_TRY(json_doc_read_file(&doc, path, JSON_FLATTEN_MAX_BYTES));
    return flatten_doc(&doc, path, out);
}

void json_flat_free(json_flat *f)
{
    for (int i = 0; i < f->count; i++) {
        free(f->leaves[i].path);
        free(f->leaves[i].value);
    }
    free(f->leaves);
    memset(f, 0, sizeof *f);
}

const json_leaf *json_flat_find(const json_flat *f, const char *path)
{
    for (int i = 0; i < f->count; i++)
        if (strcmp(f->leaves[i].path, path) == 0) return &f->leaves[i];
    return NULL;
}

an_status json_flat_number(const json_flat *f, const char *path, const char *what, double *out)
{
    const json_leaf *l = json_flat_find(f, path);
    char *end = NULL;
    if (l && !l->is_string) *out = strtod(l->value, &end);
    if (!l || l->is_string || !end || end == l->value || *end != '\0')
        return error_set(AN_ERR_FORMAT, "%s has no number \"%s\"", what, path);
    return AN_OK;
}

an_status json_flat_string(const json_flat *f, const char *path, const char *what, const char **out)
{
    const json_leaf *l = json_flat_find(f, path);
    if (!l || !l->is_string) return error_set(AN_ERR_FORMAT, "%s has no string \"%s\"", what, path);
    *out = l->value;
    return AN_OK;
}
