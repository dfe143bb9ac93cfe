/* cmd_watch: `gemflow watch INBOX --jobs DIR`: a long-running service that turns every script
 * dropped into INBOX into a job under DIR and runs up to N jobs at once, all on one engine (one
 * event loop, one HTTP client, shared rate limits). The inbox itself is watch.c's. */
#include "fsutil.h"
#include "loop.h"
#include "util.h"
#include "watcher.h"

#include <errno.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_JOBS     4
#define MAX_JOBS         256
#define DEFAULT_GRACE_MS 30000

/* --- engine hooks ------------------------------------------------------------------------ */

static void on_job_ended(void *ctx, struct job *job)
{
    struct watcher *w = ctx;
    job_close(job);
    free(job);
    w->running--;
}

static int64_t on_tick(void *ctx, int64_t now)
{
    /* a slot freed by a job that ended: fill it now (its job comes back through
     * watcher_on_job_ready) */
    watcher_pump(ctx);
    return -1;
}

static void on_reload(void *ctx)
{
    struct watcher *w = ctx;
    struct gf_err err = GF_ERR_INIT;
    if (watcher_stopping(w))
        return;
    if (watcher_check_workflow(w, &err) < 0) {
        watcher_pause_claims(w, err.msg);
        return;
    }
    watcher_note(w, 0, "SIGHUP: the workflow loads%s; rescanning the inbox",
                 w->paused ? ", claiming again" : "");
    w->paused = false;
    watcher_rescan(w);
    watcher_pump(w);
}

/* --- the command ------------------------------------------------------------------------- */

/* --jobs DIR, -j N, --grace DURATION */
static int watch_own(void *ctx, int id, const char *arg, char *why, size_t why_len)
{
    struct watcher *w = ctx;
    char *end;
    switch (id) {
    case OPT_JOBS:
        w->jobs = arg;
        return 0;
    case OPT_MAX_JOBS:
        w->max_jobs = strtol(arg, &end, 10);
        if (*end || end == arg || w->max_jobs < 1 || w->max_jobs > MAX_JOBS) {
            snprintf(why, why_len, "-j needs a number of jobs from 1 to %d, got '%s'", MAX_JOBS,
                     arg);
            return -1;
        }
        return 0;
    case OPT_GRACE:
        if (parse_duration_ms(arg, &w->grace_ms) < 0 || w->grace_ms > 7 * 86400000LL) {
            snprintf(why, why_len, "--grace needs a duration such as 30s, got '%s'", arg);
            return -1;
        }
        return 0;
    }
    return -1;
}

static int parse(struct watcher *w, int argc, char **argv)
{
    int rc = cli_parse("watch", argc, argv, &w->jc, watch_own, w);
    if (rc)
        return rc;
    if (optind != argc - 1)
        return cli_usage_error("watch", optind >= argc ? "no inbox given: gemflow watch INBOX "
                                                         "--jobs DIR"
                                                       : "more than one inbox given");
    w->inbox = argv[optind];
    w->endpoint_opt = w->jc.job.endpoint;
    if (w->jc.job.wf.workflow_path) { /* a job made from a drop names it for later commands */
        w->workflow = realpath(w->jc.job.wf.workflow_path, NULL);
        if (!w->workflow)
            return cli_usage_error(NULL, "cannot use workflow '%s': %s", w->jc.job.wf.workflow_path,
                                   strerror(errno));
        w->jc.job.wf.workflow_path = w->workflow;
    }
    if (!w->jobs)
        return cli_usage_error("watch", "--jobs DIR is required: where the jobs go");
    return 0;
}

/* The checks before anything runs: directories, one filesystem, the workflow. */
static int prepare(struct watcher *w)
{
    struct gf_err err = GF_ERR_INIT;
    if (stat(w->inbox, &w->inbox_st) < 0)
        return cli_usage_error(NULL, "cannot use inbox '%s': %s", w->inbox, strerror(errno));
    if (!S_ISDIR(w->inbox_st.st_mode))
        return cli_usage_error(NULL, "inbox '%s' is not a directory", w->inbox);
    if (!fs_is_dir(w->jobs))
        return cli_usage_error(NULL,
                               "jobs directory '%s' is not a directory (create it on the same "
                               "filesystem as the inbox)",
                               w->jobs);
    if (watch_check_rename(w->inbox, w->jobs, &err) < 0 || watcher_check_workflow(w, &err) < 0) {
        fprintf(stderr, "gemflow: %s\n", err.msg);
        return GF_EXIT_USAGE;
    }
    return 0;
}

/* Say what a drop may choose and where requests go, for whoever reads the service's log. */
static void say_trust(const struct watcher *w)
{
    static const char *const what[] = {
        [WF_TRUST_FULL] = "its whole workflow, but not the endpoint",
        [WF_TRUST_SET] = "only 'use:' of this watcher's workflow and 'set:' of content fields",
        [WF_TRUST_NONE] = "nothing: a drop with a workflow.yaml is refused",
    };
    const char *env = getenv("GEMINI_BASE_URL");
    const char *ep = w->jc.job.endpoint ? w->jc.job.endpoint : env && env[0] ? env : NULL;
    enum wf_trust t = w->jc.job.wf.trust;
    watcher_note(
        w, 0,
        "--allow-job-workflows %s: a drop's workflow.yaml may choose %s; requests go to %s%s%s",
        workflow_trust_name(t), t < ARRAY_SIZE(what) && what[t] ? what[t] : "?", ep ? "'" : "",
        ep ? ep : "the default endpoint", ep ? "'" : "");
}

