/* prep_listing.h: what alexnet-prep will convert: the class list and, per
 * split, the source images in sorted source order with their labels.
 *
 * Sources (prep_source_*.c) fill a listing; the planner assigns image ids in
 * this order (after an optional --train-limit/--val-limit subset) and the
 * decoder reads each item.
 */
#ifndef ALEXNET_PREP_LISTING_H
#define ALEXNET_PREP_LISTING_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "status.h"

enum { PREP_TRAIN = 0, PREP_VAL = 1, PREP_SPLITS = 2 };
extern const char *const prep_split_names[PREP_SPLITS]; /* "train", "val" */

typedef struct prep_item {
    char *path;            /* relative to the input root ("file#index" for IDX) */
    int32_t label;         /* class index in 0..num_classes-1 */
    uint32_t source_index; /* IDX: the image's index in its IDX file */
} prep_item;

typedef struct prep_item_list {
    prep_item *items;      /* [count] */
    size_t count, capacity;
    size_t skipped;        /* hidden files and files with other extensions */
} prep_item_list;

typedef struct prep_listing {
    char source[16];       /* idx, folder, imagenet, manifest */
    char input_root[4096];
    int num_classes;
    char **class_ids;      /* [num_classes] */
    char **class_names;    /* [num_classes] */
    prep_item_list split[PREP_SPLITS];
    /* IDX only: the decoded IDX arrays, [count, idx_rows, idx_cols] uint8 per split. */
    uint8_t *idx_pixels[PREP_SPLITS];
    size_t idx_count[PREP_SPLITS];
    int idx_rows, idx_cols;
} prep_listing;

an_status prep_listing_add(prep_item_list *list, const char *path, int32_t label, uint32_t source_index);
/* Sorts by path (byte order), the order image ids are assigned in. */
void prep_listing_sort(prep_item_list *list);
/* Keeps `limit` items, class-balanced: round k takes the k-th image (in
 * sorted order) of every class that still has one, classes in index order,
 * until `limit` are taken; the kept items stay in sorted source order. */
an_status prep_listing_limit(prep_item_list *list, size_t limit, int num_classes);
/* Sets num_classes and copies the class ids and names. */
an_status prep_listing_set_classes(prep_listing *l, int n, const char *const *ids, const char *const *names);
/* The line formats read by hand (class lists, manifests, the devkit id table
 * and ground truth): reads the next line of f into line[size] without its
 * end of line, counting *line_no from 1; *have_line is 0 at the end of the
 * file. AN_ERR_FORMAT naming path and line for a line of size - 2 characters
 * or more (it would be cut), AN_ERR_IO for a read error. */
an_status prep_read_line(FILE *f, char *line, size_t size, const char *path, int *line_no, int *have_line);

/* Reads a class list file, "id[ words]" per line (words default to the id). */
an_status prep_listing_read_classes(prep_listing *l, const char *path);
void prep_listing_free(prep_listing *l);

/* The path as stored in shards (valid UTF-8): bytes that are not valid UTF-8
 * are written as "\xNN" (and a backslash as "\\"). Returns a malloc'd string. */
char *prep_path_utf8(const char *path);

#endif
