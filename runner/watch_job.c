/* watch_job: finishing claims and opening jobs on threads of their own for the watcher, and
 * recording why a job cannot start (see watch_job.h). */
#include "watch_job.h"
#include "fsutil.h"
#include "jobfacts.h"
#include "joblock.h"
#include "joblog.h"
#include "jsonutil.h"
#include "sha256.h"
#include "util.h"
#include "watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_MAX_ENTRIES 10000
#define KEY_MAX_DEPTH   16

struct watch_jobs {
    int pipe[2];
    size_t busy;
};

/* --- the digest of what decides whether a job loads -------------------------------------- */

static void key_add(struct sha256_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void key_add(struct sha256_ctx *c, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    sha256_update(c, b.data, b.len + 1); /* with its NUL: one field cannot run into the next */
    buf_release(&b);
}

static void key_stat(struct sha256_ctx *c, const char *what, const char *path,
                     const struct stat *st)
{
    key_add(c, "%s %s %o %lld %lld.%09ld", what, path, (unsigned)(st->st_mode & S_IFMT),
            (long long)st->st_size, (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every entry under the directory `fd` (taken), by name, never following a symlink. gemflow's
 * own files at the top (the log, manifest, report, .gemflow/) are what a run writes, not what
 * decides loading. */
static void key_tree(struct sha256_ctx *c, int fd, const char *rel, int depth, size_t *budget)
{
    static const char *const own[] = {"progress.jsonl", "manifest.json", "report.html", ".gemflow"};
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        bool skip = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
        for (size_t i = 0; depth == 0 && i < ARRAY_SIZE(own); i++)
            skip = skip || !strcmp(de->d_name, own[i]);
        if (!skip)
            *VEC_PUSH(names, n, cap) = xstrdup(de->d_name);
    }
    if (n)
        qsort(names, n, sizeof *names, by_str);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        char *sub = rel[0] ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
        if (*budget > 0 && fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) == 0) {
            --*budget;
            key_stat(c, "file", sub, &st);
            int sfd =
                S_ISDIR(st.st_mode) && depth < KEY_MAX_DEPTH
                    ? openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    : -1;
            if (sfd >= 0)
                key_tree(c, sfd, sub, depth + 1, budget);
        }
        free(sub);
        free(names[i]);
    }
    free(names);
    closedir(d);
}

/* The digest of the job's files and the watcher's settings that decide whether it loads. */
static void load_key(const char *dir, const struct job_opts *o, char out[SHA256_HEX_LEN + 1])
{
    struct sha256_ctx *c = sha256_new();
    key_add(c, "gemflow watch load key 1");
    key_add(c, "allow %s", workflow_trust_name(o->wf.trust));
    key_add(c, "endpoint %s", o->endpoint ? o->endpoint : "");
    for (size_t i = 0; i < o->wf.n_sets; i++)
        key_add(c, "set %s", o->wf.sets[i]);
    struct buf bundled = BUF_INIT;
    const char *wf = o->wf.workflow_path;
    if (!wf && workflow_find_bundled("script-to-media", &bundled) == 0)
        wf = bundled.data;
    struct stat st;
    if (wf && stat(wf, &st) == 0)
        key_stat(c, "workflow", wf, &st);
    buf_release(&bundled);
    size_t budget = KEY_MAX_ENTRIES;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0)
        key_tree(c, fd, "", 0, &budget);
    sha256_final_hex(c, out);
}

bool watch_job_failed_unchanged(const char *dir, const struct watch_job_settings *s, bool *changed)
{
    *changed = false;
    cJSON *end = jobfacts_last_run_end(dir);
    const char *was = json_str(end, "load_key");
    bool same = false;
    if (was) {
        char now[SHA256_HEX_LEN + 1];
        load_key(dir, &s->job, now);
        same = strcmp(was, now) == 0;
        *changed = !same;
    }
    cJSON_Delete(end);
    return same;
}

/* --- a job that cannot start ------------------------------------------------------------- */

