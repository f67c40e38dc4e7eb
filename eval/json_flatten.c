/* json_flatten.c: a recursive-descent JSON reader that keeps the leaves by
 * path (json_flatten.h). Depth is limited so a hostile file cannot exhaust
 * the stack. */
#include "json_flatten.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_MAX_DEPTH 64
#define JSON_MAX_PATH 512

typedef struct parser {
    const char *text, *at, *what;
    json_flat *out;
    int capacity;
} parser;

static an_status fail(const parser *p, const char *why)
{
    return error_set(AN_ERR_FORMAT, "%s: not valid JSON at byte %ld: %s", p->what, (long)(p->at - p->text), why);
}

static void skip_space(parser *p)
{
    while (*p->at == ' ' || *p->at == '\t' || *p->at == '\n' || *p->at == '\r') p->at++;
}

static an_status add_leaf(parser *p, const char *path, const char *value, size_t len, int is_string)
{
    if (p->out->count == p->capacity) {
        int cap = p->capacity ? 2 * p->capacity : 64;
        json_leaf *grown = realloc(p->out->leaves, (size_t)cap * sizeof *grown);
        AN_CHECK_ALLOC(grown, (size_t)cap * sizeof *grown);
        p->out->leaves = grown;
        p->capacity = cap;
    }
    json_leaf *l = &p->out->leaves[p->out->count];
    l->path = strdup(path);
    l->value = malloc(len + 1);
    if (!l->path || !l->value) {
        free(l->path);
        free(l->value);
        return error_set(AN_ERR_NOMEM, "out of memory reading %s", p->what);
    }
    memcpy(l->value, value, len);
    l->value[len] = '\0';
    l->is_string = is_string;
    p->out->count++;
    return AN_OK;
}

/* A string at p->at (the opening quote) into *out (malloc'd, unescaped; \u
 * escapes outside ASCII become UTF-8). */
static an_status read_string(parser *p, char **out, size_t *len)
{
    p->at++;
    size_t cap = 32, n = 0;
    char *s = malloc(cap);
    AN_CHECK_ALLOC(s, cap);
    for (;;) {
        unsigned char c = (unsigned char)*p->at;
        if (c == '\0' || c < 0x20) {
            free(s);
            return fail(p, "unterminated string or control character in a string");
        }
        p->at++;
        if (c == '"') break;
        char buf[4];
        size_t k = 1;
        buf[0] = (char)c;
        if (c == '\\') {
            char e = *p->at++;
            switch (e) {
            case '"': case '\\': case '/': buf[0] = e; break;
            case 'b': buf[0] = '\b'; break;
            case 'f': buf[0] = '\f'; break;
            case 'n': buf[0] = '\n'; break;
            case 'r': buf[0] = '\r'; break;
            case 't': buf[0] = '\t'; break;
            case 'u': {
                unsigned v = 0;
                for (int i = 0; i < 4; i++) {
                    char h = *p->at++;
                    v <<= 4;
                    if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
                    else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
                    else {
                        free(s);
                        return fail(p, "bad \\u escape");
                    }
                }
                if (v < 0x80) buf[0] = (char)v;
                else if (v < 0x800) {
                    buf[0] = (char)(0xC0 | (v >> 6));
                    buf[1] = (char)(0x80 | (v & 0x3F));
                    k = 2;
                } else {
                    buf[0] = (char)(0xE0 | (v >> 12));
                    buf[1] = (char)(0x80 | ((v >> 6) & 0x3F));
                    buf[2] = (char)(0x80 | (v & 0x3F));
                    k = 3;
                }
                break;
            }
            default:
                free(s);
                return fail(p, "bad escape in a string");
            }
        }
        if (n + k + 1 > cap) {
            cap *= 2;
            char *grown = realloc(s, cap);
            if (!grown) {
                free(s);
                return error_set(AN_ERR_NOMEM, "out of memory reading %s", p->what);
            }
            s = grown;
        }
        memcpy(s + n, buf, k);
        n += k;
    }
    s[n] = '\0';
    *out = s;
    *len = n;
    return AN_OK;
}

static an_status parse_value(parser *p, char *path, size_t path_len, int depth);

