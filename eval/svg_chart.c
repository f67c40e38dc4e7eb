/* svg_chart.c: small self-contained SVG line charts. */
#include "svg_chart.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { W = 640, H = 300, LEFT = 70, RIGHT = 170, TOP = 34, BOTTOM = 46, MAX_MARKERS = 60 };

static const char *palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf", "#7f7f7f"};

static int usable(double v, int log_y) { return isfinite(v) && (!log_y || v > 0.0); }
static double transform(double v, int log_y) { return log_y ? log10(v) : v; }

enum { TICKS = 5 };

/* The y tick labels, label[t] for value[t]: the fewest significant digits
 * from 3 up that tell every tick from the others. */
static void tick_labels(const double value[TICKS], char label[TICKS][32])
{
    for (int digits = 3; digits <= 15; digits++) {
        for (int t = 0; t < TICKS; t++) snprintf(label[t], sizeof label[t], "%.*g", digits, value[t]);
        int distinct = 1;
        for (int t = 1; t < TICKS; t++) distinct &= strcmp(label[t], label[t - 1]) != 0;
        if (distinct) return;
    }
}

void svg_chart_append(text_buffer *b, const svg_chart *c)
{
    const double scale = c->y_scale > 0 ? c->y_scale : 1.0;
    double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
    for (size_t i = 0; i < c->n; i++) {
        double x = c->x[i * c->x_stride];
        if (!isfinite(x)) continue;
        for (int s = 0; s < c->num_series; s++) {
            double y = c->series[s].y[i * c->series[s].stride] * scale;
            if (!usable(y, c->log_y)) continue;
            y = transform(y, c->log_y);
            xmin = fmin(xmin, x);
            xmax = fmax(xmax, x);
            ymin = fmin(ymin, y);
            ymax = fmax(ymax, y);
        }
    }
    text_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                   "class=\"chart\">\n<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n",
                W, H, W, H, W, H);
    text_printf(b, "<text x=\"%d\" y=\"20\" font-size=\"15\" font-family=\"sans-serif\">", LEFT);
    text_html(b, c->title);
    text_printf(b, "</text>\n");
    if (!(xmin <= xmax)) {
        text_printf(b, "<text x=\"%d\" y=\"%d\" font-family=\"sans-serif\">no data</text>\n</svg>\n", LEFT, H / 2);
        return;
    }
    if (xmax == xmin) { xmin -= 0.5; xmax += 0.5; }
    if (ymax == ymin) { ymin -= 0.5; ymax += 0.5; }
    double pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
#define PX(x) (LEFT + ((x) - xmin) / (xmax - xmin) * pw)
#define PY(y) (TOP + (1.0 - ((y) - ymin) / (ymax - ymin)) * ph)
    text_printf(b, "<g stroke=\"#444\" fill=\"none\"><rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\"/></g>\n",
                LEFT, TOP, pw, ph);
    text_printf(b, "<g font-size=\"11\" font-family=\"sans-serif\" fill=\"#333\">\n");
    double tick[TICKS];
    char label[TICKS][32];
    for (int t = 0; t < TICKS; t++) {
        double yv = ymin + (ymax - ymin) * t / (TICKS - 1.0);
        tick[t] = c->log_y ? pow(10.0, yv) : yv;
    }
    tick_labels(tick, label);
    for (int t = 0; t < TICKS; t++) {
        double xv = xmin + (xmax - xmin) * t / (TICKS - 1.0), yv = ymin + (ymax - ymin) * t / (TICKS - 1.0);
        text_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.4g</text>\n", PX(xv), H - BOTTOM + 16, xv);
        text_printf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s%s%s</text>\n", LEFT - 6, PY(yv) + 4,
                    label[t], c->y_unit ? " " : "", c->y_unit ? c->y_unit : "");
        text_printf(b, "<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>\n", LEFT + 1,
                    LEFT + pw - 1, PY(yv), PY(yv));
    }
    text_printf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", LEFT + pw / 2, H - 8);
    text_html(b, c->x_label);
    text_printf(b, "</text>\n</g>\n");
    for (int s = 0; s < c->num_series; s++) {
        const char *colour = palette[s % (int)(sizeof palette / sizeof palette[0])];
        text_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" points=\"", colour);
        for (size_t i = 0; i < c->n; i++) {
            double x = c->x[i * c->x_stride], y = c->series[s].y[i * c->series[s].stride] * scale;
            if (!isfinite(x) || !usable(y, c->log_y)) continue;
            text_printf(b, "%.1f,%.1f ", PX(x), PY(transform(y, c->log_y)));
        }
        text_printf(b, "\"/>\n");
        /* markers where points are few, so a series with one point (one validation) shows */
        size_t points = 0;
        for (size_t i = 0; i < c->n; i++)
            points += isfinite(c->x[i * c->x_stride]) && usable(c->series[s].y[i * c->series[s].stride] * scale, c->log_y);
        for (size_t i = 0; points <= MAX_MARKERS && i < c->n; i++) {
            double x = c->x[i * c->x_stride], y = c->series[s].y[i * c->series[s].stride] * scale;
            if (!isfinite(x) || !usable(y, c->log_y)) continue;
            text_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>", PX(x), PY(transform(y, c->log_y)),
                        colour);
        }
        text_printf(b, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"4\" fill=\"%s\"/>", W - RIGHT + 12,
                    TOP + 8 + s * 18, colour);
        text_printf(b, "<text x=\"%d\" y=\"%d\" font-size=\"12\" font-family=\"sans-serif\">", W - RIGHT + 32,
                    TOP + 13 + s * 18);
        text_html(b, c->series[s].name);
        text_printf(b, "</text>\n");
    }
#undef PX
#undef PY
    text_printf(b, "</svg>\n");
}
