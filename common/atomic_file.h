/* atomic_file.h: durable, all-or-nothing file writes.
 *
 * A file is written under a temporary name in the same directory, flushed
 * with fsync, renamed over the final name, and the directory is fsynced so
 * the rename itself survives a power cut. A reader therefore sees either the
 * old file or the complete new one, never a partial file: a crash, kill -9 or
 * full disk leaves the previous version intact (plus, at worst, a stray
 * ".NAME.tmp.*" file that the next writer may remove).
 */
#ifndef ALEXNET_ATOMIC_FILE_H
#define ALEXNET_ATOMIC_FILE_H

#include <stddef.h>

#include "status.h"

#define ATOMIC_PATH_MAX 4096

typedef struct atomic_file {
    int fd;
    char tmp_path[ATOMIC_PATH_MAX];
    char final_path[ATOMIC_PATH_MAX];
} atomic_file;

/* Creates a unique temporary file beside final_path (mode 0644). */
an_status atomic_file_open(atomic_file *f, const char *final_path);
/* Writes all n bytes (retrying short writes); ENOSPC and EIO are reported with the path. */
an_status atomic_file_write(atomic_file *f, const void *data, size_t n);
/* fsync, close, rename over the final name, fsync the directory. On failure
 * the temporary file is removed and the old final file is untouched. */
an_status atomic_file_commit(atomic_file *f);
/* Closes and removes the temporary file; the final file is untouched. */
void atomic_file_abort(atomic_file *f);

/* The whole thing in one call. */
an_status atomic_write_file(const char *final_path, const void *data, size_t n);

/* For writers that create the file themselves (HDF5): a fresh temporary name
 * beside final_path, ".NAME.tmp.PID.COUNTER". Nothing is created. */
an_status atomic_temp_name(const char *final_path, char *tmp_path, size_t size);
/* fsync tmp_path, rename it to final_path, fsync the directory. */
an_status atomic_rename_durable(const char *tmp_path, const char *final_path);
/* fsync a directory (the parent of a rename). */
an_status fsync_directory(const char *dir_path);
/* The directory part of path ("." if none) into out. */
void path_dirname(const char *path, char *out, size_t size);

#endif