/* Its log gets a run_start and a run_end {state: failed, error: {kind, message}, load_key},
 * so `gemflow status` shows why and the next start of the watcher leaves it alone until what
 * decided it changes. Returns 0, or -1 with err. */
static int record_failure(const struct watch_job *j, const char *diags, const struct gf_err *why,
                          struct gf_err *err)
{
    struct joblog log = {.fd = -1};
    int lock = joblock_acquire(j->dir, err);
    if (lock < 0)
        return -1;
    if (joblog_open(&log, j->dir, NULL, err) < 0) {
        joblock_release(lock);
        return -1;
    }
    char *own = fs_join(j->dir, "workflow.yaml");
    struct stat st;
    const char *workflow = lstat(own, &st) == 0 ? own : j->opts.wf.workflow_path;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "pid", getpid());
    json_add_str_or_null(f, "workflow", workflow);
    cJSON_AddStringToObject(f, "version", GEMFLOW_VERSION);
    int rc = joblog_append(&log, "run_start", f, true, err);
    if (rc == 0) {
        char key[SHA256_HEX_LEN + 1];
        load_key(j->dir, &j->opts, key);
        struct buf msg = BUF_INIT;
        buf_addf(&msg, "%s%s", diags ? diags : "", why->msg);
        f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "state", "failed");
        cJSON_AddNumberToObject(f, "ms", 0);
        cJSON_AddNumberToObject(f, "calls", 0);
        cJSON_AddNumberToObject(f, "tokens", 0);
        cJSON_AddNullToObject(f, "cost_estimate");
        cJSON *e = cJSON_AddObjectToObject(f, "error");
        cJSON_AddStringToObject(e, "kind", gf_err_kind_name(why->kind));
        cJSON_AddStringToObject(e, "message", msg.data);
        cJSON_AddStringToObject(f, "load_key", key);
        rc = joblog_append(&log, "run_end", f, true, err);
        buf_release(&msg);
    }
    free(own);
    joblog_close(&log);
    joblock_release(lock);
    return rc;
}

/* --- the thread -------------------------------------------------------------------------- */

static void set_msg(struct watch_job *j, enum watch_job_outcome o, const char *msg)
{
    j->outcome = o;
    free(j->msg);
    j->msg = xstrdup(msg);
}

static void finish_claim(struct watch_job *j)
{
    struct buf dir = BUF_INIT, refused = BUF_INIT, note = BUF_INIT;
    struct gf_err err = GF_ERR_INIT;
    char *marker = workflow_drop_marker(j->opts.wf.trust, j->opts.wf.workflow_path);
    int r = watch_adopt(j->inbox, j->stage, j->name, j->jobs, j->claim_flags, marker, &dir,
                        &refused, &note, &err);
    free(marker);
    if (note.len)
        j->leftover = buf_detach(&note, NULL);
    if (r == 0)
        j->dir = buf_detach(&dir, NULL);
    else if (r == 1 && refused.len)
        set_msg(j, WATCH_JOB_REFUSED, refused.data);
    else if (r == 1)
        set_msg(j, WATCH_JOB_GONE, "another watcher finished it");
    else
        set_msg(j, WATCH_JOB_ERROR, err.msg);
    buf_release(&dir);
    buf_release(&refused);
    buf_release(&note);
}

static void open_job(struct watch_job *j)
{
    struct job *job = xcalloc(1, sizeof *job);
    struct diag_list dl = DIAG_LIST_INIT;
    struct gf_err err = GF_ERR_INIT;
    if (job_open(job, j->dir, &j->opts, JOB_RUN, &dl, &err) == 0) {
        j->job = job;
        j->outcome = WATCH_JOB_OPENED;
        diag_list_release(&dl);
        return;
    }
    free(job);
    struct buf d = BUF_INIT;
    for (size_t i = 0; i < dl.n; i++) {
        char *s = diag_format(&dl.v[i]);
        buf_addf(&d, "%s\n", s);
        free(s);
    }
    if (d.len)
        j->diags = buf_detach(&d, NULL);
    buf_release(&d);
    diag_list_release(&dl);
    if (err.kind == GF_ERR_LOCKED) {
        set_msg(j, WATCH_JOB_LOCKED, err.msg);
    } else if (err.kind == GF_ERR_IO) { /* may pass: not recorded, the next start tries again */
        set_msg(j, WATCH_JOB_ERROR, err.msg);
    } else {
        struct gf_err rec = GF_ERR_INIT;
        set_msg(j, WATCH_JOB_FAILED, err.msg);
        if (record_failure(j, j->diags, &err, &rec) < 0) {
            free(j->msg);
            j->msg = xasprintf("%s (and cannot record it: %s)", err.msg, rec.msg);
        }
    }
}

