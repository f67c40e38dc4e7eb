/* image_decode.c: libvips decode, resize, colour conversion to 256x256 sRGB;
 * plain JPEGs take image_jpeg.c's faster path first. */
#include "image_decode.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

#include "log.h"
#include "image_icc.h"
#include "image_jpeg.h"
#include "image_resample.h"
#include "image_geometry.h"

/* The resampling kernel of the streaming path for large images: linear (a
 * triangle widened by the scale when shrinking, i.e. antialiased bilinear,
 * the filter of image_resample.h and of the usual Pillow prep). */
#define IMAGE_KERNEL VIPS_KERNEL_LINEAR

/* The formats a dataset may hold, recognised by their first bytes (never by
 * the file name); each maps to its libvips loader. Anything else (SVG, PDF,
 * ImageMagick formats, ...) is refused, and libvips' untrusted operations are
 * blocked as well. Detecting here instead of vips_foreign_find_load_buffer()
 * also saves ~0.25 ms per image (libvips would probe every loader twice). */
typedef enum image_format { FORMAT_UNKNOWN, FORMAT_JPEG, FORMAT_PNG, FORMAT_GIF, FORMAT_WEBP, FORMAT_TIFF } image_format;

static image_format detect_format(const uint8_t *b, size_t n)
{
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return FORMAT_JPEG;
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) return FORMAT_PNG;
    if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0)) return FORMAT_GIF;
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0) return FORMAT_WEBP;
    if (n >= 4 && (memcmp(b, "II*\0", 4) == 0 || memcmp(b, "MM\0*", 4) == 0)) return FORMAT_TIFF;
    return FORMAT_UNKNOWN;
}

/* Decoded images up to this many pixels are read whole into memory (random
 * access: ~1.6x faster than libvips' sequential strips for a 500x375 JPEG);
 * larger ones stream in strips so that memory stays bounded. */
#define IMAGE_WHOLE_DECODE_PIXELS 4000000ull

/* Opens the image lazily (header only) with its own loader; shrink > 1 only for JPEG. */
static VipsImage *open_image(image_format format, const void *data, size_t size, int shrink, VipsAccess access)
{
    VipsImage *image = NULL;
    void *buf = (void *)data;
    int rc = -1;
    switch (format) {
    case FORMAT_JPEG:
        rc = vips_jpegload_buffer(buf, size, &image, "access", access, "fail_on",
                                  VIPS_FAIL_ON_TRUNCATED, "shrink", shrink, NULL);
        break;
    case FORMAT_PNG:
        rc = vips_pngload_buffer(buf, size, &image, "access", access, "fail_on",
                                 VIPS_FAIL_ON_TRUNCATED, NULL);
        break;
    case FORMAT_GIF:
        rc = vips_gifload_buffer(buf, size, &image, "access", access, "fail_on",
                                 VIPS_FAIL_ON_TRUNCATED, NULL);
        break;
    case FORMAT_WEBP:
        rc = vips_webpload_buffer(buf, size, &image, "access", access, "fail_on",
                                  VIPS_FAIL_ON_TRUNCATED, NULL);
        break;
    case FORMAT_TIFF:
        rc = vips_tiffload_buffer(buf, size, &image, "access", access, "fail_on",
                                  VIPS_FAIL_ON_TRUNCATED, NULL);
        break;
    case FORMAT_UNKNOWN:
        break;
    }
    return rc == 0 ? image : NULL;
}

/* For the message of a refused file: what libvips thinks it is, if anything. */
static an_status refuse_unknown(const void *data, size_t size, char *reason, size_t reason_size);

/* libvips warnings (e.g. "Premature end of JPEG file") go to --verbose, not to
 * the terminal: the refusal itself is reported in bad-files.tsv. */
static void vips_warning_to_log(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
    (void)domain; (void)level; (void)data;
    log_verbose("libvips: %s", message);
}

const char *image_resize_name(image_resize_mode mode) { return mode == IMAGE_RESIZE_SQUASH ? "squash" : "crop"; }

an_status image_resize_parse(const char *text, image_resize_mode *out)
{
    if (strcmp(text, "crop") == 0) *out = IMAGE_RESIZE_CROP;
    else if (strcmp(text, "squash") == 0) *out = IMAGE_RESIZE_SQUASH;
    else return error_set(AN_ERR_ARG, "--resize must be crop or squash, got '%s'", text);
    return AN_OK;
}

