/* metrics_csv.h: reads a run's metrics.csv (written by alexnet-train, one row
 * per logged step or epoch, a header row naming the columns) into columns of
 * numbers for the report's training curves. An empty or non-numeric cell is
 * NaN (e.g. validation columns on rows logged between validations). A
 * column named "split" is kept as text, so rows of training and validation
 * metrics in one file can be told apart. */
#ifndef ALEXNET_RUN_METRICS_CSV_H
#define ALEXNET_RUN_METRICS_CSV_H

#include <stddef.h>

#include "status.h"

typedef struct metrics_table {
    int num_columns;
    size_t num_rows;
    char **names;   /* [num_columns] */
    double *values; /* [num_rows, num_columns], NaN where empty */
    char **row_split; /* [num_rows] the text of a column named "split" ("train",
                         "val"), or NULL when there is no such column */
} metrics_table;

/* AN_ERR_IO when the file cannot be read; AN_ERR_FORMAT without a header. */
an_status metrics_table_read(metrics_table *t, const char *path);
/* -1 when no column has that name. */
int metrics_table_column(const metrics_table *t, const char *name);
double metrics_table_at(const metrics_table *t, size_t row, int column);
void metrics_table_free(metrics_table *t);

#endif
