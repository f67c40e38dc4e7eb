/* softmax_cpu.c: softmax over fc8's outputs and the multinomial logistic
 * loss averaged over the batch (§4, §5), forward and backward. */
#include <float.h>
#include <math.h>

#include "ops_cpu.h"

an_status softmax_forward_cpu(backend *be, float *probs, const float *logits, int batch, int classes)
{
    cpu_use(be);
    for (int b = 0; b < batch; b++) {
        const float *z = logits + (size_t)b * classes; /* [K] */
        float *p = probs + (size_t)b * classes;        /* [K] */
        float zmax = z[0];
        for (int k = 1; k < classes; k++) zmax = z[k] > zmax ? z[k] : zmax;
        double sum = 0.0;
        for (int k = 0; k < classes; k++) {
            float e = expf(z[k] - zmax);
            p[k] = e;
            sum += e;
        }
        float inv = (float)(1.0 / sum);
        for (int k = 0; k < classes; k++) p[k] *= inv;
    }
    return AN_OK;
}

static an_status check_labels(const int32_t *labels, int batch, int classes)
{
    for (int b = 0; b < batch; b++)
        if (labels[b] < 0 || labels[b] >= classes)
            return error_set(AN_ERR_ARG, "label %d of image %d is outside [0, %d)", labels[b], b,
                             classes);
    return AN_OK;
}

an_status softmax_loss_cpu(backend *be, double *loss, const float *probs, const int32_t *labels, int batch,
                           int classes)
{
    cpu_use(be);
    AN_TRY(check_labels(labels, batch, classes));
    double sum = 0.0;
    for (int b = 0; b < batch; b++) {
        float p = probs[(size_t)b * classes + labels[b]];
        /* clamped below at FLT_MIN; a NaN stays NaN (a diverged network must say so) */
        sum -= log(p > FLT_MIN || isnan(p) ? (double)p : (double)FLT_MIN);
    }
    *loss = batch > 0 ? sum / batch : 0.0;
    return AN_OK;
}

an_status softmax_loss_backward_cpu(backend *be, float *dlogits, const float *probs, const int32_t *labels,
                                    int batch, int classes, float normalizer)
{
    cpu_use(be);
    AN_TRY(check_labels(labels, batch, classes));
    if (!(normalizer > 0.0f))
        return error_set(AN_ERR_ARG, "loss normalizer must be positive, got %g", normalizer);
    const float inv = 1.0f / normalizer;
    for (int b = 0; b < batch; b++) {
        const float *p = probs + (size_t)b * classes; /* [K] */
        float *d = dlogits + (size_t)b * classes;     /* [K] */
        for (int k = 0; k < classes; k++) d[k] = p[k] * inv;
        d[labels[b]] -= inv;
    }
    return AN_OK;
}
