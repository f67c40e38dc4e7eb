/* philox.h: the Philox4x32-10 counter-based random number generator
 * (Salmon, Moraes, Dror, Shaw, "Parallel Random Numbers: As Easy as 1, 2, 3",
 * SC 2011), with uniform, integer and normal draws. One header that gcc and
 * nvcc both compile, so the CPU and the GPU draw the same numbers.
 *
 * Every random number in alexnet is philox(counter, key) with
 *   key     = { seed low 32 bits, seed high 32 bits }       (the run's --seed)
 *   counter = { element, image id, epoch (or step), purpose }
 * where `purpose` is one of the PHILOX_PURPOSE_* values below and `element`
 * numbers the 4-word blocks drawn for that (purpose, epoch, image). Because
 * the counter names the image and not the thread or the batch slot, crops,
 * flips, lighting and dropout masks do not depend on the thread count, the
 * number of processes, the backend, or a resume (docs/ARCHITECTURE.md,
 * "Randomness"; docs/train.md, "Randomness and reproducibility").
 */
#ifndef ALEXNET_PHILOX_H
#define ALEXNET_PHILOX_H

#include <math.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define PHILOX_FN static inline __host__ __device__
#else
#define PHILOX_FN static inline
#endif

/* What a draw is for: the fourth counter word. Never renumber: it would
 * change every run's random streams. */
enum philox_purpose {
    PHILOX_PURPOSE_INIT = 1,      /* weight initialisation; image id = tensor index */
    PHILOX_PURPOSE_SHUFFLE = 2,   /* epoch permutation of the training set */
    PHILOX_PURPOSE_CROP = 3,      /* random 224x224 crop offset (§4.1) */
    PHILOX_PURPOSE_FLIP = 4,      /* horizontal flip (§4.1) */
    PHILOX_PURPOSE_LIGHTING = 5,  /* PCA lighting alphas (§4.1) */
    PHILOX_PURPOSE_DROPOUT6 = 6,  /* dropout mask after fc6 (§4.2); epoch word = step */
    PHILOX_PURPOSE_DROPOUT7 = 7,  /* dropout mask after fc7 (§4.2); epoch word = step */
    PHILOX_PURPOSE_PREP_ORDER = 8,/* prep's one-time shard order */
    PHILOX_PURPOSE_TEST = 100     /* tests and benchmarks */
};

typedef struct philox_block { uint32_t v[4]; } philox_block;

PHILOX_FN uint32_t philox_mulhilo(uint32_t a, uint32_t b, uint32_t *hi)
{
    uint64_t p = (uint64_t)a * (uint64_t)b;
    *hi = (uint32_t)(p >> 32);
    return (uint32_t)p;
}

/* Philox4x32 with 10 rounds: the published constants and key schedule. */
PHILOX_FN philox_block philox4x32_10(philox_block ctr, uint32_t key0, uint32_t key1)
{
    const uint32_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
    const uint32_t W0 = 0x9E3779B9u, W1 = 0xBB67AE85u;
    for (int round = 0; round < 10; round++) {
        if (round > 0) { key0 += W0; key1 += W1; }
        uint32_t hi0, hi1;
        uint32_t lo0 = philox_mulhilo(M0, ctr.v[0], &hi0);
        uint32_t lo1 = philox_mulhilo(M1, ctr.v[2], &hi1);
        philox_block next;
        next.v[0] = hi1 ^ ctr.v[1] ^ key0;
        next.v[1] = lo1;
        next.v[2] = hi0 ^ ctr.v[3] ^ key1;
        next.v[3] = lo0;
        ctr = next;
    }
    return ctr;
}

/* The block for (seed, purpose, epoch, image id, element): see the header comment. */
PHILOX_FN philox_block philox_draw(uint64_t seed, uint32_t purpose, uint32_t epoch,
                                   uint32_t image_id, uint32_t element)
{
    philox_block ctr;
    ctr.v[0] = element;
    ctr.v[1] = image_id;
    ctr.v[2] = epoch;
    ctr.v[3] = purpose;
    return philox4x32_10(ctr, (uint32_t)seed, (uint32_t)(seed >> 32));
}

/* A uniform float in the open interval (0, 1): the top 23 bits, centred, so
 * that the largest value (1 - 2^-24) is still below 1 in float. Exact on any backend. */
PHILOX_FN float philox_uniform(uint32_t x)
{
    return ((float)(x >> 9) + 0.5f) * (1.0f / 8388608.0f);
}

/* A uniform double in (0, 1) from two words (53 bits). */
PHILOX_FN double philox_uniform_double(uint32_t hi, uint32_t lo)
{
    uint64_t bits = ((uint64_t)hi << 21) ^ (uint64_t)(lo >> 11);
    bits &= (1ull << 53) - 1;
    return ((double)bits + 0.5) * (1.0 / 9007199254740992.0);
}

/* An integer uniform in [0, n) by multiply-high (Lemire), no modulo; exact on any backend. */
PHILOX_FN uint32_t philox_below(uint32_t x, uint32_t n)
{
    return (uint32_t)(((uint64_t)x * (uint64_t)n) >> 32);
}

/* Two independent standard normals from one block, by Box-Muller in double
 * precision (so that CPU and GPU agree to the last float bit in practice). */
PHILOX_FN void philox_normal2(philox_block b, float *z0, float *z1)
{
    const double two_pi = 6.283185307179586476925286766559;
    double u1 = philox_uniform_double(b.v[0], b.v[1]);
    double u2 = philox_uniform_double(b.v[2], b.v[3]);
    double r = sqrt(-2.0 * log(u1));
    *z0 = (float)(r * cos(two_pi * u2));
    *z1 = (float)(r * sin(two_pi * u2));
}

#endif
