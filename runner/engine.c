/* engine: the event loop, dispatch within limits, stage bookkeeping and run boundaries. What
 * happens when a call ends is in call.c. */
#include "cost.h"
#include "engine_int.h"
#include "display.h"
#include "jsonutil.h"
#include "progress.h"
#include "textout.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WAKE_MAX_MS 1000
/* manifest.json is derived (entries missing from it are rebuilt from the log at the next start),
 * so while calls are in flight it is rewritten at most this often; an idle job writes it at
 * once. Rewriting it after every item made a long job quadratic (profiled: a third of the CPU
 * of a text call in a 64-scene job). */
#define MANIFEST_EVERY_MS 500

static void on_signal(void *ctx, int signo);

void engine_install_signals(struct engine *e)
{
    if (loop_on_signal(e->loop, SIGINT, on_signal, e) < 0 ||
        loop_on_signal(e->loop, SIGTERM, on_signal, e) < 0 ||
        loop_on_signal(e->loop, SIGHUP, on_signal, e) < 0)
        die("cannot catch signals (no pipe)");
}

void engine_note(struct engine *e, const struct job *job, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    struct buf msg = BUF_INIT;
    buf_vaddf(&msg, fmt, ap);
    va_end(ap);
    /* The display decides what reaches stderr; without one, the plain line. */
    if (!display_note(job->name, level, msg.data) && level <= e->opts.verbosity) {
        char ts[40];
        now_rfc3339(ts, sizeof ts);
        struct buf safe = BUF_INIT;
        tx_sanitize(&safe, msg.data); /* may quote a model's or the API's words */
        fprintf(stderr, "%.8s gemflow: %s: %s\n", ts + 11, job->name, safe.data);
        buf_release(&safe);
    }
    buf_release(&msg);
}

static int64_t dispatch(struct engine *e, int64_t now);

/* Replies are in and their slots free: start what can start before they are processed. */
static void refill(void *ctx)
{
    struct engine *e = ctx;
    dispatch(e, now_ms());
}

struct engine *engine_new(const struct engine_opts *opts, struct gf_err *err)
{
    struct engine *e = xcalloc(1, sizeof *e);
    e->opts = *opts;
    e->http = http_client_new(err);
    if (!e->http) {
        free(e);
        return NULL;
    }
    e->loop = loop_new(e->http);
    int threads = workpool_threads_wanted();
    e->pool = threads > 0 ? workpool_new(e->loop, threads, err) : NULL;
    if (threads > 0 && !e->pool) {
        loop_free(e->loop);
        http_client_free(e->http);
        free(e);
        return NULL;
    }
    http_set_refill(e->http, refill, e);
    e->mc = mc_new(e->http, opts->api_key);
    e->rng = opts->seed ? opts->seed : (uint64_t)time(NULL) * 2654435761u + (uint64_t)getpid();
    if (!e->rng)
        e->rng = 1;
    return e;
}

void engine_set_hooks(struct engine *e, const struct engine_hooks *hooks)
{
    e->hooks = *hooks;
}

struct loop *engine_loop(struct engine *e)
{
    return e->loop;
}

int engine_stop_level(const struct engine *e)
{
    return e->stop_level;
}

size_t engine_job_count(const struct engine *e)
{
    return e->n_jobs;
}

static void note_stop(struct engine *e)
{
    for (size_t j = 0; j < e->n_jobs; j++) {
        const struct job *job = e->jobs[j];
        if (job->ended)
            continue;
        if (e->stop_level == 1)
            engine_note(e, job, -1, "stopping: no new calls; waiting for %d in flight%s",
                        job->inflight,
                        e->opts.grace_ms > 0 ? " (up to the grace period)"
                                             : " (signal again to abandon them)");
        else if (job->inflight > 0)
            engine_note(e, job, -1, "abandoning %d call%s in flight", job->inflight,
                        job->inflight == 1 ? "" : "s");
    }
}

void engine_stop(struct engine *e, int level)
{
    if (level <= e->stop_level)
        return;
    if (e->stop_level == 0)
        e->stop_at_ms = now_ms();
    e->stop_level = level;
    note_stop(e);
}

