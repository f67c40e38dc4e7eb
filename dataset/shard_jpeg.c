/* shard_jpeg.c: the JPEG store's encoder and decoder, libjpeg-turbo with
 * fixed settings (shard_jpeg.h). */
#include "shard_jpeg.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

#include "image_geometry.h"

/* libjpeg's errors jump back to the caller with libjpeg's message; its
 * warnings (corrupt data, a premature end) are kept as the first message. */
typedef struct jpeg_trap {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    int warnings;
    char message[JMSG_LENGTH_MAX];
} jpeg_trap;

static void trap_error_exit(j_common_ptr cinfo)
{
    jpeg_trap *t = (jpeg_trap *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, t->message);
    longjmp(t->jump, 1);
}

static void trap_emit_message(j_common_ptr cinfo, int level)
{
    jpeg_trap *t = (jpeg_trap *)cinfo->err;
    if (level >= 0) return; /* trace messages */
    if (t->warnings++ == 0) (*cinfo->err->format_message)(cinfo, t->message);
}

static void trap_output_message(j_common_ptr cinfo)
{
    (void)cinfo; /* never printed: the message goes into the an_status */
}

static void trap_init(jpeg_trap *t, struct jpeg_error_mgr **err)
{
    *err = jpeg_std_error(&t->mgr);
    t->mgr.error_exit = trap_error_exit;
    t->mgr.emit_message = trap_emit_message;
    t->mgr.output_message = trap_output_message;
    t->warnings = 0;
    t->message[0] = 0;
}

const char *shard_jpeg_subsampling_name(shard_jpeg_subsampling s)
{
    return s == SHARD_JPEG_444 ? "4:4:4" : "4:2:0";
}

an_status shard_jpeg_encode(const uint8_t *image /* [256,256,3] */, int quality, shard_jpeg_subsampling subsampling,
                            uint8_t **out, size_t *size)
{
    *out = NULL;
    *size = 0;
    if (quality < 1 || quality > 100) return error_set(AN_ERR_ARG, "JPEG quality %d is not in 1..100", quality);
    struct jpeg_compress_struct cinfo;
    jpeg_trap trap;
    unsigned char *buffer = NULL; /* grown by libjpeg's memory destination */
    unsigned long length = 0;
    cinfo.err = NULL;
    trap_init(&trap, &cinfo.err);
    if (setjmp(trap.jump)) {
        jpeg_destroy_compress(&cinfo);
        free(buffer);
        return error_set(AN_ERR_INTERNAL, "encoding a JPEG: %s", trap.message);
    }
    jpeg_create_compress(&cinfo);
    jpeg_mem_dest(&cinfo, &buffer, &length);
    cinfo.image_width = IMAGE_STORED_SIZE;
    cinfo.image_height = IMAGE_STORED_SIZE;
    cinfo.input_components = IMAGE_CHANNELS;
    cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&cinfo); /* YCbCr, 4:2:0, baseline */
    jpeg_set_quality(&cinfo, quality, TRUE);
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.optimize_coding = TRUE;
    if (subsampling == SHARD_JPEG_444) cinfo.comp_info[0].h_samp_factor = cinfo.comp_info[0].v_samp_factor = 1;
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(image + (size_t)cinfo.next_scanline * IMAGE_STORED_SIZE * IMAGE_CHANNELS);
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = buffer;
    *size = length;
    return AN_OK;
}

an_status shard_jpeg_decode_rows(const uint8_t *data, size_t size, uint8_t *out /* [256,256,3] */, int row_begin,
                                 int row_end)
{
    if (row_begin < 0 || row_end > IMAGE_STORED_SIZE || row_begin >= row_end)
        return error_set(AN_ERR_ARG, "rows [%d, %d) are not inside 0..%d", row_begin, row_end, IMAGE_STORED_SIZE);
    struct jpeg_decompress_struct cinfo;
    jpeg_trap trap;
    cinfo.err = NULL;
    trap_init(&trap, &cinfo.err);
    if (setjmp(trap.jump)) {
        jpeg_destroy_decompress(&cinfo);
        return error_set(AN_ERR_FORMAT, "not a decodable JPEG: %s", trap.message);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    if (cinfo.image_width != IMAGE_STORED_SIZE || cinfo.image_height != IMAGE_STORED_SIZE ||
        cinfo.num_components != IMAGE_CHANNELS) {
        an_status st = error_set(AN_ERR_FORMAT, "the JPEG is %ux%u with %d components, not %dx%d RGB",
                                 cinfo.image_width, cinfo.image_height, cinfo.num_components, IMAGE_STORED_SIZE,
                                 IMAGE_STORED_SIZE);
        jpeg_destroy_decompress(&cinfo);
        return st;
    }
    cinfo.out_color_space = JCS_RGB;
    cinfo.dct_method = JDCT_ISLOW;
    cinfo.do_fancy_upsampling = TRUE;
    jpeg_start_decompress(&cinfo);
    if (row_begin > 0) jpeg_skip_scanlines(&cinfo, (JDIMENSION)row_begin);
    const size_t stride = (size_t)IMAGE_STORED_SIZE * IMAGE_CHANNELS;
    while (cinfo.output_scanline < (JDIMENSION)row_end) {
        JSAMPROW rows[4];
        int n = 0;
        for (; n < 4 && cinfo.output_scanline + (JDIMENSION)n < (JDIMENSION)row_end; n++)
            rows[n] = out + (size_t)(cinfo.output_scanline + (JDIMENSION)n) * stride;
        if (jpeg_read_scanlines(&cinfo, rows, (JDIMENSION)n) == 0) break;
    }
    const int complete = cinfo.output_scanline >= (JDIMENSION)row_end;
    if (complete && row_end == IMAGE_STORED_SIZE) jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo); /* also ends a decode stopped early */
    if (!complete || trap.warnings)
        return error_set(AN_ERR_FORMAT, "corrupt JPEG data: %s", trap.warnings ? trap.message : "it ends early");
    return AN_OK;
}

an_status shard_jpeg_decode(const uint8_t *data, size_t size, uint8_t *out /* [256,256,3] */)
{
    return shard_jpeg_decode_rows(data, size, out, 0, IMAGE_STORED_SIZE);
}