an_status image_decode_init(const char *argv0)
{
    if (VIPS_INIT(argv0 ? argv0 : "alexnet-prep") != 0)
        return error_set(AN_ERR_VIPS, "cannot start libvips: %s", vips_error_buffer());
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE, vips_warning_to_log, NULL);
    vips_block_untrusted_set(TRUE);
    vips_cache_set_max(0);
    vips_concurrency_set(1);
    return AN_OK;
}

void image_decode_shutdown(void)
{
    vips_shutdown();
}

/* Copies libvips' error text (first line) as the reason and clears it. */
static an_status refuse_vips(char *reason, size_t size, const char *what)
{
    const char *text = vips_error_buffer();
    size_t n = strcspn(text, "\n");
    snprintf(reason, size, "%s: %.*s", what, (int)(n > 200 ? 200 : n), n ? text : "libvips error");
    vips_error_clear();
    for (char *p = reason; *p; p++)
        if (*p == '\t') *p = ' ';
    return error_set(AN_ERR_IMAGE, "%s", reason);
}

static an_status refuse(char *reason, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static an_status refuse(char *reason, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, size, fmt, ap);
    va_end(ap);
    return error_set(AN_ERR_IMAGE, "%s", reason);
}

/* in (any bands, format, interpretation) -> out: 3-band uchar sRGB, alpha flattened onto white. */
static int to_srgb8(VipsImage *in, VipsImage **out, VipsObject *scope)
{
    VipsImage **t = (VipsImage **)vips_object_local_array(scope, 4);
    VipsImage *x = in;
    if (vips_image_guess_interpretation(x) != VIPS_INTERPRETATION_sRGB || x->BandFmt != VIPS_FORMAT_UCHAR) {
        if (vips_colourspace(x, &t[0], VIPS_INTERPRETATION_sRGB, NULL)) return -1;
        x = t[0];
    }
    if (x->BandFmt != VIPS_FORMAT_UCHAR) {
        if (vips_cast(x, &t[1], VIPS_FORMAT_UCHAR, NULL)) return -1;
        x = t[1];
    }
    if (vips_image_hasalpha(x)) {
        double white[3] = {255, 255, 255};
        VipsArrayDouble *bg = vips_array_double_new(white, 3);
        int rc = vips_flatten(x, &t[2], "background", bg, NULL);
        vips_area_unref(VIPS_AREA(bg));
        if (rc) return -1;
        x = t[2];
    }
    if (x->Bands != 3) {
        if (x->Bands < 3) return -1;
        if (vips_extract_band(x, &t[3], 0, "n", 3, NULL)) return -1;
        x = t[3];
    }
    g_object_ref(x);
    *out = x;
    return 0;
}

/* Small images: decodes uchar sRGB x whole in this thread and resizes it in C (image_resample.h). */
static an_status resize_whole(VipsImage *x, const image_decode_options *o, uint8_t *out, char *reason,
                              size_t reason_size)
{
    if (x->Bands != 3 || x->BandFmt != VIPS_FORMAT_UCHAR)
        return refuse(reason, reason_size, "internal: converted to %d bands, not 3 uchar", x->Bands);
    an_status st = AN_OK;
    VipsRegion *region = vips_region_new(x);
    VipsRect all = {0, 0, x->Xsize, x->Ysize};
    if (!region || vips_region_prepare(region, &all)) {
        st = refuse_vips(reason, reason_size, "cannot decode");
    } else {
        /* The region's rows may be padded: resample from a packed copy when they are. */
        size_t row_bytes = (size_t)x->Xsize * 3;
        const uint8_t *pixels = (const uint8_t *)VIPS_REGION_ADDR(region, 0, 0);
        uint8_t *packed = NULL;
        if ((size_t)VIPS_REGION_LSKIP(region) != row_bytes) {
            packed = malloc(row_bytes * (size_t)x->Ysize);
            if (!packed) st = error_set(AN_ERR_NOMEM, "out of memory for a %dx%d image", x->Xsize, x->Ysize);
            for (int y = 0; packed && y < x->Ysize; y++)
                memcpy(packed + (size_t)y * row_bytes, VIPS_REGION_ADDR(region, 0, y), row_bytes);
            pixels = packed;
        }
        if (st == AN_OK) st = image_resample(pixels, x->Ysize, x->Xsize, 3, o->resize == IMAGE_RESIZE_SQUASH, out);
        free(packed);
    }
    if (region) g_object_unref(region);
    return st;
}

