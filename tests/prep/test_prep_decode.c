/* test_prep_decode.c: per-image decoding with real libvips files: resize
 * geometry (crop and squash, both orientations, odd sizes, upscaling), colour
 * conversions (grayscale, CMYK with and without ICC, 16-bit, RGBA, palette),
 * format detection by content, and the refusal of bad inputs with a reason. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vips/vips.h>

#include <jpeglib.h>

#include <cmocka.h>

#include "image_decode.h"
#include "image_jpeg.h"
#include "image_resample.h"
#include "shard_format.h"

static char dir[256];
static uint8_t out[IMAGE_STORED_BYTES]; /* [256,256,3] */
static char reason[256];
static const image_decode_options crop = {.resize = IMAGE_RESIZE_CROP, .max_pixels = IMAGE_DEFAULT_MAX_PIXELS,
                                         .max_file_bytes = IMAGE_DEFAULT_MAX_FILE_BYTES};
static const image_decode_options squash = {.resize = IMAGE_RESIZE_SQUASH, .max_pixels = IMAGE_DEFAULT_MAX_PIXELS,
                                           .max_file_bytes = IMAGE_DEFAULT_MAX_FILE_BYTES};

static const uint8_t *pixel(int x, int y) { return out + ((size_t)y * IMAGE_STORED_SIZE + (size_t)x) * 3; }

static void assert_pixel_near(int x, int y, int r, int g, int b, int tol)
{
    const uint8_t *p = pixel(x, y);
    if (abs(p[0] - r) > tol || abs(p[1] - g) > tol || abs(p[2] - b) > tol)
        fail_msg("pixel (%d,%d) is (%d,%d,%d), expected (%d,%d,%d) +- %d", x, y, p[0], p[1], p[2], r, g, b, tol);
}

static const char *path_of(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* A width x height sRGB image whose colour at (x, y) is colour_of(x, y). */
static VipsImage *make_image(int width, int height, int bands, void (*colour_of)(int, int, int, int, uint8_t *))
{
    size_t size = (size_t)width * height * bands;
    uint8_t *data = malloc(size);
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) colour_of(x, y, width, height, data + ((size_t)y * width + x) * bands);
    VipsImage *image = vips_image_new_from_memory_copy(data, size, width, height, bands, VIPS_FORMAT_UCHAR);
    free(data);
    assert_non_null(image);
    image->Type = bands >= 3 ? VIPS_INTERPRETATION_sRGB : VIPS_INTERPRETATION_B_W;
    return image;
}

static void thirds_horizontal(int x, int y, int w, int h, uint8_t *p) /* red | green | blue columns */
{
    (void)y; (void)h;
    int third = x * 3 / w;
    p[0] = third == 0 ? 255 : 0;
    p[1] = third == 1 ? 255 : 0;
    p[2] = third == 2 ? 255 : 0;
}

static void thirds_vertical(int x, int y, int w, int h, uint8_t *p) { thirds_horizontal(y, x, h, w, p); }

static void solid_orange(int x, int y, int w, int h, uint8_t *p)
{
    (void)x; (void)y; (void)w; (void)h;
    p[0] = 230; p[1] = 120; p[2] = 40;
}

static void save(VipsImage *image, const char *name, const char *options)
{
    char target[600];
    snprintf(target, sizeof target, "%s%s", path_of(name), options ? options : "");
    if (vips_image_write_to_file(image, target, NULL) != 0) fail_msg("cannot write %s: %s", target, vips_error_buffer());
}

static an_status decode(const char *name, const image_decode_options *o)
{
    memset(out, 0, sizeof out);
    reason[0] = 0;
    return image_decode_file(path_of(name), o, out, reason, sizeof reason);
}

