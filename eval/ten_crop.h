/* ten_crop.h: the ten 224x224 views of a 256x256 image that the paper scores
 * at test time (§4.1: "the four corner patches and the center patch as well
 * as their horizontal reflections"), cut into the network's input layout.
 *
 * Views 0..4 are the top-left, top-right, bottom-left, bottom-right corners
 * and the centre; views 5..9 are the same five, mirrored left-right. View 4
 * alone is the single centre crop. The sizes and the corner and centre
 * offsets are common/image_geometry.h's.
 *
 * The mean image is subtracted at the SOURCE pixel, before the mirror, the
 * same convention as training (§2; docs/eval.md, "What is scored"), by the backend's input op
 * (net_forward_crops; kernels/backend_ops.def: crop_input), whose CPU twin is
 * the loader's crop: output pixel (y, x) of a mirrored view is
 * image[y0+y][x0+223-x] - mean[y0+y][x0+223-x].
 */
#ifndef ALEXNET_EVAL_TEN_CROP_H
#define ALEXNET_EVAL_TEN_CROP_H

#include <stdint.h>

#include "image_geometry.h"
#include "op_shapes.h"

#define TEN_CROP_VIEWS 10
#define TEN_CROP_CENTRE_VIEW 4

/* The geometry of view v in [0, 10): its corner (x, y), its mirror (flip),
 * no shift (kernels/op_shapes.h). */
crop_choice ten_crop_view(int v);

#endif
