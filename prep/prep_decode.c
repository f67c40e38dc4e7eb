/* prep_decode.c: libvips decode, resize, colour conversion to 256x256 sRGB. */
#include "prep_decode.h"

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
#include "prep_upscale.h"
#include "shard_format.h"

/* The loaders a dataset may need; everything else (SVG, PDF, ImageMagick, ...) is refused. */
static const char *const allowed_loaders[] = {"jpegload", "pngload", "webpload", "gifload", "tiffload"};

/* libvips warnings (e.g. "Premature end of JPEG file") go to --verbose, not to
 * the terminal: the refusal itself is reported in bad-files.tsv. */
static void vips_warning_to_log(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
    (void)domain; (void)level; (void)data;
    log_verbose("libvips: %s", message);
}

an_status prep_decode_init(const char *argv0)
{
    if (VIPS_INIT(argv0 ? argv0 : "alexnet-prep") != 0)
        return error_set(AN_ERR_VIPS, "cannot start libvips: %s", vips_error_buffer());
    g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE, vips_warning_to_log, NULL);
    vips_block_untrusted_set(TRUE);
    vips_cache_set_max(0);
    vips_concurrency_set(1);
    return AN_OK;
}

void prep_decode_shutdown(void)
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

/* Renders a 256x256 thumbnail into out [256,256,3]. */
static an_status finish(VipsImage *thumb, uint8_t *out, char *reason, size_t reason_size)
{
    VipsObject *scope = VIPS_OBJECT(vips_image_new());
    VipsImage *rgb = NULL;
    an_status st = AN_OK;
    if (to_srgb8(thumb, &rgb, scope)) {
        st = refuse_vips(reason, reason_size, "colour conversion failed");
        goto done;
    }
    if (rgb->Xsize != AN_IMAGE_SIZE || rgb->Ysize != AN_IMAGE_SIZE) {
        st = refuse(reason, reason_size, "internal: resized to %dx%d, not 256x256", rgb->Xsize, rgb->Ysize);
        goto done;
    }
    /* Computed in this thread through a region: no libvips thread pool per image. */
    VipsRegion *region = vips_region_new(rgb);
    VipsRect all = {0, 0, AN_IMAGE_SIZE, AN_IMAGE_SIZE};
    if (!region || vips_region_prepare(region, &all)) {
        st = refuse_vips(reason, reason_size, "decoding failed");
    } else {
        size_t row_bytes = (size_t)AN_IMAGE_SIZE * AN_IMAGE_CHANNELS;
        for (int y = 0; y < AN_IMAGE_SIZE; y++)
            memcpy(out + (size_t)y * row_bytes, VIPS_REGION_ADDR(region, 0, y), row_bytes);
    }
    if (region) g_object_unref(region);
done:
    if (rgb) g_object_unref(rgb);
    g_object_unref(scope);
    return st;
}

static int loader_allowed(const char *loader)
{
    for (size_t i = 0; i < sizeof allowed_loaders / sizeof *allowed_loaders; i++)
        if (strncmp(loader, allowed_loaders[i], strlen(allowed_loaders[i])) == 0) return 1;
    return 0;
}

/* libvips' loader nickname for a class name such as "VipsForeignLoadJpegBuffer" -> "jpegload_buffer". */
static const char *loader_nickname(const char *class_name)
{
    const VipsObjectClass *klass = vips_class_find("VipsForeignLoad", class_name);
    return klass ? klass->nickname : class_name;
}

an_status prep_decode_buffer(const void *data, size_t size, const prep_decode_options *o, uint8_t *out,
                             char *reason, size_t reason_size)
{
    if (size == 0) return refuse(reason, reason_size, "empty file");
    const char *loader = vips_foreign_find_load_buffer(data, size);
    if (!loader) {
        vips_error_clear();
        return refuse(reason, reason_size, "not a recognised image format");
    }
    const char *nick = loader_nickname(loader);
    if (!loader_allowed(nick)) return refuse(reason, reason_size, "image format not allowed (%s)", nick);

    /* Header only: libvips loaders are lazy, no pixel is decoded here. */
    VipsImage *header = vips_image_new_from_buffer(data, size, "", NULL);
    if (!header) return refuse_vips(reason, reason_size, "unreadable header");
    uint64_t pixels = (uint64_t)header->Xsize * (uint64_t)header->Ysize;
    int width = header->Xsize, height = header->Ysize;
    g_object_unref(header);
    if (pixels > o->max_pixels)
        return refuse(reason, reason_size, "header declares %dx%d pixels, above the limit of %llu", width, height,
                      (unsigned long long)o->max_pixels);

    VipsImage *thumb = NULL;
    int rc = vips_thumbnail_buffer((void *)data, size, &thumb, AN_IMAGE_SIZE, "height", AN_IMAGE_SIZE, "size",
                                   o->resize == PREP_RESIZE_SQUASH ? VIPS_SIZE_FORCE : VIPS_SIZE_BOTH, "crop",
                                   o->resize == PREP_RESIZE_SQUASH ? VIPS_INTERESTING_NONE : VIPS_INTERESTING_CENTRE,
                                   "no_rotate", TRUE, "fail_on", VIPS_FAIL_ON_TRUNCATED,
                                   "option_string", "fail_on=truncated", NULL);
    if (rc) return refuse_vips(reason, reason_size, "cannot decode");
    an_status st = finish(thumb, out, reason, reason_size);
    g_object_unref(thumb);
    return st;
}

an_status prep_decode_file(const char *path, const prep_decode_options *o, uint8_t *out, char *reason,
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
    st = prep_decode_buffer(data, size, o, out, reason, reason_size);
done:
    free(data);
    close(fd);
    return st;
}

an_status prep_decode_gray(const uint8_t *pixels /* [rows, cols] */, int rows, int cols,
                           const prep_decode_options *o, uint8_t *out, char *reason, size_t reason_size)
{
    an_status st = prep_upscale_gray(pixels, rows, cols, o->resize == PREP_RESIZE_SQUASH, out);
    if (st != AN_OK) snprintf(reason, reason_size, "%s", error_message());
    return st;
}