static void test_crop_keeps_the_centre(void **state)
{
    (void)state;
    /* 768x256 landscape: the central third is exactly the 256 columns a crop keeps. */
    VipsImage *wide = make_image(3 * IMAGE_STORED_SIZE, IMAGE_STORED_SIZE, 3, thirds_horizontal);
    save(wide, "wide.png", NULL);
    assert_int_equal(decode("wide.png", &crop), AN_OK);
    for (int y = 0; y < IMAGE_STORED_SIZE; y += 51) {
        assert_pixel_near(3, y, 0, 255, 0, 2);
        assert_pixel_near(128, y, 0, 255, 0, 2);
        assert_pixel_near(252, y, 0, 255, 0, 2);
    }
    assert_int_equal(decode("wide.png", &squash), AN_OK);
    assert_pixel_near(20, 128, 255, 0, 0, 2);
    assert_pixel_near(128, 128, 0, 255, 0, 2);
    assert_pixel_near(235, 128, 0, 0, 255, 2);
    g_object_unref(wide);

    /* The same in portrait, at twice the size (a downscale). */
    VipsImage *tall = make_image(512, 1536, 3, thirds_vertical);
    save(tall, "tall.png", NULL);
    assert_int_equal(decode("tall.png", &crop), AN_OK);
    assert_pixel_near(128, 3, 0, 255, 0, 2);
    assert_pixel_near(128, 252, 0, 255, 0, 2);
    assert_int_equal(decode("tall.png", &squash), AN_OK);
    assert_pixel_near(128, 20, 255, 0, 0, 2);
    assert_pixel_near(128, 235, 0, 0, 255, 2);
    g_object_unref(tall);
}

static void test_odd_sizes_and_upscaling(void **state)
{
    (void)state;
    const int sizes[][2] = {{333, 501}, {501, 333}, {100, 37}, {1, 1}, {500, 33}, {33, 500}, {3000, 2000}, {257, 255}};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        VipsImage *image = make_image(sizes[i][0], sizes[i][1], 3, solid_orange);
        char name[64];
        snprintf(name, sizeof name, "odd-%zu.jpg", i);
        save(image, name, "[Q=95]");
        g_object_unref(image);
        for (int mode = 0; mode < 2; mode++) {
            if (decode(name, mode ? &squash : &crop) != AN_OK) fail_msg("%dx%d: %s", sizes[i][0], sizes[i][1], reason);
            assert_pixel_near(0, 0, 230, 120, 40, 6);
            assert_pixel_near(255, 255, 230, 120, 40, 6);
            assert_pixel_near(128, 77, 230, 120, 40, 6);
        }
    }
}

