/* tb_events.c: TensorBoard event files: the protobuf encoding of Event and
 * Summary, TFRecord framing with masked CRC-32C, and the cut on a resume.
 * See tb_events.h.
 *
 * The messages, from TensorBoard's event.proto, summary.proto and
 * tensor.proto (field number, wire type):
 *
 *   Event           wall_time 1 (double), step 2 (int64), file_version 3 (string), summary 5 (Summary)
 *   Summary         value 1 (repeated Value)
 *   Summary.Value   tag 1 (string), simple_value 2 (float), image 4 (Summary.Image), tensor 8 (TensorProto),
 *                   metadata 9 (SummaryMetadata)
 *   Summary.Image   height 1, width 2, colorspace 3 (int32: channels), encoded_image_string 4 (bytes: PNG)
 *   SummaryMetadata plugin_data 1 (PluginData { plugin_name 1 (string) })
 *   TensorProto     dtype 1 (enum, DT_STRING = 7), tensor_shape 2 (empty: a scalar), string_val 8 (bytes)
 */
#include "tb_events.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TB_PATH_MAX 4096
/* The largest record the cut accepts; ours are a few hundred bytes (a text
 * summary of config.json a few KiB). */
#define TB_RECORD_MAX (64u << 20)

struct tb_events {
    int fd;
    off_t size;              /* bytes of whole records written */
    char path[TB_PATH_MAX];
};

/* ---- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) ---- */

static uint32_t crc_table[256];
static pthread_once_t crc_table_once = PTHREAD_ONCE_INIT;

static void crc_table_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t tb_crc32c(const void *data, size_t n)
{
    pthread_once(&crc_table_once, crc_table_init);
    const uint8_t *p = data;
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

/* TFRecord's mask: rotate right by 15 bits and add a constant, so that a CRC
 * of data that itself holds CRCs does not cancel out. */
uint32_t tb_masked_crc32c(const void *data, size_t n)
{
    uint32_t c = tb_crc32c(data, n);
    return ((c >> 15) | (c << 17)) + 0xA282EAD8u;
}

/* ---- protobuf encoding into a growing buffer ---- */

typedef struct pb_buf {
    uint8_t *data; /* [cap] */
    size_t len, cap;
    int nomem;     /* an allocation failed: the contents are incomplete */
} pb_buf;

static void pb_raw(pb_buf *b, const void *p, size_t n)
{
    if (b->nomem) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        uint8_t *grown = realloc(b->data, cap);
        if (!grown) { b->nomem = 1; return; }
        b->data = grown;
        b->cap = cap;
    }
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void pb_varint(pb_buf *b, uint64_t v)
{
    uint8_t out[10];
    size_t n = 0;
    do {
        out[n++] = (uint8_t)((v & 0x7F) | (v >= 0x80 ? 0x80 : 0));
        v >>= 7;
    } while (v);
    pb_raw(b, out, n);
}

enum { WIRE_VARINT = 0, WIRE_FIXED64 = 1, WIRE_BYTES = 2, WIRE_FIXED32 = 5 };

static void pb_key(pb_buf *b, unsigned field, unsigned wire) { pb_varint(b, (uint64_t)field << 3 | wire); }

static void pb_le(pb_buf *b, uint64_t v, int bytes)
{
    uint8_t out[8];
    for (int i = 0; i < bytes; i++) out[i] = (uint8_t)(v >> (8 * i));
    pb_raw(b, out, (size_t)bytes);
}

static void pb_double(pb_buf *b, unsigned field, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    pb_key(b, field, WIRE_FIXED64);
    pb_le(b, bits, 8);
}

static void pb_float(pb_buf *b, unsigned field, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    pb_key(b, field, WIRE_FIXED32);
    pb_le(b, bits, 4);
}

static void pb_bytes(pb_buf *b, unsigned field, const void *p, size_t n)
{
    pb_key(b, field, WIRE_BYTES);
    pb_varint(b, n);
    pb_raw(b, p, n);
}

static void pb_string(pb_buf *b, unsigned field, const char *s) { pb_bytes(b, field, s, strlen(s)); }

/* An embedded message: its encoding, length-prefixed. */
static void pb_message(pb_buf *b, unsigned field, const pb_buf *m)
{
    if (m->nomem) b->nomem = 1;
    pb_bytes(b, field, m->data, m->len);
}

/* ---- records ---- */

static double wall_time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Writes all n bytes at the end of the file; on failure cuts the file back
 * to its last whole record. */
static an_status append(tb_events *e, const uint8_t *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(e->fd, p + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int err = w < 0 ? errno : ENOSPC;
            an_status st = error_set(AN_ERR_IO, "cannot write %s: %s", e->path, strerror(err));
            if (ftruncate(e->fd, e->size) != 0)
                return error_set(AN_ERR_IO, "cannot write %s (%s) nor cut it back to its last whole record: %s",
                                 e->path, strerror(err), strerror(errno));
            return st;
        }
        done += (size_t)w;
    }
    e->size += (off_t)n;
    return AN_OK;
}

