/* job: opening a job directory (workflow, lock, log replay, manifest, inputs, endpoint). Stage
 * expansion lives in expand.c. */
#include "job.h"
#include "fsutil.h"
#include "joblock.h"
#include "models.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_ENDPOINT "https://generativelanguage.googleapis.com"
#define INPUT_MAX_BYTES  (16u * 1024 * 1024)

/* Check that text is UTF-8 without NUL bytes; on failure say where (1-based line/column). */
static int check_text(const char *s, size_t len, int *line, int *col, const char **why)
{
    *line = 1;
    *col = 1;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        size_t n = c < 0x80             ? 1
                   : (c & 0xE0) == 0xC0 ? 2
                   : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4
                                        : 0;
        if (c == 0) {
            *why = "a NUL byte (is it a binary file?)";
            return -1;
        }
        if (n == 0 || i + n > len || (n == 2 && c < 0xC2) || (n == 4 && c > 0xF4)) {
            *why = "a byte that is not UTF-8";
            return -1;
        }
        for (size_t k = 1; k < n; k++) {
            if (((unsigned char)s[i + k] & 0xC0) != 0x80) {
                *why = "a byte that is not UTF-8";
                return -1;
            }
        }
        /* The second byte also rules out overlong forms, UTF-16 surrogates and > U+10FFFF. */
        unsigned char c1 = n > 1 ? (unsigned char)s[i + 1] : 0;
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) ||
            (c == 0xF4 && c1 >= 0x90)) {
            *why = c == 0xED ? "an encoded UTF-16 surrogate, which is not UTF-8"
                             : "an overlong or out-of-range sequence, which is not UTF-8";
            return -1;
        }
        if (c == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
        i += n;
    }
    return 0;
}

static int load_input(struct job *job, const struct wf_input *in, cJSON **out, struct gf_err *err)
{
    char *path = fs_join(job->dir, in->path);
    struct stat st;
    struct buf b = BUF_INIT;
    int rc = -1;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT)
            gf_error(err, GF_ERR_INPUT,
                     "%s: input '%s' is missing (the workflow reads it as {{%s}})", path, in->path,
                     in->name);
        else
            gf_error_errno(err, GF_ERR_INPUT, "%s: cannot read input '%s'", path, in->name);
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        gf_error(err, GF_ERR_INPUT, "%s: input '%s' is not a regular file", path, in->name);
        goto out;
    }
    if ((size_t)st.st_size > INPUT_MAX_BYTES) {
        gf_error(err, GF_ERR_INPUT, "%s: input '%s' is %lld bytes, more than the %u MB limit", path,
                 in->name, (long long)st.st_size, INPUT_MAX_BYTES >> 20);
        goto out;
    }
    if (buf_read_file(&b, path) < 0) {
        gf_error_errno(err, GF_ERR_INPUT, "%s: cannot read input '%s'", path, in->name);
        goto out;
    }
    int line, col;
    const char *why;
    if (check_text(b.data, b.len, &line, &col, &why) < 0) {
        gf_error(err, GF_ERR_INPUT, "%s:%d:%d: input '%s' is not text: %s", path, line, col,
                 in->name, why);
        goto out;
    }
    size_t k = 0;
    while (k < b.len && strchr(" \t\r\n", b.data[k]))
        k++;
    if (k == b.len) {
        gf_error(err, GF_ERR_INPUT, "%s: input '%s' is empty", path, in->name);
        goto out;
    }
    *out = cJSON_CreateString(b.data);
    rc = 0;
out:
    buf_release(&b);
    free(path);
    return rc;
}

/* How many times the templates of stage `d` use input `name`. */
static size_t input_uses(const struct stage_def *d, const char *name)
{
    struct stage_tmpl ts[16];
    size_t nt = d->kind->templates(d, ts, ARRAY_SIZE(ts)), n = 0;
    for (size_t t = 0; t < nt; t++) {
        for (size_t i = 0; ts[t].t && !ts[t].names_file && i < tmpl_ref_count(ts[t].t); i++)
            n += strcmp(tmpl_ref_at(ts[t].t, i)->root, name) == 0;
    }
    return n;
}

/* Refuse, before any call, an input that is clearly over the input limit of a model that reads
 * it: estimated tokens (bytes / 4, models.h) of every use by one stage's templates. */