static int serve(struct watcher *w, const char *key)
{
    struct gf_err err = GF_ERR_INIT;
    struct engine_opts eo = {.api_key = key,
                             .verbosity = w->jc.verbosity,
                             .grace_ms = w->grace_ms,
                             .share_concurrency = true,
                             .quota_dir = w->jc.quota_dir,
                             .no_wait_quota = w->jc.no_wait_quota};
    w->e = engine_new(&eo, &err);
    if (!w->e) {
        fprintf(stderr, "gemflow: %s\n", err.msg);
        return GF_EXIT_FAILED;
    }
    struct engine_hooks hooks = {.ctx = w,
                                 .job_ended = on_job_ended,
                                 .tick = on_tick,
                                 .reload = on_reload,
                                 .keep_running = true};
    engine_set_hooks(w->e, &hooks);
    engine_install_signals(w->e);
    /* Watch first, then look: a drop made while we look is seen either way. */
    w->w = watch_open(w->inbox, &err);
    if (!w->w) {
        fprintf(stderr, "gemflow: %s\n", err.msg);
        engine_free(w->e);
        return GF_EXIT_USAGE;
    }
    w->q = watch_jobs_new(&err);
    if (!w->q) {
        fprintf(stderr, "gemflow: %s\n", err.msg);
        watch_free(w->w);
        engine_free(w->e);
        return GF_EXIT_FAILED;
    }
    loop_add_fd(engine_loop(w->e), watch_fd(w->w), watcher_on_inbox_readable, w);
    loop_add_fd(engine_loop(w->e), watch_jobs_fd(w->q), watcher_on_job_ready, w);
    /* Catch up, then say so: "watching" means what was there before is handled. */
    watch_recover(w->jobs, watcher_on_recovered, w);
    watcher_scan_jobs(w);
    watcher_rescan(w);
    watcher_note(w, 0,
                 "watching '%s'; jobs go to '%s', up to %ld at once; %zu unfinished to resume",
                 w->inbox, w->jobs, w->max_jobs, w->resumes.n - w->resumes.head);
    say_trust(w);
    watcher_pump(w);
    int rc = engine_run(w->e);
    if (w->fatal)
        rc = GF_EXIT_USAGE;
    else if (engine_stop_level(w->e) > 0)
        rc = GF_EXIT_INTERRUPTED;
    /* what finished meanwhile is said (and a job opened too late is closed unrun) */
    watcher_on_job_ready(w, watch_jobs_fd(w->q));
    size_t busy = watch_jobs_busy(w->q);
    if (busy) {
        /* A thread still copies a drop or opens a job (a huge workflow, a slow disk): it holds
         * nothing a crash would not leave as well (a claim the next start finishes, a job it
         * resumes), and it cannot be interrupted, so the process ends without it. */
        watcher_note(w, 0,
                     "stopped; abandoning %zu job%s still being claimed or opened (the next start "
                     "takes %s up again)",
                     busy, busy == 1 ? "" : "s", busy == 1 ? "it" : "them");
        fflush(NULL);
        _exit(rc);
    }
    watcher_note(w, 0, "stopped");
    loop_remove_fd(engine_loop(w->e), watch_jobs_fd(w->q));
    loop_remove_fd(engine_loop(w->e), watch_fd(w->w));
    watch_jobs_free(w->q);
    watch_free(w->w);
    engine_free(w->e);
    return rc;
}

int cmd_watch(int argc, char **argv)
{
    struct watcher w = {.max_jobs = DEFAULT_JOBS, .grace_ms = DEFAULT_GRACE_MS};
    w.jc.job.wf.trust = WF_TRUST_SET; /* --allow-job-workflows set */
    char *key = NULL;
    int rc = parse(&w, argc, argv);
    if (rc != 0)
        goto out;
    /* The key first: without one nothing else happens. */
    struct gf_err err = GF_ERR_INIT;
    key = cli_api_key(w.jc.api_key_file, &err);
    if (!key) {
        fprintf(stderr, "gemflow: %s\n", err.msg);
        rc = GF_EXIT_USAGE;
        goto out;
    }
    rc = prepare(&w);
    if (rc == 0)
        rc = serve(&w, key);
out:
    watcher_queue_clear(&w.resumes);
    watcher_queue_clear(&w.drops);
    watcher_queue_clear(&w.claims);
    free(w.resumes.v);
    free(w.drops.v);
    free(w.claims.v);
    cli_api_key_free(key);
    free(w.fatal);
    free(w.endpoint);
    free(w.workflow);
    job_cli_release(&w.jc);
    return rc;
}