static void test_colour_conversions(void **state)
{
    (void)state;
    VipsImage *rgb = make_image(300, 200, 3, solid_orange);

    /* Grayscale JPEG: replicated into three equal channels. */
    VipsImage *gray = NULL;
    assert_int_equal(vips_colourspace(rgb, &gray, VIPS_INTERPRETATION_B_W, NULL), 0);
    save(gray, "gray.jpg", "[Q=95]");
    assert_int_equal(decode("gray.jpg", &crop), AN_OK);
    const uint8_t *p = pixel(100, 100);
    assert_int_equal(p[0], p[1]);
    assert_int_equal(p[1], p[2]);
    assert_true(p[0] > 100 && p[0] < 180);
    g_object_unref(gray);

    /* CMYK JPEG with its ICC profile, and the same without one: both back to about the sRGB colour. */
    VipsImage *cmyk = NULL;
    assert_int_equal(vips_colourspace(rgb, &cmyk, VIPS_INTERPRETATION_CMYK, NULL), 0);
    assert_int_equal(cmyk->Bands, 4);
    save(cmyk, "cmyk-icc.jpg", "[Q=95]");
    assert_int_equal(decode("cmyk-icc.jpg", &crop), AN_OK);
    assert_pixel_near(128, 128, 230, 120, 40, 30);
    save(cmyk, "cmyk-plain.jpg", "[Q=95,strip]");
    VipsImage *check = vips_image_new_from_file(path_of("cmyk-plain.jpg"), NULL);
    assert_non_null(check);
    assert_int_equal(check->Bands, 4);
    assert_false(vips_image_get_typeof(check, VIPS_META_ICC_NAME));
    g_object_unref(check);
    assert_int_equal(decode("cmyk-plain.jpg", &crop), AN_OK);
    assert_pixel_near(128, 128, 230, 120, 40, 30);
    g_object_unref(cmyk);

    /* 16-bit PNG: reduced to 8 bits. */
    VipsImage *wide16 = NULL;
    assert_int_equal(vips_colourspace(rgb, &wide16, VIPS_INTERPRETATION_RGB16, NULL), 0);
    assert_int_equal(wide16->BandFmt, VIPS_FORMAT_USHORT);
    save(wide16, "deep.png", NULL);
    assert_int_equal(decode("deep.png", &crop), AN_OK);
    assert_pixel_near(128, 128, 230, 120, 40, 2);
    g_object_unref(wide16);

    /* RGBA PNG: transparent pixels become white, opaque ones keep their colour. */
    VipsImage *alpha = NULL, *rgba = NULL;
    assert_int_equal(vips_black(&alpha, 300, 200, NULL), 0);
    VipsImage *alpha8 = NULL;
    assert_int_equal(vips_cast(alpha, &alpha8, VIPS_FORMAT_UCHAR, NULL), 0);
    assert_int_equal(vips_bandjoin2(rgb, alpha8, &rgba, NULL), 0);
    save(rgba, "clear.png", NULL);
    assert_int_equal(decode("clear.png", &crop), AN_OK);
    assert_pixel_near(128, 128, 255, 255, 255, 0);
    g_object_unref(rgba);
    VipsImage *opaque = NULL, *rgba2 = NULL;
    assert_int_equal(vips_linear1(alpha8, &opaque, 1.0, 255.0, "uchar", TRUE, NULL), 0);
    assert_int_equal(vips_bandjoin2(rgb, opaque, &rgba2, NULL), 0);
    save(rgba2, "opaque.png", NULL);
    assert_int_equal(decode("opaque.png", &crop), AN_OK);
    assert_pixel_near(128, 128, 230, 120, 40, 1);
    g_object_unref(rgba2);
    g_object_unref(opaque);
    g_object_unref(alpha8);
    g_object_unref(alpha);

    /* Palette PNG: expanded. */
    save(rgb, "palette.png", "[palette]");
    assert_int_equal(decode("palette.png", &crop), AN_OK);
    assert_pixel_near(128, 128, 230, 120, 40, 8);
    g_object_unref(rgb);
}