/* Observer of a job's progress log: hands every event to the event hook. */
static void observe(void *ctx, const char *event, const cJSON *ev)
{
    struct job *job = ctx;
    struct engine *e = job->engine;
    if (e && e->hooks.event)
        e->hooks.event(e->hooks.ctx, job, event, ev);
}

static size_t *make_dispatch_order(const struct job *job)
{
    size_t n = job->wf.n_stages;
    size_t *o = xcalloc(n + 1, sizeof *o);
    for (size_t k = 0; k < n; k++)
        o[k] = job->wf.order[k];
    /* stable insertion sort by descending priority (topological order breaks ties) */
    for (size_t i = 1; i < n; i++) {
        size_t v = o[i], j = i;
        while (j > 0 && job->st[o[j - 1]].priority < job->st[v].priority) {
            o[j] = o[j - 1];
            j--;
        }
        o[j] = v;
    }
    return o;
}

void engine_add_job(struct engine *e, struct job *job)
{
    if (e->n_jobs == e->cap_jobs) {
        e->cap_jobs = e->cap_jobs ? e->cap_jobs * 2 : 4;
        e->jobs = xrealloc(e->jobs, e->cap_jobs * sizeof *e->jobs);
        e->dispatch_order = xrealloc(e->dispatch_order, e->cap_jobs * sizeof *e->dispatch_order);
    }
    job->engine = e;
    job->log.observer = observe;
    job->log.observer_ctx = job;
    e->jobs[e->n_jobs] = job;
    e->dispatch_order[e->n_jobs] = make_dispatch_order(job);
    e->n_jobs++;
    for (size_t i = 0; i < job->wf.n_rpm; i++)
        rl_set(&e->rl, job->wf.rpm[i].model, job->wf.rpm[i].rpm);
    if (e->opts.share_concurrency && job->wf.concurrency > e->opts.max_inflight)
        e->opts.max_inflight = job->wf.concurrency;
    job->started_ms = now_ms();

    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "pid", getpid());
    cJSON_AddStringToObject(f, "workflow", job->wf.name ? job->wf.name : job->wf.path);
    cJSON_AddStringToObject(f, "version", GEMFLOW_VERSION);
    cJSON_AddStringToObject(f, "endpoint", job->endpoint);
    job_event(job, "run_start", f, false); /* made durable by the next durable append */
    if (job->log_was_torn)
        engine_note(e, job, 0,
                    "progress.jsonl ended in a torn line (a crash mid-write); it was cut off");
    if (job->swept_temporaries)
        engine_note(e, job, 0, "removed %d temporary file%s left by a crash",
                    job->swept_temporaries, job->swept_temporaries == 1 ? "" : "s");
    job_apply_reruns(job, true);
}

/* --- stage bookkeeping ------------------------------------------------------------------ */

static void stage_event(struct job *job, size_t s, const char *event)
{
    struct stage_run *sr = &job->st[s];
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "stage", job->wf.stages[s].name);
    json_add_i64(f, "ms", now_ms() - sr->started_ms);
    cJSON_AddNumberToObject(f, "done", (double)sr->n_done);
    cJSON_AddNumberToObject(f, "failed", (double)sr->n_failed);
    if (sr->error)
        cJSON_AddStringToObject(f, "error", sr->error);
    /* Not fsync'd on its own: stage states are derived from the items on replay, and the
     * next item_done or run_end makes this line durable too. */
    job_event(job, event, f, false);
}

/* A cached item's manifest entries may be missing (a crash between item_done and the manifest
 * write, or a deleted manifest): rebuild them from the checkpoint, one per output. */
static void sync_manifest(struct job *job, const struct item *it)
{
    const struct stage_def *def = &job->wf.stages[it->stage];
    const struct ckpt_item *ci = ckpt_get(&job->ck, def->name, it->id);
    for (size_t k = 0; ci && k < ci->n_outs; k++) {
        const struct ckpt_output *o = &ci->outs[k];
        const cJSON *m = manifest_get(&job->man, o->path);
        const char *mkey = m ? json_str(m, "key") : NULL;
        if (mkey && strcmp(mkey, ci->key) == 0)
            continue;
        cJSON *extra = k ? local_output_media(def, ci->media, k) : NULL;
        manifest_put(&job->man,
                     manifest_entry_new(o->path, o->sha256, o->bytes, def->name, it->id, ci->key,
                                        ci->model ? ci->model : def->model, it->prompt, ci->done_ts,
                                        k ? extra : ci->media, NULL));
        cJSON_Delete(extra);
    }
}

