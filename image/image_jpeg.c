/* image_jpeg.c: plain JPEGs decoded by libjpeg-turbo directly (shrunk on
 * load as libvips would), then resampled to 256x256 (image_jpeg.h). */
#include "image_jpeg.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "image_icc.h"
#include "image_resample.h"
#include "image_geometry.h"

int image_jpeg_scale(int width, int height)
{
    const long shorter = width < height ? width : height;
    for (int m = 1; m < 8; m *= 2)
        if (shorter * m / 8 >= IMAGE_STORED_SIZE) return m;
    return 8;
}

/* libjpeg's errors jump back to image_jpeg_decode; its warnings (corrupt
 * data, a premature end) are counted, and a JPEG with any is left to libvips. */
typedef struct jpeg_guard {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    int warnings;
} jpeg_guard;

static void jpeg_guard_error_exit(j_common_ptr cinfo)
{
    jpeg_guard *g = (jpeg_guard *)cinfo->err;
    longjmp(g->jump, 1);
}

static void jpeg_guard_emit_message(j_common_ptr cinfo, int level)
{
    jpeg_guard *g = (jpeg_guard *)cinfo->err;
    if (level < 0) g->warnings++;
}

static void jpeg_guard_output_message(j_common_ptr cinfo)
{
    (void)cinfo; /* nothing printed: libvips reports the image if it is refused */
}

/* No ICC profile, or an sRGB one (image_icc.h): the pixels are sRGB as they
 * are. Any other profile is for libvips to import. */
static int colours_are_srgb(j_decompress_ptr cinfo)
{
    JOCTET *profile = NULL;
    unsigned int size = 0;
    if (!jpeg_read_icc_profile(cinfo, &profile, &size)) {
        /* none, or a broken one: a broken one is libvips' to judge */
        for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next)
            if (m->marker == JPEG_APP0 + 2 && m->data_length >= 12 &&
                memcmp(m->data, "ICC_PROFILE", 12) == 0)
                return 0;
        return 1;
    }
    const int srgb = image_icc_is_srgb(profile, size);
    free(profile);
    return srgb;
}

an_status image_jpeg_decode(const void *data, size_t size, const image_decode_options *o,
                           uint8_t *out, int *handled)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_guard guard;
    uint8_t *volatile pixels = NULL; /* [rows, cols, 3], set after setjmp */
    volatile an_status st = AN_OK;
    *handled = 0;
    cinfo.err = jpeg_std_error(&guard.mgr);
    guard.mgr.error_exit = jpeg_guard_error_exit;
    guard.mgr.emit_message = jpeg_guard_emit_message;
    guard.mgr.output_message = jpeg_guard_output_message;
    guard.warnings = 0;
    if (setjmp(guard.jump)) { /* a libjpeg error: libvips decides */
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        *handled = 0;
        return AN_OK;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, (const unsigned char *)data, (unsigned long)size);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 2, 0xFFFF);
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) goto leave;
    const J_COLOR_SPACE space = cinfo.jpeg_color_space;
    if ((space != JCS_YCbCr && space != JCS_GRAYSCALE && space != JCS_RGB) ||
        guard.warnings || !colours_are_srgb(&cinfo))
        goto leave;
    if ((uint64_t)cinfo.image_width * cinfo.image_height > o->max_pixels) goto leave;
    cinfo.out_color_space = JCS_RGB; /* grayscale is replicated */
    cinfo.scale_num = (unsigned)image_jpeg_scale((int)cinfo.image_width, (int)cinfo.image_height);
    cinfo.scale_denom = 8;
    cinfo.dct_method = JDCT_ISLOW; /* libvips' and Pillow's choice, the exact one */
    jpeg_calc_output_dimensions(&cinfo);
    const size_t cols = cinfo.output_width, rows = cinfo.output_height;
    if (cinfo.output_components != 3 || (uint64_t)cols * rows > IMAGE_JPEG_MAX_PIXELS) goto leave;
    pixels = malloc(cols * rows * 3);
    if (!pixels) {
        st = error_set(AN_ERR_NOMEM, "out of memory for a %zux%zu decoded JPEG", cols, rows);
        goto leave;
    }
    jpeg_start_decompress(&cinfo);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row[4];
        int n = 0;
        for (; n < 4 && cinfo.output_scanline + (unsigned)n < cinfo.output_height; n++)
            row[n] = pixels + (size_t)(cinfo.output_scanline + (unsigned)n) * cols * 3;
        if (jpeg_read_scanlines(&cinfo, row, (JDIMENSION)n) == 0) break; /* data ran out */
    }
    if (cinfo.output_scanline < cinfo.output_height || guard.warnings) goto leave;
    jpeg_finish_decompress(&cinfo);
    if (guard.warnings) goto leave;
    /* libjpeg rounds a shrunk size up, libvips down (it drops the partial
     * last column and row): keep libvips' size, packing the rows in place. */
    const size_t kept_cols = (size_t)cinfo.image_width * cinfo.scale_num / 8;
    const size_t kept_rows = (size_t)cinfo.image_height * cinfo.scale_num / 8;
    if (kept_cols < 1 || kept_rows < 1) goto leave;
    if (kept_cols < cols)
        for (size_t y = 1; y < kept_rows; y++)
            memmove(pixels + y * kept_cols * 3, pixels + y * cols * 3, kept_cols * 3);
    st = image_resample(pixels, (int)kept_rows, (int)kept_cols, 3, o->resize == IMAGE_RESIZE_SQUASH, out);
    if (st == AN_OK) {
        *handled = 1;
    } else if (st != AN_ERR_NOMEM) { /* e.g. a side too long to resize: libvips' path says so */
        error_clear();
        st = AN_OK;
    }
leave:
    jpeg_destroy_decompress(&cinfo);
    free(pixels);
    return st;
}
