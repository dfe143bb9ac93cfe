/* cmd_watch: `gemflow watch INBOX --jobs DIR`: a long-running service that turns every script
 * dropped into INBOX into a job under DIR and runs up to N jobs at once, all on one engine (one
 * event loop, one HTTP client, shared rate limits). The inbox itself is watch.c's. */
#include "cli.h"
#include "engine.h"
#include "fsutil.h"
#include "jobfacts.h"
#include "loop.h"
#include "util.h"
#include "watch.h"
#include "watch_copy.h"
#include "watch_job.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_JOBS     4
#define MAX_JOBS         256
#define DEFAULT_GRACE_MS 30000

enum { OPT_JOBS_DIR = 0x200, OPT_GRACE, OPT_ALLOW };

static const struct option watch_options[] = {
    {"jobs", required_argument, NULL, OPT_JOBS_DIR},
    {"grace", required_argument, NULL, OPT_GRACE},
    {"allow-job-workflows", required_argument, NULL, OPT_ALLOW},
    {"set", required_argument, NULL, OPT_SET},
    {"workflow", required_argument, NULL, OPT_WORKFLOW},
    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
    {"api-key-file", required_argument, NULL, OPT_API_KEY_FILE},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {NULL, 0, NULL, 0},
};

/* A FIFO of owned strings. */
struct strq {
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
    size_t running;       /* jobs handed to the engine that have not ended */
    struct strq resumes;  /* unfinished job directories found at start */
    struct strq drops;    /* inbox names waiting for a free slot */
    struct strq claims;   /* claims a dead watcher left, taken over, waiting for a slot */
    struct watch_jobs *q; /* claims being finished and jobs being opened, on threads */
    bool paused;          /* the workflow does not load: claim nothing until SIGHUP */
    /* Where every job's requests go, whatever a drop says: --endpoint, else $GEMINI_BASE_URL,
     * else the operator's workflow's `endpoint:`, else the default (NULL). */
    const char *endpoint_opt; /* --endpoint as given */
    char *endpoint;           /* the chosen one when it comes from the workflow */
    char *workflow;           /* --workflow made absolute: jobs record it (drop marker) */
    char *fatal;              /* why the watcher stops on its own (the inbox went away), or NULL */
};

static void strq_push(struct strq *q, char *s)
{
    if (q->head > 0 && q->head * 2 >= q->n) { /* reuse the consumed front */
        memmove(q->v, q->v + q->head, (q->n - q->head) * sizeof *q->v);
        q->n -= q->head;
        q->head = 0;
    }
    *VEC_PUSH(q->v, q->n, q->cap) = s;
}

static char *strq_pop(struct strq *q)
{
    return q->head < q->n ? q->v[q->head++] : NULL;
}

static void strq_clear(struct strq *q)
{
    for (size_t i = q->head; i < q->n; i++)
        free(q->v[i]);
    q->head = q->n = 0;
}