static void *work(void *arg)
{
    struct watch_job *j = arg;
    if (j->stage)
        finish_claim(j);
    if (j->dir)
        open_job(j);
    /* The last thing this thread does: from here on `j` is the loop's. */
    int fd = j->q->pipe[1];
    while (write(fd, &j, sizeof j) < 0 && errno == EINTR)
        ;
    return NULL;
}

/* --- the queue --------------------------------------------------------------------------- */

struct watch_jobs *watch_jobs_new(struct gf_err *err)
{
    struct watch_jobs *q = xcalloc(1, sizeof *q);
    if (pipe2(q->pipe, O_CLOEXEC) < 0 || fcntl(q->pipe[0], F_SETFL, O_NONBLOCK) < 0) {
        gf_error_errno(err, GF_ERR_IO, "cannot make a pipe for the job threads");
        free(q);
        return NULL;
    }
    return q;
}

int watch_jobs_fd(const struct watch_jobs *q)
{
    return q->pipe[0];
}

int watch_jobs_start(struct watch_jobs *q, const struct watch_job_settings *s, const char *stage,
                     const char *name, const char *dir, struct gf_err *err)
{
    struct watch_job *j = xcalloc(1, sizeof *j);
    j->q = q;
    j->stage = stage ? xstrdup(stage) : NULL;
    j->name = name ? xstrdup(name) : NULL;
    j->dir = dir ? xstrdup(dir) : NULL;
    j->inbox = s->inbox; /* argv: lives as long as the process */
    j->jobs = s->jobs;
    j->claim_flags = s->claim_flags;
    j->opts = s->job;
    /* what the watcher may change later (SIGHUP) is copied */
    j->endpoint = s->job.endpoint ? xstrdup(s->job.endpoint) : NULL;
    j->opts.endpoint = j->endpoint;
    j->sets = xcalloc(s->job.wf.n_sets + 1, sizeof *j->sets);
    for (size_t i = 0; i < s->job.wf.n_sets; i++)
        j->sets[i] = s->job.wf.sets[i];
    j->opts.wf.sets = j->sets;
    pthread_attr_t attr;
    pthread_t t;
    sigset_t all, old;
    sigfillset(&all);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    /* signals are the loop's: the thread starts with every one blocked */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&t, &attr, work, j);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        errno = rc;
        gf_error_errno(err, GF_ERR_IO, "cannot start a thread for '%s'", stage ? stage : dir);
        watch_job_free(j);
        return -1;
    }
    q->busy++;
    return 0;
}

struct watch_job *watch_jobs_next(struct watch_jobs *q)
{
    struct watch_job *j;
    ssize_t n;
    do
        n = read(q->pipe[0], &j, sizeof j);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof j)
        return NULL;
    q->busy--;
    return j;
}

size_t watch_jobs_busy(const struct watch_jobs *q)
{
    return q->busy;
}

void watch_jobs_free(struct watch_jobs *q)
{
    if (!q)
        return;
    close(q->pipe[0]);
    close(q->pipe[1]);
    free(q);
}

void watch_job_free(struct watch_job *j)
{
    if (!j)
        return;
    free(j->name);
    free(j->dir);
    free(j->diags);
    free(j->msg);
    free(j->leftover);
    free(j->stage);
    free(j->endpoint);
    free(j->sets);
    free(j);
}
