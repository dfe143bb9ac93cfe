/* watch: the inbox of `gemflow watch`. Watches one directory with inotify (the only module that
 * touches inotify), judges what lies in it (watch.c), and claims or refuses entries with
 * rename(2) (watch_claim.c), so that several watchers on one inbox, also on other machines over
 * a shared filesystem, take each drop exactly once.
 *
 * Calling sequence:
 *   w = watch_open(inbox, &err);                       // before scanning, so nothing is missed
 *   watch_list(inbox, &names) ...                      // catch-up: what is already there
 *   loop_add_fd(loop, watch_fd(w), on_readable, ctx);
 *   on_readable: watch_read(w, on_event, ctx, &err);   // WATCH_EV_* per inbox event
 *   per candidate: k = watch_judge(inbox, name, ...);  // then watch_take or watch_refuse
 *   watch_take(inbox, name, jobs, &stage) ...           // quick: the claim
 *   watch_adopt(inbox, stage, name, jobs, ...)          // slow (a copy): off the event loop
 *   watch_free(w);
 *
 * Claiming protocol: the entry is renamed out of the inbox into a private staging directory
 * `JOBS/.gfclaim+HOST+PID+SEQ+NAME/drop` (mode 0700; the rename is the claim: the loser of a
 * race gets ENOENT and leaves nothing behind). What was claimed still belongs to whoever
 * dropped it (they may hold a descriptor of it), so it is copied into `copy`, a directory the
 * watcher creates, as regular files and directories only, within limits (watch_copy.h); a
 * drop with anything else is refused into INBOX/.rejected/ with the reason. `drop` is renamed
 * to `old` (the copy is complete), `copy` is renamed to `JOBS/NAME` without replacing anything
 * (a taken name gets a suffix -2, -3, ...), and `old`, the original, is removed: the job only
 * ever runs the copy. So a job directory appears in JOBS complete or not at all, and a claim
 * interrupted at any step is finished by the next watcher started on this host
 * (watch_recover). */
#ifndef GF_WATCH_H
#define GF_WATCH_H

#include "buf.h"
#include "err.h"

#include <stdbool.h>
#include <stdint.h>

/* Longest job name made from a drop's name. */
#define WATCH_NAME_MAX 64
/* Largest script file accepted (the job's input limit). */
#define WATCH_MAX_BYTES (16 * 1024 * 1024)

struct watch;

enum watch_ev {
    WATCH_EV_READY,    /* `name` was closed after writing, or moved in: a candidate drop */
    WATCH_EV_CREATED,  /* `name` was created in place (only a special file matters then) */
    WATCH_EV_OVERFLOW, /* the kernel's event queue overflowed: events were lost, rescan */
    WATCH_EV_GONE,     /* the inbox was deleted, moved or unmounted; `name` says which */
};

typedef void (*watch_fn)(void *ctx, enum watch_ev ev, const char *name);

/* Start watching `inbox` (a directory). Errors name the inotify limit to raise, if that was it. */
struct watch *watch_open(const char *inbox, struct gf_err *err);
int watch_fd(const struct watch *w);
/* Read every pending event and call fn for each. After WATCH_EV_GONE no event follows.
 * Returns 0, or -1 with err when the inotify descriptor cannot be read. */
int watch_read(struct watch *w, watch_fn fn, void *ctx, struct gf_err *err);
/* Stop watching; NULL is a no-op. */
void watch_free(struct watch *w);

enum watch_kind {
    WATCH_SKIP,   /* not a drop (yet): a hidden or temporary name, not a script, empty, still
                     open for writing by a local process, gone */
    WATCH_FILE,   /* a script file (*.txt, *.md, *.fountain): claim it */
    WATCH_DIR,    /* a directory with script.txt or workflow.yaml: claim it as a job */
    WATCH_REFUSE, /* a symlink, special file, oversized script, or bad directory: refuse it */
};

/* Whether a name is hidden or temporary (dotfile, *~, *.swp, *.tmp, *.part, *.crdownload):
 * ignored until it is renamed to a real name. */
