/* test_prep_pipeline.c: alexnet-prep end to end, as a user runs it, on inputs
 * generated here with real libvips and zlib: a folder collection with a
 * bad-input corpus, IDX files (gzip and plain), the ILSVRC2012 layout with a
 * flat validation folder and the devkit ground truth, kill -9 in the middle
 * and a rerun (bitwise identical), --shard-range + merge (bitwise identical),
 * and verify naming a corrupted image. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <vips/vips.h>
#include <zlib.h>

#include <cmocka.h>
#include <jpeglib.h>

#include "dataset.h"
#include "shard_reader.h"

static char work[256];
static char prep_bin[1024];
static char manifests[1024];

/* WORK/<formatted name>. Each call gets its own buffer (a test makes far fewer than 256 paths). */
static const char *at(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *at(const char *fmt, ...)
{
    static char buffers[256][1024];
    static int next;
    char *b = buffers[next++ % 256];
    int n = snprintf(b, 1024, "%s/", work);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b + n, (size_t)(1024 - n), fmt, ap);
    va_end(ap);
    return b;
}

/* Runs a shell command; returns its exit status. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = calloc((size_t)n + 1, 1);
    if (fread(data, 1, (size_t)n, f) != (size_t)n) n = 0;
    fclose(f);
    return data;
}

/* XORs the byte at offset `where` of the file with mask. */
static void flip_byte(const char *path, long where, int mask)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, where, SEEK_SET), 0);
    int byte = fgetc(f);
    assert_int_not_equal(byte, EOF);
    assert_int_equal(fseek(f, where, SEEK_SET), 0);
    fputc(byte ^ mask, f);
    assert_int_equal(fclose(f), 0);
}

static void make_dirs(const char *path)
{
    assert_int_equal(run("mkdir -p '%s'", path), 0);
}

