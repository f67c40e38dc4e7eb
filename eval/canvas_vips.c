/* canvas_vips.c: the two canvas operations that need libvips: text rendered
 * with Pango (vips_text) and PNG output (vips_pngsave). */
#include "canvas.h"

#include <stdio.h>
#include <unistd.h>

#include <vips/vips.h>

#include "atomic_file.h"
#include "text_buffer.h"

static an_status vips_failure(const char *what)
{
    an_status st = error_set(AN_ERR_VIPS, "%s: %s", what, vips_error_buffer());
    vips_error_clear();
    return st;
}

an_status canvas_text(canvas *c, int x, int y, int max_width, int size, const char *text, rgb8 colour)
{
    an_status st = AN_OK;
    VipsImage *mask = NULL;
    void *pixels = NULL;
    text_buffer markup; /* vips_text takes Pango markup: escape the plain text */
    text_init(&markup);
    text_html(&markup, text);
    if (markup.status != AN_OK) return markup.status;
    char font[64];
    snprintf(font, sizeof font, "DejaVu Sans %d", size);
    if (vips_text(&mask, markup.data ? markup.data : "", "font", font, "width", max_width, "dpi", 72, NULL) != 0) {
        st = vips_failure("rendering text (are fonts installed? fonts-dejavu-core)");
        goto done;
    }
    size_t bytes = 0;
    pixels = vips_image_write_to_memory(mask, &bytes); /* [h, w] uchar */
    if (!pixels) {
        st = vips_failure("reading rendered text");
        goto done;
    }
    canvas_blend_mask(c, x, y, pixels, vips_image_get_width(mask), vips_image_get_height(mask), colour);
done:
    g_free(pixels);
    if (mask) g_object_unref(mask);
    text_free(&markup);
    return st;
}

an_status canvas_save_png(const canvas *c, const char *path)
{
    char tmp_png[ATOMIC_PATH_MAX]; /* vips_pngsave writes PNG whatever the suffix */
    AN_TRY(atomic_temp_name(path, tmp_png, sizeof tmp_png));
    VipsImage *img = vips_image_new_from_memory(c->rgb, (size_t)c->width * c->height * 3, c->width, c->height, 3,
                                                VIPS_FORMAT_UCHAR);
    if (!img) return vips_failure("wrapping a figure for PNG output");
    int failed = vips_pngsave(img, tmp_png, NULL);
    g_object_unref(img);
    if (failed) {
        unlink(tmp_png);
        return error_context(vips_failure("writing PNG"), "%s", path);
    }
    an_status st = atomic_rename_durable(tmp_png, path);
    if (st != AN_OK) unlink(tmp_png);
    return st;
}
