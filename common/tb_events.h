/* tb_events.h: TensorBoard event files, written so that `tensorboard
 * --logdir runs/` shows a run's curves while it trains (docs/FORMAT.md §3).
 *
 * A file RUN/events.out.tfevents.<time>.<host>.<pid> is a sequence of
 * records in TFRecord framing:
 *
 *   uint64 length (little-endian) | uint32 masked CRC-32C of the length |
 *   length bytes: one serialised Event protobuf | uint32 masked CRC-32C of them
 *
 * The first Event carries file_version "brain.Event:2"; each later one a
 * step, a wall time and a Summary: scalars (simple_value), one text (a
 * string tensor for TensorBoard's text plugin) or one PNG image. The protobuf messages are
 * encoded by hand (docs/ARCHITECTURE.md, "TensorBoard event files").
 *
 * Each record goes to the file in one write() at once, so a live reader
 * sees it within its polling interval; a write that fails (full disk) is cut
 * back, so the file always ends with a whole record. A run killed at any
 * moment leaves a file that readers read up to its last whole record.
 */
#ifndef ALEXNET_TB_EVENTS_H
#define ALEXNET_TB_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define TB_EVENTS_PREFIX "events.out.tfevents."

typedef struct tb_events tb_events;

/* One scalar of a row: the tag TensorBoard groups curves by ("train/loss"). */
typedef struct tb_scalar {
    const char *tag;
    double value; /* stored as a float (Summary.Value.simple_value) */
} tb_scalar;

/* Creates a new event file in dir (never an existing one) and writes its
 * file_version record. */
an_status tb_events_create(tb_events **out, const char *dir);

/* One Event at `step` holding `count` scalars, appended as one record. */
an_status tb_events_scalars(tb_events *e, int64_t step, const tb_scalar *values, int count);

/* One Event at `step` holding a text summary (markdown) under `tag`. */
an_status tb_events_text(tb_events *e, int64_t step, const char *tag, const char *markdown);

/* One Event at `step` holding one image under `tag`: a PNG file's bytes,
 * its size and channels (1 grey, 3 RGB, 4 RGBA). */
an_status tb_events_image(tb_events *e, int64_t step, const char *tag, const void *png, size_t n, int width,
                          int height, int channels);

/* The file's path. */
const char *tb_events_path(const tb_events *e);

/* Closes the file (every record is already written). NULL is allowed. */
void tb_events_close(tb_events *e);

/* Every event file in dir is cut after its last whole, intact record whose
 * step is at most keep_through_step (a resume drops what the interrupted
 * process wrote after its last checkpoint, and a torn last record). */
an_status tb_events_cut(const char *dir, uint64_t keep_through_step);

/* Removes every event file in dir (a fresh start over a run that had no
 * checkpoint yet: its rows are started again, as metrics.csv's are). */
an_status tb_events_remove(const char *dir);

/* CRC-32C (Castagnoli) of n bytes, and TFRecord's masked form of it. */
uint32_t tb_crc32c(const void *data, size_t n);
uint32_t tb_masked_crc32c(const void *data, size_t n);

#endif