/* A JPEG of a solid colour with a little noise so it is not trivial. */
static void write_photo(const char *path, int width, int height, int r, int g, int b)
{
    VipsImage *noise = NULL, *colour = NULL, *sum = NULL, *out = NULL;
    double add[3] = {r, g, b}, mul[3] = {1, 1, 1};
    assert_int_equal(vips_gaussnoise(&noise, width, height, "sigma", 10.0, "mean", 0.0, NULL), 0);
    VipsImage *bands = NULL;
    assert_int_equal(vips_bandjoin_const1(noise, &bands, 0.0, NULL), 0);
    VipsImage *three = NULL;
    assert_int_equal(vips_bandjoin_const1(bands, &three, 0.0, NULL), 0);
    assert_int_equal(vips_linear(three, &colour, mul, add, 3, NULL), 0);
    assert_int_equal(vips_cast(colour, &sum, VIPS_FORMAT_UCHAR, NULL), 0);
    assert_int_equal(vips_copy(sum, &out, "interpretation", VIPS_INTERPRETATION_sRGB, NULL), 0);
    char target[1100];
    snprintf(target, sizeof target, "%s[Q=90]", path);
    if (vips_image_write_to_file(out, target, NULL)) fail_msg("writing %s: %s", path, vips_error_buffer());
    g_object_unref(noise); g_object_unref(bands); g_object_unref(three);
    g_object_unref(colour); g_object_unref(sum); g_object_unref(out);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* DIR/train/{a,b,c}, DIR/val/{a,b,c}, with bad files in train/a. */
static void make_folder_collection(const char *root)
{
    const int colours[3][3] = {{200, 40, 40}, {40, 200, 40}, {40, 40, 200}};
    const char *classes[3] = {"a", "b", "c"};
    char path[1100];
    for (int c = 0; c < 3; c++) {
        snprintf(path, sizeof path, "%s/train/%s", root, classes[c]);
        make_dirs(path);
        snprintf(path, sizeof path, "%s/val/%s", root, classes[c]);
        make_dirs(path);
        for (int i = 0; i < 4; i++) {
            snprintf(path, sizeof path, "%s/train/%s/img%d.JPEG", root, classes[c], i);
            write_photo(path, 300 + 37 * i, 200 + 11 * c, colours[c][0], colours[c][1], colours[c][2]);
        }
        for (int i = 0; i < 2; i++) {
            snprintf(path, sizeof path, "%s/val/%s/v%d.JPEG", root, classes[c], i);
            write_photo(path, IMAGE_STORED_SIZE, 333, colours[c][0], colours[c][1], colours[c][2]);
        }
    }
    snprintf(path, sizeof path, "%s/train/a/empty.JPEG", root);
    write_text(path, "");
    snprintf(path, sizeof path, "%s/train/a/text.JPEG", root);
    write_text(path, "hello\n");
    snprintf(path, sizeof path, "%s/train/a/picture.svg.JPEG", root);
    write_text(path, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"9\" height=\"9\"/>\n");
    snprintf(path, sizeof path, "%s/train/a/.hidden.JPEG", root);
    write_text(path, "x");
    snprintf(path, sizeof path, "%s/train/a/notes.txt", root);
    write_text(path, "not an image");
    snprintf(path, sizeof path, "%s/train/b/caf\xe9.JPEG", root); /* a non-UTF-8 name, a good image */
    write_photo(path, 280, 280, 40, 200, 40);
}

static void test_folder_collection(void **state)
{
    (void)state;
    const char *root = at("folder-in");
    make_folder_collection(root);
    const char *out = at("folder-out");
    int rc = run("'%s' --source folder --input '%s' --output '%s' --shard-size 3 --jobs 2 --max-bad 3 --quiet",
                 prep_bin, root, out);
    assert_int_equal(rc, 0);

    dataset *d = NULL;
    assert_int_equal(dataset_open(&d, out), AN_OK);
    assert_int_equal(d->num_classes, 3);
    assert_string_equal(d->class_ids[1], "b");
    assert_int_equal(d->train.num_images, 13);
    assert_int_equal(d->val.num_images, 6);
    assert_int_equal(d->train.class_counts[0], 4);
    assert_int_equal(d->train.class_counts[1], 5);
    assert_int_equal(d->val.class_counts[2], 2);
    assert_int_equal(d->train.num_shards, 6); /* 16 listed images / 3 */
    assert_int_equal(d->train.id_count, 16);   /* ids of the 3 refused inputs stay unused */
    assert_int_equal(d->val.id_count, 6);
    /* The mean colour: a third of the images are mostly red, green and blue each (b has 5). */
    assert_true(d->rgb_mean[1] > d->rgb_mean[0]);

    /* Every image carries the label of its folder, and the non-UTF-8 name is stored escaped. */
    int found_escaped = 0;
    uint8_t *image = malloc(IMAGE_STORED_BYTES); /* [256,256,3] */
    for (int s = 0; s < d->train.num_shards; s++) {
        shard_reader *r = NULL;
        assert_int_equal(shard_reader_open(&r, d->train.shard_paths[s]), AN_OK);
        for (size_t i = 0; i < r->count; i++) {
            char expect[16];
            snprintf(expect, sizeof expect, "train/%c/", 'a' + r->labels[i]);
            assert_memory_equal(r->paths[i], expect, 8);
            if (strcmp(r->paths[i], "train/b/caf\\xe9.JPEG") == 0) found_escaped = 1;
            assert_int_equal(shard_reader_read_image(r, i, image), AN_OK);
            /* The dominant channel of the centre pixel is the class colour. */
            enum { S = IMAGE_STORED_SIZE };
            const uint8_t *p = image + ((size_t)(S / 2) * S + S / 2) * 3;
            int dominant = p[0] > p[1] && p[0] > p[2] ? 0 : p[1] > p[2] ? 1 : 2;
            assert_int_equal(dominant, r->labels[i]);
        }
        shard_reader_close(r);
    }
    free(image);
    assert_true(found_escaped);
    dataset_close(d);

    char *bad = slurp(at("folder-out/bad-files.tsv"));
    assert_non_null(bad);
    assert_non_null(strstr(bad, "train\ttrain/a/empty.JPEG\tempty file"));
    assert_non_null(strstr(bad, "train\ttrain/a/text.JPEG\tnot a recognised image format"));
    assert_non_null(strstr(bad, "train/a/picture.svg.JPEG"));
    free(bad);
    char *json = slurp(at("folder-out/dataset.json"));
    assert_non_null(strstr(json, "\"skipped\": 2"));
    assert_non_null(strstr(json, "\"refused\": 3"));
    free(json);

    assert_int_equal(run("'%s' verify '%s' > /dev/null", prep_bin, out), 0);
    assert_int_equal(run("'%s' info '%s' > '%s'", prep_bin, out, at("info.txt")), 0);

    /* Too many refusals: exit 1 with a message naming --max-bad. */
    rc = run("'%s' --source folder --input '%s' --output '%s' --max-bad 2 --quiet 2> '%s'", prep_bin, root,
             at("strict-out"), at("strict.err"));
    assert_int_equal(rc, 1);
    char *err = slurp(at("strict.err"));
    assert_non_null(strstr(err, "--max-bad"));
    free(err);

    /* A flipped byte in a shard: verify fails and names the shard and the image. */
    shard_reader *r = NULL;
    char shard[1100];
    snprintf(shard, sizeof shard, "%s/train-00002-of-00006.h5", out);
    assert_int_equal(shard_reader_open(&r, shard), AN_OK);
    assert_true(r->count >= 2);
    long where = (long)(r->images_offset + IMAGE_STORED_BYTES + 999);
    shard_reader_close(r);
    flip_byte(shard, where, 0xff);
    assert_int_equal(run("'%s' verify '%s' > /dev/null 2> '%s'", prep_bin, out, at("verify.err")), 1);
    err = slurp(at("verify.err"));
    assert_non_null(strstr(err, "train-00002-of-00006.h5"));
    assert_non_null(strstr(err, "image 1 "));
    free(err);
    /* A rerun finds the damaged shard, redoes it, and keeps the others. */
    assert_int_equal(run("'%s' --source folder --input '%s' --output '%s' --shard-size 3 --max-bad 3 --quiet",
                         prep_bin, root, out), 0);
    assert_int_equal(run("'%s' verify '%s' > /dev/null", prep_bin, out), 0);
}

static void test_manifest_source(void **state)
{
    (void)state;
    const char *root = at("manifest-in");
    char path[1100];
    snprintf(path, sizeof path, "%s/pics", root);
    make_dirs(path);
    const char *names[4] = {"x.jpg", "y.jpg", "z.jpg", "w.jpg"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/pics/%s", root, names[i]);
        write_photo(path, 200 + 50 * i, 300, i % 2 ? 40 : 220, 60, i % 2 ? 220 : 40);
    }
    write_text(at("manifest-in/list.tsv"), "# path, class, split\npics/x.jpg\twarm\npics/y.jpg\tcool\n"
                                           "pics/z.jpg\twarm\ttrain\npics/w.jpg\tcool\tval\n");
    write_text(at("manifest-in/classes.txt"), "warm Warm colours\ncool Cool colours\n");
    const char *out = at("manifest-out");
    assert_int_equal(run("'%s' --source manifest --input '%s' --classes '%s' --output '%s' --quiet", prep_bin,
                         at("manifest-in/list.tsv"), at("manifest-in/classes.txt"), out), 0);
    dataset *d = NULL;
    assert_int_equal(dataset_open(&d, out), AN_OK);
    assert_int_equal(d->num_classes, 2);
    assert_string_equal(d->class_names[1], "Cool colours");
    assert_int_equal(d->train.num_images, 3);
    assert_int_equal(d->train.class_counts[0], 2);
    assert_int_equal(d->val.num_images, 1);
    assert_int_equal(d->val.class_counts[1], 1);
    dataset_close(d);
    /* A class that is not in the class list is an error naming the line. */
    write_text(at("manifest-in/bad.tsv"), "pics/x.jpg\thot\n");
    assert_int_equal(run("'%s' --source manifest --input '%s' --classes '%s' --output '%s' 2> '%s'", prep_bin,
                         at("manifest-in/bad.tsv"), at("manifest-in/classes.txt"), at("manifest-bad"),
                         at("manifest.err")), 1);
    char *err = slurp(at("manifest.err"));
    assert_non_null(strstr(err, "bad.tsv:1"));
    free(err);
    /* A line too long to be read whole (a binary file given as the manifest,
     * say) is an error naming the line, not two lines cut at the buffer. */
    FILE *f = fopen(at("manifest-in/long.tsv"), "w");
    assert_non_null(f);
    fprintf(f, "pics/x.jpg\twarm\n");
    for (int i = 0; i < 9000; i++) fputc('a', f);
    fprintf(f, "\twarm\n");
    assert_int_equal(fclose(f), 0);
    assert_int_equal(run("'%s' --source manifest --input '%s' --classes '%s' --output '%s' 2> '%s'", prep_bin,
                         at("manifest-in/long.tsv"), at("manifest-in/classes.txt"), at("manifest-long"),
                         at("manifest.err")), 1);
    err = slurp(at("manifest.err"));
    assert_non_null(strstr(err, "long.tsv:2: the line is longer than"));
    free(err);
}

static void test_class_mismatch_is_an_error(void **state)
{
    (void)state;
    const char *root = at("mismatch-in");
    char path[1100];
    snprintf(path, sizeof path, "%s/train/a", root);
    make_dirs(path);
    snprintf(path, sizeof path, "%s/train/a/x.jpg", root);
    write_photo(path, 64, 64, 10, 20, 30);
    snprintf(path, sizeof path, "%s/val/zebra", root);
    make_dirs(path);
    assert_int_equal(run("'%s' --source folder --input '%s' --output '%s' 2> '%s'", prep_bin, root,
                         at("mismatch-out"), at("mismatch.err")), 1);
    char *err = slurp(at("mismatch.err"));
    assert_non_null(strstr(err, "zebra"));
    free(err);
}

/* Memory running out while an image decodes stops the run with a message
 * (exit 1, no dataset.json, nothing recorded as a refused image) instead of
 * refusing the image; a rerun with memory finishes. The failure is real: the
 * real alexnet-prep with fail_malloc.c preloaded, whose malloc fails for the
 * size of one decoded 500x275 JPEG (500 * 275 * 3 bytes). */
static void test_out_of_memory_stops(void **state)
{
    (void)state;
#ifndef ALEXNET_FAIL_MALLOC_LIB
    skip(); /* sanitizer builds: no LD_PRELOAD */
#else
    const char *root = at("oom-in");
    char path[1100];
    for (int c = 0; c < 2; c++) {
        snprintf(path, sizeof path, "%s/train/%c", root, 'a' + c);
        make_dirs(path);
        for (int i = 0; i < 2; i++) {
            snprintf(path, sizeof path, "%s/train/%c/%d.JPEG", root, 'a' + c, i);
            write_photo(path, i ? 500 : 320, 375 - 100 * i, 90, 90 + 80 * c, 90);
        }
        snprintf(path, sizeof path, "%s/val/%c", root, 'a' + c);
        make_dirs(path);
        snprintf(path, sizeof path, "%s/val/%c/v.JPEG", root, 'a' + c);
        write_photo(path, 300, 300, 90, 90 + 80 * c, 90);
    }
    /* the 500x275 images decode to 500 * 275 * 3 bytes */
    assert_int_equal(run("ALEXNET_FAIL_MALLOC_BYTES=%d LD_PRELOAD='%s' '%s' --source folder --input '%s' "
                         "--output '%s' --jobs 1 --quiet 2> '%s'",
                         500 * 275 * 3, ALEXNET_FAIL_MALLOC_LIB, prep_bin, root, at("oom-out"), at("oom.err")),
                     1);
    char *err = slurp(at("oom.err"));
    assert_non_null(err);
    if (!strstr(err, "out of memory") || !strstr(err, "fewer --jobs"))
        fail_msg("expected an out-of-memory message, got: %s", err);
    free(err);
    assert_int_not_equal(access(at("oom-out/dataset.json"), F_OK), 0);
    assert_int_equal(run("'%s' --source folder --input '%s' --output '%s' --jobs 1 --quiet", prep_bin, root,
                         at("oom-out")),
                     0);
    assert_int_equal(access(at("oom-out/dataset.json"), F_OK), 0);
    char *json = slurp(at("oom-out/dataset.json"));
    assert_non_null(json);
    assert_non_null(strstr(json, "\"refused\": 0"));
    free(json);
#endif
}

/* IDX files of `count` 8x8 images: image i is filled with value i % 251, label i % 10. */
static void write_idx(const char *dir, const char *prefix, int count, int gz)
{
    char path[1100];
    uint8_t header[16] = {0, 0, 8, 3};
    uint32_t dims[3] = {(uint32_t)count, 8, 8};
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 4; k++) header[4 + 4 * i + k] = (uint8_t)(dims[i] >> (24 - 8 * k));
    uint8_t *pixels = malloc((size_t)count * 64), *labels = malloc((size_t)count);
    for (int i = 0; i < count; i++) {
        memset(pixels + (size_t)i * 64, i % 251, 64);
        labels[i] = (uint8_t)(i % 10);
    }
    uint8_t lheader[8] = {0, 0, 8, 1};
    for (int k = 0; k < 4; k++) lheader[4 + k] = (uint8_t)((uint32_t)count >> (24 - 8 * k));
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte%s", dir, prefix, gz ? ".gz" : "");
    gzFile f = gzopen(path, gz ? "wb" : "wbT");
    gzwrite(f, header, 16);
    gzwrite(f, pixels, (unsigned)count * 64);
    gzclose(f);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte%s", dir, prefix, gz ? ".gz" : "");
    f = gzopen(path, gz ? "wb" : "wbT");
    gzwrite(f, lheader, 8);
    gzwrite(f, labels, (unsigned)count);
    gzclose(f);
    free(pixels);
    free(labels);
}