/* Computes a 256x256 uchar sRGB image into out [256,256,3] in this thread,
 * through a region: no libvips thread pool per image. */
static an_status render(VipsImage *image, uint8_t *out, char *reason, size_t reason_size)
{
    if (image->Xsize != IMAGE_STORED_SIZE || image->Ysize != IMAGE_STORED_SIZE || image->Bands != 3 ||
        image->BandFmt != VIPS_FORMAT_UCHAR)
        return refuse(reason, reason_size, "internal: converted to %dx%dx%d, not 256x256x3 uchar", image->Xsize,
                      image->Ysize, image->Bands);
    an_status st = AN_OK;
    VipsRegion *region = vips_region_new(image);
    VipsRect all = {0, 0, IMAGE_STORED_SIZE, IMAGE_STORED_SIZE};
    if (!region || vips_region_prepare(region, &all)) {
        st = refuse_vips(reason, reason_size, "cannot decode");
    } else {
        size_t row_bytes = (size_t)IMAGE_STORED_SIZE * IMAGE_CHANNELS;
        for (int y = 0; y < IMAGE_STORED_SIZE; y++)
            memcpy(out + (size_t)y * row_bytes, VIPS_REGION_ADDR(region, 0, y), row_bytes);
    }
    if (region) g_object_unref(region);
    return st;
}

static an_status refuse_unknown(const void *data, size_t size, char *reason, size_t reason_size)
{
    const char *loader = vips_foreign_find_load_buffer(data, size);
    vips_error_clear();
    if (!loader) return refuse(reason, reason_size, "not a recognised image format");
    const VipsObjectClass *klass = vips_class_find("VipsForeignLoad", loader);
    return refuse(reason, reason_size, "image format not allowed (%s)", klass ? klass->nickname : loader);
}

/* in (any colour) -> uchar 3-band sRGB: ICC import, then colour conversion. */
static int convert_colour(VipsImage *in, VipsObject *scope, VipsImage **out)
{
    VipsImage **t = (VipsImage **)vips_object_local_array(scope, 2);
    VipsImage *x = in;
    if (vips_image_get_typeof(x, VIPS_META_ICC_NAME)) {
        const void *profile = NULL;
        size_t size = 0;
        if (vips_image_get_blob(x, VIPS_META_ICC_NAME, &profile, &size) == 0 && x->Bands >= 3 &&
            image_icc_is_srgb(profile, size)) {
            /* already sRGB: kept as it is (image_icc.h), as the fast JPEG path does */
        } else if (vips_icc_transform(x, &t[0], "srgb", "embedded", TRUE, NULL) == 0) {
            x = t[0];
        } else {
            vips_error_clear(); /* a broken profile: convert as if there were none */
        }
    }
    if (to_srgb8(x, &t[1], scope)) return -1;
    *out = t[1];
    return 0;
}

/* Large images: uchar sRGB x -> 256x256 with libvips' resize (linear kernel)
 * and the central crop of §2 (or squash), streaming in strips. */
static int resize_streaming(VipsImage *x, const image_decode_options *o, VipsObject *scope, VipsImage **out)
{
    VipsImage **t = (VipsImage **)vips_object_local_array(scope, 5);
    enum { S = IMAGE_STORED_SIZE }; /* 256 (§2) */
    double sx, sy;
    if (o->resize == IMAGE_RESIZE_SQUASH) {
        sx = (double)S / x->Xsize;
        sy = (double)S / x->Ysize;
    } else { /* §2: the shorter side to 256 */
        sx = sy = (double)S / (x->Xsize < x->Ysize ? x->Xsize : x->Ysize);
    }
    if (vips_resize(x, &t[2], sx, "vscale", sy, "kernel", IMAGE_KERNEL, NULL)) return -1;
    x = t[2];
    if (x->Xsize < S || x->Ysize < S) { /* a rounding short of 256: repeat the edge */
        int w = x->Xsize < S ? S : x->Xsize, h = x->Ysize < S ? S : x->Ysize;
        if (vips_embed(x, &t[3], 0, 0, w, h, "extend", VIPS_EXTEND_COPY, NULL)) return -1;
        x = t[3];
    }
    if (vips_extract_area(x, &t[4], (x->Xsize - S) / 2, (x->Ysize - S) / 2, S, S, NULL)) return -1;
    g_object_ref(t[4]);
    *out = t[4];
    return 0;
}

