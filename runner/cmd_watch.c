/* cmd_watch: `gemflow watch INBOX --jobs DIR`: a long-running service that turns every script
 * dropped into INBOX into a job under DIR and runs up to N jobs at once, all on one engine (one
 * event loop, one HTTP client, shared rate limits). The inbox itself is watch.c's. */
#include "cli.h"
#include "engine.h"
#include "fsutil.h"
#include "joblock.h"
#include "jobfacts.h"
#include "joblog.h"
#include "jsonutil.h"
#include "loop.h"
#include "util.h"
#include "watch.h"

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
    size_t running;      /* jobs handed to the engine that have not ended */
    struct strq resumes; /* unfinished job directories found at start */
    struct strq drops;   /* inbox names waiting for a free slot */
    bool paused;         /* the workflow does not load: claim nothing until SIGHUP */
    /* Where every job's requests go, whatever a drop says: --endpoint, else $GEMINI_BASE_URL,
     * else the operator's workflow's `endpoint:`, else the default (NULL). */
    const char *endpoint_opt; /* --endpoint as given */
    char *endpoint;           /* the chosen one when it comes from the workflow */
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

/* A job that cannot start (bad workflow, bad input) stays in DIR with its reason: a run_start
 * and a run_end {state: failed, error: {kind, message}} in its progress log, so `gemflow
 * status` shows it and the next start of the watcher does not try it again. */
static void record_failure(struct watcher *w, const char *dir, const char *workflow,
                           const struct diag_list *dl, const struct gf_err *why)
{
    struct gf_err err = GF_ERR_INIT;
    struct joblog log = {.fd = -1};
    int lock = joblock_acquire(dir, &err);
    if (lock < 0 || joblog_open(&log, dir, NULL, &err) < 0) {
        note(w, -1, "cannot record why '%s' failed: %s", dir, err.msg);
        joblock_release(lock);
        return;
    }
    struct buf msg = BUF_INIT;
    for (size_t i = 0; i < dl->n; i++) {
        char *s = diag_format(&dl->v[i]);
        buf_addf(&msg, "%s\n", s);
        free(s);
    }
    buf_adds(&msg, why->msg);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "pid", getpid());
    json_add_str_or_null(f, "workflow", workflow);
    cJSON_AddStringToObject(f, "version", GEMFLOW_VERSION);
    if (joblog_append(&log, "run_start", f, true, &err) == 0) {
        f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "state", "failed");
        cJSON_AddNumberToObject(f, "ms", 0);
        cJSON_AddNumberToObject(f, "calls", 0);
        cJSON_AddNumberToObject(f, "tokens", 0);
        cJSON_AddNullToObject(f, "cost_estimate");
        cJSON *e = cJSON_AddObjectToObject(f, "error");
        cJSON_AddStringToObject(e, "kind", gf_err_kind_name(why->kind));
        cJSON_AddStringToObject(e, "message", msg.data);
        joblog_append(&log, "run_end", f, true, &err);
    }
    if (err.kind != GF_ERR_NONE)
        note(w, -1, "cannot record why '%s' failed: %s", dir, err.msg);
    buf_release(&msg);
    joblog_close(&log);
    joblock_release(lock);
}

/* Open a job directory and hand it to the engine. A job with its own workflow.yaml runs that
 * as far as --allow-job-workflows trusts it (the loader's trust level); any other runs the
 * watcher's workflow. Returns true when it started. */
static bool start_job(struct watcher *w, const char *dir)
{
    struct job_opts opts = w->jc.job;
    char *own = fs_join(dir, "workflow.yaml");
    bool has_own = access(own, F_OK) == 0;
    struct job *job = xcalloc(1, sizeof *job);
    struct diag_list dl = DIAG_LIST_INIT;
    struct gf_err err = GF_ERR_INIT;
    bool started = false;
    if (job_open(job, dir, &opts, JOB_RUN, &dl, &err) == 0) {
        engine_add_job(w->e, job);
        w->running++;
        started = true;
    } else if (err.kind == GF_ERR_LOCKED) {
        note(w, 0, "%s; leaving it to that process", err.msg);
        free(job);
    } else if (err.kind == GF_ERR_IO) { /* may pass: not recorded, so the next start tries again */
        note(w, -1, "job '%s' cannot start: %s (it is tried again at the next start)", dir,
             err.msg);
        free(job);
    } else {
        for (size_t i = 0; i < dl.n; i++) {
            char *s = diag_format(&dl.v[i]);
            fprintf(stderr, "%s\n", s);
            free(s);
        }
        note(w, -1, "job '%s' cannot start: %s (recorded; see: gemflow status %s)", dir, err.msg,
             dir);
        record_failure(w, dir, has_own ? own : opts.wf.workflow_path, &dl, &err);
        free(job);
    }
    diag_list_release(&dl);
    free(own);
    return started;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Start-up: queue every unfinished job directory under DIR for resuming. */
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
    for (size_t i = 0; i < n; i++) {
        if (jobfacts_unfinished(names[i]))
            strq_push(&w->resumes, names[i]);
        else
            free(names[i]);
    }
    free(names);
}