/* Flag the outputs of a cached item that were edited by hand in the manifest (and clear the
 * flag on the others). */
static void mark_edited(struct job *job, const struct item *it)
{
    const struct stage_def *def = &job->wf.stages[it->stage];
    const struct ckpt_item *ci = ckpt_get(&job->ck, def->name, it->id);
    if (!ci || ci->n_outs <= 1) {
        manifest_set_edited(&job->man, it->out_path, it->verdict == CK_EDITED);
        return;
    }
    const char *edited = NULL;
    if (it->verdict == CK_EDITED)
        ckpt_judge(&job->ck, job->dir, def->name, it->id, it->key, &edited);
    for (size_t k = 0; k < ci->n_outs; k++)
        manifest_set_edited(&job->man, ci->outs[k].path,
                            edited && strcmp(edited, ci->outs[k].path) == 0);
}

/* A job with a budget: now that stage s's items are known, would the calls still to make take
 * it past the budget? Then nothing more starts (the calls in flight end) and the run ends with
 * exit 2, as when a model is not served. */
static void check_budget(struct engine *e, struct job *job, size_t s)
{
    const struct stage_run *sr = &job->st[s];
    if (job->wf.max_cost == 0 || job->halt_error || job->wf.stages[s].kind->exec == EXEC_LOCAL ||
        sr->n_cached == sr->n_items)
        return;
    struct gf_err err = GF_ERR_INIT;
    if (!cost_run_over_budget(job, &err))
        return;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "stage", job->wf.stages[s].name);
    cJSON_AddNumberToObject(f, "budget", job->wf.max_cost);
    cJSON_AddStringToObject(f, "message", err.msg);
    job_event(job, "budget_exceeded", f, true);
    engine_note(e, job, -1, "stage %s: %s", job->wf.stages[s].name, err.msg);
    job->halt_error = xstrdup(err.msg);
    job->halt_exit = GF_EXIT_USAGE;
}

static void start_stage(struct engine *e, struct job *job, size_t s)
{
    struct stage_run *sr = &job->st[s];
    const struct stage_def *def = &job->wf.stages[s];
    struct gf_err err = GF_ERR_INIT;
    sr->started_ms = now_ms();
    sr->state = SS_RUNNING;
    int rc = 0;
    for (size_t d = 0; d < def->n_deps && rc == 0; d++)
        rc = job_load_stage_value(job, def->deps[d], &err);
    if (rc == 0)
        rc = job_expand_stage(job, s, &err);
    if (rc < 0) {
        sr->error = xstrdup(err.msg);
        sr->state = SS_FAILED;
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "stage", def->name);
        cJSON_AddNumberToObject(f, "items", 0);
        cJSON_AddNumberToObject(f, "cached", 0);
        job_event(job, "stage_start", f, false);
        stage_event(job, s, "stage_failed");
        engine_note(e, job, -1, "stage %s failed: %s", def->name, sr->error);
        return;
    }
    for (size_t i = 0; i < sr->n_items; i++) {
        struct item *it = &sr->items[i];
        if (!it->input_error && (it->verdict == CK_DONE || it->verdict == CK_EDITED)) {
            it->state = IS_DONE;
            sr->n_cached++;
            sr->n_done++;
            sync_manifest(job, it);
            mark_edited(job, it);
            if (it->verdict == CK_EDITED) {
                sr->n_edited++;
                engine_note(e, job, 0, "%s/%s: '%s' was edited by hand; kept", def->name, it->id,
                            it->out_path);
            }
        } else {
            it->state = IS_TODO;
        }
    }
    check_budget(e, job, s);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "stage", def->name);
    cJSON_AddNumberToObject(f, "items", (double)sr->n_items);
    cJSON_AddNumberToObject(f, "cached", (double)sr->n_cached);
    cJSON_AddNumberToObject(f, "edited", (double)sr->n_edited);
    job_event(job, "stage_start", f, false);
    /* a stage with nothing to call is not news; the final line counts it */
    engine_note(e, job, sr->n_cached == sr->n_items ? 1 : 0,
                "stage %s: %zu item%s, %zu cached, %zu to call", def->name, sr->n_items,
                sr->n_items == 1 ? "" : "s", sr->n_cached, sr->n_items - sr->n_cached);
    /* Items that cannot even be built fail now, with their reason. */
    for (size_t i = 0; i < sr->n_items; i++) {
        struct item *it = &sr->items[i];
        if (!it->input_error)
            continue;
        cJSON *error = cJSON_CreateObject();
        /* "edited": its output was edited by hand into one the kind's check refuses */
        cJSON_AddStringToObject(error, "kind", it->verdict == CK_EDITED ? "edited" : "input");
        cJSON_AddStringToObject(error, "message", it->input_error);
        engine_fail_item(e, it, error, NULL, 0, 0);
    }
    /* Work the API accepted in an earlier run is polled, never created again. */
    for (size_t i = 0; def->kind->exec == EXEC_OPERATION && i < sr->n_items; i++)
        if (sr->items[i].state == IS_TODO && !sr->items[i].input_error)
            op_adopt(e, &sr->items[i]);
}