static int check_input_sizes(struct job *job, struct gf_err *err)
{
    for (size_t s = 0; s < job->wf.n_stages; s++) {
        const struct stage_def *d = &job->wf.stages[s];
        int64_t limit = models_input_token_limit(d->model);
        if (limit <= 0)
            continue;
        for (size_t i = 0; i < job->wf.n_inputs; i++) {
            const struct wf_input *in = &job->wf.inputs[i];
            uint64_t bytes = (uint64_t)strlen(job->inputs[i]->valuestring);
            uint64_t sent = bytes * input_uses(d, in->name);
            int64_t tokens = models_estimate_tokens(sent);
            if (tokens <= limit)
                continue;
            char *path = fs_join(job->dir, in->path);
            gf_error(err, GF_ERR_INPUT,
                     "%s: input '%s' is too long for model '%s' of stage '%s': about %lld "
                     "tokens (%llu bytes / 4), over its input limit of %lld tokens; shorten it "
                     "or split it into several jobs",
                     path, in->name, d->model, d->name, (long long)tokens, (unsigned long long)sent,
                     (long long)limit);
            free(path);
            return -1;
        }
    }
    return 0;
}

int job_endpoint_parse(const char *url, const char *from, char **origin, char **api_root,
                       struct gf_err *err)
{
    const char *scheme_end = strstr(url, "://");
    if (!scheme_end || (!str_starts_with(url, "http://") && !str_starts_with(url, "https://")))
        return gf_error(err, GF_ERR_CONFIG,
                        "%s: endpoint '%s' is not an http:// or https:// URL (e.g. "
                        "https://generativelanguage.googleapis.com)",
                        from, url);
    const char *host = scheme_end + 3;
    const char *path = strchr(host, '/');
    if (!path)
        path = host + strlen(host);
    if (path == host)
        return gf_error(err, GF_ERR_CONFIG, "%s: endpoint '%s' has no host", from, url);
    if (strpbrk(url, "?#@ \t\r\n"))
        return gf_error(err, GF_ERR_CONFIG,
                        "%s: endpoint '%s' must not hold a query, fragment, credentials or spaces",
                        from, url);
    *origin = xstrndup(url, (size_t)(path - url));
    size_t plen = strlen(path);
    while (plen && path[plen - 1] == '/')
        plen--;
    char *p = xstrndup(path, plen);
    if (str_ends_with(p, "/v1beta") || str_ends_with(p, "/v1")) {
        *api_root = p;
    } else {
        *api_root = xasprintf("%s/v1beta", p);
        free(p);
    }
    return 0;
}

/* `from` says where the URL came from ("--endpoint", "$GEMINI_BASE_URL", the workflow file). */
static int set_endpoint(struct job *job, const char *chosen, const char *from, struct gf_err *err)
{
    if (job_endpoint_parse(chosen, from, &job->origin, &job->api_root, err) < 0)
        return -1;
    job->endpoint = xstrdup(chosen);
    return 0;
}

static const char *base_name(const char *dir)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    const char *s = dir + n;
    while (s > dir && s[-1] != '/')
        s--;
    return s;
}

static void set_priorities(struct job *job)
{
    /* priority = length of the longest chain of dependents; reverse topological order */
    const struct workflow *wf = &job->wf;
    for (size_t k = wf->n_stages; k-- > 0;) {
        size_t s = wf->order[k];
        for (size_t d = 0; d < wf->stages[s].n_deps; d++) {
            size_t up = wf->stages[s].deps[d];
            if (job->st[up].priority < job->st[s].priority + 1)
                job->st[up].priority = job->st[s].priority + 1;
        }
    }
}

