/* svg_chart.h: a line chart as inline SVG text (axes, ticks, one polyline
 * per series, legend), for the training curves in report.html. NaN points
 * are skipped, so a series logged only on some rows (validation error once
 * per epoch) is drawn through the rows that have it. */
#ifndef ALEXNET_EVAL_SVG_CHART_H
#define ALEXNET_EVAL_SVG_CHART_H

#include <stddef.h>

#include "text_buffer.h"

typedef struct svg_series {
    const char *name;
    const double *y; /* [n], stride `stride` doubles */
    size_t stride;
} svg_series;

typedef struct svg_chart {
    const char *title, *x_label;
    const double *x; /* [n], stride x_stride */
    size_t x_stride, n;
    int num_series;
    const svg_series *series;
    int log_y; /* 1: logarithmic y axis (learning rate); non-positive values skipped */
    double y_scale;     /* the values are drawn times this (100: fractions as percent); 0 means 1 */
    const char *y_unit; /* after each y tick label ("%"), or NULL */
} svg_chart;

/* The y tick labels of a chart are written with the fewest significant
 * digits (at least 3) that make them all different. */

/* Appends <svg>...</svg> to b. */
void svg_chart_append(text_buffer *b, const svg_chart *c);

#endif
