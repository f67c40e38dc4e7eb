/* conv_algo_pick.c: the order in which conv_cuda.c tries cuDNN's convolution
 * candidates (the policy is in conv_algo_pick.h). */
#include "conv_algo_pick.h"

static int may_try(const conv_candidate *c, const conv_pick_rules *rules)
{
    if (!c->searched_ok) return 0;
    if (rules->deterministic && !c->deterministic) return 0;
    if (rules->fp32 && (c->math == CONV_MATH_TENSOR_OP || c->fast_transform)) return 0;
    return 1;
}

/* 0 is tried first: under fp32, FMA-listed before default-listed. */
static int group_of(const conv_candidate *c, const conv_pick_rules *rules)
{
    return rules->fp32 && c->math != CONV_MATH_FMA ? 1 : 0;
}

int conv_candidates_order(const conv_candidate *candidates, int n, const conv_pick_rules *rules,
                          int *order)
{
    int k = 0;
    for (int group = 0; group < 2; group++)
        for (int i = 0; i < n; i++)
            if (may_try(&candidates[i], rules) && group_of(&candidates[i], rules) == group)
                order[k++] = i;
    return k;
}
