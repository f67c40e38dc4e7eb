/* conv_algo_pick.h: which cuDNN convolution candidates conv_cuda.c may try,
 * and in what order. A pure function over plain values (no cuDNN types), so
 * the policy is tested on every machine (tests/kernels/test_conv_algo_pick.c)
 * while the search itself needs a GPU.
 *
 * The policy (docs/cuda.md, "Convolution algorithms"):
 *   - a candidate the search reported as failed is never tried;
 *   - deterministic mode tries only deterministic candidates;
 *   - fp32 runs float multiply-adds only: a candidate listed under tensor-op
 *     math is refused; candidates listed under FMA math come first, then those
 *     listed under default math (run under FMA math, so their workspace size
 *     is asked again for that math before they are used);
 *   - fp32 refuses FFT and Winograd: their error (about 1e-5 to 1e-4 of
 *     max|x|) is above the 1e-5-of-max allowance of the CPU comparisons.
 * Within each group the search's order (fastest or best first) is kept.
 */
#ifndef ALEXNET_CONV_ALGO_PICK_H
#define ALEXNET_CONV_ALGO_PICK_H

#ifdef __cplusplus
extern "C" {
#endif

/* The math a candidate was listed under (cudnnMathType_t, by meaning). */
typedef enum conv_listed_math {
    CONV_MATH_DEFAULT = 0,   /* CUDNN_DEFAULT_MATH */
    CONV_MATH_FMA,           /* CUDNN_FMA_MATH */
    CONV_MATH_TENSOR_OP      /* CUDNN_TENSOR_OP_MATH or ..._ALLOW_CONVERSION */
} conv_listed_math;

typedef struct conv_candidate {
    int searched_ok;          /* the search reported CUDNN_STATUS_SUCCESS */
    int deterministic;        /* CUDNN_DETERMINISTIC */
    int fast_transform;       /* an FFT or Winograd algorithm */
    conv_listed_math math;
} conv_candidate;

typedef struct conv_pick_rules {
    int fp32;                 /* fp32 or fp32-pedantic precision */
    int deterministic;        /* deterministic mode */
} conv_pick_rules;

/* Writes to order[0..k) the indices into candidates[0..n) that may be tried,
 * most preferred first, and returns k (0 when none may). order holds n. */
int conv_candidates_order(const conv_candidate *candidates, int n, const conv_pick_rules *rules,
                          int *order);

#ifdef __cplusplus
}
#endif

#endif
