/* gradcheck.h: central finite differences against an op's analytic gradient,
 * for the kernel tests.
 *
 * The ops are float32. The scalar probed is L = Σ probe[i] · out[i], summed in
 * double, whose gradient with respect to any input x is what the op's
 * backward returns when given doutput = probe. Perturbing x[i] by ±h gives
 *   numeric = (L(x + h) - L(x - h)) / 2h.
 * Its error has two parts: truncation, h^2 f''' / 6 (zero for the linear ops
 * conv, fc, relu and maxpool away from kinks and ties; below 1e-5 for LRN and
 * softmax with h = 1e-2 on O(1) inputs), and float rounding. The outputs that
 * x[i] does not reach are computed identically in both runs and cancel
 * exactly, so rounding comes only from the m outputs it reaches: about
 * m * 2^-24 * |out| / h, below 1e-4 for the shapes here (m <= 242).
 * The worst errors measured are 1e-4 (conv with 11x11 kernels) and 1e-5
 * (LRN, softmax); the tests use 5e-4 on |numeric - analytic| / max(1, |analytic|),
 * which a 5% error in any gradient term exceeds (checked by mutating the code).
 */
#ifndef ALEXNET_TEST_GRADCHECK_H
#define ALEXNET_TEST_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>

/* Recomputes the op's output from its current inputs. */
typedef void (*gradcheck_forward)(void *ctx);

/* A deterministic value in [-1, 1) for index i of stream `stream` (Philox, purpose TEST). */
float gradcheck_value(uint32_t stream, uint32_t i);
/* Fills x[n] with gradcheck_value(stream, i) * scale. */
void gradcheck_fill(float *x, size_t n, uint32_t stream, float scale);

/* Checks analytic[i] against the finite difference of Σ probe·out for every
 * i in x[n] (x is restored). Returns the worst error seen, and fails the
 * cmocka test naming `what`, the index and both values when it exceeds tol. */
double gradcheck_run(const char *what, float *x, size_t n, const float *analytic,
                     gradcheck_forward forward, void *ctx, const float *out, const float *probe,
                     size_t n_out, float h, double tol);

#endif
