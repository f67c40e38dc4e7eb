/* init_fan_in.c: see init_fan_in.h. */
#include "init_fan_in.h"

#include <math.h>
#include <string.h>

#include "philox.h"

an_status init_fan_in(net *n, uint64_t seed)
{
    float *params = net_params(n);
    int views = net_param_view_count(n);
    for (int v = 0; v < views; v++) {
        const net_param_view *view = net_param_view_at(n, v);
        float *p = params + view->offset; /* [view->count] */
        if (view->ndim == 1) { /* a bias */
            memset(p, 0, view->count * sizeof(float));
            continue;
        }
        size_t fan_in = view->count / (size_t)view->shape[0];
        int is_end = strcmp(view->name, "conv1.weight") == 0 || strcmp(view->name, "fc8.weight") == 0;
        double std = is_end ? 0.01 /* §5 */ : sqrt(2.0 / (double)fan_in);
        for (size_t blk = 0; blk < (view->count + 1) / 2; blk++) {
            float z0, z1;
            philox_normal2(philox_draw(seed, PHILOX_PURPOSE_INIT, 1, (uint32_t)v, (uint32_t)blk), &z0, &z1);
            p[2 * blk] = (float)(std * z0);
            if (2 * blk + 1 < view->count) p[2 * blk + 1] = (float)(std * z1);
        }
    }
    memset(net_momentum(n), 0, net_param_count(n) * sizeof(float));
    memset(net_grads(n), 0, net_param_count(n) * sizeof(float));
    return AN_OK;
}
