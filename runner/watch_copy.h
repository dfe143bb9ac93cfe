/* watch_copy: making a claimed drop the watcher's own. Whoever dropped it still owns what was
 * claimed (they may hold a descriptor of its directory, plant symlinks, rewrite files), so the
 * watcher copies it into a directory it creates itself and runs the copy: regular files and
 * directories only, read through descriptors that never follow a symlink, within fixed limits;
 * files and directories get the watcher's umask. Anything else refuses the drop, with the
 * reason. The original is then removed without following a symlink, within a bound.
 *
 * Calling sequence (watch_claim.c):
 *   r = watch_copy(stage_fd, "drop", stage_fd, "copy", &why, &err);  // 1: refused, why says why
 *   ... publish "copy" ...
 *   watch_remove(stage_fd, "old", &err);                            // the original, gone */
#ifndef GF_WATCH_COPY_H
#define GF_WATCH_COPY_H

#include "buf.h"
#include "err.h"

#include <stdint.h>

/* All files of one directory drop together. */
#define WATCH_DROP_MAX_BYTES (128ull << 20)
/* Files and directories in one directory drop. */
#define WATCH_DROP_MAX_ENTRIES 2000
/* Directories nested in one drop. */
#define WATCH_DROP_MAX_DEPTH 16
/* A dropped workflow.yaml (the operator's own workflow has no such limit). */
#define WATCH_WORKFLOW_MAX_BYTES (1u << 20)

/* Copy entry `src` of directory `src_dir` to a new entry `dst` of `dst_dir`: a regular file
 * becomes the directory `dst` holding it as script.txt (a script dropped as a file); a
 * directory is copied as a tree. Refused (returns 1, `why` says which entry and what it is): a
 * symbolic link, FIFO, socket or device; a file with more than one hard link; an entry on
 * another filesystem; a name with control characters or that is not UTF-8; a file that
 * changes size while it is read; more than WATCH_DROP_MAX_ENTRIES entries, WATCH_DROP_MAX_BYTES
 * bytes or WATCH_DROP_MAX_DEPTH levels; a top-level workflow.yaml over WATCH_WORKFLOW_MAX_BYTES;
 * a top-level workflow.yaml or script.txt that is not a regular file; something that cannot be
 * read. Returns 0 when copied (not yet durable: see watch_copy_sync), -1 with err when
 * writing the copy failed. After 1 or -1 a partial `dst` may remain: remove it with
 * watch_remove. */
int watch_copy(int src_dir, const char *src, int dst_dir, const char *dst, struct buf *why,
               struct gf_err *err);
/* Make every copy made so far on the filesystem of `dir` durable (syncfs: one journal commit
 * for all its files, not one per file). Before a copy is published and its original removed. */
int watch_copy_sync(int dir, struct gf_err *err);

/* Remove entry `name` of `dir` and everything under it, never following a symbolic link and
 * giving up after 4 * WATCH_DROP_MAX_ENTRIES entries or on a directory the watcher may not
 * write (who dropped it keeps it then). Returns 0 (also when it was gone), -1 with err. */
int watch_remove(int dir, const char *name, struct gf_err *err);

/* Why `name` cannot be a drop's name: "control characters", "bytes that are not UTF-8", or
 * NULL when it is fine. */
const char *watch_name_problem(const char *name);
/* `name` for a message: control characters and bytes that are not UTF-8 as \xNN. */
void watch_show_name(struct buf *out, const char *name);

#endif