/* path_of() returns a static buffer; this copy lets two paths be used at once. */
static const char *dir_path_copy(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void write_bytes(const char *name, const void *data, size_t n)
{
    FILE *f = fopen(path_of(name), "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void *read_all(const char *name, size_t *n)
{
    FILE *f = fopen(path_of(name), "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    void *data = malloc(*n);
    assert_int_equal(fread(data, 1, *n, f), *n);
    fclose(f);
    return data;
}

static void expect_refused(const char *name, const char *why)
{
    an_status st = decode(name, &crop);
    if (st != AN_ERR_IMAGE) fail_msg("%s: expected a refusal (%s), got %d", name, why, st);
    if (!strstr(reason, why)) fail_msg("%s: reason '%s' does not mention '%s'", name, reason, why);
}

static void test_content_detection_and_refusals(void **state)
{
    (void)state;
    VipsImage *rgb = make_image(320, 240, 3, solid_orange);
    save(rgb, "png-first.png", NULL);
    assert_int_equal(rename(path_of("png-first.png"), dir_path_copy("png-named.JPEG")), 0);
    save(rgb, "real.jpg", "[Q=90]");
    g_object_unref(rgb);
    /* A PNG named .JPEG decodes by content (libvips picks the loader from the bytes). */
    size_t n = 0;
    uint8_t *data = read_all("png-named.JPEG", &n);
    assert_memory_equal(data, "\x89PNG", 4);
    free(data);
    assert_int_equal(decode("png-named.JPEG", &crop), AN_OK);
    assert_pixel_near(128, 128, 230, 120, 40, 1);

    /* Truncated JPEG. */
    data = read_all("real.jpg", &n);
    write_bytes("truncated.JPEG", data, n / 2);
    expect_refused("truncated.JPEG", "decode");

    /* A header that claims 50000x50000: the SOF0 marker's height and width patched. */
    size_t sof = 0;
    for (size_t i = 0; i + 9 < n; i++)
        if (data[i] == 0xFF && (data[i + 1] == 0xC0 || data[i + 1] == 0xC2)) { sof = i; break; }
    assert_true(sof > 0);
    data[sof + 5] = 50000 >> 8; data[sof + 6] = 50000 & 255; /* height */
    data[sof + 7] = 50000 >> 8; data[sof + 8] = 50000 & 255; /* width */
    write_bytes("huge.JPEG", data, n);
    expect_refused("huge.JPEG", "50000x50000");
    free(data);

    write_bytes("empty.JPEG", "", 0);
    expect_refused("empty.JPEG", "empty file");
    const char *text = "this is not an image\n";
    write_bytes("text.JPEG", text, strlen(text));
    expect_refused("text.JPEG", "not a recognised image format");
    const char *svg = "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"300\" "
                      "height=\"200\"><rect width=\"300\" height=\"200\" fill=\"red\"/></svg>\n";
    write_bytes("vector.JPEG", svg, strlen(svg));
    an_status st = decode("vector.JPEG", &crop);
    assert_int_equal(st, AN_ERR_IMAGE);
    assert_true(strstr(reason, "not allowed") || strstr(reason, "not a recognised"));

    /* Unreadable: a missing file, a directory, and (when not root) a file without permission. */
    expect_refused("missing.JPEG", "cannot open");
    assert_int_equal(mkdir(path_of("folder.JPEG"), 0755), 0);
    expect_refused("folder.JPEG", "not a regular file");
    write_bytes("secret.JPEG", text, strlen(text));
    chmod(path_of("secret.JPEG"), 0);
    if (geteuid() != 0) expect_refused("secret.JPEG", "cannot open");

    /* A limit on pixels below a real image's size. */
    image_decode_options small = crop;
    small.max_pixels = 1000;
    assert_int_equal(image_decode_file(path_of("real.jpg"), &small, out, reason, sizeof reason), AN_ERR_IMAGE);
    assert_non_null(strstr(reason, "320x240"));
}

static void test_gray_upscale(void **state)
{
    (void)state;
    uint8_t flat[28 * 28];      /* [28, 28] */
    memset(flat, 77, sizeof flat);
    assert_int_equal(image_resample(flat, 28, 28, 1, 0, out), AN_OK);
    for (size_t i = 0; i < IMAGE_STORED_BYTES; i++) assert_int_equal(out[i], 77);
    /* Left half 0, right half 200: a monotone step centred in the output, channels equal. */
    uint8_t step[28 * 28];
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) step[y * 28 + x] = x < 14 ? 0 : 200;
    assert_int_equal(image_resample(step, 28, 28, 1, 0, out), AN_OK);
    for (int x = 1; x < IMAGE_STORED_SIZE; x++) assert_true(pixel(x, 50)[0] >= pixel(x - 1, 50)[0]);
    assert_int_equal(pixel(0, 9)[0], 0);
    assert_int_equal(pixel(255, 9)[2], 200);
    assert_int_equal(pixel(127, 9)[0] + pixel(128, 9)[0], 200); /* symmetric about the centre */
    assert_int_equal(pixel(100, 7)[1], pixel(100, 7)[0]);
    /* A 10x40 array under crop keeps the middle rows: row 0 of the output maps near source row 15. */
    uint8_t rows[40 * 10];
    for (int y = 0; y < 40; y++)
        for (int x = 0; x < 10; x++) rows[y * 10 + x] = (uint8_t)(y * 5);
    assert_int_equal(image_resample(rows, 40, 10, 1, 0, out), AN_OK);
    assert_true(abs(pixel(5, 0)[0] - 75) <= 3);
    assert_true(abs(pixel(5, 255)[0] - 120) <= 3);
    assert_int_equal(image_resample(rows, 40, 10, 1, 1, out), AN_OK);
    assert_int_equal(pixel(5, 0)[0], 0);
    assert_int_equal(pixel(5, 255)[0], 195);
}

/* Photo-like texture: smooth gradients plus a hashed high-frequency pattern,
 * so that any difference in decoding or filtering shows in the pixels. */
static void texture(int x, int y, int w, int h, uint8_t *p)
{
    uint32_t hash = (uint32_t)x * 2654435761u ^ (uint32_t)y * 2246822519u;
    hash ^= hash >> 15;
    for (int c = 0; c < 3; c++)
        p[c] = (uint8_t)((x * 255 / w + y * 255 / h * (c + 1) / 3 + (int)((hash >> (8 * c)) & 63)) & 255);
}

/* A width x height JPEG of texture() stored as RGB, not YCbCr (libjpeg's
 * jpeg_set_colorspace(JCS_RGB); libvips never writes these, cameras rarely
 * do), into a malloc'd buffer [*size]. */
static uint8_t *rgb_jpeg(int width, int height, size_t *size)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    unsigned char *buffer = NULL;
    unsigned long length = 0;
    jpeg_mem_dest(&c, &buffer, &length);
    c.image_width = (JDIMENSION)width;
    c.image_height = (JDIMENSION)height;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_colorspace(&c, JCS_RGB);
    jpeg_set_quality(&c, 92, TRUE);
    jpeg_start_compress(&c, TRUE);
    uint8_t *row = malloc((size_t)width * 3); /* [width, 3] */
    assert_non_null(row);
    while (c.next_scanline < c.image_height) {
        for (int x = 0; x < width; x++) texture(x, (int)c.next_scanline, width, height, row + 3 * x);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    *size = length;
    return buffer;
}

/* The fast JPEG path (image_jpeg.h) gives exactly what libvips gives, at each
 * shrink-on-load step, both orientations, both resize modes, grayscale,
 * progressive and unsubsampled JPEGs, an sRGB profile; what it must leave to
 * libvips (CMYK, another ICC profile, truncated data, too many pixels) it
 * leaves. */
static void test_jpeg_fast_path_matches_libvips(void **state)
{
    (void)state;
    static uint8_t via_vips[IMAGE_STORED_BYTES]; /* [256,256,3] */
    image_decode_options vips_only = crop, vips_only_squash = squash;
    vips_only.libvips_only = vips_only_squash.libvips_only = 1;
    const struct { int w, h, scale; const char *save_options; } cases[] = {
        {500, 375, 8, "[Q=96]"},  {375, 500, 8, "[Q=96]"},        {333, 500, 8, "[Q=90]"},
        {1100, 600, 4, "[Q=96]"}, {1030, 1100, 2, "[Q=96]"},      {2100, 2200, 1, "[Q=85]"},
        {511, 700, 8, "[Q=96]"},  {512, 700, 4, "[Q=96]"},        {200, 150, 8, "[Q=96]"},
        {500, 375, 8, "[Q=96,interlace]"}, {500, 375, 8, "[Q=96,subsample_mode=off]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(image_jpeg_scale(cases[i].w, cases[i].h), cases[i].scale);
        VipsImage *image = make_image(cases[i].w, cases[i].h, 3, texture);
        save(image, "fast.jpg", cases[i].save_options);
        g_object_unref(image);
        size_t n = 0;
        uint8_t *data = read_all("fast.jpg", &n);
        for (int mode = 0; mode < 2; mode++) {
            int handled = 0;
            memset(out, 0, sizeof out);
            assert_int_equal(image_jpeg_decode(data, n, mode ? &squash : &crop, out, &handled), AN_OK);
            if (!handled) fail_msg("%dx%d %s: not taken by the fast path", cases[i].w, cases[i].h, cases[i].save_options);
            assert_int_equal(image_decode_buffer(data, n, mode ? &vips_only_squash : &vips_only, via_vips, reason,
                                                sizeof reason), AN_OK);
            if (memcmp(out, via_vips, sizeof out) != 0)
                fail_msg("%dx%d %s %s: the fast path differs from libvips", cases[i].w, cases[i].h,
                         cases[i].save_options, mode ? "squash" : "crop");
        }
        free(data);
    }

    /* RGB-coded (no YCbCr transform): the same pixels. */
    size_t rgb_size = 0;
    uint8_t *rgb_coded = rgb_jpeg(500, 375, &rgb_size);
    int rgb_handled = 0;
    assert_int_equal(image_jpeg_decode(rgb_coded, rgb_size, &crop, out, &rgb_handled), AN_OK);
    assert_int_equal(rgb_handled, 1);
    assert_int_equal(image_decode_buffer(rgb_coded, rgb_size, &vips_only, via_vips, reason, sizeof reason), AN_OK);
    assert_memory_equal(out, via_vips, sizeof out);
    free(rgb_coded);

    /* Grayscale: replicated the same way. */
    VipsImage *rgb = make_image(400, 300, 3, texture), *gray = NULL;
    assert_int_equal(vips_colourspace(rgb, &gray, VIPS_INTERPRETATION_B_W, NULL), 0);
    save(gray, "fast-gray.jpg", "[Q=95]");
    g_object_unref(gray);
    size_t n = 0;
    uint8_t *data = read_all("fast-gray.jpg", &n);
    int handled = 0;
    assert_int_equal(image_jpeg_decode(data, n, &crop, out, &handled), AN_OK);
    assert_int_equal(handled, 1);
    assert_int_equal(image_decode_buffer(data, n, &vips_only, via_vips, reason, sizeof reason), AN_OK);
    assert_memory_equal(out, via_vips, sizeof out);

    /* Truncated: left to libvips, which refuses it. */
    handled = 1;
    assert_int_equal(image_jpeg_decode(data, n / 2, &crop, out, &handled), AN_OK);
    assert_int_equal(handled, 0);
    assert_int_equal(image_decode_buffer(data, n / 2, &crop, out, reason, sizeof reason), AN_ERR_IMAGE);
    /* Above the pixel limit: left to libvips, which refuses it naming the size. */
    image_decode_options small = crop;
    small.max_pixels = 1000;
    handled = 1;
    assert_int_equal(image_jpeg_decode(data, n, &small, out, &handled), AN_OK);
    assert_int_equal(handled, 0);
    assert_int_equal(image_decode_buffer(data, n, &small, out, reason, sizeof reason), AN_ERR_IMAGE);
    assert_non_null(strstr(reason, "400x300"));
    free(data);

    /* CMYK, and an sRGB JPEG carrying an ICC profile: libvips converts them. */
    VipsImage *cmyk = NULL;
    assert_int_equal(vips_colourspace(rgb, &cmyk, VIPS_INTERPRETATION_CMYK, NULL), 0);
    save(cmyk, "fast-cmyk.jpg", "[Q=95,strip]");
    g_object_unref(cmyk);
    data = read_all("fast-cmyk.jpg", &n);
    handled = 1;
    assert_int_equal(image_jpeg_decode(data, n, &crop, out, &handled), AN_OK);
    assert_int_equal(handled, 0);
    free(data);
    /* An sRGB profile (libvips' own) is kept as is on both paths: the same
     * bytes; the same profile with Adobe RGB's red primary is imported by
     * libvips, so the fast path must leave it. */
    VipsImage *tagged = NULL;
    assert_int_equal(vips_icc_transform(rgb, &tagged, "srgb", "input_profile", "srgb", "embedded", FALSE,
                                        "depth", 8, NULL), 0);
    save(tagged, "fast-icc.jpg", "[Q=95]");
    data = read_all("fast-icc.jpg", &n);
    handled = 0;
    assert_int_equal(image_jpeg_decode(data, n, &crop, out, &handled), AN_OK);
    if (!handled) fail_msg("a JPEG with an sRGB profile was not taken by the fast path");
    assert_int_equal(image_decode_buffer(data, n, &vips_only, via_vips, reason, sizeof reason), AN_OK);
    assert_memory_equal(out, via_vips, sizeof out);
    free(data);
    const void *srgb_profile = NULL;
    size_t profile_size = 0;
    assert_int_equal(vips_image_get_blob(tagged, VIPS_META_ICC_NAME, &srgb_profile, &profile_size), 0);
    uint8_t *wide = malloc(profile_size);
    assert_non_null(wide);
    memcpy(wide, srgb_profile, profile_size);
    uint32_t tags = (uint32_t)wide[128] << 24 | (uint32_t)wide[129] << 16 | (uint32_t)wide[130] << 8 | wide[131];
    int patched = 0;
    for (uint32_t i = 0; i < tags; i++) {
        uint8_t *entry = wide + 132 + 12 * i;
        if (memcmp(entry, "rXYZ", 4) != 0) continue;
        uint32_t at = (uint32_t)entry[4] << 24 | (uint32_t)entry[5] << 16 | (uint32_t)entry[6] << 8 | entry[7];
        const int32_t x = (int32_t)lround(0.6097 * 65536); /* Adobe RGB (1998) red, X */
        wide[at + 8] = (uint8_t)(x >> 24); wide[at + 9] = (uint8_t)(x >> 16);
        wide[at + 10] = (uint8_t)(x >> 8); wide[at + 11] = (uint8_t)x;
        patched = 1;
    }
    assert_true(patched);
    VipsImage *wide_image = NULL;
    assert_int_equal(vips_copy(rgb, &wide_image, NULL), 0);
    vips_image_set_blob_copy(wide_image, VIPS_META_ICC_NAME, wide, profile_size);
    free(wide);
    save(wide_image, "fast-wide.jpg", "[Q=95]");
    g_object_unref(wide_image);
    g_object_unref(tagged);
    data = read_all("fast-wide.jpg", &n);
    handled = 1;
    assert_int_equal(image_jpeg_decode(data, n, &crop, out, &handled), AN_OK);
    if (handled) fail_msg("a JPEG with a wide-gamut profile was taken by the fast path");
    free(data);
    g_object_unref(rgb);
}

/* Damaged JPEGs (bytes flipped in the headers and in the entropy-coded data,
 * truncations): every one is decoded or refused with a reason, never a
 * crash or another error, through the fast path and the libvips fallback
 * (run under AddressSanitizer in CI, which also checks the fast path's
 * longjmp error handling for leaks and bad frees). */
static void test_damaged_jpegs(void **state)
{
    (void)state;
    VipsImage *image = make_image(500, 375, 3, texture);
    save(image, "damage.jpg", "[Q=90]");
    g_object_unref(image);
    size_t n = 0;
    uint8_t *good = read_all("damage.jpg", &n);
    uint8_t *bad = malloc(n);
    assert_non_null(bad);
    uint32_t lcg = 12345;
    int decoded = 0, refused = 0;
    for (int trial = 0; trial < 150; trial++) {
        memcpy(bad, good, n);
        size_t length = n;
        const int flips = 1 + trial % 4;
        for (int f = 0; f < flips; f++) {
            lcg = lcg * 1664525u + 1013904223u;
            /* half the flips in the first 700 bytes: markers, tables, frame header */
            size_t at = (trial % 2 ? (lcg >> 8) % 700 : (lcg >> 8) % n);
            bad[at] ^= (uint8_t)(1u << ((lcg >> 4) % 8));
        }
        if (trial % 5 == 4) length = 2 + (lcg >> 8) % (n - 2);
        int handled = 0;
        an_status st = image_jpeg_decode(bad, length, &crop, out, &handled);
        assert_int_equal(st, AN_OK);
        assert_true(handled == 0 || handled == 1);
        reason[0] = 0;
        st = image_decode_buffer(bad, length, &crop, out, reason, sizeof reason);
        if (st != AN_OK && st != AN_ERR_IMAGE) fail_msg("trial %d: status %d (%s)", trial, st, error_message());
        if (st == AN_ERR_IMAGE && !reason[0]) fail_msg("trial %d: refused without a reason", trial);
        if (st == AN_OK) decoded++;
        else refused++;
    }
    assert_true(decoded + refused == 150);
    assert_true(refused > 0); /* the truncations at least */
    free(bad);
    free(good);
}

/* image_resample against the filter computed directly in double precision (a
 * triangle of half-width max(1, 1/scale) around each output's centre, edges
 * clamped): within 2 levels, the two 8-bit roundings (after each pass) and the
 * 14-bit weights. Sizes chosen so windows meet both edges. */
static void test_resample_against_direct_filter(void **state)
{
    (void)state;
    const int sizes[][2] = {{500, 375}, {375, 500}, {257, 300}, {1023, 777}, {100, 90}, {2000, 300}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const int w = sizes[i][0], h = sizes[i][1];
        uint8_t *in = malloc((size_t)w * h * 3); /* [h, w, 3] */
        enum { S = IMAGE_STORED_SIZE };
        double *mid = malloc(sizeof(double) * S * (size_t)h * 3); /* [h, 256, 3] after the horizontal pass */
        assert_non_null(in);
        assert_non_null(mid);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) texture(x, y, w, h, in + ((size_t)y * w + x) * 3);
        assert_int_equal(image_resample(in, h, w, 3, 0, out), AN_OK);
        const double s = (double)S / (w < h ? w : h);
        const int ox = ((int)lround(w * s) - S) / 2, oy = ((int)lround(h * s) - S) / 2;
        const double support = s < 1 ? 1 / s : 1;
        int worst = 0;
        for (int pass = 0; pass < 2; pass++)
            for (int line = 0; line < (pass ? S : h); line++)
                for (int o = 0; o < S; o++) {
                    const double centre = (o + (pass ? oy : ox) + 0.5) / s;
                    const int length = pass ? h : w;
                    double acc[3] = {0, 0, 0}, total = 0;
                    const int k0 = (int)floor(centre - support) - 1, k1 = (int)ceil(centre + support) + 1;
                    for (int k = k0 < 0 ? 0 : k0; k < (k1 > length ? length : k1); k++) {
                        double t = fabs((k + 0.5 - centre) / support);
                        if (t >= 1) continue;
                        total += 1 - t;
                        for (int c = 0; c < 3; c++)
                            acc[c] += (1 - t) * (pass ? mid[((size_t)k * S + line) * 3 + c]
                                                      : in[((size_t)line * w + k) * 3 + c]);
                    }
                    for (int c = 0; c < 3; c++) {
                        double v = acc[c] / total;
                        if (!pass) {
                            mid[((size_t)line * S + o) * 3 + c] = v;
                        } else {
                            int d = abs((int)lround(v) - out[((size_t)o * S + line) * 3 + c]);
                            if (d > worst) worst = d;
                        }
                    }
                }
        if (worst > 2) fail_msg("%dx%d: image_resample is %d levels from the direct filter", w, h, worst);
        free(in);
        free(mid);
    }
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/alexnet-test-decode-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    return image_decode_init("test_prep_decode") == AN_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[700];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s'; rm -rf '%s'", dir, dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crop_keeps_the_centre),
        cmocka_unit_test(test_odd_sizes_and_upscaling),
        cmocka_unit_test(test_colour_conversions),
        cmocka_unit_test(test_content_detection_and_refusals),
        cmocka_unit_test(test_gray_upscale),
        cmocka_unit_test(test_jpeg_fast_path_matches_libvips),
        cmocka_unit_test(test_resample_against_direct_filter),
        cmocka_unit_test(test_damaged_jpegs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
