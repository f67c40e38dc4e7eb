/* prep_stats.h: the training-set statistics of the paper from exact sums:
 * the mean image (§2, subtracted from every input) and the RGB covariance
 * with its eigen decomposition (§4.1, PCA lighting). */
#ifndef ALEXNET_PREP_STATS_H
#define ALEXNET_PREP_STATS_H

#include "dataset.h"
#include "shard_format.h"
#include "status.h"

/* Fills d->mean_image, rgb_mean, rgb_std (byte units), rgb_covariance,
 * eigenvalues (descending) and eigenvectors (column i for eigenvalue i, the
 * sign chosen so that its largest-magnitude component is positive) ([0,1]
 * units; population covariance over all training pixels) from `sums`.
 * AN_ERR_ARG when there are no images; AN_ERR_LAPACK if dsyev fails. */
an_status prep_stats_finish(const shard_stats *sums, dataset *d);

/* The symmetric 3x3 eigen problem: a[3][3] in, values descending, vectors as columns. */
an_status prep_stats_eigen3(const double *a /* [3,3] */, double *values /* [3] */, double *vectors /* [3,3] */);

#endif
