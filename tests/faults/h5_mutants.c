/* h5_mutants.c: byte-level mutation of real HDF5 files, each mutant opened by
 * every reader of its kind in a forked child (docs/RELIABILITY.md, "Hostile
 * bytes inside HDF5"). libhdf5 is not instrumented, so the parent counts what
 * a user would see: a child killed by a signal is a crash, one that outlives
 * its time limit (per reader) is a hang, and a refusal whose message does not name the
 * file is counted too.
 *
 *   h5_mutants --kind KIND --clean FILE --target PATH --data DIR --count N
 *              --seed S [--timeout SECONDS] [--save DIR] [--first I] [--name NAME]
 *
 * KIND: shard (raw or JPEG store), dataset (dataset.h5), plan (prep-plan.h5),
 * checkpoint, or state (a checkpoint, mutated mostly in its trainer_state).
 * FILE is a clean real file of that kind; each mutant is written over PATH,
 * where the readers look for it (a shard or dataset.h5 inside the dataset
 * directory DIR, prep-plan.h5 in a directory of its own, a checkpoint
 * anywhere), and PATH gets FILE's bytes back at the end. Mutant i of seed S
 * is always the same bytes; --save DIR keeps each crashing or hanging mutant
 * as DIR/KIND-S-I.h5; NAME labels the summary line. Exit status 0 when no mutant crashed, hung or was
 * refused without naming its file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <libgen.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "dataset.h"
#include "eval_model.h"
#include "eval_score.h"
#include "h5_error.h"
#include "net.h"
#include "net_cpu.h"
#include "prep_inspect.h"
#include "prep_plan.h"
#include "shard_reader.h"
#include "status.h"
#include "train_state.h"

/* ------------------------------------------------------------ the file's regions */

/* A byte range [begin, end) of the clean file. */
typedef struct range {
    uint64_t begin, end;
} range;

#define MAX_RANGES 4096

typedef struct regions {
    range header[MAX_RANGES]; /* superblock and object headers: HDF5's own structures */
    int headers;
    range bulk[MAX_RANGES];   /* large contiguous dataset contents (pixels, weights, JPEG streams) */
    int bulks;
    range focus[8];           /* the trainer state's header and data (kind state) */
    int focuses;
} regions;

static void add_range(range *list, int *n, int max, uint64_t begin, uint64_t size)
{
    if (*n < max && size > 0) list[(*n)++] = (range){begin, begin + size};
}

/* The object header and, for a contiguous dataset, its data of object `name`. */
static herr_t visit_object(hid_t obj, const char *name, const H5O_info_t *info, void *data)
{
    regions *r = data;
    add_range(r->header, &r->headers, MAX_RANGES, info->addr, info->hdr.space.total);
    int is_state = strcmp(name, "trainer_state") == 0;
    if (is_state) add_range(r->focus, &r->focuses, 8, info->addr, info->hdr.space.total);
    if (info->type != H5O_TYPE_DATASET) return 0;
    hid_t d = H5Dopen2(obj, name, H5P_DEFAULT);
    if (d < 0) return 0;
    haddr_t offset = H5Dget_offset(d);
    hsize_t size = H5Dget_storage_size(d);
    if (offset != HADDR_UNDEF) {
        if (is_state) add_range(r->focus, &r->focuses, 8, offset, size);
        if (size >= 1024) add_range(r->bulk, &r->bulks, MAX_RANGES, offset, size);
        else add_range(r->header, &r->headers, MAX_RANGES, offset, size);
    }
    H5Dclose(d);
    return 0;
}

static int find_regions(const char *path, regions *r)
{
    memset(r, 0, sizeof *r);
    add_range(r->header, &r->headers, MAX_RANGES, 0, 96); /* the superblock */
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return -1;
    herr_t e = H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_NATIVE, visit_object, r, H5O_INFO_BASIC | H5O_INFO_HDR);
    H5Fclose(f);
    return e < 0 ? -1 : 0;
}

/* ------------------------------------------------------------ mutation */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t *s, uint64_t n) { return n ? splitmix(s) % n : 0; }

