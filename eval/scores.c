/* scores.c: softmax averaging over views and tie-defined top-k. */
#include "scores.h"

#include <math.h>

void softmax_average(const float *logits, int views, int num_classes, float *probs)
{
    double max[SOFTMAX_MAX_VIEWS], denom[SOFTMAX_MAX_VIEWS]; /* per view */
    for (int v = 0; v < views; v++) {
        const float *row = logits + (size_t)v * num_classes; /* [C] */
        float m = row[0];
        for (int c = 1; c < num_classes; c++)
            if (row[c] > m) m = row[c];
        double sum = 0.0;
        for (int c = 0; c < num_classes; c++) sum += exp((double)row[c] - m);
        max[v] = m;
        denom[v] = sum;
    }
    for (int c = 0; c < num_classes; c++) {
        double acc = 0.0;
        for (int v = 0; v < views; v++)
            acc += exp((double)logits[(size_t)v * num_classes + c] - max[v]) / denom[v];
        probs[c] = (float)(acc / views);
    }
}

/* Does class a rank before class b? */
static int ranks_before(const float *probs, int a, int b)
{
    return probs[a] > probs[b] || (probs[a] == probs[b] && a < b);
}

int class_rank(const float *probs, int num_classes, int c)
{
    int rank = 0;
    for (int j = 0; j < num_classes; j++)
        if (j != c && ranks_before(probs, j, c)) rank++;
    return rank;
}

int top_k(const float *probs, int num_classes, int k, int *classes, float *top_probs)
{
    if (k > num_classes) k = num_classes;
    int filled = 0;
    for (int c = 0; c < num_classes; c++) {
        /* insertion into the sorted prefix classes[0..filled) */
        if (filled == k && !ranks_before(probs, c, classes[k - 1])) continue;
        int pos = filled < k ? filled++ : k - 1;
        while (pos > 0 && ranks_before(probs, c, classes[pos - 1])) {
            classes[pos] = classes[pos - 1];
            pos--;
        }
        classes[pos] = c;
    }
    if (top_probs)
        for (int i = 0; i < k; i++) top_probs[i] = probs[classes[i]];
    return k;
}
