/* flat_json.c: see flat_json.h. */
#include "flat_json.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_space(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    return p;
}

/* Reads a JSON string at p (at the opening quote) into a malloc'd buffer. */
static an_status read_string(const char **pp, char **out)
{
    const char *p = *pp + 1;
    size_t cap = strlen(p) + 1, n = 0;
    char *s = malloc(cap);
    AN_CHECK_ALLOC(s, cap);
    while (*p && *p != '"') {
        char c = *p++;
        if (c == '\\') {
            char e = *p++;
            switch (e) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            default:
                free(s);
                return error_set(AN_ERR_FORMAT, "trainer state: unsupported escape \\%c", e ? e : '0');
            }
        }
        s[n++] = c;
    }
    if (*p != '"') {
        free(s);
        return error_set(AN_ERR_FORMAT, "trainer state: unterminated string");
    }
    s[n] = '\0';
    *pp = p + 1;
    *out = s;
    return AN_OK;
}

static an_status append_entry(flat_json *j, char *key, char *value, int is_string)
{
    char **keys = realloc(j->keys, (size_t)(j->count + 1) * sizeof *keys);
    if (keys) j->keys = keys;
    char **values = realloc(j->values, (size_t)(j->count + 1) * sizeof *values);
    if (values) j->values = values;
    int *kinds = realloc(j->is_string, (size_t)(j->count + 1) * sizeof *kinds);
    if (kinds) j->is_string = kinds;
    if (!keys || !values || !kinds) {
        free(key);
        free(value);
        return error_set(AN_ERR_NOMEM, "out of memory reading the trainer state");
    }
    j->keys[j->count] = key;
    j->values[j->count] = value;
    j->is_string[j->count] = is_string;
    j->count++;
    return AN_OK;
}

static an_status parse_members(const char *p, flat_json *out)
{
    p = skip_space(p);
    if (*p++ != '{') return error_set(AN_ERR_FORMAT, "trainer state: expected '{'");
    p = skip_space(p);
    if (*p == '}') return AN_OK;
    for (;;) {
        p = skip_space(p);
        if (*p != '"') return error_set(AN_ERR_FORMAT, "trainer state: expected a key");
        char *key = NULL, *value = NULL;
        AN_TRY(read_string(&p, &key));
        p = skip_space(p);
        if (*p++ != ':') {
            an_status st = error_set(AN_ERR_FORMAT, "trainer state: expected ':' after \"%s\"", key);
            free(key);
            return st;
        }
        p = skip_space(p);
        int is_string = *p == '"';
        if (is_string) {
            an_status st = read_string(&p, &value);
            if (st != AN_OK) { free(key); return st; }
        } else {
            const char *end = p;
            while (*end && *end != ',' && *end != '}' && *end != ' ' && *end != '\n') end++;
            if (end == p || strchr("{[", *p)) {
                free(key);
                return error_set(AN_ERR_FORMAT, "trainer state: bad value (only flat objects are read)");
            }
            value = strndup(p, (size_t)(end - p));
            if (!value) { free(key); return error_set(AN_ERR_NOMEM, "out of memory reading the trainer state"); }
            p = end;
        }
        AN_TRY(append_entry(out, key, value, is_string));
        p = skip_space(p);
        if (*p == ',') { p++; continue; }
        if (*p == '}') return AN_OK;
        return error_set(AN_ERR_FORMAT, "trainer state: expected ',' or '}'");
    }
}

an_status flat_json_parse(const char *text, flat_json *out)
{
    memset(out, 0, sizeof *out);
    an_status st = parse_members(text, out);
    if (st != AN_OK) flat_json_free(out);
    return st;
}

void flat_json_free(flat_json *j)
{
    for (int i = 0; i < j->count; i++) {
        free(j->keys[i]);
        free(j->values[i]);
    }
    free(j->keys);
    free(j->values);
    free(j->is_string);
    memset(j, 0, sizeof *j);
}

static int find(const flat_json *j, const char *key)
{
    for (int i = 0; i < j->count; i++)
        if (strcmp(j->keys[i], key) == 0) return i;
    return -1;
}

an_status flat_json_get_double(const flat_json *j, const char *key, double *out)
{
    int i = find(j, key);
    if (i < 0 || j->is_string[i]) return error_set(AN_ERR_FORMAT, "trainer state: number \"%s\" missing", key);
    char *end;
    errno = 0;
    double v = strtod(j->values[i], &end);
    if (*end || errno) return error_set(AN_ERR_FORMAT, "trainer state: \"%s\" is not a number", key);
    *out = v;
    return AN_OK;
}

an_status flat_json_get_u64(const flat_json *j, const char *key, uint64_t *out)
{
    int i = find(j, key);
    if (i < 0 || j->is_string[i]) return error_set(AN_ERR_FORMAT, "trainer state: number \"%s\" missing", key);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(j->values[i], &end, 10);
    if (*end || errno || j->values[i][0] == '-')
        return error_set(AN_ERR_FORMAT, "trainer state: \"%s\" is not a count", key);
    *out = v;
    return AN_OK;
}

an_status flat_json_get_int(const flat_json *j, const char *key, int *out)
{
    double v;
    AN_TRY(flat_json_get_double(j, key, &v));
    if (v != (double)(int)v || v < INT_MIN || v > INT_MAX)
        return error_set(AN_ERR_FORMAT, "trainer state: \"%s\" is not an integer", key);
    *out = (int)v;
    return AN_OK;
}

an_status flat_json_get_string(const flat_json *j, const char *key, const char **out)
{
    int i = find(j, key);
    if (i < 0 || !j->is_string[i]) return error_set(AN_ERR_FORMAT, "trainer state: string \"%s\" missing", key);
    *out = j->values[i];
    return AN_OK;
}