static uint64_t in_ranges(uint64_t *s, const range *list, int n, uint64_t size)
{
    if (n == 0) return below(s, size);
    const range *r = &list[below(s, (uint64_t)n)];
    uint64_t end = r->end < size ? r->end : size;
    return r->begin < end ? r->begin + below(s, end - r->begin) : below(s, size);
}

static int in_bulk(const regions *g, uint64_t pos)
{
    for (int i = 0; i < g->bulks; i++)
        if (pos >= g->bulk[i].begin && pos < g->bulk[i].end) return 1;
    return 0;
}

/* A position weighted to the metadata: object headers, then any byte outside
 * the bulk data, then anywhere (kind state: its trainer state first). */
static uint64_t pick(uint64_t *s, const regions *g, uint64_t size, int state)
{
    uint64_t roll = below(s, 100);
    if (state && roll < 60) return in_ranges(s, g->focus, g->focuses, size);
    if (roll < 50) return in_ranges(s, g->header, g->headers, size);
    if (roll < 85) {
        for (int tries = 0; tries < 64; tries++) {
            uint64_t p = below(s, size);
            if (!in_bulk(g, p)) return p;
        }
    }
    return below(s, size);
}

/* Mutant `index` of `seed`: clean[size] into out (same size), returning its length. */
static size_t mutate(const uint8_t *clean, size_t size, uint8_t *out, const regions *g, uint64_t seed,
                     uint64_t index, int state)
{
    static const uint8_t interesting[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x10, 0x40};
    uint64_t s = seed * 0x100000001b3ULL ^ (index + 1) * 0x9e3779b97f4a7c15ULL;
    memcpy(out, clean, size);
    size_t len = size;
    int edits = 1 + (int)below(&s, 4);
    for (int e = 0; e < edits; e++) {
        uint64_t op = below(&s, 100), at = pick(&s, g, len, state);
        if (op < 35) {                          /* one bit flipped */
            out[at] ^= (uint8_t)(1u << below(&s, 8));
        } else if (op < 60) {                   /* one byte set */
            out[at] = below(&s, 2) ? interesting[below(&s, sizeof interesting)] : (uint8_t)splitmix(&s);
        } else if (op < 75) {                   /* 2..8 bytes set (an address, a length) */
            uint64_t n = 2 + below(&s, 7), v = below(&s, 2) ? splitmix(&s) : ~0ULL;
            for (uint64_t k = 0; k < n && at + k < len; k++) out[at + k] = (uint8_t)(v >> (8 * (k % 8)));
        } else if (op < 92) {                   /* a block copied from elsewhere in the file */
            uint64_t n = 8 + below(&s, 249), from = pick(&s, g, len, state);
            if (from + n > len) n = len - from;
            if (at + n > len) n = len - at;
            memmove(out + at, out + from, n);
        } else {                                /* truncated */
            if (at > 0) len = at;
            break;
        }
    }
    return len;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    return close(fd);
}

/* ------------------------------------------------------------ the readers */

typedef struct harness {
    const char *kind, *target, *data;
    char target_dir[4096];
    dataset *clean_data; /* the clean dataset, for eval's checkpoint check */
    unsigned timeout;    /* seconds each reader may take */
    FILE *devnull;
} harness;

/* A refusal must name the file, or (shards and dataset.h5 disagreeing, which
 * is damaged not being known) the dataset directory and dataset.h5: 0 when it does. */
static int named(const harness *h, const char *reader)
{
    const char *m = error_message();
    int directory = !strcmp(h->kind, "dataset") || !strcmp(h->kind, "shard");
    if (strstr(m, h->target) || (directory && strstr(m, h->data) && strstr(m, "dataset.h5"))) return 0;
    fprintf(stderr, "h5_mutants: %s refused %s without naming it: %s\n", reader, h->target, m);
    return 1;
}

/* Counts a reader's refusal, and one that does not name the file; restarts
 * the clock for the next reader (each has the whole limit, as each is a
 * program of its own). */
static void judge(const harness *h, an_status st, const char *reader, int *refused, int *unnamed)
{
    alarm(h->timeout);
    if (st == AN_OK) return;
    *refused = 1;
    *unnamed |= named(h, reader);
}