static int count_shards(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "train-", 6) == 0 && strstr(e->d_name, ".h5") && e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void assert_same_files(const char *a, const char *b)
{
    const char *names = "dataset.h5 dataset.json bad-files.tsv prep-plan.h5";
    assert_int_equal(run("cd '%s' && for f in %s train-*.h5 val-*.h5; do cmp -s \"$f\" '%s'/\"$f\" || exit 1; done",
                         a, names, b), 0);
    assert_int_equal(run("[ $(ls '%s' | wc -l) -eq $(ls '%s' | wc -l) ]", a, b), 0);
}

static void test_idx_kill_and_resume(void **state)
{
    (void)state;
    const char *in = at("idx-in");
    make_dirs(in);
    write_idx(in, "train", 700, 1);
    write_idx(in, "t10k", 40, 0);
    const char *args = "--shard-size 10 --jobs 1 --train-limit 600 --quiet";
    const char *ref = at("idx-ref");
    assert_int_equal(run("'%s' --source idx --input '%s' --output '%s' %s", prep_bin, in, ref, args), 0);
    dataset *d = NULL;
    assert_int_equal(dataset_open(&d, ref), AN_OK);
    assert_int_equal(d->train.num_images, 600);
    assert_int_equal(d->val.num_images, 40);
    assert_int_equal(d->train.class_counts[3], 60);
    /* Labels and pixels agree: an IDX image of value v (id = index) upscales to a flat v. */
    shard_reader *r = NULL;
    assert_int_equal(shard_reader_open(&r, d->train.shard_paths[7]), AN_OK);
    uint8_t *image = malloc(IMAGE_STORED_BYTES); /* [256,256,3] */
    for (size_t i = 0; i < r->count; i++) {
        assert_int_equal(shard_reader_read_image(r, i, image), AN_OK);
        uint32_t id = r->image_ids[i]; /* sorted-listing position: the IDX index under the balanced limit */
        assert_int_equal(image[0], image[IMAGE_STORED_BYTES - 1]);
        assert_int_equal(r->labels[i], (int)(id % 10));
        assert_int_equal(image[0] % 251, image[0]);
    }
    free(image);
    shard_reader_close(r);
    dataset_close(d);

    /* kill -9 once a few shards are on disk, then rerun: bitwise the same dataset. */
    const char *out = at("idx-killed");
    pid_t pid = fork();
    if (pid == 0) {
        execl(prep_bin, prep_bin, "--source", "idx", "--input", in, "--output", out, "--shard-size", "10", "--jobs",
              "1", "--train-limit", "600", "--quiet", (char *)NULL);
        _exit(127);
    }
    struct timespec pause = {0, 2000000};
    for (int i = 0; i < 20000 && count_shards(out) < 5; i++) nanosleep(&pause, NULL);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    assert_true(WIFSIGNALED(status));
    assert_int_not_equal(access(at("idx-killed/dataset.json"), F_OK), 0);
    assert_int_equal(run("'%s' --source idx --input '%s' --output '%s' %s", prep_bin, in, out, args), 0);
    assert_same_files(ref, out);

    /* Two shard ranges and a merge: bitwise the same dataset. */
    const char *split = at("idx-ranges");
    assert_int_equal(run("'%s' --source idx --input '%s' --output '%s' %s --shard-range 0:25", prep_bin, in, split,
                         args), 0);
    assert_int_not_equal(access(at("idx-ranges/dataset.h5"), F_OK), 0);
    /* A merge before every range is done: refused, naming the missing range as a --shard-range. */
    assert_int_equal(run("'%s' merge '%s' 2> '%s'", prep_bin, split, at("early-merge.err")), 1);
    char *early = slurp(at("early-merge.err"));
    assert_non_null(strstr(early, "39 of 64 shards are missing: --shard-range 25:64 ("));
    free(early);
    assert_int_not_equal(access(at("idx-ranges/dataset.json"), F_OK), 0);
    assert_int_equal(run("'%s' --source idx --input '%s' --output '%s' %s --shard-range 25:64", prep_bin, in, split,
                         args), 0);
    assert_int_equal(run("'%s' merge '%s' 2> /dev/null", prep_bin, split), 0);
    assert_same_files(ref, split);

    /* Other options into the same directory: refused, the dataset is left alone. */
    assert_int_equal(run("'%s' --source idx --input '%s' --output '%s' --shard-size 7 --quiet 2> /dev/null", prep_bin,
                         in, ref), 1);
    assert_int_equal(run("'%s' verify '%s' > /dev/null", prep_bin, ref), 0);
}

