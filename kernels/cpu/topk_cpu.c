/* topk_cpu.c: top-1 and top-5 errors of a batch of scores (§6 reports
 * both; ops_cpu.h), the CPU twin of topk_errors_cuda. */
#include <math.h>
#include <stddef.h>

#include "ops_cpu.h"

an_status topk_errors_cpu(backend *be, int64_t *top1_errors, int64_t *top5_errors, const float *scores, const int32_t *labels,
                          int batch, int classes)
{
    cpu_use(be);
    int64_t top1 = 0, top5 = 0;
    for (int b = 0; b < batch; b++) {
        const float *s = scores + (size_t)b * (size_t)classes; /* [classes] */
        float mine = s[labels[b]];
        if (isnan(mine)) { /* no score is no answer: wrong in both */
            top1++;
            top5++;
            continue;
        }
        int above = 0;
        for (int k = 0; k < classes; k++)
            if (k != labels[b] && s[k] >= mine) above++;
        top1 += above >= 1;
        top5 += above >= 5;
    }
    *top1_errors = top1;
    *top5_errors = top5;
    return AN_OK;
}
