/* fc_cpu.c: fully connected layers (fc6, fc7, fc8) as OpenBLAS GEMMs (GEMVs
 * split over the threads for one image); weight [O, I] as PyTorch's Linear
 * stores it. */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "ops_cpu.h"

void fc_forward_cpu(float *out, const float *in, const float *weight, const float *bias,
                    int batch, int in_features, int out_features)
{
    /* out [B, O] = in [B, I] · weightᵀ [I, O]. One image (inference at batch
     * 1) is a matrix-vector product: sgemm would first copy the whole weight
     * matrix into its packed layout, three passes over 151 MB for fc6 where
     * sgemv streams it once. */
    if (batch == 1) {
        /* rows split over OpenMP's threads, single-threaded BLAS in each (see
         * conv_forward_split in conv_cpu.c) */
        const int threads = cpu_threads_get();
        openblas_set_num_threads(1);
#pragma omp parallel num_threads(threads)
        {
            const int t = omp_get_thread_num(), nt = omp_get_num_threads();
            const int o0 = (int)((long)out_features * t / nt);
            const int o1 = (int)((long)out_features * (t + 1) / nt);
            if (o1 > o0)
                cblas_sgemv(CblasRowMajor, CblasNoTrans, o1 - o0, in_features, 1.0f,
                            weight + (size_t)o0 * in_features, in_features, in, 1, 0.0f,
                            out + o0, 1);
        }
        openblas_set_num_threads(threads);
    } else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, out_features, in_features,
                    1.0f, in, in_features, weight, in_features, 0.0f, out, out_features);
    for (int b = 0; b < batch; b++) {
        float *row = out + (size_t)b * out_features;
        for (int o = 0; o < out_features; o++) row[o] += bias[o];
    }
}

void fc_backward_cpu(float *dinput, float *dweight, float *dbias, const float *doutput,
                     const float *in, const float *weight, int batch, int in_features,
                     int out_features)
{
    /* dweight [O, I] = doutputᵀ [O, B] · in [B, I] */
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out_features, in_features, batch, 1.0f,
                doutput, out_features, in, in_features, 0.0f, dweight, in_features);
    /* dbias [O] = sum over the batch of doutput */
    memset(dbias, 0, sizeof(float) * (size_t)out_features);
    for (int b = 0; b < batch; b++) {
        const float *row = doutput + (size_t)b * out_features;
        for (int o = 0; o < out_features; o++) dbias[o] += row[o];
    }
    /* dinput [B, I] = doutput [B, O] · weight [O, I] */
    if (dinput)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, in_features, out_features,
                    1.0f, doutput, out_features, weight, in_features, 0.0f, dinput, in_features);
}
