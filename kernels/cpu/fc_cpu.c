/* fc_cpu.c: fully connected layers (fc6, fc7, fc8) as OpenBLAS GEMMs (for
 * one image, GEMVs over blocks of rows spread over the threads); weight
 * [O, I] as PyTorch's Linear stores it.
 *
 * OpenBLAS's multi-threaded sgemm gives other bits for other thread counts
 * (docs/RELIABILITY.md, "Thread counts"), so every GEMM here is cut into
 * blocks of FC_BLOCK output columns, fixed by the shapes, each a
 * single-threaded sgemm, the blocks spread over OpenMP's threads: the same
 * bits whatever the thread count. One image's GEMV is cut the same way, into
 * blocks of FC_BLOCK output rows. */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "ops_cpu.h"

#define FC_BLOCK 256

/* C [M, N] (row stride ldc) = A · B, where A is [M, K] (NoTrans, stride lda)
 * or Aᵀ of a [K, M] (Trans), and B is [K, N] (NoTrans, stride ldb) or Bᵀ of
 * an [N, K] (Trans): single-threaded sgemms over blocks of FC_BLOCK columns of
 * C, spread over the threads. */
static void gemm_blocked(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
                         const float *b, int ldb, float *c, int ldc)
{
    const int threads = cpu_threads_get(), blocks = (n + FC_BLOCK - 1) / FC_BLOCK;
    openblas_set_num_threads(1);
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int blk = 0; blk < blocks; blk++) {
        const int n0 = blk * FC_BLOCK, nb = n - n0 < FC_BLOCK ? n - n0 : FC_BLOCK;
        /* columns n0.. of B: a column offset (NoTrans) or a row offset (Trans) */
        const float *b_block = trans_b ? b + (size_t)n0 * ldb : b + n0;
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, m, nb,
                    k, 1.0f, a, lda, b_block, ldb, 0.0f, c + n0, ldc);
    }
    openblas_set_num_threads(threads);
}

an_status fc_forward_cpu(backend *be, float *out, const float *in, const float *weight, const float *bias,
                         int batch, int in_features, int out_features)
{
    cpu_use(be);
    /* out [B, O] = in [B, I] · weightᵀ [I, O]. One image (inference at batch
     * 1) is a matrix-vector product: sgemm would first copy the whole weight
     * matrix into its packed layout, three passes over 151 MB for fc6 where
     * sgemv streams it once. */
    if (batch == 1) {
        /* blocks of FC_BLOCK rows, fixed by the shape, spread over OpenMP's
         * threads, single-threaded BLAS in each (see conv_forward_split in
         * conv_cpu.c) */
        const int threads = cpu_threads_get(), blocks = (out_features + FC_BLOCK - 1) / FC_BLOCK;
        openblas_set_num_threads(1);
#pragma omp parallel for num_threads(threads) schedule(static)
        for (int blk = 0; blk < blocks; blk++) {
            const int o0 = blk * FC_BLOCK, rows = out_features - o0 < FC_BLOCK ? out_features - o0 : FC_BLOCK;
            cblas_sgemv(CblasRowMajor, CblasNoTrans, rows, in_features, 1.0f, weight + (size_t)o0 * in_features,
                        in_features, in, 1, 0.0f, out + o0, 1);
        }
        openblas_set_num_threads(threads);
    } else
        gemm_blocked(0, 1, batch, out_features, in_features, in, in_features, weight, in_features, out,
                     out_features);
    for (int b = 0; b < batch; b++) {
        float *row = out + (size_t)b * out_features;
        for (int o = 0; o < out_features; o++) row[o] += bias[o];
    }
    return AN_OK;
}

an_status fc_backward_cpu(backend *be, float *dinput, float *dweight, float *dbias, const float *doutput,
                          const float *in, const float *weight, int batch, int in_features,
                          int out_features)
{
    cpu_use(be);
    /* dweight [O, I] = doutputᵀ [O, B] · in [B, I] */
    gemm_blocked(1, 0, out_features, in_features, batch, doutput, out_features, in, in_features, dweight,
                 in_features);
    /* dbias [O] = sum over the batch of doutput */
    memset(dbias, 0, sizeof(float) * (size_t)out_features);
    for (int b = 0; b < batch; b++) {
        const float *row = doutput + (size_t)b * out_features;
        for (int o = 0; o < out_features; o++) dbias[o] += row[o];
    }
    /* dinput [B, I] = doutput [B, O] · weight [O, I] */
    if (dinput)
        gemm_blocked(0, 0, batch, in_features, out_features, doutput, out_features, weight, in_features, dinput,
                     in_features);
    return AN_OK;
}
