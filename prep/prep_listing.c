/* prep_listing.c: growable item lists, sorting, class-balanced subsets. */
#include "prep_listing.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const prep_split_names[PREP_SPLITS] = {"train", "val"};

an_status prep_listing_add(prep_item_list *list, const char *path, int32_t label, uint32_t source_index)
{
    if (list->count == list->capacity) {
        size_t cap = list->capacity ? 2 * list->capacity : 1024;
        prep_item *grown = realloc(list->items, cap * sizeof *grown);
        AN_CHECK_ALLOC(grown, cap * sizeof *grown);
        list->items = grown;
        list->capacity = cap;
    }
    char *copy = strdup(path);
    AN_CHECK_ALLOC(copy, strlen(path) + 1);
    list->items[list->count++] = (prep_item){copy, label, source_index};
    return AN_OK;
}

static int compare_items(const void *a, const void *b)
{
    const prep_item *x = a, *y = b;
    int c = strcmp(x->path, y->path);
    if (c != 0) return c;
    return (x->source_index > y->source_index) - (x->source_index < y->source_index);
}

void prep_listing_sort(prep_item_list *list)
{
    if (list->count > 1) qsort(list->items, list->count, sizeof *list->items, compare_items);
}

an_status prep_listing_limit(prep_item_list *list, size_t limit, int num_classes)
{
    if (limit >= list->count) return AN_OK;
    an_status st = AN_OK;
    size_t *seen = calloc((size_t)num_classes, sizeof *seen);   /* [C] items of class c so far */
    size_t *quota = calloc((size_t)num_classes, sizeof *quota); /* [C] items of class c to keep */
    size_t *avail = calloc((size_t)num_classes, sizeof *avail); /* [C] items of class c listed */
    if (!seen || !quota || !avail) {
        st = error_set(AN_ERR_NOMEM, "out of memory for a subset of %zu items", limit);
        goto done;
    }
    for (size_t i = 0; i < list->count; i++) avail[list->items[i].label]++;
    /* Round-robin over classes: equivalent to taking the k-th image of each class in round k. */
    size_t taken = 0;
    while (taken < limit) {
        for (int c = 0; c < num_classes && taken < limit; c++)
            if (quota[c] < avail[c]) { quota[c]++; taken++; }
    }
    size_t kept = 0;
    for (size_t i = 0; i < list->count; i++) {
        prep_item item = list->items[i];
        if (seen[item.label]++ < quota[item.label]) list->items[kept++] = item;
        else free(item.path);
    }
    list->count = kept;
done:
    free(seen);
    free(quota);
    free(avail);
    return st;
}

static void free_strings(char **s, int n)
{
    if (!s) return;
    for (int i = 0; i < n; i++) free(s[i]);
    free(s);
}

an_status prep_listing_set_classes(prep_listing *l, int n, const char *const *ids, const char *const *names)
{
    l->class_ids = calloc((size_t)n, sizeof(char *));
    l->class_names = calloc((size_t)n, sizeof(char *));
    AN_CHECK_ALLOC(l->class_ids, (size_t)n * sizeof(char *));
    AN_CHECK_ALLOC(l->class_names, (size_t)n * sizeof(char *));
    l->num_classes = n;
    for (int i = 0; i < n; i++) {
        l->class_ids[i] = strdup(ids[i]);
        l->class_names[i] = strdup(names[i]);
        if (!l->class_ids[i] || !l->class_names[i])
            return error_set(AN_ERR_NOMEM, "out of memory copying class %d", i);
    }
    return AN_OK;
}

