/* fsutil: durable file writes and path helpers for the job directory.
 *
 * fs_write_atomic is the only way gemflow writes an artifact or a state file:
 *   1. create the missing parent directories of `rel` under `dir` and open the target's
 *      directory, never through a symbolic link (see fs_open_beneath);
 *   2. write the bytes to a new temporary file ".<name>.tmp-<pid>" in that directory;
 *   3. fsync it, rename it over the target (a symbolic link there is replaced, not followed),
 *      fsync the directory.
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
/* mkdir -p of `rel` under `dir` (dir itself must exist), beneath `dir` as fs_open_beneath. */
int fs_mkdirs(const char *dir, const char *rel, struct gf_err *err);

/* Opening inside a directory whose contents are not trusted (a job, the workflow's directory).
 *
 * `dir` itself may be a symbolic link (the user named it); inside it nothing is followed:
 * `rel` must be relative, without "", "." or ".." components (EINVAL otherwise), and a component
 * that is a symbolic link, the last one included, makes the open fail with "'audio' in 'jobs/a' is
 * a symbolic link: refusing to write through it" (GF_ERR_IO, errno ELOOP). The kernel resolves it
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) where it has that (Linux 5.6+), else a walk
 * of openat(O_NOFOLLOW | O_DIRECTORY) per directory and O_NOFOLLOW on the last component. O_CLOEXEC
 * is always added. Returns the fd (caller closes), or -1 with err and errno set. */
int fs_open_beneath(const char *dir, const char *rel, int flags, int mode, struct gf_err *err);
/* For tests: false makes fs_*_beneath skip openat2 and use the component walk. */
void fs_beneath_use_openat2(bool on);
/* The same below an open directory `dirfd`; `dir` only names it in messages. */
int fs_openat_beneath(int dirfd, const char *dir, const char *rel, int flags, int mode,
                      struct gf_err *err);
/* The directory dir/rel opened O_RDONLY|O_DIRECTORY, created with its missing parents (mode
 * 0777 before umask), beneath `dir` as above. An empty `rel` is `dir` itself. Returns the fd
 * (caller closes), or -1 with err. */
int fs_mkdirs_open(const char *dir, const char *rel, struct gf_err *err);
/* unlink dir/rel beneath `dir` (a symbolic link on the way: ELOOP, nothing removed). Returns 0,
 * or -1 with errno set. */
int fs_unlink_beneath(const char *dir, const char *rel);
/* rename dir/from to dir/to (same directory or not) beneath `dir`, then fsync the target's
 * directory. Returns 0, or -1 with err. */
int fs_rename_beneath(const char *dir, const char *from, const char *to, struct gf_err *err);
/* fsync a directory. */
int fs_fsync_dir(const char *path, struct gf_err *err);
/* Size and mtime of dir/rel (symbolic links followed: for reading); returns 0, or -1 with errno
 * set (ENOENT when missing). */
int fs_stat(const char *dir, const char *rel, struct fs_facts *facts);
/* dir + "/" + rel into a new string (caller frees). */
char *fs_join(const char *dir, const char *rel);
/* True when `rel` is a relative path without empty, "." or ".." components and no backslash. */
bool fs_rel_is_safe(const char *rel);
/* Remove the temporary files fs_write_atomic leaves when a process dies between creating and
 * renaming them (".<name>.tmp-<pid>"), anywhere under dir (up to 8 levels deep, through
 * directory fds that never follow a symbolic link). Only safe while holding the job lock.
 * Returns how many were removed. */
int fs_sweep_temporaries(const char *dir);
/* True when `path` exists and is a directory. */
bool fs_is_dir(const char *path);

#endif