/* Every image of every shard, read and decoded (the loader's and eval's reads). */
static an_status read_split(const eval_split *s)
{
    uint8_t *image = malloc(IMAGE_STORED_BYTES); /* [256, 256, 3] */
    if (!image) return AN_ERR_NOMEM;
    an_status st = AN_OK;
    for (int i = 0; i < s->num_shards && st == AN_OK; i++)
        for (size_t k = 0; k < s->shards[i]->count && st == AN_OK; k++)
            st = shard_reader_read_image(s->shards[i], k, image);
    free(image);
    return st;
}

/* train's and eval's open: dataset.h5, every shard, each checked against it, then read. */
static an_status open_and_read(const harness *h)
{
    dataset *d = NULL;
    AN_TRY(dataset_open(&d, h->data));
    an_status st = AN_OK;
    const char *splits[2] = {"train", "val"};
    for (int k = 0; k < 2 && st == AN_OK; k++) {
        eval_split s;
        memset(&s, 0, sizeof s);
        st = eval_split_open(&s, d, splits[k]);
        if (st == AN_OK) {
            st = read_split(&s);
            eval_split_close(&s);
        }
    }
    dataset_close(d);
    return st;
}

/* train --resume: the config, a net made from it, the state and the trainer state's JSON. */
static an_status resume_load(const harness *h)
{
    net_config cfg;
    net *n = NULL;
    checkpoint_meta meta;
    char *json = NULL;
    AN_TRY(checkpoint_read_config(h->target, &cfg));
    AN_TRY(net_create_cpu(&n, &cfg, 1));
    an_status st = checkpoint_load(h->target, n, &meta, &json);
    if (st == AN_OK) {
        train_state state;
        st = train_state_from_json(json, &state);
        if (st != AN_OK) st = error_context(st, "checkpoint %s", h->target);
    }
    free(json);
    net_destroy(n);
    return st;
}

/* eval's and classify's load: eval_model_load against the clean dataset. */
static an_status eval_load(const harness *h)
{
    net *n = NULL;
    checkpoint_meta meta;
    an_status st = eval_model_load(h->target, h->clean_data, 1, NULL, &n, &meta);
    if (n) net_destroy(n);
    return st;
}

/* The child: every reader of the kind; exit 0 when all accepted the mutant,
 * 1 when one refused it naming the file, 3 when one refused it without. */
static void run_readers(const harness *h)
{
    int unnamed = 0, refused = 0;
    if (!strcmp(h->kind, "shard") || !strcmp(h->kind, "dataset")) {
        judge(h, prep_verify(h->data, h->devnull), "verify", &refused, &unnamed);
        judge(h, prep_info(h->data, h->devnull), "info", &refused, &unnamed);
        judge(h, open_and_read(h), "train/eval open", &refused, &unnamed);
    } else if (!strcmp(h->kind, "plan")) {
        prep_plan p;
        an_status st = prep_plan_load(&p, h->target_dir);
        judge(h, st, "prep resume", &refused, &unnamed);
        if (st == AN_OK) prep_plan_free(&p);
    } else {
        judge(h, resume_load(h), "train --resume", &refused, &unnamed);
        judge(h, eval_load(h), "eval/classify load", &refused, &unnamed);
    }
    _exit(unnamed ? 3 : refused ? 1 : 0);
}

/* ------------------------------------------------------------ main */

static const char *arg(int argc, char **argv, const char *flag, const char *fallback)
{
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], flag) == 0) return argv[i + 1];
    return fallback;
}

