/* classify_absent.c: eval_classify_feature() of a build without `classify`
 * (no libvips or libjpeg, or ALEXNET_EVAL_CLASSIFY=OFF; eval_features.h). */
#include <stddef.h>

#include "eval_features.h"

const eval_classify_part *eval_classify_feature(void) { return NULL; }