int job_open(struct job *job, const char *dir, const struct job_opts *opts, enum job_mode mode,
             struct diag_list *dl, struct gf_err *err)
{
    memset(job, 0, sizeof *job);
    job->lock_fd = -1;
    job->log.fd = -1;
    job->mode = mode;
    job->dir = xstrdup(dir);
    job->name = xstrdup(base_name(dir));
    struct stat dst;
    if (stat(dir, &dst) < 0) {
        if (errno == ENOENT)
            gf_error(err, GF_ERR_CONFIG, "'%s' is not a job directory (no such directory)", dir);
        else
            gf_error_errno(err, GF_ERR_CONFIG, "cannot open job directory '%s'", dir);
        goto fail_early;
    }
    if (!S_ISDIR(dst.st_mode)) {
        gf_error(err, GF_ERR_CONFIG,
                 "'%s' is not a job directory (it is a file; a job is a directory holding "
                 "script.txt)",
                 dir);
        goto fail_early;
    }
    if (workflow_load_job(&job->wf, dir, &opts->wf, dl) < 0) {
        gf_error(err, GF_ERR_CONFIG, "the workflow of job '%s' has errors", dir);
        goto fail_early;
    }
    job->st = xcalloc(job->wf.n_stages, sizeof *job->st);
    set_priorities(job);
    if (opts->no_model_check)
        job->wf.model_check = false;
    if (opts->max_cost > 0 && (job->wf.max_cost == 0 || opts->max_cost < job->wf.max_cost))
        job->wf.max_cost = opts->max_cost; /* the smaller budget holds */
    for (size_t s = 0; opts->strict_models && s < job->wf.n_stages; s++)
        job->wf.stages[s].strict_model = true;
    for (size_t i = 0; i < opts->n_rerun; i++) {
        /* STAGE: every item of it; STAGE/ITEM: that item */
        const char *arg = opts->rerun[i], *slash = strchr(arg, '/');
        char *name = slash ? xstrndup(arg, (size_t)(slash - arg)) : xstrdup(arg);
        int s = workflow_stage_index(&job->wf, name);
        if (s < 0 && workflow_stage_is_off(&job->wf, name)) {
            gf_error(err, GF_ERR_USAGE,
                     "stage '%s' of job '%s' is disabled (enabled: false): there is nothing to "
                     "rerun (enable it with --set %s.enabled=true)",
                     name, dir, name);
            free(name);
            goto fail;
        }
        if (s < 0) {
            struct buf names = BUF_INIT;
            for (size_t k = 0; k < job->wf.n_stages; k++)
                buf_addf(&names, "%s%s", k ? ", " : "", job->wf.stages[k].name);
            gf_error(err, GF_ERR_USAGE, "no stage '%s' in job '%s' (stages: %s)", name, dir,
                     names.data);
            buf_release(&names);
            free(name);
            goto fail;
        }
        free(name);
        struct stage_run *sr = &job->st[s];
        if (!slash) {
            sr->rerun = true;
        } else if (!slash[1] || strchr(slash + 1, '/')) {
            gf_error(err, GF_ERR_USAGE, "'%s': name one item after the stage (STAGE/ITEM)", arg);
            goto fail;
        } else {
            sr->rerun_items = xrealloc(sr->rerun_items, (sr->n_rerun_items + 1) * sizeof(char *));
            sr->rerun_items[sr->n_rerun_items++] = xstrdup(slash + 1);
        }
    }
    const char *ep = opts->endpoint, *ep_from = "--endpoint";
    if (!ep || !ep[0]) {
        ep = getenv("GEMINI_BASE_URL");
        ep_from = "$GEMINI_BASE_URL";
    }
    if (!ep || !ep[0]) {
        ep = job->wf.endpoint;
        ep_from = job->wf.path; /* the file that holds `endpoint:` */
    }
    if (!ep || !ep[0])
        ep = DEFAULT_ENDPOINT;
    if (set_endpoint(job, ep, ep_from, err) < 0)
        goto fail;
    job->inputs = xcalloc(job->wf.n_inputs + 1, sizeof *job->inputs);
    for (size_t i = 0; i < job->wf.n_inputs; i++) {
        if (load_input(job, &job->wf.inputs[i], &job->inputs[i], err) < 0)
            goto fail;
    }
    if (check_input_sizes(job, err) < 0)
        goto fail;
    if (mode == JOB_RUN) {
        job->lock_fd = joblock_acquire(dir, err);
        if (job->lock_fd < 0)
            goto fail_setup;
        if (joblog_open(&job->log, dir, &job->log_was_torn, err) < 0)
            goto fail_setup;
        /* We hold the lock: any temporary file left is from a process that died mid-write. */
        job->swept_temporaries = fs_sweep_temporaries(dir);
    }
    /* Replay after taking the lock: nobody else appends from now on. */
    if (ckpt_load(&job->ck, dir, err) < 0)
        goto fail;
    for (size_t s = 0; s < job->wf.n_stages; s++)
        for (size_t i = 0; i < job->st[s].n_rerun_items; i++)
            if (!ckpt_get(&job->ck, job->wf.stages[s].name, job->st[s].rerun_items[i])) {
                gf_error(err, GF_ERR_USAGE,
                         "no item '%s' of stage '%s' was made or tried in job '%s' (`gemflow "
                         "status %s` lists the items)",
                         job->st[s].rerun_items[i], job->wf.stages[s].name, dir, dir);
                goto fail;
            }
    manifest_load(&job->man, dir);
    return 0;
fail_setup:
    /* Nothing ran: a job directory gemflow cannot write to (read-only, full, not ours) is a
     * problem of the setup, reported like a configuration error (exit 2). */
    if (err && err->kind == GF_ERR_IO) {
        size_t n = strlen(err->msg);
        snprintf(err->msg + n, sizeof err->msg - n,
                 "; gemflow must be able to write into the job directory '%s'", dir);
        err->kind = GF_ERR_CONFIG;
    }
fail:
    job_close(job);
    return -1;
fail_early:
    free(job->dir);
    free(job->name);
    job->dir = job->name = NULL;
    return -1;
}