static uint8_t *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct stat st;
    uint8_t *data = NULL;
    if (fstat(fileno(f), &st) == 0 && st.st_size > 0 && (data = malloc((size_t)st.st_size)) &&
        fread(data, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *size = data ? (size_t)st.st_size : 0;
    return data;
}

int main(int argc, char **argv)
{
    harness h = {0};
    h.kind = arg(argc, argv, "--kind", NULL);
    const char *clean_path = arg(argc, argv, "--clean", NULL), *save = arg(argc, argv, "--save", NULL);
    h.target = arg(argc, argv, "--target", NULL);
    h.data = arg(argc, argv, "--data", NULL);
    long count = atol(arg(argc, argv, "--count", "100"));
    uint64_t seed = strtoull(arg(argc, argv, "--seed", "1"), NULL, 10);
    long first = atol(arg(argc, argv, "--first", "0"));
    h.timeout = (unsigned)atoi(arg(argc, argv, "--timeout", "30"));
    if (!h.kind || !clean_path || !h.target || !h.data) {
        fprintf(stderr, "usage: h5_mutants --kind shard|dataset|plan|checkpoint|state --clean FILE --target PATH "
                        "--data DIR --count N --seed S [--timeout SECONDS] [--save DIR] [--first I]\n");
        return 2;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", h.target);
    snprintf(h.target_dir, sizeof h.target_dir, "%s", dirname(tmp));
    h.devnull = fopen("/dev/null", "w");
    size_t size = 0;
    uint8_t *clean = read_all(clean_path, &size);
    uint8_t *mutant = malloc(size ? size : 1);
    regions *g = malloc(sizeof *g);
    h5_error_init();
    if (!clean || !mutant || !g || !h.devnull || find_regions(clean_path, g) != 0) {
        fprintf(stderr, "h5_mutants: cannot read %s as a clean HDF5 file\n", clean_path);
        return 2;
    }
    int state = strcmp(h.kind, "state") == 0;
    if (state && g->focuses == 0) {
        fprintf(stderr, "h5_mutants: %s holds no trainer_state\n", clean_path);
        return 2;
    }
    if ((!strcmp(h.kind, "checkpoint") || state) && dataset_open(&h.clean_data, h.data) != AN_OK) {
        fprintf(stderr, "h5_mutants: %s\n", error_message());
        return 2;
    }
    long crashed = 0, hung = 0, unnamed = 0, refused = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = first; i < first + count; i++) {
        size_t len = mutate(clean, size, mutant, g, seed, (uint64_t)i, state);
        if (write_file(h.target, mutant, len) != 0) {
            fprintf(stderr, "h5_mutants: cannot write %s: %s\n", h.target, strerror(errno));
            return 2;
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
            perror("h5_mutants: fork");
            return 2;
        }
        if (pid == 0) {
            /* a damaged size must fail an allocation, not exhaust the machine */
            struct rlimit as = {(rlim_t)4 << 30, (rlim_t)4 << 30};
            setrlimit(RLIMIT_AS, &as);
            alarm(h.timeout);
            run_readers(&h);
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        int bad = 0;
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
            hung++;
            bad = 1;
            fprintf(stderr, "h5_mutants: %s mutant %ld (seed %llu) hung (a reader over %u s)\n", h.kind, i,
                    (unsigned long long)seed, h.timeout);
        } else if (WIFSIGNALED(status)) {
            crashed++;
            bad = 1;
            fprintf(stderr, "h5_mutants: %s mutant %ld (seed %llu) crashed a reader: signal %d (%s)\n", h.kind, i,
                    (unsigned long long)seed, WTERMSIG(status), strsignal(WTERMSIG(status)));
        } else if (WEXITSTATUS(status) == 3) {
            unnamed++;
            bad = 1;
        } else if (WEXITSTATUS(status) == 1) {
            refused++;
        } else if (WEXITSTATUS(status) != 0) {
            crashed++;
            bad = 1;
            fprintf(stderr, "h5_mutants: %s mutant %ld (seed %llu): a reader exited with status %d\n", h.kind, i,
                    (unsigned long long)seed, WEXITSTATUS(status));
        }
        if (bad && save) {
            char out[4096];
            snprintf(out, sizeof out, "%s/%s-%llu-%ld.h5", save, h.kind, (unsigned long long)seed, i);
            write_file(out, mutant, len);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (write_file(h.target, clean, size) != 0) {
        fprintf(stderr, "h5_mutants: cannot restore %s\n", h.target);
        return 2;
    }
    double seconds = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("%s: %ld mutants of %s (seed %llu, from %ld): %ld refused by a reader, %ld crashed, %ld hung, %ld "
           "refused without naming the file; %.1f s\n", arg(argc, argv, "--name", h.kind), count, clean_path,
           (unsigned long long)seed, first, refused, crashed, hung, unnamed, seconds);
    if (h.clean_data) dataset_close(h.clean_data);
    free(g);
    free(mutant);
    free(clean);
    fclose(h.devnull);
    return crashed || hung || unnamed ? 1 : 0;
}