/* One Event (wall time now; the step unless it is the version record; a
 * file_version or a Summary) framed as a TFRecord and appended. */
static an_status write_event(tb_events *e, int64_t step, const char *file_version, const pb_buf *summary)
{
    pb_buf ev = {0}, rec = {0};
    pb_double(&ev, 1, wall_time_now());
    if (!file_version) {
        pb_key(&ev, 2, WIRE_VARINT);
        pb_varint(&ev, (uint64_t)step);
    }
    if (file_version) pb_string(&ev, 3, file_version);
    if (summary) pb_message(&ev, 5, summary);
    uint8_t header[8];
    for (int i = 0; i < 8; i++) header[i] = (uint8_t)((uint64_t)ev.len >> (8 * i));
    pb_raw(&rec, header, sizeof header);
    pb_le(&rec, tb_masked_crc32c(header, sizeof header), 4);
    pb_raw(&rec, ev.data, ev.len);
    pb_le(&rec, ev.nomem ? 0 : tb_masked_crc32c(ev.data, ev.len), 4);
    an_status st = ev.nomem || rec.nomem ? error_set(AN_ERR_NOMEM, "out of memory encoding an event for %s", e->path)
                                         : append(e, rec.data, rec.len);
    free(ev.data);
    free(rec.data);
    return st;
}

/* An Event holding the encoded Summary, unless its encoding ran out of memory. */
static an_status write_summary(tb_events *e, int64_t step, const pb_buf *summary, const char *what)
{
    if (summary->nomem) return error_set(AN_ERR_NOMEM, "out of memory encoding %s for %s", what, e->path);
    return write_event(e, step, NULL, summary);
}

/* The host name with anything but letters, digits, '.', '-' and '_' replaced. */
static void host_name(char *out, size_t size)
{
    if (gethostname(out, size) != 0) snprintf(out, size, "localhost");
    out[size - 1] = '\0';
    for (char *p = out; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
              *p == '-' || *p == '_'))
            *p = '_';
}

