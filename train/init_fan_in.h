/* init_fan_in.h: an initialisation for reduced-width networks (--init fan_in).
 *
 * The paper's N(0, 0.01) weights (§5) shrink the signal by about
 * 0.01 * sqrt(fan-in) per layer; at width 1.0 the network still starts
 * learning (slowly), but at the widths used for tests and CPU demos the
 * output does not depend on the input at all at first and the loss stays at
 * ln(classes). This scheme draws the hidden layers' weights (conv2..fc7)
 * from N(0, sqrt(2 / fan-in)) (He et al. 2015), which keeps the signal's
 * scale through the ReLUs, keeps the paper's N(0, 0.01) for conv1 and fc8
 * (conv1 sees byte-unit inputs: a fan-in-scaled conv1 would get updates
 * thousands of times larger, relative to its weights, than the other layers;
 * a small fc8 keeps the first logits near zero), and sets every bias to 0.
 * Use a lower rate with it (e.g. --lr 0.001). Philox-keyed (purpose INIT,
 * epoch word 1, the view index as image id): the same on every machine and
 * rank. Not the paper's: the default stays `--init paper`.
 */
#ifndef ALEXNET_INIT_FAN_IN_H
#define ALEXNET_INIT_FAN_IN_H

#include <stdint.h>

#include "net.h"
#include "status.h"

/* Overwrites weights and biases of n; momentum and gradients are zeroed. */
an_status init_fan_in(net *n, uint64_t seed);

#endif
