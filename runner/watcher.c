/* watcher: the service behind `gemflow watch` (cmd_watch.c reads its options and runs the
 * loop): what becomes of each inbox entry, the queues of work waiting for a slot, and the
 * results of the threads that finish claims and open jobs (watch_job.c). */
#include "watcher.h"
#include "fsutil.h"
#include "jobfacts.h"
#include "loop.h"
#include "util.h"
#include "watch_copy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void watcher_queue_push(struct watcher_queue *q, char *s)
{
    if (q->head > 0 && q->head * 2 >= q->n) { /* reuse the consumed front */
        memmove(q->v, q->v + q->head, (q->n - q->head) * sizeof *q->v);
        q->n -= q->head;
        q->head = 0;
    }
    *VEC_PUSH(q->v, q->n, q->cap) = s;
}

char *watcher_queue_pop(struct watcher_queue *q)
{
    return q->head < q->n ? q->v[q->head++] : NULL;
}

void watcher_queue_clear(struct watcher_queue *q)
{
    for (size_t i = q->head; i < q->n; i++)
        free(q->v[i]);
    q->head = q->n = 0;
}

void watcher_note(const struct watcher *w, int level, const char *fmt, ...)
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

void watcher_stop_fatal(struct watcher *w, const char *msg)
{
    if (w->fatal)
        return;
    w->fatal = xstrdup(msg);
    watcher_note(w, -1,
                 "%s; stopping (calls in flight finish, then unfinished jobs resume on the next "
                 "start)",
                 msg);
    engine_stop(w->e, 1);
}

bool watcher_stopping(const struct watcher *w)
{
    return w->fatal || engine_stop_level(w->e) > 0;
}

/* --- the workflow of file drops ---------------------------------------------------------- */

/* Load the workflow that jobs without their own workflow.yaml run (--workflow FILE, else the
 * bundled one), with --set applied, to know it loads; diagnostics go to stderr. It is the
 * operator's: trusted, unlike what drops bring, and its endpoint is every job's unless
 * --endpoint or $GEMINI_BASE_URL says otherwise. */
int watcher_check_workflow(struct watcher *w, struct gf_err *err)
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
 * thread of its own; it takes a slot until its result is in (watcher_on_job_ready). */
static void start_work(struct watcher *w, const char *stage, const char *name, const char *dir)
{
    struct watch_job_settings s = settings(w);
    struct gf_err err = GF_ERR_INIT;
    if (watch_jobs_start(w->q, &s, stage, name, dir, &err) < 0)
        watcher_note(w, -1, "%s (it is tried again at the next start)", err.msg);
}

/* A job thread's result: a job to run, or why there is none. A job that cannot start (bad
 * workflow, bad input, a setting a drop may not make) was recorded in its log by the thread:
 * `gemflow status` shows why, and the next start leaves it alone until its files change. */
static void job_ready(struct watcher *w, struct watch_job *j)
{
    if (j->diags)
        fputs(j->diags, stderr);
    if (j->leftover)
        watcher_note(w, -1, "%s; remove it by hand", j->leftover);
    switch (j->outcome) {
    case WATCH_JOB_OPENED:
        if (j->name)
            watcher_note(w, 0, "claimed '%s' as job '%s'", j->name, j->dir);
        else if (j->stage)
            watcher_note(w, 0, "finished the claim '%s' as job '%s'", j->stage, j->dir);
        if (watcher_stopping(w)) { /* nothing ran: it is resumed at the next start */
            job_close(j->job);
            free(j->job);
            break;
        }
        engine_add_job(w->e, j->job);
        w->running++;
        break;
    case WATCH_JOB_REFUSED: /* moved to .rejected/ after the claim */
        watcher_note(w, -1, "refused '%s': %s", j->name, j->msg);
        break;
    case WATCH_JOB_GONE:
        watcher_note(w, 1, "'%s': %s", j->name ? j->name : j->stage, j->msg);
        break;
    case WATCH_JOB_FAILED:
        watcher_note(w, -1, "job '%s' cannot start: %s (recorded; see: gemflow status %s)", j->dir,
                     j->msg, j->dir);
        break;
    case WATCH_JOB_LOCKED:
        watcher_note(w, 0, "%s; leaving it to that process", j->msg);
        break;
    case WATCH_JOB_ERROR: /* may pass: not recorded, so the next start tries again */
        watcher_note(w, -1, "'%s' cannot start: %s (it is tried again at the next start)",
                     j->dir    ? j->dir
                     : j->name ? j->name
                               : j->stage,
                     j->msg);
        if (!fs_is_dir(w->jobs)) {
            char *msg = xasprintf("jobs directory '%s' is gone", w->jobs);
            watcher_stop_fatal(w, msg);
            free(msg);
        }
        break;
    }
    watch_job_free(j);
}

