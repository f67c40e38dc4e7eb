/* prep_stats.c: mean image, RGB mean/std/covariance, LAPACKE eigen. */
#include "prep_stats.h"

#include <lapacke.h>
#include <math.h>
#include <string.h>

an_status prep_stats_eigen3(const double *a /* [3,3] */, double *values /* [3] */, double *vectors /* [3,3] */)
{
    double m[9]; /* [3,3] row-major; dsyev overwrites it with the eigenvectors as columns */
    double w[3]; /* ascending */
    memcpy(m, a, sizeof m);
    lapack_int info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'V', 'U', 3, m, 3, w);
    if (info != 0) return error_set(AN_ERR_LAPACK, "LAPACKE_dsyev failed on the RGB covariance (info %d)", (int)info);
    for (int i = 0; i < 3; i++) {
        int src = 2 - i; /* descending */
        values[i] = w[src] > 0 ? w[src] : 0.0; /* a covariance is positive semi-definite: -1e-17 is rounding */
        int big = 0;
        for (int r = 1; r < 3; r++)
            if (fabs(m[3 * r + src]) > fabs(m[3 * big + src])) big = r;
        double sign = m[3 * big + src] < 0 ? -1.0 : 1.0;
        for (int r = 0; r < 3; r++) vectors[3 * r + i] = sign * m[3 * r + src];
    }
    return AN_OK;
}

an_status prep_stats_finish(const shard_stats *sums, dataset *d)
{
    if (sums->num_images == 0) return error_set(AN_ERR_ARG, "no training images: cannot compute statistics");
    double n = (double)sums->num_images;
    double pixels = n * IMAGE_STORED_SIZE * IMAGE_STORED_SIZE;
    for (size_t i = 0; i < IMAGE_STORED_BYTES; i++) d->mean_image[i] = (float)(sums->pixel_sum[i] / n); /* §2 */
    double mean[3]; /* byte units */
    for (int c = 0; c < 3; c++) mean[c] = (double)sums->rgb_sum[c] / pixels;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double cov_bytes = (double)sums->rgb_outer_sum[i][j] / pixels - mean[i] * mean[j];
            d->rgb_covariance[i][j] = cov_bytes / (255.0 * 255.0);
        }
    for (int c = 0; c < 3; c++) {
        d->rgb_mean[c] = mean[c];
        double var = d->rgb_covariance[c][c] > 0 ? d->rgb_covariance[c][c] : 0;
        d->rgb_std[c] = 255.0 * sqrt(var);
        if (!isfinite(d->rgb_std[c])) return error_set(AN_ERR_NUMERIC, "channel %d standard deviation is not finite", c);
    }
    return prep_stats_eigen3(&d->rgb_covariance[0][0], d->eigenvalues, &d->eigenvectors[0][0]); /* §4.1 */
}