static bool stage_items_settled(const struct stage_run *sr)
{
    return sr->n_done + sr->n_failed == sr->n_items;
}

/* Move stages forward until nothing changes; returns true when the job has ended. */
static bool advance_job(struct engine *e, struct job *job)
{
    if (job->halt_error) /* halted: nothing starts; what is in flight or rendering ends first */
        return job->inflight == 0 && job->checking == 0 && job->rendering == 0;
    bool changed = true;
    while (changed) {
        changed = false;
        for (size_t k = 0; k < job->wf.n_stages; k++) {
            size_t s = job->wf.order[k];
            struct stage_run *sr = &job->st[s];
            if (sr->state == SS_WAITING) {
                if (job_stage_blocked(job, s)) {
                    sr->state = SS_BLOCKED;
                    changed = true;
                } else if (e->stop_level == 0 && job_stage_ready(job, s)) {
                    start_stage(e, job, s);
                    changed = true;
                }
            }
            if (sr->state == SS_RUNNING && stage_items_settled(sr)) {
                bool ok = sr->n_failed == 0;
                sr->state = ok ? SS_DONE : SS_FAILED;
                stage_event(job, s, ok ? "stage_done" : "stage_failed");
                engine_note(e, job,
                            !ok                           ? -1
                            : sr->n_cached == sr->n_items ? 1
                                                          : 0,
                            "stage %s %s: %zu done, %zu failed", job->wf.stages[s].name,
                            ok ? "done" : "failed", sr->n_done, sr->n_failed);
                changed = true;
            }
        }
    }
    int64_t now = now_ms();
    if (job->man.dirty && ((job->inflight == 0 && job->checking == 0) ||
                           now - job->manifest_ms >= MANIFEST_EVERY_MS)) {
        struct gf_err err = GF_ERR_INIT;
        if (manifest_write(&job->man, job->dir, job->name, job->wf.name ? job->wf.name : "", &err) <
            0)
            engine_note(e, job, -1, "%s", err.msg);
        job->manifest_ms = now;
    }
    if (job->inflight > 0 || job->checking > 0)
        return false;
    if (e->stop_level > 0)
        return true; /* interrupted: nothing in flight, nothing new starts */
    for (size_t s = 0; s < job->wf.n_stages; s++) {
        enum stage_state st = job->st[s].state;
        if (st == SS_RUNNING || st == SS_WAITING)
            return false;
    }
    return true;
}

static void end_job(struct engine *e, struct job *job)
{
    struct gf_err err = GF_ERR_INIT;
    if (manifest_write(&job->man, job->dir, job->name, job->wf.name ? job->wf.name : "", &err) < 0)
        engine_note(e, job, -1, "%s", err.msg); /* a no-op when it is up to date */
    size_t failed = 0, done = 0;
    for (size_t s = 0; s < job->wf.n_stages; s++) {
        done += job->st[s].state == SS_DONE;
        failed += job->st[s].state == SS_FAILED;
    }
    const char *state = job->halt_error            ? "failed"
                        : done == job->wf.n_stages ? "done"
                        : e->stop_level > 0        ? "interrupted"
                                                   : "failed";
    job->interrupted = strcmp(state, "interrupted") == 0;
    job->failed = strcmp(state, "failed") == 0;
    int64_t ms = now_ms() - job->started_ms;
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "state", state);
    json_add_i64(f, "ms", ms);
    json_add_i64(f, "calls", job->calls);
    json_add_i64(f, "tokens", job->tokens);
    cJSON_AddNullToObject(f, "cost_estimate");
    if (job->halt_error)
        cJSON_AddStringToObject(f, "error", job->halt_error);
    job_event(job, "run_end", f, true);
    job->ended = true;
    engine_note(e, job, -1, "%s in %.1fs: %lld call%s, %lld tokens; %zu/%zu stages done%s%s", state,
                (double)ms / 1000.0, (long long)job->calls, job->calls == 1 ? "" : "s",
                (long long)job->tokens, done, job->wf.n_stages,
                failed ? "; see: gemflow status " : "", failed ? job->dir : "");
}

