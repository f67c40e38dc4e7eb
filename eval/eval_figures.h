/* eval_figures.h: gathers what the §6.1 figures show (scored validation
 * images, fc7 nearest training images, conv1's weights) and draws them into
 * DIR/predictions.png, DIR/neighbours.png and DIR/conv1.png. Needs libvips. */
#ifndef ALEXNET_EVAL_FIGURES_DRIVER_H
#define ALEXNET_EVAL_FIGURES_DRIVER_H

#include <stdint.h>

#include "dataset.h"
#include "eval_score.h"
#include "net.h"
#include "status.h"

typedef struct eval_figure_options {
    const char *dir;        /* output folder, created if missing */
    int predictions;        /* images in the predictions figure (8) */
    int queries;            /* query images in the neighbours figure (5) */
    int neighbours;         /* neighbours per query (6, as the paper) */
    int train_sample;       /* training images searched for neighbours (evenly spaced) */
    int batch_views;        /* views per forward for fc7 features */
} eval_figure_options;

void eval_figure_options_default(eval_figure_options *o);

/* scored [num_scored] are the scored images of split `val`. On return
 * *written holds how many figures were written, names[] their file names
 * (static strings), and *with_text whether labels could be rendered. */
an_status eval_figures_draw(const eval_figure_options *o, net *model, const dataset *d,
                            const eval_split *val, const eval_image *scored, uint64_t num_scored,
                            const char **names, int *written, int *with_text);

#endif
