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
 *   per candidate: k = watch_judge(inbox, name, ...);  // then watch_claim or watch_refuse
 *   watch_free(w);
 *
 * Claiming protocol (see watch_claim): the entry is renamed out of the inbox into a private
 * staging name `JOBS/.gfclaim+HOST+PID+SEQ+NAME` (the rename is the claim: the loser of a race
 * gets ENOENT and leaves nothing behind), checked there, then renamed to `JOBS/NAME` without
 * replacing anything (a taken name gets a suffix -2, -3, ...). So a job directory appears in
 * JOBS complete or not at all. */
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

/* Claim inbox/name (judged WATCH_FILE or WATCH_DIR) into a new job directory under `jobs`: a
 * file becomes JOBS/<job name>/script.txt, a directory becomes JOBS/<job name>/ as it is.
 * Returns 0 with the job directory in *job_dir; 1 when there was nothing to claim (another
 * watcher took it first, or it vanished), or when it turned out bad once claimed (then it was
 * refused: *refused says why and where in .rejected/ it went); -1 with err (nothing was
 * claimed, or, when a later step failed, err names the staging directory that holds it). */
int watch_claim(const char *inbox, const char *name, enum watch_kind kind, const char *jobs,
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

/* Finish claims that a watcher of this host left half done when it died (a staging directory
 * `JOBS/.gfclaim+HOST+PID+...` whose process is gone): publish each as a job. `found` is called
 * with each job directory published, or with an error message (job_dir NULL) for a staging
 * directory that cannot be finished here. Returns how many were published. */
int watch_recover(const char *jobs, void (*found)(void *ctx, const char *job_dir, const char *msg),
                  void *ctx);

#endif
