/* blas_runtime_probe.c: a program linked like alexnet-train (alexnet_cpu)
 * that starts the way every program does, with blas_runtime_select(), and
 * prints what came of it for test_blas_runtime:
 *   pid N            this process (the same after a re-execution)
 *   core NAME        openblas_get_corename()
 *   marker VALUE     ALEXNET_BLAS_AUTO_CORE, "-" when unset
 *   args A B ...     argv[1..], to show the arguments survive
 *   describe LINE    blas_runtime_describe()
 * It also runs one sgemm so that the kernels chosen are exercised. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "blas_runtime.h"

int main(int argc, char **argv)
{
    blas_runtime_select(argc, argv);
    float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, c[4] = {0}; /* [2, 2] each */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 2, 1.0f, a, 2, b, 2, 0.0f, c, 2);
    if (c[0] != 19.0f || c[1] != 22.0f || c[2] != 43.0f || c[3] != 50.0f) {
        fprintf(stderr, "sgemm gave %g %g %g %g\n", c[0], c[1], c[2], c[3]);
        return 1;
    }
    const char *marker = getenv(BLAS_RUNTIME_MARKER);
    printf("pid %ld\ncore %s\nmarker %s\nargs", (long)getpid(), openblas_get_corename(), marker ? marker : "-");
    for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
    printf("\ndescribe %s\n", blas_runtime_describe());
    return 0;
}