an_status tb_events_create(tb_events **out, const char *dir)
{
    *out = NULL;
    tb_events *e = calloc(1, sizeof *e);
    if (!e) return error_set(AN_ERR_NOMEM, "out of memory opening an event file in %s", dir);
    char host[256];
    host_name(host, sizeof host);
    long long now = (long long)time(NULL);
    e->fd = -1;
    /* Names sort by time, as TensorBoard reads a directory's files; a second
     * file of the same second and process gets a counter. */
    for (int k = 0; k < 100 && e->fd < 0; k++) {
        int n = k == 0 ? snprintf(e->path, sizeof e->path, "%s/" TB_EVENTS_PREFIX "%010lld.%s.%ld", dir, now, host,
                                  (long)getpid())
                       : snprintf(e->path, sizeof e->path, "%s/" TB_EVENTS_PREFIX "%010lld.%s.%ld.%d", dir, now,
                                  host, (long)getpid(), k);
        if (n < 0 || (size_t)n >= sizeof e->path) {
            free(e);
            return error_set(AN_ERR_ARG, "path too long: %s/" TB_EVENTS_PREFIX "...", dir);
        }
        e->fd = open(e->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
        if (e->fd < 0 && errno != EEXIST) {
            an_status st = error_set(AN_ERR_IO, "cannot create %s: %s", e->path, strerror(errno));
            free(e);
            return st;
        }
    }
    if (e->fd < 0) {
        free(e);
        return error_set(AN_ERR_IO, "cannot create a new event file in %s: 100 names taken", dir);
    }
    an_status st = write_event(e, 0, "brain.Event:2", NULL);
    if (st != AN_OK) {
        close(e->fd);
        unlink(e->path);
        free(e);
        return st;
    }
    *out = e;
    return AN_OK;
}

an_status tb_events_scalars(tb_events *e, int64_t step, const tb_scalar *values, int count)
{
    pb_buf summary = {0};
    for (int i = 0; i < count; i++) {
        pb_buf value = {0};
        pb_string(&value, 1, values[i].tag);
        pb_float(&value, 2, (float)values[i].value);
        pb_message(&summary, 1, &value);
        free(value.data);
    }
    an_status st = write_summary(e, step, &summary, "scalars");
    free(summary.data);
    return st;
}

an_status tb_events_text(tb_events *e, int64_t step, const char *tag, const char *markdown)
{
    pb_buf plugin = {0}, metadata = {0}, tensor = {0}, shape = {0}, value = {0}, summary = {0};
    pb_string(&plugin, 1, "text");
    pb_message(&metadata, 1, &plugin);
    pb_key(&tensor, 1, WIRE_VARINT);
    pb_varint(&tensor, 7); /* DT_STRING */
    pb_message(&tensor, 2, &shape); /* no dimensions: a scalar */
    pb_string(&tensor, 8, markdown);
    pb_string(&value, 1, tag);
    pb_message(&value, 8, &tensor);
    pb_message(&value, 9, &metadata);
    pb_message(&summary, 1, &value);
    an_status st = write_summary(e, step, &summary, "a text");
    free(plugin.data);
    free(metadata.data);
    free(tensor.data);
    free(value.data);
    free(summary.data);
    return st;
}

an_status tb_events_image(tb_events *e, int64_t step, const char *tag, const void *png, size_t n, int width,
                          int height, int channels)
{
    pb_buf image = {0}, value = {0}, summary = {0};
    const int64_t fields[3] = {height, width, channels};
    for (unsigned f = 0; f < 3; f++) {
        pb_key(&image, f + 1, WIRE_VARINT);
        pb_varint(&image, (uint64_t)fields[f]);
    }
    pb_bytes(&image, 4, png, n);
    pb_string(&value, 1, tag);
    pb_message(&value, 4, &image);
    pb_message(&summary, 1, &value);
    an_status st = write_summary(e, step, &summary, "an image");
    free(image.data);
    free(value.data);
    free(summary.data);
    return st;
}

const char *tb_events_path(const tb_events *e) { return e->path; }

void tb_events_close(tb_events *e)
{
    if (!e) return;
    if (e->fd >= 0) close(e->fd);
    free(e);
}

/* ---- the cut on a resume ---- */

/* Reads a varint at *p (below end); 0 when malformed or cut. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end) return 0;
        uint8_t byte = *(*p)++;
        *v |= (uint64_t)(byte & 0x7F) << shift;
        if (!(byte & 0x80)) return 1;
    }
    return 0;
}

/* The step of a serialised Event (0 when it has none, as the version
 * record); 0 when the message is malformed. */
static int event_step(const uint8_t *p, size_t n, uint64_t *step)
{
    const uint8_t *end = p + n;
    *step = 0;
    while (p < end) {
        uint64_t key, v;
        if (!read_varint(&p, end, &key)) return 0;
        switch (key & 7) {
        case WIRE_VARINT:
            if (!read_varint(&p, end, &v)) return 0;
            if (key >> 3 == 2) *step = v;
            break;
        case WIRE_FIXED64:
            if (end - p < 8) return 0;
            p += 8;
            break;
        case WIRE_FIXED32:
            if (end - p < 4) return 0;
            p += 4;
            break;
        case WIRE_BYTES:
            if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p)) return 0;
            p += v;
            break;
        default: return 0;
        }
    }
    return 1;
}

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* Reads exactly n bytes at offset; 0 at a short read (the file ends). */
static int read_at(int fd, void *buf, size_t n, off_t offset, int *err)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, (uint8_t *)buf + done, n - done, offset + (off_t)done);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) { *err = errno; return 0; }
        if (r == 0) return 0;
        done += (size_t)r;
    }
    return 1;
}