/* After a member or element: ',' (another follows, *more = 1) or `close` (*more = 0). */
static an_status after_item(parser *p, char close, int *more)
{
    skip_space(p);
    if (*p->at == ',' || *p->at == close) {
        *more = *p->at == ',';
        p->at++;
        return AN_OK;
    }
    return fail(p, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
}

static an_status child_path(parser *p, char *path, size_t path_len, const char *fmt, const char *key, long index,
                            size_t *new_len)
{
    int n = key ? snprintf(path + path_len, JSON_MAX_PATH - path_len, fmt, key)
                : snprintf(path + path_len, JSON_MAX_PATH - path_len, fmt, index);
    if (n < 0 || path_len + (size_t)n >= JSON_MAX_PATH) return fail(p, "nesting too deep (path too long)");
    *new_len = path_len + (size_t)n;
    return AN_OK;
}

static an_status parse_object(parser *p, char *path, size_t path_len, int depth)
{
    p->at++;
    skip_space(p);
    if (*p->at == '}') {
        p->at++;
        return AN_OK;
    }
    for (;;) {
        skip_space(p);
        if (*p->at != '"') return fail(p, "expected a key");
        char *key;
        size_t key_len, len = 0;
        AN_TRY(read_string(p, &key, &key_len));
        an_status st = child_path(p, path, path_len, path_len ? ".%s" : "%s", key, 0, &len);
        free(key);
        AN_TRY(st);
        skip_space(p);
        if (*p->at != ':') return fail(p, "expected ':'");
        p->at++;
        AN_TRY(parse_value(p, path, len, depth + 1));
        path[path_len] = '\0';
        int more;
        AN_TRY(after_item(p, '}', &more));
        if (!more) return AN_OK;
    }
}

static an_status parse_array(parser *p, char *path, size_t path_len, int depth)
{
    p->at++;
    skip_space(p);
    if (*p->at == ']') {
        p->at++;
        return AN_OK;
    }
    for (long i = 0;; i++) {
        size_t len = 0;
        AN_TRY(child_path(p, path, path_len, "[%ld]", NULL, i, &len));
        AN_TRY(parse_value(p, path, len, depth + 1));
        path[path_len] = '\0';
        int more;
        AN_TRY(after_item(p, ']', &more));
        if (!more) return AN_OK;
    }
}

static an_status parse_value(parser *p, char *path, size_t path_len, int depth)
{
    if (depth > JSON_MAX_DEPTH) return fail(p, "nested too deeply");
    skip_space(p);
    char c = *p->at;
    if (c == '{') return parse_object(p, path, path_len, depth);
    if (c == '[') return parse_array(p, path, path_len, depth);
    if (c == '"') {
        char *s;
        size_t len = 0;
        AN_TRY(read_string(p, &s, &len));
        an_status st = add_leaf(p, path, s, len, 1);
        free(s);
        return st;
    }
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t len = strlen(words[i]);
        if (strncmp(p->at, words[i], len) == 0) {
            p->at += len;
            return add_leaf(p, path, words[i], len, 0);
        }
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        char *end;
        errno = 0;
        (void)strtod(p->at, &end);
        if (end == p->at) return fail(p, "bad number");
        const char *start = p->at;
        p->at = end;
        return add_leaf(p, path, start, (size_t)(end - start), 0);
    }
    return fail(p, "expected a value");
}

an_status json_flatten(const char *text, const char *what, json_flat *out)
{
    memset(out, 0, sizeof *out);
    parser p = {.text = text, .at = text, .what = what, .out = out};
    char path[JSON_MAX_PATH] = "";
    an_status st = parse_value(&p, path, 0, 0);
    if (st == AN_OK) {
        skip_space(&p);
        if (*p.at != '\0') st = fail(&p, "text after the document");
    }
    if (st != AN_OK) json_flat_free(out);
    return st;
}

an_status json_flatten_file(const char *path, json_flat *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) return error_set(AN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *text = malloc(cap);
    an_status st = AN_OK;
    if (!text) st = error_set(AN_ERR_NOMEM, "out of memory reading %s", path);
    while (st == AN_OK) {
        if (n + 1 >= cap) {
            char *grown = realloc(text, cap * 2);
            if (!grown) {
                st = error_set(AN_ERR_NOMEM, "out of memory reading %s", path);
                break;
            }
            text = grown;
            cap *= 2;
        }
        size_t got = fread(text + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) st = error_set(AN_ERR_IO, "reading %s failed", path);
            break;
        }
    }
    fclose(f);
    if (st == AN_OK) {
        text[n] = '\0';
        if (strlen(text) != n) st = error_set(AN_ERR_FORMAT, "%s holds a NUL byte: not a JSON file", path);
        else st = json_flatten(text, path, out);
    }
    free(text);
    return st;
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
    if (!l || l->is_string || !end || *end != '\0')
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