static void on_recovered(void *ctx, const char *job_dir, const char *msg)
{
    struct watcher *w = ctx;
    /* a published job is then found unfinished by scan_jobs, like any other */
    if (job_dir)
        note(w, 0, "finished a claim left by a watcher that died: '%s'", job_dir);
    else
        note(w, 0, "%s", msg);
}

/* --- drops ------------------------------------------------------------------------------- */

static void refuse(struct watcher *w, const char *name, const char *why)
{
    struct buf where = BUF_INIT;
    struct gf_err err = GF_ERR_INIT;
    int r = watch_refuse(w->inbox, name, why, &where, &err);
    if (r == 0)
        note(w, -1, "refused '%s': %s; moved to '%s'", name, why, where.data);
    else if (r < 0)
        note(w, -1, "%s", err.msg);
    buf_release(&where);
}

/* Whether the drop directory `name` holds no workflow.yaml of its own. */
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
 * and start its job, or refuse it. Returns true when a job started. */
static bool take_drop(struct watcher *w, const char *name)
{
    struct buf why = BUF_INIT, dir = BUF_INIT, refused = BUF_INIT;
    struct gf_err err = GF_ERR_INIT;
    bool started = false;
    enum watch_kind k = watch_judge(w->inbox, name, WATCH_EV_READY, &why);
    if (k == WATCH_DIR && w->jc.job.wf.trust == WF_TRUST_NONE && !lacks_own_workflow(w, name)) {
        refuse(w, name,
               "a directory with a workflow.yaml of its own (this watcher runs "
               "--allow-job-workflows none: drops run its workflow)");
    } else if (k == WATCH_REFUSE) {
        refuse(w, name, why.data);
    } else if (k == WATCH_FILE || k == WATCH_DIR) {
        if (runs_our_workflow(w, name, k) && check_workflow(w, &err) < 0) {
            pause_claims(w, err.msg);
            goto out;
        }
        int r = watch_claim(w->inbox, name, k, w->jobs, &dir, &refused, &err);
        if (r == 0) {
            note(w, 0, "claimed '%s' as job '%s'", name, dir.data);
            started = start_job(w, dir.data);
        } else if (r == 1 && refused.len) {
            note(w, -1, "refused '%s': %s", name, refused.data);
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
    buf_release(&dir);
    buf_release(&refused);
    return started;
}

/* Start jobs while there is a free slot: unfinished jobs first, then drops. */
static bool pump(struct watcher *w)
{
    bool started = false;
    while (!stopping(w) && w->running < (size_t)w->max_jobs) {
        char *s = strq_pop(&w->resumes);
        if (s) {
            note(w, 0, "resuming job '%s'", s);
            started |= start_job(w, s);
            free(s);
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
    struct buf why = BUF_INIT;
    enum watch_kind k = watch_judge(w->inbox, name, ev, &why);
    if (k == WATCH_REFUSE)
        refuse(w, name, why.data);
    else if (k == WATCH_SKIP && why.len)
        note(w, ev == WATCH_EV_CREATED ? 1 : 0, "ignoring '%s': %s", name, why.data);
    else if (k != WATCH_SKIP && w->paused)
        note(w, 0, "'%s' waits in the inbox: the workflow does not load (fix it, then send SIGHUP)",
             name);
    else if (k != WATCH_SKIP)
        strq_push(&w->drops, xstrdup(name));
    buf_release(&why);
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
    /* a slot freed by a job that ended: fill it now, and come back at once for the new job */
    return pump(ctx) ? 0 : -1;
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
    loop_add_fd(engine_loop(w->e), watch_fd(w->w), on_inbox_readable, w);
    /* Catch up, then say so: "watching" means what was there before is handled. */
    watch_recover(w->jobs, on_recovered, w);
    scan_jobs(w);
    rescan(w);
    note(w, 0, "watching '%s'; jobs go to '%s', up to %ld at once; %zu unfinished to resume",
         w->inbox, w->jobs, w->max_jobs, w->resumes.n - w->resumes.head);
    pump(w);
    int rc = engine_run(w->e);
    if (w->fatal)
        rc = GF_EXIT_USAGE;
    else if (engine_stop_level(w->e) > 0)
        rc = GF_EXIT_INTERRUPTED;
    note(w, 0, "stopped");
    loop_remove_fd(engine_loop(w->e), watch_fd(w->w));
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
    free(w.resumes.v);
    free(w.drops.v);
    if (key) {
        memset(key, 0, strlen(key));
        free(key);
    }
    free(w.fatal);
    free(w.endpoint);
    job_cli_release(&w.jc);
    return rc;
}
