/* text_buffer.h: a growable NUL-terminated text buffer with printf-style
 * appends and HTML escaping: the HTML and SVG that alexnet-eval's reports
 * write, alexnet-prep's bad-files.tsv.
 * The first allocation failure sticks in `status`; later appends do nothing. */
#ifndef ALEXNET_TEXT_BUFFER_H
#define ALEXNET_TEXT_BUFFER_H

#include <stddef.h>

#include "status.h"

typedef struct text_buffer {
    char *data; /* NUL-terminated once anything was appended */
    size_t length, capacity;
    an_status status;
} text_buffer;

void text_init(text_buffer *b);
void text_free(text_buffer *b);
void text_append(text_buffer *b, const char *data, size_t n);
void text_printf(text_buffer *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with &, <, >, " and ' escaped for HTML text and attributes. */
void text_html(text_buffer *b, const char *s);
/* Writes the buffer to path atomically; returns the sticky status first. */
an_status text_write_file(const text_buffer *b, const char *path);

#endif
