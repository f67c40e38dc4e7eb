/* compare_checkpoints.c: loads two checkpoints with the real checkpoint
 * reader and compares weights and momentum element by element, for the
 * shell-driven tests:
 *   compare_checkpoints A B             bitwise equality
 *   compare_checkpoints A B RTOL ATOL   |a - b| <= ATOL + RTOL * |b| everywhere
 * Prints the largest difference; exit 0 when equal (within tolerance), 1 when
 * not, 2 on bad usage or an unreadable file. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "h5_error.h"
#include "net_cpu.h"

static net *load(const char *path, checkpoint_meta *meta)
{
    net_config cfg;
    net *n = NULL;
    if (checkpoint_read_config(path, &cfg) != AN_OK || net_create_cpu(&n, &cfg, 1) != AN_OK ||
        checkpoint_load(path, n, meta, NULL) != AN_OK) {
        fprintf(stderr, "compare_checkpoints: %s: %s\n", path, error_message());
        net_destroy(n);
        return NULL;
    }
    return n;
}

/* Returns the number of elements out of tolerance; *max_diff the largest |a-b|. */
static size_t compare(const float *a, const float *b, size_t count, double rtol, double atol, double *max_diff)
{
    size_t bad = 0;
    *max_diff = 0.0;
    for (size_t i = 0; i < count; i++) {
        int same_bits = memcmp(&a[i], &b[i], sizeof(float)) == 0;
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= *max_diff)) *max_diff = d; /* NaN propagates */
        int ok = (rtol == 0.0 && atol == 0.0) ? same_bits : d <= atol + rtol * fabs((double)b[i]);
        bad += !ok;
    }
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: %s A B [RTOL ATOL]\n", argv[0]);
        return 2;
    }
    double rtol = argc == 5 ? atof(argv[3]) : 0.0, atol = argc == 5 ? atof(argv[4]) : 0.0;
    h5_error_init();
    checkpoint_meta ma, mb;
    net *a = load(argv[1], &ma), *b = load(argv[2], &mb);
    if (!a || !b) {
        net_destroy(a);
        net_destroy(b);
        return 2;
    }
    int rc = 0;
    if (net_param_count(a) != net_param_count(b)) {
        fprintf(stderr, "compare_checkpoints: %zu vs %zu parameters\n", net_param_count(a), net_param_count(b));
        rc = 1;
    } else {
        double dp, dm;
        size_t bad_p = compare(net_params_const(a), net_params_const(b), net_param_count(a), rtol, atol, &dp);
        size_t bad_m = compare(net_momentum_const(a), net_momentum_const(b), net_param_count(a), rtol, atol, &dm);
        printf("steps %llu / %llu; params: %zu of %zu differ, max |diff| %.3g; momentum: %zu differ, max |diff| %.3g\n",
               (unsigned long long)ma.step, (unsigned long long)mb.step, bad_p, net_param_count(a), dp, bad_m, dm);
        if (bad_p || bad_m || ma.step != mb.step) rc = 1;
    }
    net_destroy(a);
    net_destroy(b);
    return rc;
}
