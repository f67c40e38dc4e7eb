/* image_icc.h: is an embedded ICC profile plain sRGB?
 *
 * Most ICC profiles embedded in photos are sRGB (the 3,144-byte
 * "sRGB IEC61966-2.1" above all). Their pixels are already what
 * alexnet-prep stores, and importing the profile through libvips costs more
 * than decoding the image (an lcms2 transform is built per image), so the
 * fast JPEG path (image_jpeg.h) keeps such pixels as they are; every other
 * profile is imported by libvips.
 *
 * The decision reads the colorimetry, never the profile's name: an RGB
 * display profile with XYZ as connection space, whose red, green and blue
 * colorants (rXYZ, gXYZ, bXYZ) are sRGB's D50-adapted primaries within
 * IMAGE_ICC_XYZ_TOLERANCE and whose three tone curves (rTRC, gTRC, bTRC) are
 * the sRGB curve: a sampled `curv` that moves no encoded value by more than
 * IMAGE_ICC_TRC_TOLERANCE, or the `para` type-3 function with sRGB's parameters. Any malformed or
 * truncated profile is "not sRGB" (libvips then decides). */
#ifndef ALEXNET_IMAGE_ICC_H
#define ALEXNET_IMAGE_ICC_H

#include <stddef.h>
#include <stdint.h>

/* The sRGB profiles in circulation round the primaries to 4 decimals. */
#define IMAGE_ICC_XYZ_TOLERANCE 0.002
/* Half an 8-bit level, on the encoded 0..1 scale. */
#define IMAGE_ICC_TRC_TOLERANCE (0.5 / 255.0)

/* 1 when profile [size] is an sRGB profile as above, else 0. */
int image_icc_is_srgb(const uint8_t *profile, size_t size);

/* The sRGB curves (IEC 61966-2-1): encoded x in [0, 1] -> linear, and back. */
double image_icc_srgb_to_linear(double x);
double image_icc_srgb_from_linear(double y);

#endif
