/* json_reader.c: strict json-c parsing and checked lookups (json_reader.h). */
#include "json_reader.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

an_status json_doc_parse(json_doc *d, const char *text, size_t length, const char *what)
{
    memset(d, 0, sizeof *d);
    snprintf(d->what, sizeof d->what, "%s", what);
    if (length > INT_MAX) return error_set(AN_ERR_FORMAT, "%s: %zu bytes is too long for JSON", what, length);
    struct json_tokener *tok = json_tokener_new_ex(JSON_READ_MAX_DEPTH);
    if (!tok) return error_set(AN_ERR_NOMEM, "%s: out of memory for the JSON parser", what);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    struct json_object *root = json_tokener_parse_ex(tok, text, (int)length);
    enum json_tokener_error err = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!root || err != json_tokener_success) {
        json_object_put(root);
        if (err == json_tokener_continue) err = json_tokener_error_parse_eof;
        return error_set(AN_ERR_FORMAT, "%s is not valid JSON: %s at byte %zu", what,
                         json_tokener_error_desc(err), end);
    }
    while (end < length && strchr(" \t\r\n", text[end]) && text[end]) end++;
    if (end < length) {
        json_object_put(root);
        return error_set(AN_ERR_FORMAT, "%s is not valid JSON: unexpected text after the value at byte %zu", what,
                         end);
    }
    if (!json_object_is_type(root, json_type_object)) {
        json_object_put(root);
        return error_set(AN_ERR_FORMAT, "%s is not a JSON object", what);
    }
    d->root = root;
    return AN_OK;
}

an_status json_doc_read_file(json_doc *d, const char *path, size_t max_bytes)
{
    memset(d, 0, sizeof *d);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return error_set(AN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        an_status st = error_set(AN_ERR_IO, "cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return st;
    }
    if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > max_bytes) {
        close(fd);
        return error_set(AN_ERR_FORMAT, "%s is not a regular file of at most %zu bytes", path, max_bytes);
    }
    size_t size = (size_t)sb.st_size, got = 0;
    char *text = malloc(size + 1);
    if (!text) {
        close(fd);
        return error_set(AN_ERR_NOMEM, "out of memory reading %s (%zu bytes)", path, size);
    }
    while (got < size) {
        ssize_t n = read(fd, text + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            an_status st = n < 0 ? error_set(AN_ERR_IO, "cannot read %s: %s", path, strerror(errno))
                                 : error_set(AN_ERR_FORMAT, "%s shrank while being read", path);
            free(text);
            close(fd);
            return st;
        }
        got += (size_t)n;
    }
    close(fd);
    an_status st = json_doc_parse(d, text, size, path);
    free(text);
    return st;
}

void json_doc_free(json_doc *d)
{
    json_object_put(d->root);
    d->root = NULL;
}

static an_status member(const json_doc *d, const char *key, json_type type, const char *kind,
                        struct json_object **out)
{
    struct json_object *v = NULL;
    if (!d->root || !json_object_object_get_ex(d->root, key, &v))
        return error_set(AN_ERR_FORMAT, "%s: \"%s\" is missing", d->what, key);
    int ok = json_object_is_type(v, type) || (type == json_type_double && json_object_is_type(v, json_type_int));
    if (!ok) return error_set(AN_ERR_FORMAT, "%s: \"%s\" is not %s", d->what, key, kind);
    *out = v;
    return AN_OK;
}

an_status json_doc_int(const json_doc *d, const char *key, int64_t min, int64_t max, int64_t *out)
{
    struct json_object *v = NULL;
    AN_TRY(member(d, key, json_type_int, "an integer", &v));
    errno = 0;
    int64_t x = json_object_get_int64(v);
    /* json-c keeps integers above INT64_MAX as uint64 and reports them as INT64_MAX. */
    if (errno != 0 || x < min || x > max || (x == INT64_MAX && json_object_get_uint64(v) != (uint64_t)INT64_MAX))
        return error_set(AN_ERR_FORMAT, "%s: \"%s\" is %s, outside %lld..%lld", d->what, key,
                         json_object_get_string(v), (long long)min, (long long)max);
    *out = x;
    return AN_OK;
}

an_status json_doc_double(const json_doc *d, const char *key, double *out)
{
    struct json_object *v = NULL;
    AN_TRY(member(d, key, json_type_double, "a number", &v));
    double x = json_object_get_double(v);
    if (!isfinite(x)) return error_set(AN_ERR_FORMAT, "%s: \"%s\" is not a finite number", d->what, key);
    *out = x;
    return AN_OK;
}

an_status json_doc_string(const json_doc *d, const char *key, const char **out)
{
    struct json_object *v = NULL;
    AN_TRY(member(d, key, json_type_string, "a string", &v));
    const char *s = json_object_get_string(v);
    if (strlen(s) != (size_t)json_object_get_string_len(v))
        return error_set(AN_ERR_FORMAT, "%s: \"%s\" holds a NUL character", d->what, key);
    *out = s;
    return AN_OK;
}

int json_doc_has(const json_doc *d, const char *key)
{
    return d->root && json_object_object_get_ex(d->root, key, NULL);
}
