/* json_writer.c: the document builder of json_writer.h over json-c. */
#include "json_writer.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void json_init(json_writer *w)
{
    memset(w, 0, sizeof *w);
}

void json_free(json_writer *w)
{
    json_object_put(w->root); /* frees every value below it */
    free(w->key);
    free(w->data);
    memset(w, 0, sizeof *w);
}

static void fail(json_writer *w, an_status s, const char *what)
{
    if (w->status == AN_OK) w->status = error_set(s, "writing JSON: %s", what);
}

/* Places `value` (a new reference, or NULL for JSON null) at the current
 * position: as the root, after the pending key in an object, or at the end of
 * an array. `is_null` tells a null apart from json-c's failed allocation. */
static void place(json_writer *w, struct json_object *value, int is_null)
{
    if (w->status != AN_OK || (!value && !is_null)) {
        if (!value && !is_null) fail(w, AN_ERR_NOMEM, "out of memory");
        json_object_put(value);
        return;
    }
    if (w->depth == 0) {
        if (w->root) {
            fail(w, AN_ERR_INTERNAL, "a second value after the document's end");
            json_object_put(value);
            return;
        }
        w->root = value;
        return;
    }
    struct json_object *parent = w->open[w->depth - 1];
    if (json_object_is_type(parent, json_type_object)) {
        if (!w->key) {
            fail(w, AN_ERR_INTERNAL, "a value inside an object without a key");
            json_object_put(value);
            return;
        }
        int added = json_object_object_add(parent, w->key, value) == 0;
        free(w->key);
        w->key = NULL;
        if (!added) {
            fail(w, AN_ERR_NOMEM, "out of memory");
            json_object_put(value); /* json-c keeps no reference when it fails */
        }
    } else if (json_object_array_add(parent, value) != 0) {
        fail(w, AN_ERR_NOMEM, "out of memory");
        json_object_put(value);
    }
}

static void open_container(json_writer *w, struct json_object *container)
{
    if (w->status == AN_OK && w->depth >= JSON_MAX_DEPTH) {
        fail(w, AN_ERR_INTERNAL, "nested deeper than JSON_MAX_DEPTH");
        json_object_put(container);
        return;
    }
    int had_status = w->status != AN_OK;
    place(w, container, 0);
    if (!had_status && w->status == AN_OK) w->open[w->depth++] = container; /* borrowed: its parent owns it */
}

static void close_container(json_writer *w, json_type type)
{
    if (w->status != AN_OK) return;
    if (w->depth <= 0 || !json_object_is_type(w->open[w->depth - 1], type)) {
        fail(w, AN_ERR_INTERNAL, "a container closed that is not open");
        return;
    }
    w->depth--;
}

void json_begin_object(json_writer *w) { open_container(w, json_object_new_object()); }
void json_end_object(json_writer *w) { close_container(w, json_type_object); }
void json_begin_array(json_writer *w) { open_container(w, json_object_new_array()); }
void json_end_array(json_writer *w) { close_container(w, json_type_array); }

void json_key(json_writer *w, const char *key)
{
    if (w->status != AN_OK) return;
    if (w->depth == 0 || !json_object_is_type(w->open[w->depth - 1], json_type_object) || w->key) {
        fail(w, AN_ERR_INTERNAL, "a key outside an object, or two keys in a row");
        return;
    }
    w->key = strdup(key);
    if (!w->key) fail(w, AN_ERR_NOMEM, "out of memory");
}

/* Length of a valid UTF-8 sequence starting at s, or 0 if invalid. */
static int utf8_sequence_length(const unsigned char *s)
{
    int n;
    if (s[0] < 0x80) return 1;
    if ((s[0] & 0xE0) == 0xC0 && s[0] >= 0xC2) n = 2;
    else if ((s[0] & 0xF0) == 0xE0) n = 3;
    else if ((s[0] & 0xF8) == 0xF0 && s[0] <= 0xF4) n = 4;
    else return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return n;
}

void json_string(json_writer *w, const char *value)
{
    if (!value) { json_null(w); return; }
    /* Each invalid byte (1) becomes U+FFFD (3 bytes). */
    size_t n = strlen(value);
    char *valid = malloc(3 * n + 1);
    if (!valid) { fail(w, AN_ERR_NOMEM, "out of memory"); return; }
    const unsigned char *s = (const unsigned char *)value;
    size_t used = 0;
    while (*s) {
        int k = utf8_sequence_length(s);
        if (k == 0) { memcpy(valid + used, "\xEF\xBF\xBD", 3); used += 3; s++; }
        else { memcpy(valid + used, s, (size_t)k); used += (size_t)k; s += k; }
    }
    place(w, json_object_new_string_len(valid, (int)used), 0);
    free(valid);
}

/* The shortest "%.*g" text of value that reads back to the same double, or
 * with as_float, to the same float (a float setting 0.9f is written "0.9",
 * not its double expansion 0.8999999761581421). */
static void shortest_text(double value, int as_float, char text[40])
{
    snprintf(text, 40, "%.17g", value);
    for (int precision = as_float ? 1 : 6; precision < 17; precision++) {
        char shorter[40];
        snprintf(shorter, sizeof shorter, "%.*g", precision, value);
        int same = as_float ? strtof(shorter, NULL) == (float)value : strtod(shorter, NULL) == value;
        if (same) { memcpy(text, shorter, sizeof shorter); return; }
    }
}

static void number(json_writer *w, double value, int as_float)
{
    if (!isfinite(value)) { json_null(w); return; }
    char text[40];
    shortest_text(value, as_float, text);
    place(w, json_object_new_double_s(value, text), 0);
}

void json_double(json_writer *w, double value) { number(w, value, 0); }
void json_float(json_writer *w, float value) { number(w, value, 1); }

void json_int(json_writer *w, int64_t value) { place(w, json_object_new_int64(value), 0); }
void json_boolean(json_writer *w, int value) { place(w, json_object_new_boolean(value != 0), 0); }
void json_null(json_writer *w) { place(w, NULL, 1); }

void json_kv_string(json_writer *w, const char *key, const char *value) { json_key(w, key); json_string(w, value); }
void json_kv_double(json_writer *w, const char *key, double value) { json_key(w, key); json_double(w, value); }
void json_kv_float(json_writer *w, const char *key, float value) { json_key(w, key); json_float(w, value); }
void json_kv_int(json_writer *w, const char *key, int64_t value) { json_key(w, key); json_int(w, value); }
void json_kv_bool(json_writer *w, const char *key, int value) { json_key(w, key); json_boolean(w, value); }

an_status json_finish(json_writer *w)
{
    if (w->status != AN_OK) return w->status;
    if (!w->root || w->depth != 0 || w->key) {
        fail(w, AN_ERR_INTERNAL, "the document is empty or not closed");
        return w->status;
    }
    size_t length = 0;
    const char *text = json_object_to_json_string_length(
        w->root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE, &length);
    if (!text) {
        fail(w, AN_ERR_NOMEM, "out of memory serialising");
        return w->status;
    }
    free(w->data);
    w->data = malloc(length + 2);
    if (!w->data) {
        fail(w, AN_ERR_NOMEM, "out of memory serialising");
        return w->status;
    }
    memcpy(w->data, text, length);
    w->data[length] = '\n';
    w->data[length + 1] = '\0';
    w->length = length + 1;
    return AN_OK;
}