/* --- progress ------------------------------------------------------------------------------ */

/* The progress event: the same figures as the live bars (progress.c). */
static void progress_event(struct engine *e, struct job *job)
{
    (void)e;
    struct progress p = PROGRESS_INIT;
    progress_compute(job, now_ms(), &p);
    job_event(job, "progress", progress_fields(&p), false);
    progress_release(&p);
}

void engine_item_finished(struct engine *e, struct item *it)
{
    progress_event(e, it->job);
}

/* --- dispatch ----------------------------------------------------------------------------- */

/* Start every call the limits allow; returns the time of the next wake-up need. */
static int64_t dispatch(struct engine *e, int64_t now)
{
    int64_t wake = now + WAKE_MAX_MS;
    for (size_t j = 0; j < e->n_jobs; j++) {
        struct job *job = e->jobs[j];
        if (job->ended)
            continue;
        /* Halted (a model not served, the budget): nothing more is bought; the calls in flight
         * end and the renders already paid for are still polled and fetched. */
        bool halted = job->halt_error != NULL;
        if (halted && job->inflight == 0 && job->checking == 0 && job->rendering == 0) {
            wake = now; /* end it at once */
            continue;
        }
        for (size_t k = 0; k < job->wf.n_stages; k++) {
            size_t s = e->dispatch_order[j][k];
            struct stage_run *sr = &job->st[s];
            if (sr->state != SS_RUNNING)
                continue;
            const char *model = job->wf.stages[s].model;
            bool local = job->wf.stages[s].kind->exec == EXEC_LOCAL;
            bool op = job->wf.stages[s].kind->exec == EXEC_OPERATION;
            for (size_t i = 0; i < sr->n_items; i++) {
                struct item *it = &sr->items[i];
                if (it->state != IS_TODO && it->state != IS_WAIT)
                    continue;
                if (e->stop_level > 0)
                    return wake;
                if (halted && !(op && it->op_id))
                    continue; /* only polls of renders already paid for */
                if (local) {  /* no API call: outside the job's call limits */
                    if (e->local_inflight < ENGINE_LOCAL_MAX)
                        local_start(e, it);
                    continue;
                }
                if (job->inflight >= job->wf.concurrency)
                    goto next_job;
                if (e->opts.max_inflight > 0 && e->inflight >= e->opts.max_inflight)
                    return wake;
                if (it->state == IS_WAIT && it->not_before_ms > now) {
                    if (it->not_before_ms < wake)
                        wake = it->not_before_ms;
                    continue;
                }
                if (op && it->op_id) { /* a poll: free, no model check, no rate limit */
                    op_poll(e, it);
                    continue;
                }
                if (op && (job->creating || job->rendering >= job->wf.concurrency))
                    continue; /* one create at a time; as many renders as calls, at most */
                if (!engine_models_ready(e, job)) {
                    if (job->halt_error)
                        wake = now; /* end it at once */
                    goto next_job;  /* free checks first */
                }
                if (!engine_quota_ready(e, job)) {
                    wake = now; /* halted: end it at once */
                    goto next_job;
                }
                int64_t at = rl_ready_at(&e->rl, model, now);
                enum eq_answer qa = at > now ? EQ_LATER : engine_quota_take(e, it, now, &at);
                if (qa == EQ_FAILED)
                    continue; /* --no-wait-quota: failed for the day's quota */
                if (qa != EQ_GO) {
                    if (at < wake)
                        wake = at;
                    break; /* the rest of this stage uses the same model */
                }
                rl_take(&e->rl, model, now);
                if (op)
                    op_create(e, it);
                else
                    call_start(e, it);
            }
        }
    next_job:;
    }
    return wake;
}

