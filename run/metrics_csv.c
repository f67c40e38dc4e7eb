/* metrics_csv.c: a small reader for the comma-separated metrics of a run. */
#include "metrics_csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits line in place at commas into at most max fields; returns the count. */
static int split_fields(char *line, char **fields, int max)
{
    int n = 0;
    line[strcspn(line, "\r\n")] = '\0';
    char *p = line;
    while (n < max) {
        fields[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma) break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

static double parse_cell(const char *s)
{
    while (*s == ' ') s++;
    if (*s == '\0') return NAN;
    char *end = NULL;
    double v = strtod(s, &end);
    while (end && *end == ' ') end++;
    return end && *end == '\0' ? v : NAN;
}

enum { MAX_COLUMNS = 64 };

an_status metrics_table_read(metrics_table *t, const char *path)
{
    an_status st = AN_OK;
    memset(t, 0, sizeof *t);
    char *line = NULL;
    size_t cap = 0, rows_cap = 0;
    char *fields[MAX_COLUMNS];
    FILE *f = fopen(path, "r");
    if (!f) return error_set(AN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    if (getline(&line, &cap, f) < 0) {
        st = error_set(AN_ERR_FORMAT, "%s is empty (no header row)", path);
        goto done;
    }
    int n = split_fields(line, fields, MAX_COLUMNS);
    t->names = calloc((size_t)n, sizeof(char *));
    if (!t->names) {
        st = error_set(AN_ERR_NOMEM, "out of memory reading %s", path);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        t->names[i] = strdup(fields[i]);
        if (!t->names[i]) {
            st = error_set(AN_ERR_NOMEM, "out of memory reading %s", path);
            goto done;
        }
        t->num_columns++;
    }
    int split_column = metrics_table_column(t, "split");
    while (getline(&line, &cap, f) >= 0) {
        if (line[0] == '\n' || line[0] == '\0') continue;
        if (t->num_rows == rows_cap) {
            rows_cap = rows_cap ? rows_cap * 2 : 256;
            double *grown = realloc(t->values, rows_cap * (size_t)t->num_columns * sizeof(double));
            if (grown) t->values = grown;
            char **grown_split = split_column >= 0 ? realloc(t->row_split, rows_cap * sizeof(char *)) : NULL;
            if (grown_split) t->row_split = grown_split;
            if (!grown || (split_column >= 0 && !grown_split)) {
                st = error_set(AN_ERR_NOMEM, "out of memory reading %s", path);
                goto done;
            }
        }
        int m = split_fields(line, fields, MAX_COLUMNS);
        double *row = t->values + t->num_rows * (size_t)t->num_columns; /* [num_columns] */
        for (int i = 0; i < t->num_columns; i++) row[i] = i < m ? parse_cell(fields[i]) : NAN;
        if (split_column >= 0) {
            t->row_split[t->num_rows] = strdup(split_column < m ? fields[split_column] : "");
            if (!t->row_split[t->num_rows]) {
                st = error_set(AN_ERR_NOMEM, "out of memory reading %s", path);
                goto done;
            }
        }
        t->num_rows++;
    }
    if (ferror(f)) st = error_set(AN_ERR_IO, "reading %s: %s", path, strerror(errno));
done:
    free(line);
    fclose(f);
    if (st != AN_OK) metrics_table_free(t);
    return st;
}

int metrics_table_column(const metrics_table *t, const char *name)
{
    for (int i = 0; i < t->num_columns; i++)
        if (strcmp(t->names[i], name) == 0) return i;
    return -1;
}

double metrics_table_at(const metrics_table *t, size_t row, int column)
{
    return t->values[row * (size_t)t->num_columns + (size_t)column];
}

void metrics_table_free(metrics_table *t)
{
    for (int i = 0; i < t->num_columns; i++) free(t->names[i]);
    free(t->names);
    for (size_t r = 0; t->row_split && r < t->num_rows; r++) free(t->row_split[r]);
    free(t->row_split);
    free(t->values);
    memset(t, 0, sizeof *t);
}