an_status image_decode_buffer(const void *data, size_t size, const image_decode_options *o, uint8_t *out,
                             char *reason, size_t reason_size)
{
    if (size == 0) return refuse(reason, reason_size, "empty file");
    image_format format = detect_format(data, size);
    if (format == FORMAT_UNKNOWN) return refuse_unknown(data, size, reason, reason_size);
    if (format == FORMAT_JPEG && !o->libvips_only) { /* plain JPEGs: image_jpeg.h */
        int handled = 0;
        AN_TRY(image_jpeg_decode(data, size, o, out, &handled));
        if (handled) return AN_OK;
    }

    /* Header only: libvips loaders are lazy, no pixel is decoded until the region below asks. */
    VipsImage *image = open_image(format, data, size, 1, VIPS_ACCESS_RANDOM);
    if (!image) return refuse_vips(reason, reason_size, "unreadable header");
    int width = image->Xsize, height = image->Ysize;
    if ((uint64_t)width * (uint64_t)height > o->max_pixels) {
        g_object_unref(image);
        return refuse(reason, reason_size, "header declares %dx%d pixels, above the limit of %llu", width, height,
                      (unsigned long long)o->max_pixels);
    }
    int shrink = format == FORMAT_JPEG ? 8 / image_jpeg_scale(width, height) : 1; /* as image_jpeg.c */
    uint64_t decoded = (uint64_t)(width / shrink) * (uint64_t)(height / shrink);
    VipsAccess access = decoded <= IMAGE_WHOLE_DECODE_PIXELS ? VIPS_ACCESS_RANDOM : VIPS_ACCESS_SEQUENTIAL;
    if (shrink > 1 || access != VIPS_ACCESS_RANDOM) {
        g_object_unref(image);
        image = open_image(format, data, size, shrink, access);
        if (!image) return refuse_vips(reason, reason_size, "unreadable header");
    }
    VipsObject *scope = VIPS_OBJECT(vips_image_new());
    VipsImage *rgb = NULL, *final = NULL;
    an_status st;
    if (convert_colour(image, scope, &rgb)) st = refuse_vips(reason, reason_size, "cannot convert");
    else if (access == VIPS_ACCESS_RANDOM) st = resize_whole(rgb, o, out, reason, reason_size);
    else if (resize_streaming(rgb, o, scope, &final)) st = refuse_vips(reason, reason_size, "cannot resize");
    else st = render(final, out, reason, reason_size);
    if (final) g_object_unref(final);
    g_object_unref(scope);
    g_object_unref(image);
    return st;
}

an_status image_decode_file(const char *path, const image_decode_options *o, uint8_t *out, char *reason,
                           size_t reason_size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block */
    if (fd < 0) return refuse(reason, reason_size, "cannot open: %s", strerror(errno));
    struct stat sb;
    an_status st = AN_OK;
    uint8_t *data = NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = refuse(reason, reason_size, "not a regular file");
        goto done;
    }
    if ((uint64_t)sb.st_size > o->max_file_bytes) {
        st = refuse(reason, reason_size, "file of %lld bytes is above the limit of %llu", (long long)sb.st_size,
                    (unsigned long long)o->max_file_bytes);
        goto done;
    }
    size_t size = (size_t)sb.st_size, have = 0;
    data = malloc(size ? size : 1);
    if (!data) {
        st = error_set(AN_ERR_NOMEM, "out of memory for %zu bytes of %s", size, path);
        goto done;
    }
    while (have < size) {
        ssize_t n = read(fd, data + have, size - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            st = refuse(reason, reason_size, "read failed: %s", n < 0 ? strerror(errno) : "file shrank");
            goto done;
        }
        have += (size_t)n;
    }
    st = image_decode_buffer(data, size, o, out, reason, reason_size);
done:
    free(data);
    close(fd);
    return st;
}

an_status image_decode_gray(const uint8_t *pixels /* [rows, cols] */, int rows, int cols,
                           const image_decode_options *o, uint8_t *out, char *reason, size_t reason_size)
{
    an_status st = image_resample(pixels, rows, cols, 1, o->resize == IMAGE_RESIZE_SQUASH, out);
    if (st != AN_OK) snprintf(reason, reason_size, "%s", error_message());
    return st;
}
