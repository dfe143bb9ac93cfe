/* watch_job: the work a job needs before it can run, each on a thread of its own so that the
 * watcher's event loop never waits for it: finishing a claim (the copy that makes a drop the
 * watcher's own, watch_adopt), opening the job (workflow, inputs, lock, log replay: as slow as
 * what a drop brought is big), and recording why a job cannot start. Results come back through
 * a pipe the loop watches. A job whose loading failed is recorded with a digest of what decided
 * it (its files, the watcher's workflow and settings), so the next start of the watcher leaves
 * it alone until one of those changes.
 *
 * Calling sequence (cmd_watch.c):
 *   q = watch_jobs_new(&err);
 *   loop_add_fd(loop, watch_jobs_fd(q), on_ready, ctx);
 *   watch_jobs_start(q, &settings, stage, name, NULL, &err);  // a claim to finish, then open
 *   watch_jobs_start(q, &settings, NULL, NULL, dir, &err);    // a job directory to open
 *   on_ready: while ((j = watch_jobs_next(q))) { ... j->job ...; watch_job_free(j); }
 *   if (watch_jobs_busy(q)) exit without watch_jobs_free: a thread still works (it holds no
 *   state that a crash would not leave as well: the next start finishes or resumes it)
 *   watch_jobs_free(q); */
#ifndef GF_WATCH_JOB_H
#define GF_WATCH_JOB_H

#include "err.h"
#include "job.h"

#include <stdbool.h>
#include <stddef.h>

/* What a thread needs of the watcher's settings; copied by watch_jobs_start. */
struct watch_job_settings {
    const char *inbox, *jobs;
    struct job_opts job;  /* workflow, trust level, --set, endpoint */
    unsigned claim_flags; /* WATCH_NO_WORKFLOW */
};

enum watch_job_outcome {
    WATCH_JOB_OPENED,  /* `job` is open (JOB_RUN, locked): hand it to the engine */
    WATCH_JOB_REFUSED, /* the drop was refused into INBOX/.rejected/ (`msg` says why, where) */
    WATCH_JOB_GONE,    /* nothing to do: another watcher finished the claim */
    WATCH_JOB_FAILED,  /* it cannot start; its log records why (run_start, run_end failed) */
    WATCH_JOB_LOCKED,  /* another process runs it */
    WATCH_JOB_ERROR,   /* an I/O problem; nothing recorded: the next start tries again */
};

struct watch_job {
    enum watch_job_outcome outcome;
    char *name;      /* the inbox name of a claim, NULL for a job directory */
    char *dir;       /* the job directory, NULL when there is none (refused, gone, error) */
    struct job *job; /* WATCH_JOB_OPENED: the receiver owns it (job_close, free) */
    char *diags;     /* the workflow's diagnostics, one per line, or NULL */
    char *msg;       /* what happened, for the log (refused, failed, locked, error) */
    char *leftover;  /* what of a claimed original could not be removed, or NULL */
    struct watch_jobs *q;
    /* the request (owned) */
    char *stage, *endpoint;
    const char **sets;
    struct job_opts opts;
    const char *inbox, *jobs;
    unsigned claim_flags;
};

struct watch_jobs;

struct watch_jobs *watch_jobs_new(struct gf_err *err);
int watch_jobs_fd(const struct watch_jobs *q);
/* Start the work for one job: finish the claim in `stage` (inbox name `name`, NULL for a
 * claim taken over from a dead watcher) and open the job it becomes, or (stage NULL) open the
 * job directory `dir`. Returns 0, or -1 with err when no thread could be started. */
int watch_jobs_start(struct watch_jobs *q, const struct watch_job_settings *s, const char *stage,
                     const char *name, const char *dir, struct gf_err *err);
/* The next finished piece of work (caller frees it with watch_job_free), or NULL. */
struct watch_job *watch_jobs_next(struct watch_jobs *q);
/* Threads started and not yet returned by watch_jobs_next. */
size_t watch_jobs_busy(const struct watch_jobs *q);
/* Only when none is busy; NULL is a no-op. */
void watch_jobs_free(struct watch_jobs *q);
/* Frees the result (not j->job). */
void watch_job_free(struct watch_job *j);

/* Whether the job in DIR failed to load under these settings (its last run_end says so, with
 * the digest) and nothing that decided it has changed since: then the watcher's start-up
 * leaves it alone. Sets *changed when it did fail to load and something changed. */
bool watch_job_failed_unchanged(const char *dir, const struct watch_job_settings *s, bool *changed);

#endif