bool watch_name_is_temporary(const char *name);
/* Whether a file name is a script (*.txt, *.md, *.fountain, any case). */
bool watch_name_is_script(const char *name);
/* The job name for an inbox entry: a file's name without its extension (a directory's whole
 * name), made a safe file-name component: [A-Za-z0-9._-], no leading dot or dash, runs of other
 * bytes become one '-', at most WATCH_NAME_MAX bytes; "job" when nothing is left. */
void watch_job_name(const char *entry, bool is_dir, char out[WATCH_NAME_MAX + 1]);

/* Judge inbox/name from its name and lstat(2) (never following a symlink). `ev` is the event
 * that brought it up (WATCH_EV_READY also for a rescan). `why` receives what the entry is, for
 * WATCH_REFUSE and WATCH_SKIP ("a symbolic link"; empty when a skip is not worth saying, e.g.
 * a dotfile). */
enum watch_kind watch_judge(const char *inbox, const char *name, enum watch_ev ev, struct buf *why);

/* The entries of `inbox` that are not hidden or temporary, oldest first (by mtime, then name).
 * Fills *names (caller frees each and the array). Returns the count, or -1 with err. */
long watch_list(const char *inbox, char ***names, struct gf_err *err);

/* Flags of watch_adopt and watch_claim. */
/* refuse a drop holding workflow.yaml (--allow-job-workflows none) */
#define WATCH_NO_WORKFLOW 1u

/* Step 1 of a claim, quick: rename inbox/name (judged WATCH_FILE or WATCH_DIR) into a new
 * staging directory (its path in *stage). Returns 0; 1 when there was nothing to claim
 * (another watcher took it first, or it vanished); -1 with err. */
int watch_take(const char *inbox, const char *name, const char *jobs, struct buf *stage,
               struct gf_err *err);
/* Step 2, as slow as the drop is big: make the claim in `stage` the watcher's own and publish
 * it: a file becomes JOBS/<job name>/script.txt, a directory JOBS/<job name>/ (a copy of it).
 * `name` is the inbox name (a refused drop goes to INBOX/.rejected/ under it). `marker`, when
 * not NULL, is written into the copy as WORKFLOW_DROP_MARKER (workflow.h). Returns 0 with
 * the job directory in *job_dir; 1 when it was refused (*refused says why and where it went)
 * or there was nothing left to finish; -1 with err (the claim stays in `stage` and the next
 * start finishes it). *note, when not empty, says what of the original could not be removed
 * (a directory of the drop the watcher may not write). Safe to call from any thread. */
int watch_adopt(const char *inbox, const char *stage, const char *name, const char *jobs,
                unsigned flags, const char *marker, struct buf *job_dir, struct buf *refused,
                struct buf *note, struct gf_err *err);
/* watch_take then watch_adopt: returns as watch_adopt. */
int watch_claim(const char *inbox, const char *name, const char *jobs, unsigned flags,
                struct buf *job_dir, struct buf *refused, struct gf_err *err);

/* Refuse inbox/name: move it to INBOX/.rejected/ (a taken name gets a suffix) and write the
 * reason beside it as `<name>.why`. Returns 0 with the new path in *where, 1 when it was gone
 * (another watcher moved it first), -1 with err. */
int watch_refuse(const char *inbox, const char *name, const char *why, struct buf *where,
                 struct gf_err *err);

/* Check that claiming can work: a probe file is created in `inbox`, renamed into `jobs` and
 * removed. Fails with a message that explains a cross-filesystem pair (EXDEV) or a permission
 * problem. */
int watch_check_rename(const char *inbox, const char *jobs, struct gf_err *err);

/* Take over the claims a watcher of this host left half done when it died (a staging directory
 * `JOBS/.gfclaim+HOST+PID+...` whose process is gone): each is renamed to a staging name of
 * this process (so exactly one watcher takes it) and passed to `found` to be finished with
 * watch_adopt (its inbox name is then its job name). `found` gets an error message (stage
 * NULL) for a staging directory that cannot be taken over here. Returns how many were taken. */
int watch_recover(const char *jobs, void (*found)(void *ctx, const char *stage, const char *msg),
                  void *ctx);

#endif
