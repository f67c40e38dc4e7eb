/* figures_absent.c: eval_figures_feature() of a build without the figures
 * (no libvips, or ALEXNET_EVAL_FIGURES=OFF; eval_features.h). */
#include <stddef.h>

#include "eval_features.h"

const eval_figures_part *eval_figures_feature(void) { return NULL; }