/* One image's stored JPEG stream decoded by libjpeg with its defaults (as Pillow does). */
static void decode_stored_stream(const shard_reader *r, size_t i, uint8_t *out /* [256,256,3] */)
{
    uint8_t *stream = malloc(r->jpeg_lengths[i]);
    assert_non_null(stream);
    assert_int_equal(pread(r->fd, stream, r->jpeg_lengths[i], (off_t)(r->images_offset + r->jpeg_offsets[i])),
                     (ssize_t)r->jpeg_lengths[i]);
    assert_int_equal(crc32(0L, stream, r->jpeg_lengths[i]), r->checksums[i]);
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr err;
    cinfo.err = jpeg_std_error(&err);
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, stream, r->jpeg_lengths[i]);
    assert_int_equal(jpeg_read_header(&cinfo, TRUE), JPEG_HEADER_OK);
    cinfo.out_color_space = JCS_RGB;
    jpeg_start_decompress(&cinfo);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = out + (size_t)cinfo.output_scanline * IMAGE_STORED_SIZE * 3;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo);
    jpeg_destroy_decompress(&cinfo);
    free(stream);
}

/* The JPEG store: every image reads back as a plain decode of its stored
 * stream; the statistics are those of the decoded pixels (not of the pixels
 * before encoding: the raw store's differ); shard ranges and a merge give
 * the same files; a flipped byte is caught; a shard of the other store is
 * refused by verify and merge. */
