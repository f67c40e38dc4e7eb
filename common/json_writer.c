/* json_writer.c: streaming JSON output with escaping and comma bookkeeping. */
#include "json_writer.h"

#include <inttypes.h>
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
    free(w->data);
    memset(w, 0, sizeof *w);
}

static void append(json_writer *w, const char *text, size_t n)
{
    if (w->status != AN_OK) return;
    if (w->length + n + 1 > w->capacity) {
        size_t cap = w->capacity ? w->capacity : 256;
        while (cap < w->length + n + 1) cap *= 2;
        char *grown = realloc(w->data, cap);
        if (!grown) {
            w->status = error_set(AN_ERR_NOMEM, "out of memory growing a JSON buffer to %zu bytes", cap);
            return;
        }
        w->data = grown;
        w->capacity = cap;
    }
    memcpy(w->data + w->length, text, n);
    w->length += n;
    w->data[w->length] = '\0';
}

static void append_str(json_writer *w, const char *text) { append(w, text, strlen(text)); }

static void newline_indent(json_writer *w)
{
    append(w, "\n", 1);
    for (int i = 0; i < w->depth; i++) append(w, "  ", 2);
}

/* Called before every value or key: writes the comma and indentation. */
static void before_value(json_writer *w)
{
    if (w->after_key) { w->after_key = 0; return; }
    if (w->depth > 0) {
        if (w->count[w->depth] > 0) append(w, ",", 1);
        newline_indent(w);
        w->count[w->depth]++;
    }
}

static void open_container(json_writer *w, const char *bracket)
{
    before_value(w);
    append_str(w, bracket);
    if (w->depth + 1 >= JSON_MAX_DEPTH) {
        if (w->status == AN_OK) w->status = error_set(AN_ERR_INTERNAL, "JSON nested deeper than %d", JSON_MAX_DEPTH);
        return;
    }
    w->depth++;
    w->count[w->depth] = 0;
}

static void close_container(json_writer *w, const char *bracket)
{
    if (w->depth <= 0) {
        if (w->status == AN_OK) w->status = error_set(AN_ERR_INTERNAL, "JSON container closed twice");
        return;
    }
    int had = w->count[w->depth];
    w->depth--;
    if (had) newline_indent(w);
    append_str(w, bracket);
}

void json_begin_object(json_writer *w) { open_container(w, "{"); }
void json_end_object(json_writer *w) { close_container(w, "}"); }
void json_begin_array(json_writer *w) { open_container(w, "["); }
void json_end_array(json_writer *w) { close_container(w, "]"); }

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

static void append_escaped(json_writer *w, const char *value)
{
    append(w, "\"", 1);
    const unsigned char *s = (const unsigned char *)value;
    while (*s) {
        char esc[8];
        if (*s == '"') { append(w, "\\\"", 2); s++; }
        else if (*s == '\\') { append(w, "\\\\", 2); s++; }
        else if (*s == '\n') { append(w, "\\n", 2); s++; }
        else if (*s == '\t') { append(w, "\\t", 2); s++; }
        else if (*s == '\r') { append(w, "\\r", 2); s++; }
        else if (*s < 0x20) { snprintf(esc, sizeof esc, "\\u%04x", *s); append_str(w, esc); s++; }
        else {
            int n = utf8_sequence_length(s);
            if (n == 0) { append_str(w, "\\ufffd"); s++; }
            else { append(w, (const char *)s, (size_t)n); s += n; }
        }
    }
    append(w, "\"", 1);
}

void json_key(json_writer *w, const char *key)
{
    before_value(w);
    append_escaped(w, key);
    append(w, ": ", 2);
    w->after_key = 1;
}

void json_string(json_writer *w, const char *value)
{
    before_value(w);
    if (value) append_escaped(w, value);
    else append_str(w, "null");
}

void json_double(json_writer *w, double value)
{
    before_value(w);
    if (!isfinite(value)) { append_str(w, "null"); return; }
    char buf[40];
    snprintf(buf, sizeof buf, "%.17g", value);
    /* Prefer the shortest text that reads back to the same double. */
    for (int precision = 6; precision < 17; precision++) {
        char shorter[40];
        snprintf(shorter, sizeof shorter, "%.*g", precision, value);
        if (strtod(shorter, NULL) == value) { memcpy(buf, shorter, sizeof shorter); break; }
    }
    append_str(w, buf);
}

void json_int(json_writer *w, int64_t value)
{
    before_value(w);
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, value);
    append_str(w, buf);
}

void json_bool(json_writer *w, int value)
{
    before_value(w);
    append_str(w, value ? "true" : "false");
}

void json_null(json_writer *w)
{
    before_value(w);
    append_str(w, "null");
}

void json_kv_string(json_writer *w, const char *key, const char *value) { json_key(w, key); json_string(w, value); }
void json_kv_double(json_writer *w, const char *key, double value) { json_key(w, key); json_double(w, value); }
void json_kv_int(json_writer *w, const char *key, int64_t value) { json_key(w, key); json_int(w, value); }
void json_kv_bool(json_writer *w, const char *key, int value) { json_key(w, key); json_bool(w, value); }

an_status json_finish(json_writer *w)
{
    if (w->status != AN_OK) return w->status;
    if (w->depth != 0) return error_set(AN_ERR_INTERNAL, "JSON document left %d containers open", w->depth);
    append(w, "\n", 1);
    return w->status;
}