static void note(const struct watcher *w, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(const struct watcher *w, int level, const char *fmt, ...)
{
    if (level > w->jc.verbosity)
        return;
    char ts[40];
    now_rfc3339(ts, sizeof ts);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%.8s gemflow: watch: ", ts + 11);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void stop_fatal(struct watcher *w, const char *msg)
{
    if (w->fatal)
        return;
    w->fatal = xstrdup(msg);
    note(w, -1,
         "%s; stopping (calls in flight finish, then unfinished jobs resume on the next "
         "start)",
         msg);
    engine_stop(w->e, 1);
}

static bool stopping(const struct watcher *w)
{
    return w->fatal || engine_stop_level(w->e) > 0;
}

/* --- the workflow of file drops ---------------------------------------------------------- */

/* Load the workflow that jobs without their own workflow.yaml run (--workflow FILE, else the
 * bundled one), with --set applied, to know it loads; diagnostics go to stderr. It is the
 * operator's: trusted, unlike what drops bring, and its endpoint is every job's unless
 * --endpoint or $GEMINI_BASE_URL says otherwise. */
static int check_workflow(struct watcher *w, struct gf_err *err)
{
    struct wf_load_opts ours = w->jc.job.wf;
    ours.trust = WF_TRUST_ALL;
    struct buf path = BUF_INIT;
    const char *file = w->jc.job.wf.workflow_path;
    if (!file) {
        if (workflow_find_bundled("script-to-media", &path) < 0)
            return gf_error(err, GF_ERR_CONFIG,
                            "the bundled workflow 'script-to-media' was not found (set "
                            "GEMFLOW_WORKFLOWS, or pass --workflow FILE)");
        file = path.data;
    }
    struct workflow wf;
    struct diag_list dl = DIAG_LIST_INIT;
    int rc = workflow_load_file(&wf, file, &ours, &dl);
    if (rc < 0) {
        for (size_t i = 0; i < dl.n; i++) {
            char *s = diag_format(&dl.v[i]);
            fprintf(stderr, "%s\n", s);
            free(s);
        }
        gf_error(err, GF_ERR_CONFIG, "the workflow '%s' has errors", file);
    } else {
        const char *env = getenv("GEMINI_BASE_URL");
        if (!w->endpoint_opt && !(env && env[0])) {
            free(w->endpoint);
            w->endpoint = wf.endpoint ? xstrdup(wf.endpoint) : NULL;
            w->jc.job.endpoint = w->endpoint;
        }
        workflow_release(&wf);
    }
    diag_list_release(&dl);
    buf_release(&path);
    return rc;
}

/* --- jobs -------------------------------------------------------------------------------- */

/* The settings a job thread works with: the watcher's, as they are now. */
static struct watch_job_settings settings(const struct watcher *w)
{
    struct watch_job_settings s = {.inbox = w->inbox, .jobs = w->jobs, .job = w->jc.job};
    s.claim_flags = w->jc.job.wf.trust == WF_TRUST_NONE ? WATCH_NO_WORKFLOW : 0;
    return s;
}

/* Finish the claim in `stage` (NULL: open the job directory `dir`) and open its job, on a
 * thread of its own; it takes a slot until its result is in (on_job_ready). */
static void start_work(struct watcher *w, const char *stage, const char *name, const char *dir)
{
    struct watch_job_settings s = settings(w);
    struct gf_err err = GF_ERR_INIT;
    if (watch_jobs_start(w->q, &s, stage, name, dir, &err) < 0)
        note(w, -1, "%s (it is tried again at the next start)", err.msg);
}

/* A job thread's result: a job to run, or why there is none. A job that cannot start (bad
 * workflow, bad input, a setting a drop may not make) was recorded in its log by the thread:
 * `gemflow status` shows why, and the next start leaves it alone until its files change. */
static void job_ready(struct watcher *w, struct watch_job *j)
{
    if (j->diags)
        fputs(j->diags, stderr);
    if (j->leftover)
        note(w, -1, "%s; remove it by hand", j->leftover);
    switch (j->outcome) {
    case WATCH_JOB_OPENED:
        if (j->name)
            note(w, 0, "claimed '%s' as job '%s'", j->name, j->dir);
        else if (j->stage)
            note(w, 0, "finished the claim '%s' as job '%s'", j->stage, j->dir);
        if (stopping(w)) { /* nothing ran: it is resumed at the next start */
            job_close(j->job);
            free(j->job);
            break;
        }
        engine_add_job(w->e, j->job);
        w->running++;
        break;
    case WATCH_JOB_REFUSED: /* moved to .rejected/ after the claim */
        note(w, -1, "refused '%s': %s", j->name, j->msg);
        break;
    case WATCH_JOB_GONE:
        note(w, 1, "'%s': %s", j->name ? j->name : j->stage, j->msg);
        break;
    case WATCH_JOB_FAILED:
        note(w, -1, "job '%s' cannot start: %s (recorded; see: gemflow status %s)", j->dir, j->msg,
             j->dir);
        break;
    case WATCH_JOB_LOCKED:
        note(w, 0, "%s; leaving it to that process", j->msg);
        break;
    case WATCH_JOB_ERROR: /* may pass: not recorded, so the next start tries again */
        note(w, -1, "'%s' cannot start: %s (it is tried again at the next start)",
             j->dir    ? j->dir
             : j->name ? j->name
                       : j->stage,
             j->msg);
        if (!fs_is_dir(w->jobs)) {
            char *msg = xasprintf("jobs directory '%s' is gone", w->jobs);
            stop_fatal(w, msg);
            free(msg);
        }
        break;
    }
    watch_job_free(j);
}

static bool pump(struct watcher *w);

static void on_job_ready(void *ctx, int fd)
{
    struct watcher *w = ctx;
    struct watch_job *j;
    while ((j = watch_jobs_next(w->q)))
        job_ready(w, j);
    pump(w);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Start-up: queue every unfinished job directory under DIR for resuming, and every job that
 * failed to load when what decided it (its files, the watcher's workflow and settings) has
 * changed since; a job that failed to load and did not change is left alone. */
static void scan_jobs(struct watcher *w)
{
    DIR *d = opendir(w->jobs);
    if (!d)
        return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat st;
        if (de->d_name[0] == '.' || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISDIR(st.st_mode))
            continue;
        if (st.st_dev == w->inbox_st.st_dev && st.st_ino == w->inbox_st.st_ino)
            continue; /* the inbox itself lives in DIR */
        *VEC_PUSH(names, n, cap) = fs_join(w->jobs, de->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    struct watch_job_settings s = settings(w);
    for (size_t i = 0; i < n; i++) {
        bool changed = false;
        if (jobfacts_unfinished(names[i])) {
            strq_push(&w->resumes, names[i]);
        } else if (watch_job_failed_unchanged(names[i], &s, &changed)) {
            note(w, 1,
                 "leaving job '%s' alone: it failed to load and nothing that decided it changed "
                 "(see: gemflow status %s)",
                 names[i], names[i]);
            free(names[i]);
        } else if (changed) {
            note(w, 0,
                 "job '%s' failed to load, and its files or the watcher's settings changed "
                 "since: trying it again",
                 names[i]);
            strq_push(&w->resumes, names[i]);
        } else {
            free(names[i]);
        }
    }
    free(names);
}

static void on_recovered(void *ctx, const char *stage, const char *msg)
{
    struct watcher *w = ctx;
    /* finished like a claim of ours (after the resumes: it is no job directory yet) */
    if (stage) {
        note(w, 0, "finishing a claim left by a watcher that died: '%s'", stage);
        strq_push(&w->claims, xstrdup(stage));
    } else {
        note(w, 0, "%s", msg);
    }
}

/* --- drops ------------------------------------------------------------------------------- */

static void refuse(struct watcher *w, const char *name, const char *why)
{
    struct buf where = BUF_INIT, shown = BUF_INIT, shown_where = BUF_INIT;
    struct gf_err err = GF_ERR_INIT;
    int r = watch_refuse(w->inbox, name, why, &where, &err);
    watch_show_name(&shown, name); /* its name may hold escape sequences: never print them */
    if (r == 0) {
        watch_show_name(&shown_where, where.data);
        note(w, -1, "refused '%s': %s; moved to '%s'", shown.data, why, shown_where.data);
    } else if (r < 0) {
        note(w, -1, "cannot refuse '%s': %s", shown.data, err.msg);
    }
    buf_release(&where);
    buf_release(&shown);
    buf_release(&shown_where);
}

/* Whether the drop directory `name` holds no workflow.yaml of its own (the watcher's copy of
 * it is judged again). */
static bool lacks_own_workflow(const struct watcher *w, const char *name)
{
    char *rel = xasprintf("%s/workflow.yaml", name);
    char *p = fs_join(w->inbox, rel);
    struct stat st;
    bool own = lstat(p, &st) == 0;
    free(p);
    free(rel);
    return !own;
}

/* Whether a drop would run the watcher's workflow (a file, a directory without its own, or
 * any drop unless --allow-job-workflows full: its workflow.yaml only changes ours). */
static bool runs_our_workflow(const struct watcher *w, const char *name, enum watch_kind k)
{
    return k == WATCH_FILE || w->jc.job.wf.trust != WF_TRUST_FULL || lacks_own_workflow(w, name);
}

static void pause_claims(struct watcher *w, const char *msg)
{
    w->paused = true;
    strq_clear(&w->drops);
    note(w, -1,
         "%s; drops wait in the inbox until it loads: fix it, then send SIGHUP "
         "(systemctl reload)",
         msg);
}

/* Take one drop off the queue: judge it again (it may have changed or gone), then claim it
 * (a rename: quick) and hand the rest (the copy, opening the job) to a thread, or refuse it.
 * Returns true when a thread started. */
static bool take_drop(struct watcher *w, const char *name)
{
    struct buf why = BUF_INIT, stage = BUF_INIT;
    struct gf_err err = GF_ERR_INIT;
    bool started = false;
    enum watch_kind k = watch_judge(w->inbox, name, WATCH_EV_READY, &why);
    if (k == WATCH_REFUSE) {
        refuse(w, name, why.data);
    } else if (k == WATCH_FILE || k == WATCH_DIR) {
        if (runs_our_workflow(w, name, k) && check_workflow(w, &err) < 0) {
            pause_claims(w, err.msg);
            goto out;
        }
        int r = watch_take(w->inbox, name, w->jobs, &stage, &err);
        if (r == 0) {
            note(w, 1, "claimed '%s' into '%s'", name, stage.data);
            start_work(w, stage.data, name, NULL);
            started = true;
        } else if (r == 1) {
            note(w, 1, "'%s' was taken by another watcher", name);
        } else {
            note(w, -1, "%s", err.msg);
            if (!fs_is_dir(w->jobs)) {
                char *msg = xasprintf("jobs directory '%s' is gone", w->jobs);
                stop_fatal(w, msg);
                free(msg);
            }
        }
    }
out:
    buf_release(&why);
    buf_release(&stage);
    return started;
}

/* Start work while there is a free slot (a job running, or one being claimed and opened by a
 * thread, takes one): unfinished jobs first, then claims a dead watcher left, then drops. */
static bool pump(struct watcher *w)
{
    bool started = false;
    while (!stopping(w) && w->running + watch_jobs_busy(w->q) < (size_t)w->max_jobs) {
        char *s = strq_pop(&w->resumes);
        if (s) {
            note(w, 0, "resuming job '%s'", s);
            start_work(w, NULL, NULL, s);
            free(s);
            started = true;
            continue;
        }
        if ((s = strq_pop(&w->claims))) {
            start_work(w, s, NULL, NULL);
            free(s);
            started = true;
            continue;
        }
        if (w->paused || !(s = strq_pop(&w->drops)))
            break;
        started |= take_drop(w, s);
        free(s);
    }
    return started;
}

/* An inbox entry came up (event or rescan): refuse it now, or queue it for a slot. */
static void consider(struct watcher *w, const char *name, enum watch_ev ev)
{
    struct buf why = BUF_INIT, shown = BUF_INIT;
    enum watch_kind k = watch_judge(w->inbox, name, ev, &why);
    const char *odd = watch_name_problem(name);
    watch_show_name(&shown, name);
    if (k != WATCH_SKIP && odd) { /* it would end up in job names, logs and terminals */
        buf_reset(&why);
        buf_addf(&why, "a name with %s", odd);
        refuse(w, name, why.data);
    } else if (k == WATCH_REFUSE)
        refuse(w, name, why.data);
    else if (k == WATCH_SKIP && why.len)
        note(w, ev == WATCH_EV_CREATED ? 1 : 0, "ignoring '%s': %s", shown.data, why.data);
    else if (k != WATCH_SKIP && w->paused)
        note(w, 0, "'%s' waits in the inbox: the workflow does not load (fix it, then send SIGHUP)",
             shown.data);
    else if (k != WATCH_SKIP)
        strq_push(&w->drops, xstrdup(name));
    buf_release(&why);
    buf_release(&shown);
}

/* Queue everything in the inbox (start-up, overflow, reload). Duplicates in the queue are
 * harmless: a second claim finds the name gone. */
static void rescan(struct watcher *w)
{
    char **names;
    struct gf_err err = GF_ERR_INIT;
    long n = watch_list(w->inbox, &names, &err);
    if (n < 0) {
        stop_fatal(w, err.msg);
        return;
    }
    for (long i = 0; i < n; i++) {
        if (!stopping(w))
            consider(w, names[i], WATCH_EV_READY);
        free(names[i]);
    }
    free(names);
}

static void on_inbox_event(void *ctx, enum watch_ev ev, const char *name)
{
    struct watcher *w = ctx;
    if (stopping(w))
        return;
    switch (ev) {
    case WATCH_EV_GONE: {
        char *msg = xasprintf("inbox '%s' %s", w->inbox, name);
        stop_fatal(w, msg);
        free(msg);
        break;
    }
    case WATCH_EV_OVERFLOW: /* the kernel dropped events: look at everything */
        note(w, 0, "the inotify queue overflowed and events were lost; rescanning '%s'", w->inbox);
        rescan(w);
        break;
    case WATCH_EV_READY:
    case WATCH_EV_CREATED:
        consider(w, name, ev);
        break;
    }
}

static void on_inbox_readable(void *ctx, int fd)
{
    struct watcher *w = ctx;
    struct gf_err err = GF_ERR_INIT;
    if (watch_read(w->w, on_inbox_event, w, &err) < 0)
        stop_fatal(w, err.msg);
    if (w->fatal)
        loop_remove_fd(engine_loop(w->e), fd);
    else
        pump(w);
}

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
    /* a slot freed by a job that ended: fill it now (its job comes back through on_job_ready) */
    pump(ctx);
    return -1;
}

static void on_reload(void *ctx)
{
    struct watcher *w = ctx;
    struct gf_err err = GF_ERR_INIT;
    if (stopping(w))
        return;
    if (check_workflow(w, &err) < 0) {
        pause_claims(w, err.msg);
        return;
    }
    note(w, 0, "SIGHUP: the workflow loads%s; rescanning the inbox",
         w->paused ? ", claiming again" : "");
    w->paused = false;
    rescan(w);
    pump(w);
}

/* --- the command ------------------------------------------------------------------------- */

static int parse(struct watcher *w, int argc, char **argv)
{
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "j:qv", watch_options, NULL)) != -1) {
        char *end;
        switch (opt) {
        case OPT_JOBS_DIR:
            w->jobs = optarg;
            continue;
        case 'j':
            w->max_jobs = strtol(optarg, &end, 10);
            if (*end || end == optarg || w->max_jobs < 1 || w->max_jobs > MAX_JOBS)
                return cli_usage_error("watch", "-j needs a number of jobs from 1 to %d, got '%s'",
                                       MAX_JOBS, optarg);
            continue;
        case OPT_GRACE:
            if (parse_duration_ms(optarg, &w->grace_ms) < 0 || w->grace_ms > 7 * 86400000LL)
                return cli_usage_error("watch", "--grace needs a duration such as 30s, got '%s'",
                                       optarg);
            continue;
        case OPT_ALLOW:
            if (workflow_trust_parse(optarg, &w->jc.job.wf.trust) < 0)
                return cli_usage_error(
                    "watch", "--allow-job-workflows needs none, set or full, got '%s'", optarg);
            continue;
        }
        int r = opt == '?' || opt == ':' ? 0 : job_cli_option(&w->jc, opt, optarg);
        if (r == 1)
            continue;
        if (r < 0)
            return cli_usage_error("watch", "--set needs KEY=VALUE, got '%s'", optarg);
        return cli_usage_error("watch", "unknown option or missing value '%s'", argv[optind - 1]);
    }
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
    if (watch_check_rename(w->inbox, w->jobs, &err) < 0 || check_workflow(w, &err) < 0) {
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
    note(w, 0,
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
                             .share_concurrency = true};
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
    engine_install_signals();
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
    loop_add_fd(engine_loop(w->e), watch_fd(w->w), on_inbox_readable, w);
    loop_add_fd(engine_loop(w->e), watch_jobs_fd(w->q), on_job_ready, w);
    /* Catch up, then say so: "watching" means what was there before is handled. */
    watch_recover(w->jobs, on_recovered, w);
    scan_jobs(w);
    rescan(w);
    note(w, 0, "watching '%s'; jobs go to '%s', up to %ld at once; %zu unfinished to resume",
         w->inbox, w->jobs, w->max_jobs, w->resumes.n - w->resumes.head);
    say_trust(w);
    pump(w);
    int rc = engine_run(w->e);
    if (w->fatal)
        rc = GF_EXIT_USAGE;
    else if (engine_stop_level(w->e) > 0)
        rc = GF_EXIT_INTERRUPTED;
    size_t busy = watch_jobs_busy(w->q);
    if (busy) {
        /* A thread still copies a drop or opens a job (a huge workflow, a slow disk): it holds
         * nothing a crash would not leave as well (a claim the next start finishes, a job it
         * resumes), and it cannot be interrupted, so the process ends without it. */
        note(w, 0,
             "stopped; abandoning %zu job%s still being claimed or opened (the next start "
             "takes %s up again)",
             busy, busy == 1 ? "" : "s", busy == 1 ? "it" : "them");
        fflush(NULL);
        _exit(rc);
    }
    note(w, 0, "stopped");
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
    strq_clear(&w.resumes);
    strq_clear(&w.drops);
    strq_clear(&w.claims);
    free(w.resumes.v);
    free(w.drops.v);
    free(w.claims.v);
    if (key) {
        memset(key, 0, strlen(key));
        free(key);
    }
    free(w.fatal);
    free(w.endpoint);
    free(w.workflow);
    job_cli_release(&w.jc);
    return rc;
}