/* SIGINT, SIGTERM: stop (a second one abandons the calls in flight); SIGHUP: the reload hook. */
static void on_signal(void *ctx, int signo)
{
    struct engine *e = ctx;
    if (signo == SIGHUP) {
        if (e->hooks.reload)
            e->hooks.reload(e->hooks.ctx);
        return;
    }
    e->signals_seen++;
    engine_stop(e, e->signals_seen >= 2 ? 2 : 1);
}

/* Remove ended jobs from the engine, telling the hook. */
static void forget_ended(struct engine *e)
{
    size_t k = 0;
    for (size_t j = 0; j < e->n_jobs; j++) {
        struct job *job = e->jobs[j];
        if (!job->ended || !e->hooks.job_ended) {
            e->jobs[k] = job;
            e->dispatch_order[k] = e->dispatch_order[j];
            k++;
            continue;
        }
        free(e->dispatch_order[j]);
        job->engine = NULL;
        job->log.observer = NULL;
        e->hooks.job_ended(e->hooks.ctx, job);
    }
    e->n_jobs = k;
}

enum gf_exit engine_run(struct engine *e)
{
    bool failed = false, interrupted = false, usage = false;
    for (;;) {
        int64_t now = now_ms();
        if (e->stop_level == 1 && e->opts.grace_ms > 0 && now - e->stop_at_ms >= e->opts.grace_ms)
            engine_stop(e, 2);
        if (e->stop_level >= 2 && http_active(e->http))
            http_abort_all(e->http);
        if (e->stop_level >= 1 && e->locals)
            local_abort_all(e); /* an encode is not paid for: redo it rather than wait */
        bool all_ended = true;
        for (size_t j = 0; j < e->n_jobs; j++) {
            struct job *job = e->jobs[j];
            if (job->ended)
                continue;
            if (advance_job(e, job)) {
                end_job(e, job);
                failed |= job->failed;
                interrupted |= job->interrupted;
                usage |= job->halt_error && job->halt_exit == GF_EXIT_USAGE;
            } else {
                all_ended = false;
            }
        }
        forget_ended(e);
        if (all_ended && (!e->hooks.keep_running || e->stop_level > 0))
            break;
        now = now_ms();
        int64_t wake = dispatch(e, now);
        if (e->stop_level == 0 && mc_busy(e->mc)) {
            int64_t at = mc_pump(e->mc, now);
            if (at < wake)
                wake = at;
        }
        if (e->hooks.tick) {
            int64_t want = e->hooks.tick(e->hooks.ctx, now);
            if (want >= 0 && now + want < wake)
                wake = now + want;
        }
        if (e->stop_level == 1 && e->opts.grace_ms > 0 && e->stop_at_ms + e->opts.grace_ms < wake)
            wake = e->stop_at_ms + e->opts.grace_ms;
        int timeout = (int)(wake - now_ms());
        struct gf_err err = GF_ERR_INIT;
        /* Replies that cannot be checked yet are left unread (their memory is the kernel's);
         * the workers' completions wake the loop. Never while stopping hard: aborts go on. */
        loop_hold_http(e->loop, e->pool && workpool_busy(e->pool) && e->stop_level < 2);
        if (loop_wait(e->loop, timeout < 0 ? 0 : timeout, &err) < 0) {
            fprintf(stderr, "gemflow: %s\n", err.msg);
            engine_stop(e, 2);
        }
    }
    if (interrupted)
        return GF_EXIT_INTERRUPTED;
    if (usage)
        return GF_EXIT_USAGE;
    return failed ? GF_EXIT_FAILED : GF_EXIT_OK;
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    local_free_all(e);
    workpool_free(e->pool);    /* nothing is pending: a job ends only when its checks are done */
    http_client_free(e->http); /* abandons model checks still asked: before mc_free */
    mc_free(e->mc);
    strmap_release(&e->reroutes_seen);
    loop_free(e->loop);
    rl_release(&e->rl);
    engine_quota_free(e);
    for (size_t j = 0; j < e->n_jobs; j++)
        free(e->dispatch_order[j]);
    free(e->dispatch_order);
    free(e->jobs);
    free(e);
}
