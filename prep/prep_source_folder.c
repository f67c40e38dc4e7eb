/* prep_source_folder.c: class-subfolder collections, the ILSVRC2012 layout
 * (with the devkit's flat validation folder), and TSV manifests. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prep_source.h"

/* Sorted names of a directory's entries, without hidden ones. */
typedef struct name_list { char **names; size_t count; size_t hidden; } name_list;

static void name_list_free(name_list *n)
{
    for (size_t i = 0; i < n->count; i++) free(n->names[i]);
    free(n->names);
    memset(n, 0, sizeof *n);
}

static int compare_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* want_dirs: 1 directories only, 0 everything else. */
static an_status list_dir(const char *dir, int want_dirs, name_list *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) return error_set(AN_ERR_IO, "cannot read directory %s: %s", dir, strerror(errno));
    an_status st = AN_OK;
    size_t cap = 0;
    struct dirent *e;
    char path[8192];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        if (e->d_name[0] == '.') { out->hidden++; continue; }
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat sb;
        int is_dir = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
        if (is_dir != want_dirs) continue;
        if (out->count == cap) {
            cap = cap ? 2 * cap : 256;
            char **grown = realloc(out->names, cap * sizeof *grown);
            if (!grown) { st = error_set(AN_ERR_NOMEM, "out of memory listing %s", dir); break; }
            out->names = grown;
        }
        if (!(out->names[out->count] = strdup(e->d_name))) { st = error_set(AN_ERR_NOMEM, "out of memory"); break; }
        out->count++;
    }
    closedir(d);
    if (st == AN_OK && out->count > 1) qsort(out->names, out->count, sizeof *out->names, compare_names);
    if (st != AN_OK) name_list_free(out);
    return st;
}

static int has_image_extension(const char *name)
{
    static const char *const ext[] = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff"};
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++)
        if (strcasecmp(dot, ext[i]) == 0) return 1;
    return 0;
}

/* Adds the image files of ROOT/REL (one level) with `label`. */
static an_status add_class_dir(prep_item_list *list, const char *root, const char *rel, int32_t label)
{
    char dir[8192], item[8192];
    snprintf(dir, sizeof dir, "%s/%s", root, rel);
    name_list files;
    AN_TRY(list_dir(dir, 0, &files));
    list->skipped += files.hidden;
    an_status st = AN_OK;
    for (size_t i = 0; i < files.count && st == AN_OK; i++) {
        if (!has_image_extension(files.names[i])) { list->skipped++; continue; }
        snprintf(item, sizeof item, "%s/%s", rel, files.names[i]);
        st = prep_listing_add(list, item, label, 0);
    }
    name_list_free(&files);
    return st;
}

static int find_class(const prep_listing *l, const char *id)
{
    int lo = 0, hi = l->num_classes - 1;
    while (lo <= hi) { /* class ids are sorted */
        int mid = (lo + hi) / 2, c = strcmp(l->class_ids[mid], id);
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1; else hi = mid - 1;
    }
    for (int i = 0; i < l->num_classes; i++) /* unsorted class files */
        if (strcmp(l->class_ids[i], id) == 0) return i;
    return -1;
}

/* The class folders of ROOT/SPLIT must be exactly the class list. */
static an_status check_same_classes(const prep_listing *l, const name_list *dirs, const char *where)
{
    for (size_t i = 0; i < dirs->count; i++)
        if (find_class(l, dirs->names[i]) < 0)
            return error_set(AN_ERR_FORMAT, "%s has class folder '%s' that is not in the class list (%d classes); "
                             "every split must have the same classes", where, dirs->names[i], l->num_classes);
    if ((int)dirs->count != l->num_classes) {
        for (int c = 0; c < l->num_classes; c++) {
            int found = 0;
            for (size_t i = 0; i < dirs->count && !found; i++) found = strcmp(dirs->names[i], l->class_ids[c]) == 0;
            if (!found)
                return error_set(AN_ERR_FORMAT, "%s lacks class folder '%s' (class %d); every split must have the "
                                 "same classes (an empty folder is fine)", where, l->class_ids[c], c);
        }
    }
    return AN_OK;
}

static an_status add_split_folders(prep_listing *l, int split, const char *root, const char *sub, const name_list *dirs)
{
    char rel[4096];
    for (size_t i = 0; i < dirs->count; i++) {
        snprintf(rel, sizeof rel, "%s/%s", sub, dirs->names[i]);
        AN_TRY(add_class_dir(&l->split[split], root, rel, find_class(l, dirs->names[i])));
    }
    prep_listing_sort(&l->split[split]);
    return AN_OK;
}

