/* watcher: the state of a running `gemflow watch` and the callbacks that serve it (watcher.c);
 * cmd_watch.c fills it from the command line, then drives the engine's loop. Internal to the
 * watch command.
 *
 * Calling sequence (cmd_watch.c):
 *   watcher_check_workflow(&w, &err);                      // at start: the operator's workflow
 *   loop_add_fd(loop, watch_fd(w.w), watcher_on_inbox_readable, &w);
 *   loop_add_fd(loop, watch_jobs_fd(w.q), watcher_on_job_ready, &w);
 *   watch_recover(jobs, watcher_on_recovered, &w); watcher_scan_jobs(&w); watcher_rescan(&w);
 *   watcher_pump(&w); engine_run(e);                       // hooks call watcher_pump again */
#ifndef GF_WATCHER_H
#define GF_WATCHER_H

#include "cli.h"
#include "engine.h"
#include "watch.h"
#include "watch_job.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

/* A FIFO of owned strings. */
struct watcher_queue {
    char **v;
    size_t head, n, cap;
};

struct watcher {
    const char *inbox, *jobs;
    struct stat inbox_st;
    struct job_cli jc;
    long max_jobs;
    int64_t grace_ms;
    struct engine *e;
    struct watch *w;
    size_t running;               /* jobs handed to the engine that have not ended */
    struct watcher_queue resumes; /* unfinished job directories found at start */
    struct watcher_queue drops;   /* inbox names waiting for a free slot */
    struct watcher_queue claims;  /* claims a dead watcher left, taken over, waiting for a slot */
    struct watch_jobs *q;         /* claims being finished and jobs being opened, on threads */
    bool paused;                  /* the workflow does not load: claim nothing until SIGHUP */
    /* Where every job's requests go, whatever a drop says: --endpoint, else $GEMINI_BASE_URL,
     * else the operator's workflow's `endpoint:`, else the default (NULL). */
    const char *endpoint_opt; /* --endpoint as given */
    char *endpoint;           /* the chosen one when it comes from the workflow */
    char *workflow;           /* --workflow made absolute: jobs record it (drop marker) */
    char *fatal;              /* why the watcher stops on its own (the inbox went away), or NULL */
};

void watcher_queue_push(struct watcher_queue *q, char *s); /* takes s */
/* The oldest string (caller frees), or NULL. */
char *watcher_queue_pop(struct watcher_queue *q);
/* Free the strings queued; the array stays for reuse (free q->v at the end). */
void watcher_queue_clear(struct watcher_queue *q);

/* A line on stderr when `level` <= the verbosity (-1 failures, 0 normal, 1 verbose). */
void watcher_note(const struct watcher *w, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Stop on its own (the inbox or the jobs directory went away): calls in flight finish. */
void watcher_stop_fatal(struct watcher *w, const char *msg);
bool watcher_stopping(const struct watcher *w);
/* Load the operator's workflow (--workflow, else the bundled one) to know it loads, and take
 * its endpoint unless --endpoint or $GEMINI_BASE_URL chose one. -1 with err (diagnostics on
 * stderr). */
int watcher_check_workflow(struct watcher *w, struct gf_err *err);
/* Start work while a -j slot is free: unfinished jobs, taken-over claims, then drops. Returns
 * true when something started. */
bool watcher_pump(struct watcher *w);
/* The operator's workflow stopped loading: claim nothing until SIGHUP finds it loading. */
void watcher_pause_claims(struct watcher *w, const char *msg);
/* Queue everything in the inbox (start-up, overflow, reload). */
void watcher_rescan(struct watcher *w);
/* Start-up: queue the jobs under DIR to resume (see watcher.c). */
void watcher_scan_jobs(struct watcher *w);
/* watch_recover's callback: a claim to finish, or a message. */
void watcher_on_recovered(void *ctx, const char *stage, const char *msg);
/* Loop callbacks: results of the job threads; inotify events of the inbox. */
void watcher_on_job_ready(void *ctx, int fd);
void watcher_on_inbox_readable(void *ctx, int fd);

#endif
