/* image_icc.c: recognises sRGB ICC profiles by their colorimetry (image_icc.h).
 * ICC.1 layout: a 128-byte header, a tag count, then 12-byte entries
 * (signature, offset, size); all numbers big-endian, XYZ as s15Fixed16. */
#include "image_icc.h"

#include <math.h>
#include <string.h>

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static double s15f16(const uint8_t *p) { return (double)(int32_t)be32(p) / 65536.0; }

double image_icc_srgb_to_linear(double x)
{
    return x <= 0.04045 ? x / 12.92 : pow((x + 0.055) / 1.055, 2.4);
}

double image_icc_srgb_from_linear(double y)
{
    return y <= 0.0031308 ? y * 12.92 : 1.055 * pow(y, 1 / 2.4) - 0.055;
}

/* The tag `sig` as data [*size] inside the profile, or NULL when it is
 * missing or does not fit. */
static const uint8_t *find_tag(const uint8_t *profile, size_t size, const char *sig, size_t *tag_size)
{
    if (size < 132) return NULL;
    const uint32_t count = be32(profile + 128);
    if (count > (size - 132) / 12) return NULL;
    for (uint32_t i = 0; i < count; i++) {
        const uint8_t *entry = profile + 132 + 12 * (size_t)i;
        if (memcmp(entry, sig, 4) != 0) continue;
        const uint32_t offset = be32(entry + 4), length = be32(entry + 8);
        if (offset > size || length > size - offset) return NULL;
        *tag_size = length;
        return profile + offset;
    }
    return NULL;
}

/* An XYZType tag equal to (x, y, z) within the tolerance. */
static int xyz_tag_is(const uint8_t *profile, size_t size, const char *sig, double x, double y, double z)
{
    size_t n = 0;
    const uint8_t *t = find_tag(profile, size, sig, &n);
    if (!t || n < 20 || memcmp(t, "XYZ ", 4) != 0) return 0;
    return fabs(s15f16(t + 8) - x) <= IMAGE_ICC_XYZ_TOLERANCE &&
           fabs(s15f16(t + 12) - y) <= IMAGE_ICC_XYZ_TOLERANCE &&
           fabs(s15f16(t + 16) - z) <= IMAGE_ICC_XYZ_TOLERANCE;
}

/* A tone curve tag that is the sRGB curve: `curv` with at least 2 samples
 * (u16 over 0..1) that the sRGB encoding maps back to within the tolerance
 * of their inputs, or `para` function type 3, Y = (aX + b)^g for X >= d,
 * cX below. */
static int trc_tag_is_srgb(const uint8_t *profile, size_t size, const char *sig)
{
    size_t n = 0;
    const uint8_t *t = find_tag(profile, size, sig, &n);
    if (!t || n < 12) return 0;
    if (memcmp(t, "curv", 4) == 0) {
        const uint32_t count = be32(t + 8);
        if (count < 2 || count > (n - 12) / 2) return 0; /* 0: identity, 1: a plain gamma */
        for (uint32_t i = 0; i < count; i++) {
            const double y = (double)((uint32_t)t[12 + 2 * i] << 8 | t[13 + 2 * i]) / 65535.0;
            /* compared where it matters: how far a pixel would move */
            if (fabs(image_icc_srgb_from_linear(y) - (double)i / (count - 1)) > IMAGE_ICC_TRC_TOLERANCE) return 0;
        }
        return 1;
    }
    if (memcmp(t, "para", 4) == 0) {
        if (n < 12 + 5 * 4 || t[8] != 0 || t[9] != 3) return 0;
        const double g = s15f16(t + 12), a = s15f16(t + 16), b = s15f16(t + 20), c = s15f16(t + 24),
                     d = s15f16(t + 28);
        return fabs(g - 2.4) < 1e-3 && fabs(a - 1 / 1.055) < 1e-3 && fabs(b - 0.055 / 1.055) < 1e-3 &&
               fabs(c - 1 / 12.92) < 1e-3 && fabs(d - 0.04045) < 1e-3;
    }
    return 0;
}

/* The checks below cost ~80 us (3,072 pow() for three sampled curves), ~1 %
 * of decoding a photo; photos of one collection mostly carry the same
 * profile, so each thread remembers the last one it found to be sRGB. */
#define ICC_MEMO_BYTES 8192
static _Thread_local uint8_t icc_memo[ICC_MEMO_BYTES]; /* [icc_memo_size] */
static _Thread_local size_t icc_memo_size;

static int is_srgb_uncached(const uint8_t *profile, size_t size);

int image_icc_is_srgb(const uint8_t *profile, size_t size)
{
    if (!profile) return 0;
    if (size == icc_memo_size && size > 0 && memcmp(profile, icc_memo, size) == 0) return 1;
    if (!is_srgb_uncached(profile, size)) return 0;
    if (size <= ICC_MEMO_BYTES) {
        memcpy(icc_memo, profile, size);
        icc_memo_size = size;
    }
    return 1;
}

static int is_srgb_uncached(const uint8_t *profile, size_t size)
{
    if (size < 132 || be32(profile) > size) return 0;
    if (memcmp(profile + 36, "acsp", 4) != 0 || memcmp(profile + 12, "mntr", 4) != 0 ||
        memcmp(profile + 16, "RGB ", 4) != 0 || memcmp(profile + 20, "XYZ ", 4) != 0)
        return 0;
    size = be32(profile); /* the declared size, checked above against the data */
    /* sRGB's primaries adapted to D50 (Bradford), as every sRGB profile stores them */
    return xyz_tag_is(profile, size, "rXYZ", 0.4361, 0.2225, 0.0139) &&
           xyz_tag_is(profile, size, "gXYZ", 0.3851, 0.7169, 0.0971) &&
           xyz_tag_is(profile, size, "bXYZ", 0.1431, 0.0606, 0.7141) &&
           trc_tag_is_srgb(profile, size, "rTRC") && trc_tag_is_srgb(profile, size, "gTRC") &&
           trc_tag_is_srgb(profile, size, "bTRC");
}