void prep_listing_free(prep_listing *l)
{
    for (int s = 0; s < PREP_SPLITS; s++) {
        for (size_t i = 0; i < l->split[s].count; i++) free(l->split[s].items[i].path);
        free(l->split[s].items);
        free(l->idx_pixels[s]);
    }
    free_strings(l->class_ids, l->num_classes);
    free_strings(l->class_names, l->num_classes);
    memset(l, 0, sizeof *l);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static int utf8_sequence(const unsigned char *s)
{
    if (s[0] < 0x80) return 1;
    int n = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (n == 0 || (n == 2 && s[0] < 0xC2) || s[0] > 0xF4) return 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    if (n == 3 && s[0] == 0xE0 && s[1] < 0xA0) return 0;          /* overlong */
    if (n == 3 && s[0] == 0xED && s[1] >= 0xA0) return 0;         /* surrogates */
    if (n == 4 && s[0] == 0xF0 && s[1] < 0x90) return 0;          /* overlong */
    if (n == 4 && s[0] == 0xF4 && s[1] >= 0x90) return 0;         /* above U+10FFFF */
    return n;
}

char *prep_path_utf8(const char *path)
{
    size_t len = strlen(path);
    char *out = malloc(4 * len + 1);
    if (!out) return NULL;
    const unsigned char *s = (const unsigned char *)path;
    size_t o = 0;
    while (*s) {
        int n = utf8_sequence(s);
        if (n == 1 && *s == '\\') {
            out[o++] = '\\';
            out[o++] = '\\';
        } else if (n > 0) {
            memcpy(out + o, s, (size_t)n);
            o += (size_t)n;
        } else {
            static const char hex[] = "0123456789abcdef";
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[*s >> 4];
            out[o++] = hex[*s & 15];
            n = 1;
        }
        s += n;
    }
    out[o] = 0;
    return out;
}

an_status prep_read_line(FILE *f, char *line, size_t size, const char *path, int *line_no, int *have_line)
{
    *have_line = 0;
    if (!fgets(line, (int)size, f)) {
        if (ferror(f)) return error_set(AN_ERR_IO, "cannot read %s after line %d: %s", path, *line_no, strerror(errno));
        return AN_OK;
    }
    ++*line_no;
    size_t n = strcspn(line, "\r\n");
    int next = line[n] == '\0' && n == size - 1 ? getc(f) : EOF; /* the buffer is full: is there more? */
    if (next != EOF)
        return error_set(AN_ERR_FORMAT, "%s:%d: the line is longer than %zu characters; is this the right file?",
                         path, *line_no, size - 2);
    line[n] = '\0';
    *have_line = 1;
    return AN_OK;
}

an_status prep_listing_read_classes(prep_listing *l, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return error_set(AN_ERR_IO, "cannot open class list %s: %s", path, strerror(errno));
    char line[2048];
    size_t n = 0, cap = 0;
    int line_no = 0, have_line = 1;
    char **ids = NULL, **names = NULL;
    an_status st = AN_OK;
    while (st == AN_OK) {
        st = prep_read_line(f, line, sizeof line, path, &line_no, &have_line);
        if (st != AN_OK || !have_line) break;
        if (!line[0]) continue;
        char *space = line + strcspn(line, " \t");
        char *words = *space ? space + 1 : space;
        *space = 0;
        if (n == cap) {
            cap = cap ? 2 * cap : 1024;
            char **a = realloc(ids, cap * sizeof *a);
            if (a) ids = a;
            char **b = realloc(names, cap * sizeof *b);
            if (b) names = b;
            if (!a || !b) { st = error_set(AN_ERR_NOMEM, "out of memory reading %s", path); break; }
        }
        ids[n] = strdup(line);
        names[n] = strdup(*words ? words : line);
        if (!ids[n] || !names[n]) {
            free(ids[n]);
            free(names[n]);
            st = error_set(AN_ERR_NOMEM, "out of memory reading %s", path);
            break;
        }
        n++;
    }
    fclose(f);
    if (st == AN_OK && n == 0) st = error_set(AN_ERR_FORMAT, "class list %s is empty", path);
    if (st == AN_OK) st = prep_listing_set_classes(l, (int)n, (const char *const *)ids, (const char *const *)names);
    for (size_t i = 0; i < n; i++) { free(ids[i]); free(names[i]); }
    free(ids);
    free(names);
    return st;
}
