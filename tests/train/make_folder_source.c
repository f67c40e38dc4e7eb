/* make_folder_source.c: writes a tiny folder-source collection for
 * alexnet-prep with one unreadable file per split, so the prepared dataset
 * has a gap in its image ids (prep leaves a refused input's id unused):
 *   make_folder_source ROOT
 * ROOT/train/{a,b}/img{0..3}.png and ROOT/val/{a,b}/v{0,1}.png are smooth
 * colour gradients (real PNGs written with libvips, the same bytes every
 * run); ROOT/train/a/img1x.png and ROOT/val/b/v0x.png are text files named
 * like images, which sort into the middle of their splits. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <vips/vips.h>

/* A width x height RGB gradient whose colour depends on the class and image. */
static int write_gradient(const char *path, int width, int height, int cls, int index)
{
    VipsImage *xy = NULL, *three = NULL, *colour = NULL, *bytes = NULL;
    double mul[3] = { 0.5 + cls, 0.3 + 0.2 * index, 1.0 - 0.4 * cls };
    double add[3] = { 20.0 + 60.0 * cls, 40.0 * index, 90.0 };
    int rc = vips_xyz(&xy, width, height, NULL);
    if (rc == 0) rc = vips_bandjoin_const1(xy, &three, 128.0, NULL);
    if (rc == 0) rc = vips_linear(three, &colour, mul, add, 3, NULL);
    if (rc == 0) rc = vips_cast(colour, &bytes, VIPS_FORMAT_UCHAR, NULL);
    if (rc == 0) rc = vips_image_write_to_file(bytes, path, NULL);
    if (rc != 0) fprintf(stderr, "make_folder_source: writing %s: %s\n", path, vips_error_buffer());
    if (xy) g_object_unref(xy);
    if (three) g_object_unref(three);
    if (colour) g_object_unref(colour);
    if (bytes) g_object_unref(bytes);
    return rc;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    int rc = fputs(text, f) < 0;
    return fclose(f) != 0 || rc;
}

static int make_dir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s ROOT\n", argv[0]);
        return 2;
    }
    if (VIPS_INIT(argv[0])) {
        fprintf(stderr, "make_folder_source: cannot start libvips: %s\n", vips_error_buffer());
        return 1;
    }
    const char *classes[2] = { "a", "b" };
    char path[4200];
    int rc = make_dir(argv[1]);
    for (int split = 0; split < 2 && rc == 0; split++) {
        const char *name = split == 0 ? "train" : "val";
        snprintf(path, sizeof path, "%s/%s", argv[1], name);
        rc |= make_dir(path);
        for (int c = 0; c < 2 && rc == 0; c++) {
            snprintf(path, sizeof path, "%s/%s/%s", argv[1], name, classes[c]);
            rc |= make_dir(path);
            for (int i = 0; i < (split == 0 ? 4 : 2) && rc == 0; i++) {
                snprintf(path, sizeof path, "%s/%s/%s/%s%d.png", argv[1], name, classes[c],
                         split == 0 ? "img" : "v", i);
                rc |= write_gradient(path, 300 + 16 * i, 260 + 8 * c, c, i);
            }
        }
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/train/a/img1x.png", argv[1]);
        rc |= write_text(path, "not an image\n");
        snprintf(path, sizeof path, "%s/val/b/v0x.png", argv[1]);
        rc |= write_text(path, "not an image either\n");
    }
    vips_shutdown();
    return rc == 0 ? 0 : 1;
}