void watcher_on_job_ready(void *ctx, int fd)
{
    struct watcher *w = ctx;
    struct watch_job *j;
    while ((j = watch_jobs_next(w->q)))
        job_ready(w, j);
    watcher_pump(w);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Start-up: queue every unfinished job directory under DIR for resuming, and every job that
 * failed to load when what decided it (its files, the watcher's workflow and settings) has
 * changed since; a job that failed to load and did not change is left alone. */
void watcher_scan_jobs(struct watcher *w)
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
            watcher_queue_push(&w->resumes, names[i]);
        } else if (watch_job_failed_unchanged(names[i], &s, &changed)) {
            watcher_note(
                w, 1,
                "leaving job '%s' alone: it failed to load and nothing that decided it changed "
                "(see: gemflow status %s)",
                names[i], names[i]);
            free(names[i]);
        } else if (changed) {
            watcher_note(w, 0,
                         "job '%s' failed to load, and its files or the watcher's settings changed "
                         "since: trying it again",
                         names[i]);
            watcher_queue_push(&w->resumes, names[i]);
        } else {
            free(names[i]);
        }
    }
    free(names);
}

void watcher_on_recovered(void *ctx, const char *stage, const char *msg)
{
    struct watcher *w = ctx;
    /* finished like a claim of ours (after the resumes: it is no job directory yet) */
    if (stage) {
        watcher_note(w, 0, "finishing a claim left by a watcher that died: '%s'", stage);
        watcher_queue_push(&w->claims, xstrdup(stage));
    } else {
        watcher_note(w, 0, "%s", msg);
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
        watcher_note(w, -1, "refused '%s': %s; moved to '%s'", shown.data, why, shown_where.data);
    } else if (r < 0) {
        watcher_note(w, -1, "cannot refuse '%s': %s", shown.data, err.msg);
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

void watcher_pause_claims(struct watcher *w, const char *msg)
{
    w->paused = true;
    watcher_queue_clear(&w->drops);
    watcher_note(w, -1,
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
        if (runs_our_workflow(w, name, k) && watcher_check_workflow(w, &err) < 0) {
            watcher_pause_claims(w, err.msg);
            goto out;
        }
        int r = watch_take(w->inbox, name, w->jobs, &stage, &err);
        if (r == 0) {
            watcher_note(w, 1, "claimed '%s' into '%s'", name, stage.data);
            start_work(w, stage.data, name, NULL);
            started = true;
        } else if (r == 1) {
            watcher_note(w, 1, "'%s' was taken by another watcher", name);
        } else {
            watcher_note(w, -1, "%s", err.msg);
            if (!fs_is_dir(w->jobs)) {
                char *msg = xasprintf("jobs directory '%s' is gone", w->jobs);
                watcher_stop_fatal(w, msg);
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
bool watcher_pump(struct watcher *w)
{
    bool started = false;
    while (!watcher_stopping(w) && w->running + watch_jobs_busy(w->q) < (size_t)w->max_jobs) {
        char *s = watcher_queue_pop(&w->resumes);
        if (s) {
            watcher_note(w, 0, "resuming job '%s'", s);
            start_work(w, NULL, NULL, s);
            free(s);
            started = true;
            continue;
        }
        if ((s = watcher_queue_pop(&w->claims))) {
            start_work(w, s, NULL, NULL);
            free(s);
            started = true;
            continue;
        }
        if (w->paused || !(s = watcher_queue_pop(&w->drops)))
            break;
        started |= take_drop(w, s);
        free(s);
    }
    return started;
}

/* An inbox entry came up (event or watcher_rescan): refuse it now, or queue it for a slot. */
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
        watcher_note(w, ev == WATCH_EV_CREATED ? 1 : 0, "ignoring '%s': %s", shown.data, why.data);
    else if (k != WATCH_SKIP && w->paused)
        watcher_note(
            w, 0, "'%s' waits in the inbox: the workflow does not load (fix it, then send SIGHUP)",
            shown.data);
    else if (k != WATCH_SKIP)
        watcher_queue_push(&w->drops, xstrdup(name));
    buf_release(&why);
    buf_release(&shown);
}

/* Queue everything in the inbox (start-up, overflow, reload). Duplicates in the queue are
 * harmless: a second claim finds the name gone. */
void watcher_rescan(struct watcher *w)
{
    char **names;
    struct gf_err err = GF_ERR_INIT;
    long n = watch_list(w->inbox, &names, &err);
    if (n < 0) {
        watcher_stop_fatal(w, err.msg);
        return;
    }
    for (long i = 0; i < n; i++) {
        if (!watcher_stopping(w))
            consider(w, names[i], WATCH_EV_READY);
        free(names[i]);
    }
    free(names);
}

static void on_inbox_event(void *ctx, enum watch_ev ev, const char *name)
{
    struct watcher *w = ctx;
    if (watcher_stopping(w))
        return;
    switch (ev) {
    case WATCH_EV_GONE: {
        char *msg = xasprintf("inbox '%s' %s", w->inbox, name);
        watcher_stop_fatal(w, msg);
        free(msg);
        break;
    }
    case WATCH_EV_OVERFLOW: /* the kernel dropped events: look at everything */
        watcher_note(w, 0, "the inotify queue overflowed and events were lost; rescanning '%s'",
                     w->inbox);
        watcher_rescan(w);
        break;
    case WATCH_EV_READY:
    case WATCH_EV_CREATED:
        consider(w, name, ev);
        break;
    }
}

void watcher_on_inbox_readable(void *ctx, int fd)
{
    struct watcher *w = ctx;
    struct gf_err err = GF_ERR_INIT;
    if (watch_read(w->w, on_inbox_event, w, &err) < 0)
        watcher_stop_fatal(w, err.msg);
    if (w->fatal)
        loop_remove_fd(engine_loop(w->e), fd);
    else
        watcher_pump(w);
}