static void test_jpeg_store(void **state)
{
    (void)state;
    const char *root = at("jpeg-in");
    make_folder_collection(root);
    const char *common = "--shard-size 3 --jobs 2 --max-bad 3 --quiet";
    const char *out = at("jpeg-out"), *raw = at("jpeg-raw");
    assert_int_equal(run("'%s' --source folder --input '%s' --output '%s' %s --store jpeg", prep_bin, root, out,
                         common), 0);
    assert_int_equal(run("'%s' --source folder --input '%s' --output '%s' %s", prep_bin, root, raw, common), 0);
    dataset *d = NULL, *d_raw = NULL;
    assert_int_equal(dataset_open(&d, out), AN_OK);
    assert_int_equal(dataset_open(&d_raw, raw), AN_OK);
    assert_int_equal(d->store, SHARD_STORE_JPEG);
    assert_int_equal(d_raw->store, SHARD_STORE_RAW);
    assert_string_not_equal(d->dataset_id, d_raw->dataset_id);
    assert_int_equal(d->train.num_images, 13);

    shard_stats sums;
    assert_int_equal(shard_stats_init(&sums), AN_OK);
    uint8_t *image = malloc(IMAGE_STORED_BYTES), *want = malloc(IMAGE_STORED_BYTES); /* [256,256,3] */
    uint64_t stored = 0;
    for (int s = 0; s < d->train.num_shards; s++) {
        shard_reader *r = NULL;
        assert_int_equal(shard_reader_open(&r, d->train.shard_paths[s]), AN_OK);
        assert_int_equal(r->store, SHARD_STORE_JPEG);
        assert_int_equal(r->jpeg_quality, 90);
        for (size_t i = 0; i < r->count; i++) {
            decode_stored_stream(r, i, want);
            assert_int_equal(shard_reader_read_image(r, i, image), AN_OK);
            assert_memory_equal(image, want, IMAGE_STORED_BYTES);
            shard_stats_add_image(&sums, image);
        }
        stored += r->stored_bytes;
        shard_reader_close(r);
    }
    assert_true(stored * 6 < (uint64_t)d->train.num_images * IMAGE_STORED_BYTES);
    /* The statistics recomputed from the decoded pixels, with prep's formulas (docs/FORMAT.md §1.2). */
    assert_int_equal(sums.num_images, 13);
    int differs_from_raw = 0;
    for (size_t i = 0; i < IMAGE_STORED_BYTES; i++) {
        assert_true(d->mean_image[i] == (float)(sums.pixel_sum[i] / 13.0));
        differs_from_raw |= d->mean_image[i] != d_raw->mean_image[i];
    }
    assert_true(differs_from_raw);
    const double pixels = 13.0 * IMAGE_STORED_SIZE * IMAGE_STORED_SIZE;
    for (int c = 0; c < 3; c++) {
        assert_true(d->rgb_mean[c] == (double)sums.rgb_sum[c] / pixels);
        for (int k = 0; k < 3; k++) {
            double cov = (double)sums.rgb_outer_sum[c][k] / pixels - d->rgb_mean[c] * d->rgb_mean[k];
            assert_true(d->rgb_covariance[c][k] == cov / (255.0 * 255.0));
        }
    }
    shard_stats_free(&sums);
    free(image);
    free(want);
    dataset_close(d_raw);
    dataset_close(d);

    assert_int_equal(run("'%s' info '%s' > '%s'", prep_bin, out, at("jpeg-info.txt")), 0);
    char *info = slurp(at("jpeg-info.txt"));
    assert_non_null(strstr(info, "store     jpeg (quality 90, 4:2:0)"));
    assert_non_null(strstr(info, "bytes per image; raw:"));
    free(info);
    char *json = slurp(at("jpeg-out/dataset.json"));
    assert_non_null(strstr(json, "\"store\": \"jpeg\""));
    assert_non_null(strstr(json, "store=jpeg jpeg_quality=90 jpeg_subsampling=4:2:0"));
    free(json);

    /* Two shard ranges and a merge: the same files. */
    const char *ranges = at("jpeg-ranges");
    assert_int_equal(run("'%s' --source folder --input '%s' --output '%s' %s --store jpeg --shard-range 0:4",
                         prep_bin, root, ranges, common), 0);
    assert_int_equal(run("'%s' --source folder --input '%s' --output '%s' %s --store jpeg --shard-range 4:8",
                         prep_bin, root, ranges, common), 0);
    assert_int_equal(run("'%s' merge '%s' 2> /dev/null", prep_bin, ranges), 0);
    assert_same_files(out, ranges);

    /* A flipped byte in a stream: verify names the shard and the image. */
    shard_reader *r = NULL;
    char shard[1100], image_name[32];
    snprintf(shard, sizeof shard, "%s/train-00001-of-00006.h5", out);
    assert_int_equal(shard_reader_open(&r, shard), AN_OK);
    assert_true(r->count >= 2);
    const size_t last = r->count - 1;
    long where = (long)(r->images_offset + r->jpeg_offsets[last] + r->jpeg_lengths[last] / 2);
    snprintf(image_name, sizeof image_name, "image %zu ", last);
    shard_reader_close(r);
    flip_byte(shard, where, 0x04);
    assert_int_equal(run("'%s' verify '%s' > /dev/null 2> '%s'", prep_bin, out, at("jpeg-verify.err")), 1);
    char *err = slurp(at("jpeg-verify.err"));
    assert_non_null(strstr(err, "train-00001-of-00006.h5"));
    assert_non_null(strstr(err, image_name));
    free(err);

    /* A raw shard in the JPEG dataset: refused by verify and by merge, naming both stores. */
    assert_int_equal(run("cp '%s/train-00003-of-00006.h5' '%s/'", raw, ranges), 0);
    assert_int_equal(run("'%s' verify '%s' > /dev/null 2> '%s'", prep_bin, ranges, at("mixed.err")), 1);
    err = slurp(at("mixed.err"));
    assert_non_null(strstr(err, "train-00003-of-00006.h5 stores raw images"));
    assert_non_null(strstr(err, "jpeg dataset"));
    free(err);
    assert_int_equal(run("'%s' merge '%s' 2> '%s'", prep_bin, ranges, at("mixed-merge.err")), 1);
    err = slurp(at("mixed-merge.err"));
    assert_non_null(strstr(err, "stores raw images"));
    free(err);
}