static int is_dir(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

an_status prep_source_folder(prep_listing *l, const char *dir, const char *classes_file)
{
    snprintf(l->source, sizeof l->source, "folder");
    snprintf(l->input_root, sizeof l->input_root, "%s", dir);
    char path[8192];
    name_list dirs[PREP_SPLITS];
    memset(dirs, 0, sizeof dirs);
    an_status st = AN_OK;
    snprintf(path, sizeof path, "%s/train", dir);
    if (!is_dir(path)) return error_set(AN_ERR_IO, "%s is not a directory (a folder source needs DIR/train/<class>/)", path);
    AN_TRY_GOTO(st, list_dir(path, 1, &dirs[PREP_TRAIN]), done);
    if (classes_file) {
        AN_TRY_GOTO(st, prep_listing_read_classes(l, classes_file), done);
    } else {
        if (dirs[PREP_TRAIN].count == 0) {
            st = error_set(AN_ERR_FORMAT, "%s has no class folders", path);
            goto done;
        }
        AN_TRY_GOTO(st, prep_listing_set_classes(l, (int)dirs[PREP_TRAIN].count,
                                                 (const char *const *)dirs[PREP_TRAIN].names,
                                                 (const char *const *)dirs[PREP_TRAIN].names), done);
    }
    AN_TRY_GOTO(st, check_same_classes(l, &dirs[PREP_TRAIN], path), done);
    AN_TRY_GOTO(st, add_split_folders(l, PREP_TRAIN, dir, "train", &dirs[PREP_TRAIN]), done);
    snprintf(path, sizeof path, "%s/val", dir);
    if (is_dir(path)) {
        AN_TRY_GOTO(st, list_dir(path, 1, &dirs[PREP_VAL]), done);
        AN_TRY_GOTO(st, check_same_classes(l, &dirs[PREP_VAL], path), done);
        AN_TRY_GOTO(st, add_split_folders(l, PREP_VAL, dir, "val", &dirs[PREP_VAL]), done);
    }
done:
    name_list_free(&dirs[0]);
    name_list_free(&dirs[1]);
    return st;
}

/* devkit table "WNID ID name": id (1-based) -> class index through the WNID. */
static an_status read_devkit(const prep_listing *l, const char *path, int **out, int *max_id)
{
    FILE *f = fopen(path, "r");
    if (!f) return error_set(AN_ERR_IO, "cannot open devkit id table %s: %s", path, strerror(errno));
    int *map = calloc(100001, sizeof *map); /* [ILSVRC2012_ID] -> class index + 1 */
    if (!map) { fclose(f); return error_set(AN_ERR_NOMEM, "out of memory"); }
    char line[2048], wnid[256];
    int id = 0, line_no = 0, have_line = 1;
    an_status st = AN_OK;
    *max_id = 0;
    while (st == AN_OK) {
        st = prep_read_line(f, line, sizeof line, path, &line_no, &have_line);
        if (st != AN_OK || !have_line) break;
        if (line[strspn(line, " \t")] == '\0') continue; /* a blank line */
        if (sscanf(line, "%255s %d", wnid, &id) != 2) {
            st = error_set(AN_ERR_FORMAT, "%s:%d: expected 'WNID ID [name]', got '%.80s'", path, line_no, line);
            break;
        }
        if (id < 1 || id > 100000) { st = error_set(AN_ERR_FORMAT, "%s:%d: id %d out of range", path, line_no, id); break; }
        int c = find_class(l, wnid);
        if (c >= 0) map[id] = c + 1;
        if (id > *max_id) *max_id = id;
    }
    fclose(f);
    if (st != AN_OK) { free(map); return st; }
    *out = map;
    return AN_OK;
}

/* Flat validation folder: ILSVRC2012_val_NNNNNNNN.JPEG labelled by line NNNNNNNN of the ground truth. */
static an_status add_flat_val(prep_listing *l, const char *dir, const char *devkit_file)
{
    char path[8192], truth_path[8192];
    snprintf(truth_path, sizeof truth_path, "%s/ILSVRC2012_validation_ground_truth.txt", dir);
    if (access(truth_path, R_OK) != 0)
        snprintf(truth_path, sizeof truth_path, "%s/val/ILSVRC2012_validation_ground_truth.txt", dir);
    FILE *f = fopen(truth_path, "r");
    if (!f) return error_set(AN_ERR_IO, "val/ has no class folders and %s cannot be read: %s (a flat ILSVRC2012 "
                             "validation folder needs the devkit's ground truth file)", truth_path, strerror(errno));
    size_t n = 0, cap = 0;
    int *truth = NULL; /* [n] devkit ids, line i+1 = image i+1 */
    char line[64];
    int line_no = 0, have_line = 1;
    an_status st = AN_OK;
    while (st == AN_OK) {
        st = prep_read_line(f, line, sizeof line, truth_path, &line_no, &have_line);
        if (st != AN_OK || !have_line) break;
        char *end;
        errno = 0;
        long id = strtol(line, &end, 10);
        end += strspn(end, " \t");
        if (end == line || *end != '\0' || errno || id < 1 || id > 100000) {
            st = error_set(AN_ERR_FORMAT, "%s:%d: expected one devkit id (1..100000) a line, got '%.40s'",
                           truth_path, line_no, line);
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 65536;
            int *g = realloc(truth, cap * sizeof *g);
            if (!g) { st = error_set(AN_ERR_NOMEM, "out of memory"); break; }
            truth = g;
        }
        truth[n++] = (int)id;
    }
    fclose(f);
    int *map = NULL, max_id = 0;
    name_list files;
    memset(&files, 0, sizeof files);
    if (st == AN_OK) st = read_devkit(l, devkit_file, &map, &max_id);
    snprintf(path, sizeof path, "%s/val", dir);
    if (st == AN_OK) st = list_dir(path, 0, &files);
    prep_item_list *list = &l->split[PREP_VAL];
    list->skipped += files.hidden;
    for (size_t i = 0; i < files.count && st == AN_OK; i++) {
        unsigned number = 0;
        char tail[16];
        if (sscanf(files.names[i], "ILSVRC2012_val_%8u.%15s", &number, tail) != 2 || !has_image_extension(files.names[i])) {
            list->skipped++;
            continue;
        }
        if (number < 1 || number > n) {
            st = error_set(AN_ERR_FORMAT, "%s: no line %u in %s (%zu lines)", files.names[i], number, truth_path, n);
            break;
        }
        int devkit_id = truth[number - 1];
        if (devkit_id < 1 || devkit_id > max_id || map[devkit_id] == 0) {
            st = error_set(AN_ERR_FORMAT, "%s: devkit id %d (line %u of %s) is not a class of the class list",
                           files.names[i], devkit_id, number, truth_path);
            break;
        }
        char rel[4096];
        snprintf(rel, sizeof rel, "val/%s", files.names[i]);
        st = prep_listing_add(list, rel, map[devkit_id] - 1, 0);
    }
    prep_listing_sort(list);
    name_list_free(&files);
    free(map);
    free(truth);
    return st;
}

an_status prep_source_imagenet(prep_listing *l, const char *dir, const char *classes_file, const char *devkit_file)
{
    snprintf(l->source, sizeof l->source, "imagenet");
    snprintf(l->input_root, sizeof l->input_root, "%s", dir);
    AN_TRY(prep_listing_read_classes(l, classes_file));
    char path[8192];
    name_list dirs;
    an_status st = AN_OK;
    snprintf(path, sizeof path, "%s/train", dir);
    if (!is_dir(path)) return error_set(AN_ERR_IO, "%s is not a directory (ILSVRC2012 needs DIR/train/<wnid>/)", path);
    AN_TRY(list_dir(path, 1, &dirs));
    st = check_same_classes(l, &dirs, path);
    if (st == AN_OK) st = add_split_folders(l, PREP_TRAIN, dir, "train", &dirs);
    name_list_free(&dirs);
    AN_TRY(st);
    snprintf(path, sizeof path, "%s/val", dir);
    if (!is_dir(path)) return AN_OK;
    AN_TRY(list_dir(path, 1, &dirs));
    if (dirs.count > 0) {
        st = check_same_classes(l, &dirs, path);
        if (st == AN_OK) st = add_split_folders(l, PREP_VAL, dir, "val", &dirs);
    } else {
        st = add_flat_val(l, dir, devkit_file);
    }
    name_list_free(&dirs);
    return st;
}

an_status prep_source_manifest(prep_listing *l, const char *manifest, const char *classes_file)
{
    snprintf(l->source, sizeof l->source, "manifest");
    char root[4096];
    snprintf(root, sizeof root, "%s", manifest);
    char *slash = strrchr(root, '/');
    if (slash) *slash = 0; else snprintf(root, sizeof root, ".");
    snprintf(l->input_root, sizeof l->input_root, "%s", root);
    if (!classes_file) return error_set(AN_ERR_ARG, "--source manifest needs --classes FILE (one 'id [words]' per line)");
    AN_TRY(prep_listing_read_classes(l, classes_file));
    FILE *f = fopen(manifest, "r");
    if (!f) return error_set(AN_ERR_IO, "cannot open manifest %s: %s", manifest, strerror(errno));
    char line[8192];
    int line_no = 0, have_line = 1;
    an_status st = AN_OK;
    while (st == AN_OK) {
        st = prep_read_line(f, line, sizeof line, manifest, &line_no, &have_line);
        if (st != AN_OK || !have_line) break;
        if (!line[0] || line[0] == '#') continue;
        char *cls = strchr(line, '\t');
        if (!cls) { st = error_set(AN_ERR_FORMAT, "%s:%d: expected 'path<TAB>class[<TAB>split]'", manifest, line_no); break; }
        *cls++ = 0;
        char *split_name = strchr(cls, '\t');
        int split = PREP_TRAIN;
        if (split_name) {
            *split_name++ = 0;
            if (strcmp(split_name, "val") == 0) split = PREP_VAL;
            else if (strcmp(split_name, "train") != 0) {
                st = error_set(AN_ERR_FORMAT, "%s:%d: split '%s' is neither train nor val", manifest, line_no, split_name);
                break;
            }
        }
        int c = find_class(l, cls);
        if (c < 0) { st = error_set(AN_ERR_FORMAT, "%s:%d: class '%s' is not in %s", manifest, line_no, cls, classes_file); break; }
        st = prep_listing_add(&l->split[split], line, c, 0);
    }
    fclose(f);
    prep_listing_sort(&l->split[PREP_TRAIN]);
    prep_listing_sort(&l->split[PREP_VAL]);
    return st;
}
