/* engine: runs jobs. One single-threaded event loop drives every call of the process through
 * one HTTP client: it expands stages whose inputs are done, starts calls within the job-wide
 * concurrency limit and the per-model rate limits, retries what is retryable, records every
 * result (artifact, item_done, manifest, call record) and ends each job with run_end.
 *
 * SIGINT/SIGTERM (after engine_install_signals): no new calls; calls in flight finish and are
 * recorded; every job ends `interrupted`. A second signal abandons the calls in flight. */
#ifndef GF_ENGINE_H
#define GF_ENGINE_H

#include "err.h"
#include "job.h"

#include <stdbool.h>
#include <stdint.h>

struct engine;

struct engine_opts {
    const char *api_key;    /* required */
    int max_inflight;       /* cap on calls in flight over all jobs; 0 = only the jobs' limits */
    bool share_concurrency; /* the jobs of this process share one concurrency limit: the cap
                               rises to the largest limits.concurrency of the jobs added */
    int verbosity;          /* -1 quiet, 0 normal, 1 verbose */
    uint64_t seed;          /* backoff jitter; 0 = from the clock */
    int64_t grace_ms;       /* after a stop signal, abandon calls still in flight after this long;
                               0 = wait for them (a second signal abandons them at once) */
    const char *quota_dir;  /* the shared quota directory (quota.h); NULL: quota_dir_default */
    bool no_wait_quota;     /* a per-day quota used up fails the items instead of waiting */
};

/* Hooks for commands that drive the engine for longer than one batch of jobs (watch) or that
 * show progress (live bars). Every hook is optional. */
struct engine_hooks {
    void *ctx;
    /* A job has ended (run_end written). The engine forgets the job when this returns; the
     * hook may close and free it. */
    void (*job_ended)(void *ctx, struct job *job);
    /* Once per loop turn; returns the ms until it wants to run again, or -1 for no need. */
    int64_t (*tick)(void *ctx, int64_t now_ms);
    /* Every event appended to a job's progress log. */
    void (*event)(void *ctx, const struct job *job, const char *name, const cJSON *ev);
    /* SIGHUP was received. */
    void (*reload)(void *ctx);
    /* Keep running with no job left, until a stop signal or engine_stop. */
    bool keep_running;
};

struct engine *engine_new(const struct engine_opts *opts, struct gf_err *err);
void engine_set_hooks(struct engine *e, const struct engine_hooks *hooks);
/* The event loop, to watch more file descriptors (inotify, child pipes). */
struct loop *engine_loop(struct engine *e);
/* Add a job opened with JOB_RUN; the engine borrows it until it ends (see job_ended) or until
 * engine_free. Writes run_start. May be called while engine_run runs (from a hook). */
void engine_add_job(struct engine *e, struct job *job);
/* Run until every job has ended (and, with keep_running, until stopped). Returns
 * GF_EXIT_OK, GF_EXIT_FAILED (a stage failed in some job) or GF_EXIT_INTERRUPTED. */
enum gf_exit engine_run(struct engine *e);
/* Stop as a signal would: level 1 starts no new calls, level 2 abandons those in flight. */
void engine_stop(struct engine *e, int level);
/* 0 running, 1 stopping, 2 abandoning. */
int engine_stop_level(const struct engine *e);
/* Number of jobs the engine is running now. */
size_t engine_job_count(const struct engine *e);
void engine_free(struct engine *e);

/* SIGINT/SIGTERM (stop) and SIGHUP (reload) handlers feeding the engine's loop. */
void engine_install_signals(struct engine *e);

#endif