static void test_imagenet_devkit_labels(void **state)
{
    (void)state;
    const char *root = at("ilsvrc");
    char path[1100];
    /* Every WNID of the class list needs a train folder (an empty one is fine). */
    assert_int_equal(run("cd '%s' && mkdir -p '%s/train' && cut -d' ' -f1 ilsvrc2012_synset_words.txt | "
                         "(cd '%s/train' && xargs mkdir -p)", manifests, root, root), 0);
    snprintf(path, sizeof path, "%s/train/n01751748/n01751748_1.JPEG", root);
    write_photo(path, 500, 375, 30, 90, 160);
    snprintf(path, sizeof path, "%s/train/n01440764/n01440764_7.JPEG", root);
    write_photo(path, 375, 500, 120, 110, 60);
    snprintf(path, sizeof path, "%s/val", root);
    make_dirs(path);
    snprintf(path, sizeof path, "%s/val/ILSVRC2012_val_00000001.JPEG", root);
    write_photo(path, 500, 333, 30, 90, 160);
    snprintf(path, sizeof path, "%s/val/ILSVRC2012_val_00000002.JPEG", root);
    write_photo(path, 500, 333, 120, 110, 60);
    snprintf(path, sizeof path, "%s/ILSVRC2012_validation_ground_truth.txt", root);
    write_text(path, "490\n449\n");
    const char *out = at("ilsvrc-out");
    assert_int_equal(run("'%s' --source imagenet --input '%s' --output '%s' --classes '%s/ilsvrc2012_synset_words.txt' "
                         "--devkit '%s/ilsvrc2012_devkit_ids.txt' --quiet", prep_bin, root, out, manifests, manifests), 0);
    dataset *d = NULL;
    assert_int_equal(dataset_open(&d, out), AN_OK);
    assert_int_equal(d->num_classes, 1000);
    assert_string_equal(d->class_ids[65], "n01751748");
    assert_string_equal(d->class_names[65], "sea snake");
    assert_int_equal(d->val.num_images, 2);
    assert_int_equal(d->val.class_counts[65], 1);
    assert_int_equal(d->val.class_counts[0], 1);
    shard_reader *r = NULL;
    assert_int_equal(shard_reader_open(&r, d->val.shard_paths[0]), AN_OK);
    for (size_t i = 0; i < r->count; i++) {
        if (strcmp(r->paths[i], "val/ILSVRC2012_val_00000001.JPEG") == 0) assert_int_equal(r->labels[i], 65);
        else assert_int_equal(r->labels[i], 0);
    }
    shard_reader_close(r);
    dataset_close(d);
    /* A ground truth line that is not one id, and a devkit line that is not
     * 'WNID ID name': errors naming the file and the line, not lines skipped. */
    snprintf(path, sizeof path, "%s/ILSVRC2012_validation_ground_truth.txt", root);
    write_text(path, "490\n44x9\n");
    assert_int_equal(run("'%s' --source imagenet --input '%s' --output '%s-2' --classes '%s/ilsvrc2012_synset_words.txt' "
                         "--devkit '%s/ilsvrc2012_devkit_ids.txt' --quiet 2> '%s'", prep_bin, root, out, manifests,
                         manifests, at("ilsvrc.err")), 1);
    char *err = slurp(at("ilsvrc.err"));
    assert_non_null(strstr(err, "ILSVRC2012_validation_ground_truth.txt:2: expected one devkit id"));
    free(err);
    write_text(path, "490\n449\n");
    snprintf(path, sizeof path, "%s/devkit.txt", root);
    write_text(path, "n01440764 449 tench\nn01751748 490 sea_snake\nn01751748\n");
    assert_int_equal(run("'%s' --source imagenet --input '%s' --output '%s-3' --classes '%s/ilsvrc2012_synset_words.txt' "
                         "--devkit '%s' --quiet 2> '%s'", prep_bin, root, out, manifests, path, at("ilsvrc.err")), 1);
    err = slurp(at("ilsvrc.err"));
    assert_non_null(strstr(err, "devkit.txt:3: expected 'WNID ID [name]'"));
    free(err);
}

static int setup(void **state)
{
    (void)state;
    const char *bin = getenv("ALEXNET_BINARY_DIR"), *src = getenv("ALEXNET_SOURCE_DIR");
    if (!bin || !src) return -1;
    snprintf(prep_bin, sizeof prep_bin, "%s/prep/alexnet-prep", bin);
    snprintf(manifests, sizeof manifests, "%s/manifests", src);
    snprintf(work, sizeof work, "/tmp/alexnet-test-pipeline-XXXXXX");
    if (!mkdtemp(work)) return -1;
    return VIPS_INIT("test_prep_pipeline") == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folder_collection),
        cmocka_unit_test(test_manifest_source),
        cmocka_unit_test(test_class_mismatch_is_an_error),
        cmocka_unit_test(test_idx_kill_and_resume),
        cmocka_unit_test(test_jpeg_store),
        cmocka_unit_test(test_imagenet_devkit_labels),
        cmocka_unit_test(test_out_of_memory_stops),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
