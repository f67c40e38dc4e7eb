/* cuda_precision.c: names of the CUDA backend's precisions. See cuda_precision.h. */
#include "cuda_precision.h"

#include <string.h>

/* Indexed by cuda_precision. */
static const char *const precision_names[] = {"fp32", "tf32", "bf16", "fp32-pedantic"};

const char *cuda_precision_name(cuda_precision p)
{
    if ((int)p < 0 || (size_t)p >= sizeof precision_names / sizeof precision_names[0]) return "?";
    return precision_names[p];
}

an_status cuda_precision_parse(const char *name, cuda_precision *out)
{
    for (size_t i = 0; i < sizeof precision_names / sizeof precision_names[0]; i++) {
        if (strcmp(name, precision_names[i]) == 0) {
            *out = (cuda_precision)i;
            return AN_OK;
        }
    }
    return error_set(AN_ERR_ARG, "unknown precision '%s' (use fp32, tf32, bf16 or fp32-pedantic)",
                     name);
}

const char *cuda_precision_computes(cuda_precision p)
{
    switch (p) {
    case CUDA_PRECISION_FP32: return "fp32-conv+fp32-fc";
    case CUDA_PRECISION_TF32: return "tf32-conv+tf32-fc";
    case CUDA_PRECISION_BF16: return "tf32-conv+bf16-fc";
    case CUDA_PRECISION_FP32_PEDANTIC: return "fp32-conv+fp32-pedantic-fc";
    }
    return "?";
}