static void release_items(struct stage_run *sr)
{
    for (size_t i = 0; i < sr->n_items; i++) {
        struct item *it = &sr->items[i];
        free(it->id);
        free(it->out_path);
        free(it->prompt);
        free(it->system);
        free(it->method_path);
        free(it->body);
        free(it->input_error);
        free(it->served_by);
        free(it->op_id);
        cJSON_Delete(it->attempt_log);
    }
    free(sr->items);
    sr->items = NULL;
    sr->n_items = 0;
}

void job_close(struct job *job)
{
    if (!job->dir)
        return;
    if (job->st) {
        for (size_t s = 0; s < job->wf.n_stages; s++) {
            release_items(&job->st[s]);
            for (size_t i = 0; i < job->st[s].n_rerun_items; i++)
                free(job->st[s].rerun_items[i]);
            free(job->st[s].rerun_items);
            free(job->st[s].error);
            cJSON_Delete(job->st[s].value);
        }
        free(job->st);
    }
    if (job->inputs) {
        for (size_t i = 0; i < job->wf.n_inputs; i++)
            cJSON_Delete(job->inputs[i]);
        free(job->inputs);
    }
    ckpt_release(&job->ck);
    manifest_release(&job->man);
    if (job->log.path)
        joblog_close(&job->log);
    joblock_release(job->lock_fd);
    workflow_release(&job->wf);
    free(job->endpoint);
    free(job->halt_error);
    job->halt_error = NULL;
    free(job->origin);
    free(job->api_root);
    free(job->dir);
    free(job->name);
    memset(job, 0, sizeof *job);
    job->lock_fd = -1;
}

bool job_stage_ready(const struct job *job, size_t s)
{
    const struct stage_def *d = &job->wf.stages[s];
    for (size_t i = 0; i < d->n_deps; i++) {
        if (job->st[d->deps[i]].state != SS_DONE)
            return false;
    }
    return true;
}

bool job_stage_blocked(const struct job *job, size_t s)
{
    const struct stage_def *d = &job->wf.stages[s];
    for (size_t i = 0; i < d->n_deps; i++) {
        enum stage_state u = job->st[d->deps[i]].state;
        if (u == SS_FAILED || u == SS_BLOCKED)
            return true;
    }
    return false;
}

int job_event(struct job *job, const char *event, cJSON *fields, bool durable)
{
    if (job->mode != JOB_RUN || !job->log.path) {
        cJSON_Delete(fields);
        return 0;
    }
    struct gf_err err = GF_ERR_INIT;
    if (joblog_append(&job->log, event, fields, durable, &err) < 0) {
        fprintf(stderr, "gemflow: %s\n", err.msg);
        return -1;
    }
    return 0;
}

void job_request_key(const char *origin, const char *method_path, const char *body, size_t len,
                     char out[SHA256_HEX_LEN + 1])
{
    struct sha256_ctx *c = sha256_new();
    sha256_update(c, origin, strlen(origin));
    sha256_update(c, "\n", 1);
    sha256_update(c, method_path, strlen(method_path));
    sha256_update(c, "\n", 1);
    sha256_update(c, body, len);
    sha256_final_hex(c, out);
}

/* One reset: applied to the checkpoint, and appended to the log when `log`. */
static void apply_reset(struct job *job, size_t s, const char *item, bool log)
{
    const char *event = item ? "item_reset" : "stage_reset";
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "stage", job->wf.stages[s].name);
    if (item)
        cJSON_AddStringToObject(r, "item", item);
    cJSON *copy = cJSON_Duplicate(r, 1);
    cJSON_AddStringToObject(copy, "event", event);
    ckpt_apply(&job->ck, copy);
    cJSON_Delete(copy);
    if (log)
        job_event(job, event, r, true);
    else
        cJSON_Delete(r);
}

void job_apply_reruns(struct job *job, bool log)
{
    for (size_t s = 0; s < job->wf.n_stages; s++) {
        const struct stage_run *sr = &job->st[s];
        if (sr->rerun) /* the whole stage: its items' resets would change nothing */
            apply_reset(job, s, NULL, log);
        else
            for (size_t i = 0; i < sr->n_rerun_items; i++)
                apply_reset(job, s, sr->rerun_items[i], log);
    }
}