/* Cuts one file after its last whole, intact record of step <= keep. */
static an_status cut_file(const char *path, uint64_t keep)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0) return error_set(AN_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        an_status st = error_set(AN_ERR_IO, "cannot stat %s: %s", path, strerror(errno));
        close(fd);
        return st;
    }
    off_t good = 0;
    uint8_t *data = NULL; /* [length] one record's Event */
    int err = 0;
    for (;;) {
        uint8_t header[12]; /* length (8) and its masked CRC (4) */
        if (!read_at(fd, header, sizeof header, good, &err)) break;
        if (le32(header + 8) != tb_masked_crc32c(header, 8)) break;
        uint64_t length = (uint64_t)le32(header) | (uint64_t)le32(header + 4) << 32;
        if (length > TB_RECORD_MAX || (off_t)length > sb.st_size - good - 16) break;
        uint8_t *grown = realloc(data, length + 4);
        if (!grown) {
            free(data);
            close(fd);
            return error_set(AN_ERR_NOMEM, "out of memory reading %s", path);
        }
        data = grown;
        if (!read_at(fd, data, length + 4, good + 12, &err)) break;
        uint64_t step;
        if (le32(data + length) != tb_masked_crc32c(data, length) || !event_step(data, length, &step) || step > keep)
            break;
        good += (off_t)(16 + length);
    }
    free(data);
    an_status st = AN_OK;
    if (err)
        st = error_set(AN_ERR_IO, "cannot read %s: %s", path, strerror(err));
    else if (good < sb.st_size && (ftruncate(fd, good) != 0 || fsync(fd) != 0))
        st = error_set(AN_ERR_IO, "cannot cut %s back to step %" PRIu64 ": %s", path, keep, strerror(errno));
    close(fd);
    return st;
}

/* Calls fn(path, arg) for every regular event file in dir, until one fails. */
static an_status for_each_file(const char *dir, an_status (*fn)(const char *path, uint64_t arg), uint64_t arg)
{
    DIR *d = opendir(dir);
    if (!d) return error_set(AN_ERR_IO, "cannot list %s: %s", dir, strerror(errno));
    an_status st = AN_OK;
    struct dirent *ent;
    while (st == AN_OK && (ent = readdir(d)) != NULL) {
        if (strncmp(ent->d_name, TB_EVENTS_PREFIX, strlen(TB_EVENTS_PREFIX)) != 0) continue;
        char path[TB_PATH_MAX];
        int n = snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        if (n < 0 || (size_t)n >= sizeof path) {
            st = error_set(AN_ERR_ARG, "path too long: %s/%s", dir, ent->d_name);
            break;
        }
        struct stat sb;
        if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) continue;
        st = fn(path, arg);
    }
    closedir(d);
    return st;
}

an_status tb_events_cut(const char *dir, uint64_t keep_through_step)
{
    return for_each_file(dir, cut_file, keep_through_step);
}

static an_status remove_file(const char *path, uint64_t unused)
{
    (void)unused;
    if (unlink(path) != 0 && errno != ENOENT) return error_set(AN_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
    return AN_OK;
}

an_status tb_events_remove(const char *dir)
{
    return for_each_file(dir, remove_file, 0);
}
