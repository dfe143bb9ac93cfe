/* fsutil: durable file writes and path helpers for the job directory.
 *
 * fs_write_atomic is the only way gemflow writes an artifact or a state file:
 *   1. create the missing parent directories of `rel` under `dir`;
 *   2. write the bytes to a temporary file ".<name>.tmp-<pid>" in the target's directory;
 *   3. fsync it, rename it over the target, fsync the directory.
 * A reader sees the old file or the new one, never a mix; once it returns 0 the new file
 * survives a crash or power loss. On failure the target is untouched and the temporary file
 * is removed. */
#ifndef GF_FSUTIL_H
#define GF_FSUTIL_H

#include "buf.h"
#include "err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fs_facts {
    int64_t bytes;
    int64_t mtime_ns;
};

enum fs_sync {
    FS_DURABLE, /* fsync file and directory (artifacts, manifest) */
    FS_ATOMIC,  /* rename only: never torn, may be lost in a power cut (call records) */
};

int fs_write_atomic(const char *dir, const char *rel, const void *data, size_t len,
                    enum fs_sync sync, struct fs_facts *facts, struct gf_err *err);
/* mkdir -p of `rel` under `dir` (dir itself must exist). */
int fs_mkdirs(const char *dir, const char *rel, struct gf_err *err);
/* fsync a directory. */
int fs_fsync_dir(const char *path, struct gf_err *err);
/* Size and mtime of dir/rel; returns 0, or -1 with errno set (ENOENT when missing). */
int fs_stat(const char *dir, const char *rel, struct fs_facts *facts);
/* dir + "/" + rel into a new string (caller frees). */
char *fs_join(const char *dir, const char *rel);
/* True when `rel` is a relative path without empty, "." or ".." components and no backslash. */
bool fs_rel_is_safe(const char *rel);
/* Remove the temporary files fs_write_atomic leaves when a process dies between creating and
 * renaming them (".<name>.tmp-<pid>"), anywhere under dir (up to 8 levels deep, not following
 * symlinks). Only safe while holding the job lock. Returns how many were removed. */
int fs_sweep_temporaries(const char *dir);
/* True when `path` exists and is a directory. */
bool fs_is_dir(const char *path);

#endif
