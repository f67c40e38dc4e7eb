/* gradcheck.c: finite-difference gradient checks (see gradcheck.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "gradcheck.h"
#include "philox.h"

float gradcheck_value(uint32_t stream, uint32_t i)
{
    philox_block b = philox_draw(12345, PHILOX_PURPOSE_TEST, stream, i / 4, 0);
    return 2.0f * philox_uniform(b.v[i % 4]) - 1.0f;
}

void gradcheck_fill(float *x, size_t n, uint32_t stream, float scale)
{
    for (size_t i = 0; i < n; i++) x[i] = gradcheck_value(stream, (uint32_t)i) * scale;
}

static double probe_sum(const float *out, const float *probe, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)probe[i] * (double)out[i];
    return s;
}

double gradcheck_run(const char *what, float *x, size_t n, const float *analytic,
                     gradcheck_forward forward, void *ctx, const float *out, const float *probe,
                     size_t n_out, float h, double tol)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        float saved = x[i];
        x[i] = saved + h;
        forward(ctx);
        double lp = probe_sum(out, probe, n_out);
        x[i] = saved - h;
        forward(ctx);
        double lm = probe_sum(out, probe, n_out);
        x[i] = saved;
        /* the perturbation actually applied, in float */
        double step = (double)(saved + h) - (double)(saved - h);
        double numeric = (lp - lm) / step;
        double err = fabs(numeric - analytic[i]) / fmax(1.0, fabs(analytic[i]));
        if (err > worst) worst = err;
        if (err > tol) {
            print_error("%s[%zu]: numeric %.8g analytic %.8g (error %.3g > %.3g)\n", what, i,
                        numeric, (double)analytic[i], err, tol);
            fail();
        }
    }
    forward(ctx);
    if (getenv("GRADCHECK_VERBOSE")) printf("  %-24s worst error %.3g (tolerance %.3g)\n", what, worst, tol);
    return worst;
}
