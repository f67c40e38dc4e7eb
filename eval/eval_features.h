/* eval_features.h: the parts of alexnet-eval that a build may lack, each
 * reached through one entry of `eval_features`, so that main.c and the
 * parser hold no #ifdef:
 *   figures   the §6.1 figures (--figures; libvips): eval_figures.c
 *   classify  `alexnet-eval classify` (libvips and libjpeg-turbo, through
 *             image/): classify.c
 * Each part is a library of its own in eval/CMakeLists.txt that defines its
 * eval_*_feature() function; a build without the part links figures_absent.c or
 * classify_absent.c instead, whose function returns NULL. The parser refuses
 * an option or subcommand whose part is NULL (eval_cli.c). */
#ifndef ALEXNET_EVAL_FEATURES_H
#define ALEXNET_EVAL_FEATURES_H

#include <stdint.h>

#include "dataset.h"
#include "eval_score.h"
#include "net.h"
#include "status.h"

struct eval_cli;

#define EVAL_MAX_FIGURES 8

/* The figures written for a report, as paths relative to its directory ("figures/conv1.png"). */
typedef struct eval_figure_list {
    int count;
    char paths[EVAL_MAX_FIGURES][64];
    const char *list[EVAL_MAX_FIGURES]; /* [count] pointers to paths, for eval_report */
} eval_figure_list;

typedef struct eval_figures_part {
    an_status (*start)(const char *argv0); /* libvips, once per process */
    void (*stop)(void);
    /* Draws the figures of the scored images into OUT_DIR/figures (--train-sample
     * training images searched for fc7 neighbours, views_per_batch views a forward). */
    an_status (*draw)(const char *out_dir, const struct eval_cli *a, int views_per_batch, net *model,
                      const dataset *d, const eval_split *val, const eval_image *scored, uint64_t num_scored,
                      eval_figure_list *out);
} eval_figures_part;

typedef struct eval_classify_part {
    /* The whole subcommand: each image file's five most probable classes on
     * stdout (text or --json); *refused counts the files that could not be
     * classified, each named with its reason. */
    an_status (*run)(const struct eval_cli *a, const char *argv0, int *refused);
} eval_classify_part;

typedef struct eval_features {
    const eval_figures_part *figures;   /* NULL: built without libvips */
    const eval_classify_part *classify; /* NULL: built without libvips or libjpeg */
} eval_features;

/* This build's parts (each NULL when absent). */
const eval_figures_part *eval_figures_feature(void);
const eval_classify_part *eval_classify_feature(void);

#endif
