/* text_buffer.c: growable text with printf appends and HTML escaping. */
#include "text_buffer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"

void text_init(text_buffer *b) { memset(b, 0, sizeof *b); }

void text_free(text_buffer *b)
{
    free(b->data);
    memset(b, 0, sizeof *b);
}

static int reserve(text_buffer *b, size_t extra)
{
    if (b->status != AN_OK) return 0;
    if (b->length + extra + 1 <= b->capacity) return 1;
    size_t cap = b->capacity ? b->capacity : 1024;
    while (cap < b->length + extra + 1) cap *= 2;
    char *grown = realloc(b->data, cap);
    if (!grown) {
        b->status = error_set(AN_ERR_NOMEM, "out of memory growing a text buffer to %zu bytes", cap);
        return 0;
    }
    b->data = grown;
    b->capacity = cap;
    return 1;
}

void text_append(text_buffer *b, const char *data, size_t n)
{
    if (!reserve(b, n)) return;
    memcpy(b->data + b->length, data, n);
    b->length += n;
    b->data[b->length] = '\0';
}

void text_printf(text_buffer *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        if (b->status == AN_OK) b->status = error_set(AN_ERR_INTERNAL, "bad format '%s'", fmt);
        return;
    }
    if ((size_t)n < sizeof small) {
        text_append(b, small, (size_t)n);
        return;
    }
    if (!reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->length, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->length += (size_t)n;
}

void text_html(text_buffer *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': text_append(b, "&amp;", 5); break;
        case '<': text_append(b, "&lt;", 4); break;
        case '>': text_append(b, "&gt;", 4); break;
        case '"': text_append(b, "&quot;", 6); break;
        case '\'': text_append(b, "&#39;", 5); break;
        default: text_append(b, s, 1);
        }
    }
}

an_status text_write_file(const text_buffer *b, const char *path)
{
    if (b->status != AN_OK) return b->status;
    return atomic_write_file(path, b->data ? b->data : "", b->length);
}
