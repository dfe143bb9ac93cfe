/* operation: the executor of long-running API work: create once, poll, fetch (operation.h). */
#include "operation.h"
#include "engine_int.h"
#include "fsutil.h"
#include "gemini.h"
#include "jsonutil.h"
#include "progress.h"
#include "refs.h"
#include "retry.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define POLL_FIRST_MS   2000  /* the first poll, after the create */
#define POLL_MAX_MS     30000 /* polls slow down to one every 30 s */
#define RETRY_BASE_MS   1000  /* a create answered 429 or 5xx (nothing accepted) */
#define RETRY_CAP_MS    60000
#define REDACT_AT_CHARS 1024 /* strings this long in a call record are media: redacted */

/* An HTTP request of an operation in flight. */
struct op_req {
    struct engine *e;
    struct item *it;
    char *sent; /* the create's body with its references inlined, or NULL */
    bool released;
};

/* A poll's 200 answer being read (and its artifact checked and written) on a worker. */
struct fetch {
    struct engine *e;
    struct item *it;
    cJSON *reply;
    int interpreted; /* the kind's interpret: 0, or -1 (res.message says why) */
    struct op_poll_result res;
    struct ckpt_output art; /* written: the artifact as it is on disk */
    bool written;
    char *rejected;  /* a done artifact that failed its check, kept for inspect */
    char why[1024];  /* OP_DONE but not written: the check's or the write's words */
    bool io_failure; /* the write failed (not the check) */
};

void op_poll_result_release(struct op_poll_result *r)
{
    stage_output_release(&r->out);
    cJSON_Delete(r->usage);
    r->usage = NULL;
}

static const struct stage_def *def_of(const struct item *it)
{
    return &it->job->wf.stages[it->stage];
}

static cJSON *base_fields(const struct item *it)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "stage", def_of(it)->name);
    cJSON_AddStringToObject(f, "item", it->id);
    return f;
}

/* An op_* event: applied to the checkpoint in memory too, then appended. `f` is taken. */
static int op_event(struct item *it, const char *name, cJSON *f, bool durable)
{
    cJSON *copy = cJSON_Duplicate(f, 1);
    char ts[40];
    now_rfc3339(ts, sizeof ts);
    cJSON_AddStringToObject(copy, "ts", ts);
    cJSON_AddStringToObject(copy, "event", name);
    ckpt_apply(&it->job->ck, copy);
    cJSON_Delete(copy);
    return job_event(it->job, name, f, durable);
}

static cJSON *error_obj(const char *kind, long http_status, const char *status, const char *msg)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "kind", kind);
    cJSON_AddNumberToObject(e, "http_status", (double)http_status);
    json_add_str_or_null(e, "status", status);
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddNullToObject(e, "finish_reason");
    cJSON_AddNullToObject(e, "block_reason");
    return e;
}

/* The operation is over without an artifact: op_ended (fsync'd), so the next run creates the
 * item anew. `status`: failed, cancelled, expired, lost, refused, rejected. */
static void end_op(struct item *it, const char *status, const char *message)
{
    cJSON *f = base_fields(it);
    cJSON_AddStringToObject(f, "key", it->key);
    json_add_str_or_null(f, "operation", it->op_id);
    cJSON_AddStringToObject(f, "status", status);
    if (message)
        cJSON_AddStringToObject(f, "message", message);
    op_event(it, "op_ended", f, true);
}

/* The item is not rendering any more in this run. */
static void forget_op(struct item *it)
{
    if (!it->op_id)
        return;
    free(it->op_id);
    it->op_id = NULL;
    it->job->rendering--;
}

/* The paid call of the item is over: call_end, with the tokens of the work when known. */
static void call_end_event(struct item *it, long http_status, const cJSON *usage, const char *error)
{
    cJSON *f = base_fields(it);
    cJSON_AddNumberToObject(f, "http_status", (double)http_status);
    json_add_i64(f, "ms", now_ms() - it->started_ms);
    cJSON *t = usage ? cJSON_Duplicate(usage, 1) : cJSON_CreateObject();
    if (!usage) {
        cJSON_AddNullToObject(t, "prompt");
        cJSON_AddNullToObject(t, "output");
        cJSON_AddNullToObject(t, "total");
    }
    cJSON_AddItemToObject(f, "tokens", t);
    cJSON_AddNullToObject(f, "finish_reason");
    if (it->op_id)
        cJSON_AddStringToObject(f, "operation", it->op_id);
    if (error)
        cJSON_AddStringToObject(f, "error", error);
    job_event(it->job, "call_end", f, false);
}

static void fail(struct engine *e, struct item *it, cJSON *error, const char *body, size_t len,
                 long http_status)
{
    forget_op(it);
    engine_fail_item(e, it, error, body, len, http_status);
}

/* The slot is given back as soon as the answer is in (see call.c). */
static void released_cb(void *ctx)
{
    struct op_req *r = ctx;
    r->released = true;
    r->it->job->inflight--;
    r->e->inflight--;
}

/* Submit a request of `it`; -1 with err when it could not even be sent. */
static int submit(struct engine *e, struct item *it, const char *url, const char *body, size_t len,
                  http_done_fn done, char *sent, struct gf_err *err)
{
    /* a create (it has a body) is never sent twice by libcurl; a poll (GET) may be */
    struct http_request req = {url,         body, len, e->opts.api_key, def_of(it)->timeout_ms,
                               body != NULL};
    struct op_req *r = xcalloc(1, sizeof *r);
    r->e = e;
    r->it = it;
    r->sent = sent;
    it->job->inflight++;
    e->inflight++;
    if (http_submit_released(e->http, &req, done, released_cb, r, err) < 0) {
        it->job->inflight--;
        e->inflight--;
        free(r);
        return -1;
    }
    return 0;
}

/* Take an answered request's bookkeeping back. */
static void answered(struct op_req *r)
{
    if (!r->released) {
        r->it->job->inflight--;
        r->e->inflight--;
    }
    cJSON_free(r->sent);
    free(r);
}

/* --- create -------------------------------------------------------------------------------- */

static void create_done(void *ctx, struct http_result *res);

void op_create(struct engine *e, struct item *it)
{
    struct job *job = it->job;
    const struct stage_def *def = def_of(it);
    it->attempts++;
    it->state = IS_INFLIGHT;
    it->started_ms = now_ms();
    if (it->attempts == 1) {
        it->first_start_ms = it->started_ms;
        now_rfc3339(it->started_ts, sizeof it->started_ts);
    }
    struct gf_err err = GF_ERR_INIT;
    char *sent = NULL;
    size_t sent_len = 0;
    if (refs_in(it->body) &&
        refs_inline(job->dir, it->body, it->body_len, &sent, &sent_len, &err) < 0) {
        fail(e, it, error_obj("input", 0, NULL, err.msg), NULL, 0, 0);
        return;
    }
    /* Durable before anything is sent: a crash from here on cannot hide a paid create. */
    cJSON *f = base_fields(it);
    cJSON_AddStringToObject(f, "key", it->key);
    cJSON_AddNumberToObject(f, "attempt", it->attempts);
    if (op_event(it, "op_create", f, true) < 0) {
        cJSON_free(sent);
        fail(e, it,
             error_obj("io", 0, NULL,
                       "cannot record the create in progress.jsonl, so it was not sent"),
             NULL, 0, 0);
        return;
    }
    f = base_fields(it);
    cJSON_AddStringToObject(f, "model", def->model);
    cJSON_AddNumberToObject(f, "attempt", it->attempts);
    job_event(job, "call_start", f, false);
    char *url = xasprintf("%s%s", job->origin, it->method_path);
    if (submit(e, it, url, sent ? sent : it->body, sent ? sent_len : it->body_len, create_done,
               sent, &err) < 0) {
        cJSON_free(sent);
        end_op(it, "refused", err.msg); /* nothing left this process */
        fail(e, it, error_obj("transport", 0, NULL, err.msg), NULL, 0, 0);
    } else {
        job->creating++; /* one at a time: a crash cuts off at most one answer */
    }
    free(url);
}

/* The API's words of an error answer, and its status word when it gives one: the Interactions
 * API's {"error": {"code": "not_found", "message"}} or Google's {code, status, message}. */
static char *api_words(const struct http_result *res, char *status, size_t n)
{
    struct gemini_error ge;
    gemini_error_parse((int)res->status, res->body.data, res->body.len, &ge);
    cJSON *root = cJSON_ParseWithLength(res->body.data, res->body.len);
    const char *code = json_str(json_field(root, "error"), "code");
    snprintf(status, n, "%s", ge.status ? ge.status : code ? code : "");
    char *msg = xstrdup(ge.message);
    cJSON_Delete(root);
    gemini_error_release(&ge);
    return msg;
}

/* A create answered 429 or 5xx, or never sent whole: nothing was accepted; retried like a
 * call, within `retries`. */
static bool retry_create(struct engine *e, struct item *it, const struct http_result *res,
                         const char *msg)
{
    const struct stage_def *def = def_of(it);
    bool retryable =
        res->transport_error ? !res->body_sent : retry_status_is_retryable((int)res->status);
    if (!retryable || it->attempts - 1 >= def->retries || e->stop_level > 0)
        return false;
    int64_t delay = res->retry_after ? retry_parse_retry_after(res->retry_after, time(NULL)) : -1;
    if (delay < 0)
        delay = retry_backoff_ms(it->attempts, RETRY_BASE_MS, RETRY_CAP_MS, &e->rng);
    it->state = IS_WAIT;
    it->not_before_ms = now_ms() + delay;
    if (res->status == 429)
        rl_pause(&e->rl, def->model, it->not_before_ms);
    cJSON *f = base_fields(it);
    cJSON_AddNumberToObject(f, "attempt", it->attempts + 1);
    json_add_i64(f, "delay_ms", delay);
    cJSON_AddStringToObject(f, "reason", msg);
    job_event(it->job, "retry", f, false);
    engine_note(e, it->job, 0, "%s/%s: retry %d of the create in %.1fs: %s", def->name, it->id,
                it->attempts + 1, (double)delay / 1000.0, msg);
    return true;
}

/* Why a create whose answer is lost is not sent again, and how to send it again: `what`
 * happened to it, then the advice. A plain resume never buys it twice (gemflow rerun does,
 * when the user says so: its item_reset clears the lost create, checkpoint.h). */
static void lost_message(char *buf, size_t n, const struct item *it, const char *what)
{
    snprintf(buf, n,
             "%s: the API may have accepted it and be rendering (and billing) it, but its id is "
             "unknown, so gemflow does not create it again on its own; `gemflow rerun %s %s/%s` "
             "creates it anew (a new paid attempt)",
             what, it->job->dir, def_of(it)->name, it->id);
}

static void create_done(void *ctx, struct http_result *res)
{
    struct op_req *r = ctx;
    struct engine *e = r->e;
    struct item *it = r->it;
    struct job *job = it->job;
    const struct stage_def *def = def_of(it);
    answered(r);
    job->calls++;
    job->creating--;
    if (res->transport_error && !res->body_sent) {
        /* The API never had the whole request: nothing can have been accepted. */
        char msg[600];
        snprintf(msg, sizeof msg, "the create was not sent whole (%s)", res->error);
        end_op(it, "unsent", res->error);
        if (strcmp(res->error, "abandoned") == 0) {
            it->state = IS_TODO;
            return;
        }
        call_end_event(it, res->status, NULL, msg);
        if (!retry_create(e, it, res, msg))
            fail(e, it, error_obj("transport", 0, NULL, msg), NULL, 0, 0);
        return;
    }
    if (res->transport_error && strcmp(res->error, "abandoned") == 0) {
        /* Stopping hard: its answer is lost; op_create stays open, and the next run says so. */
        char msg[1400];
        lost_message(msg, sizeof msg, it, "the create was abandoned in flight");
        it->state = IS_TODO;
        engine_note(e, job, -1, "%s/%s: %s", def->name, it->id, msg);
        return;
    }
    if (res->transport_error) {
        char msg[1400], what[400];
        snprintf(what, sizeof what, "the create's answer was lost (%s)", res->error);
        lost_message(msg, sizeof msg, it, what);
        end_op(it, "lost", res->error);
        call_end_event(it, res->status, NULL, msg);
        fail(e, it, error_obj("op_lost", res->status, NULL, msg), NULL, 0, res->status);
        return;
    }
    if (res->status < 200 || res->status > 299) {
        char status[64];
        char *msg = api_words(res, status, sizeof status);
        end_op(it, "refused", msg);
        call_end_event(it, res->status, NULL, msg);
        if (!retry_create(e, it, res, msg))
            fail(e, it, error_obj("http", res->status, status[0] ? status : NULL, msg),
                 res->body.data, res->body.len, res->status);
        free(msg);
        return;
    }
    cJSON *reply = cJSON_ParseWithLength(res->body.data, res->body.len);
    char *why = NULL;
    char *id = reply ? def->kind->op->created(reply, &why) : NULL;
    cJSON_Delete(reply);
    if (!id) {
        char msg[1400], what[400];
        snprintf(what, sizeof what, "the create was answered (HTTP %ld) without an id (%s)",
                 res->status, why ? why : "not JSON");
        lost_message(msg, sizeof msg, it, what);
        free(why);
        end_op(it, "lost", msg);
        call_end_event(it, res->status, NULL, msg);
        fail(e, it, error_obj("op_lost", res->status, NULL, msg), res->body.data, res->body.len,
             res->status);
        return;
    }
    it->op_id = id;
    it->op_since_ms = wall_ms();
    it->polls = 0;
    job->rendering++;
    cJSON *f = base_fields(it);
    cJSON_AddStringToObject(f, "key", it->key);
    cJSON_AddStringToObject(f, "operation", id);
    if (op_event(it, "op_started", f, true) < 0)
        engine_note(e, job, -1,
                    "%s/%s: cannot record operation %s in progress.jsonl; polling it in this "
                    "run only",
                    def->name, it->id, id);
    engine_note(e, job, 0, "%s/%s: rendering (operation %s)", def->name, it->id, id);
    it->state = IS_WAIT;
    it->not_before_ms = now_ms() + POLL_FIRST_MS;
}

/* --- poll ---------------------------------------------------------------------------------- */

static void poll_done(void *ctx, struct http_result *res);

void op_poll(struct engine *e, struct item *it)
{
    struct job *job = it->job;
    it->state = IS_INFLIGHT;
    it->polls++;
    char *path = def_of(it)->kind->op->poll_path(it->op_id);
    char *url = xasprintf("%s%s/%s", job->origin, job->api_root, path);
    struct gf_err err = GF_ERR_INIT;
    if (submit(e, it, url, NULL, 0, poll_done, NULL, &err) < 0) {
        it->state = IS_WAIT;
        it->not_before_ms = now_ms() + POLL_MAX_MS;
        engine_note(e, job, 0, "%s/%s: cannot poll: %s", def_of(it)->name, it->id, err.msg);
    }
    free(path);
    free(url);
}

/* Poll again later, with backoff; an item past its kind's render limit gives up in this run
 * (the operation is kept: the next run polls it again). */
static void next_poll(struct engine *e, struct item *it, const char *problem)
{
    const struct stage_def *def = def_of(it);
    int64_t age = wall_ms() - it->op_since_ms;
    if (age > def->kind->op->render_max_ms) {
        char t[32], msg[1400];
        progress_format_duration((double)age / 1000.0, t, sizeof t);
        snprintf(msg, sizeof msg,
                 "still rendering after %s (operation %s); it is kept: the next `gemflow run` "
                 "polls it again",
                 t, it->op_id);
        fail(e, it, error_obj("timeout", 0, NULL, msg), NULL, 0, 0);
        return;
    }
    int64_t delay = POLL_FIRST_MS;
    for (int i = 1; i < it->polls && delay < POLL_MAX_MS; i++)
        delay = delay * 3 / 2;
    if (delay > POLL_MAX_MS)
        delay = POLL_MAX_MS;
    it->state = IS_WAIT;
    it->not_before_ms = now_ms() + delay;
    if (problem)
        engine_note(e, it->job, 1, "%s/%s: poll of %s: %s; again in %.1fs", def->name, it->id,
                    it->op_id, problem, (double)delay / 1000.0);
}

/* Long strings of a reply (the media's base64) are replaced by their size, for the record. */
static void redact_media(cJSON *o)
{
    cJSON *c;
    cJSON_ArrayForEach(c, o)
    {
        if (cJSON_IsString(c) && strlen(c->valuestring) >= REDACT_AT_CHARS) {
            char *s = xasprintf("<%zu characters, not kept>", strlen(c->valuestring));
            cJSON_SetValuestring(c, s);
            free(s);
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            redact_media(c);
        }
    }
}

/* On a worker: the kind reads the answer; a done artifact is checked, then written durably. */
static void fetch_work(void *ctx)
{
    struct fetch *f = ctx;
    struct item *it = f->it;
    const struct stage_def *def = def_of(it);
    f->interpreted = def->kind->op->interpret(def, f->reply, &f->res);
    if (f->interpreted < 0 || f->res.state != OP_DONE)
        return;
    const struct buf *d = &f->res.out.data;
    struct gf_err err = GF_ERR_INIT;
    cJSON *media = NULL;
    if (def->kind->check_artifact &&
        def->kind->check_artifact(def, d->data, d->len, &media, &err) < 0) {
        snprintf(f->why, sizeof f->why, "%s", err.msg);
        char *rel = xasprintf(".gemflow/rejected/%s/%s.%d.bin", def->name, it->id, it->polls);
        if (fs_write_atomic(it->job->dir, rel, d->data, d->len, FS_ATOMIC, NULL, &err) == 0)
            f->rejected = rel;
        else
            free(rel);
        return;
    }
    if (media) {
        cJSON_Delete(f->res.out.media);
        f->res.out.media = media;
    }
    struct fs_facts facts;
    if (fs_write_atomic(it->job->dir, it->out_path, d->data, d->len, FS_DURABLE, &facts, &err) <
        0) {
        snprintf(f->why, sizeof f->why, "%s", err.msg);
        f->io_failure = true;
        return;
    }
    f->art = (struct ckpt_output){it->out_path, facts.bytes, facts.mtime_ns, {0}};
    sha256_hex(d->data, d->len, f->art.sha256);
    f->written = true;
    buf_release(&f->res.out.data);
}

/* Back on the loop: what the answer means for the item. */
static void fetch_finish(struct fetch *f)
{
    struct engine *e = f->e;
    struct item *it = f->it;
    struct job *job = it->job;
    const struct stage_def *def = def_of(it);
    struct op_poll_result *res = &f->res;
    if (f->interpreted < 0) {
        next_poll(e, it, res->message);
        return;
    }
    if (res->state == OP_RUNNING) {
        next_poll(e, it, NULL);
        return;
    }
    redact_media(f->reply);
    char *body = cJSON_PrintUnformatted(f->reply);
    size_t len = strlen(body);
    if (res->state == OP_FAILED) {
        char msg[1400];
        snprintf(msg, sizeof msg, "operation %s ended %s: %s", it->op_id, res->status,
                 res->message);
        end_op(it, res->status, res->message);
        call_end_event(it, 200, NULL, msg);
        fail(e, it, error_obj("op_failed", 200, res->status, msg), body, len, 200);
    } else if (!f->written) {
        char msg[1400];
        snprintf(msg, sizeof msg, "operation %s completed, but %s: %s%s%s", it->op_id,
                 f->io_failure ? "its artifact cannot be written" : "its artifact is not usable",
                 f->why, f->rejected ? "; kept as " : "", f->rejected ? f->rejected : "");
        if (!f->io_failure)
            end_op(it, "rejected", f->why);
        call_end_event(it, 200, res->usage, msg);
        cJSON *error = error_obj(f->io_failure ? "io" : "bad_output", 200, NULL, msg);
        if (f->rejected)
            cJSON_AddStringToObject(error, "rejected", f->rejected);
        fail(e, it, error, body, len, 200);
    } else {
        double total = json_num(res->usage, "total", 0);
        if (total > 0)
            job->tokens += (int64_t)total;
        call_end_event(it, 200, res->usage, NULL);
        struct item_done_facts facts = {&f->art, 1, res->out.media, NULL, res->usage, false};
        struct gf_err err = GF_ERR_INIT;
        if (job_record_done(job, it, &facts, &err) < 0) {
            fail(e, it, error_obj("io", 200, NULL, err.msg), body, len, 200);
        } else {
            char t[32];
            progress_format_duration((double)(wall_ms() - it->op_since_ms) / 1000.0, t, sizeof t);
            engine_note(e, job, 0, "%s/%s: rendered '%s' in %s", def->name, it->id, it->out_path,
                        t);
            forget_op(it);
            call_write_record(it, "done", NULL, body, len, 200, it->out_path, NULL, res->usage);
            it->state = IS_DONE;
            job->st[it->stage].n_done++;
            engine_item_finished(e, it);
        }
    }
    cJSON_free(body);
}

static void fetch_done(void *ctx)
{
    struct fetch *f = ctx;
    f->it->job->checking--;
    fetch_finish(f);
    cJSON_Delete(f->reply);
    op_poll_result_release(&f->res);
    free(f->rejected);
    free(f);
}

static void poll_done(void *ctx, struct http_result *res)
{
    struct op_req *r = ctx;
    struct engine *e = r->e;
    struct item *it = r->it;
    const struct stage_def *def = def_of(it);
    answered(r);
    if (res->transport_error && strcmp(res->error, "abandoned") == 0) {
        it->state = IS_WAIT; /* stopping: the next run polls it */
        return;
    }
    if (res->transport_error) {
        next_poll(e, it, res->error);
        return;
    }
    if (res->status == 429 || res->status >= 500) {
        char status[64];
        char *msg = api_words(res, status, sizeof status);
        next_poll(e, it, msg);
        free(msg);
        return;
    }
    if (res->status < 200 || res->status > 299) {
        char status[64], text[1400];
        char *msg = api_words(res, status, sizeof status);
        if (res->status == 404 || res->status == 400) {
            /* gone (expired, deleted) or never valid: it cannot end well any more */
            snprintf(text, sizeof text,
                     "operation %s is gone (HTTP %ld%s%s: %s): it expired or was removed before "
                     "its result was fetched; the next `gemflow run` creates it anew (a new paid "
                     "attempt)",
                     it->op_id, res->status, status[0] ? " " : "", status, msg);
            end_op(it, res->status == 404 ? "expired" : "refused", msg);
        } else {
            /* 401, 403: the key, not the work; the operation is kept for the next run */
            snprintf(text, sizeof text,
                     "cannot poll operation %s: %s; it is kept: the next run "
                     "polls it again",
                     it->op_id, msg);
        }
        call_end_event(it, res->status, NULL, text);
        fail(e, it,
             error_obj(res->status == 404 ? "op_expired" : "http", res->status,
                       status[0] ? status : NULL, text),
             res->body.data, res->body.len, res->status);
        free(msg);
        return;
    }
    struct fetch *f = xcalloc(1, sizeof *f);
    f->e = e;
    f->it = it;
    f->reply = cJSON_ParseWithLength(res->body.data, res->body.len);
    f->res.out.data = (struct buf)BUF_INIT;
    buf_release(&res->body);
    if (!f->reply) {
        free(f);
        next_poll(e, it, "the answer is not JSON");
        return;
    }
    it->job->checking++;
    if (e->pool && def->kind->check_on_worker) {
        workpool_submit(e->pool, fetch_work, fetch_done, f);
        return;
    }
    fetch_work(f);
    fetch_done(f);
}

/* --- resume -------------------------------------------------------------------------------- */

void op_adopt(struct engine *e, struct item *it)
{
    struct job *job = it->job;
    const struct stage_def *def = def_of(it);
    const struct ckpt_item *ci = ckpt_pending_op(&job->ck, def->name, it->id, it->key);
    const struct ckpt_item *lost = ci ? NULL : ckpt_lost_op(&job->ck, def->name, it->id, it->key);
    if (lost) {
        /* An earlier run lost this create's answer: only the user may buy it again. */
        char msg[1400], what[400];
        snprintf(what, sizeof what, "the create sent at %s for this request got no answer",
                 lost->lost_ts);
        lost_message(msg, sizeof msg, it, what);
        fail(e, it, error_obj("op_lost", 0, NULL, msg), NULL, 0, 0);
        return;
    }
    if (!ci)
        return;
    if (ci->op_id) {
        it->op_id = xstrdup(ci->op_id);
        int64_t since = rfc3339_ms(ci->op_ts);
        it->op_since_ms = since > 0 ? since : wall_ms();
        it->polls = 0;
        job->rendering++;
        it->state = IS_WAIT;
        it->not_before_ms = now_ms();
        it->started_ms = now_ms();
        cJSON *f = base_fields(it);
        cJSON_AddStringToObject(f, "key", it->key);
        cJSON_AddStringToObject(f, "operation", it->op_id);
        job_event(job, "op_resumed", f, false);
        engine_note(e, job, 0,
                    "%s/%s: rendering since %s (operation %s): polled, not created again",
                    def->name, it->id, ci->op_ts, it->op_id);
        return;
    }
    char msg[1400], what[400];
    snprintf(what, sizeof what,
             "the create sent at %s got no recorded answer (the run stopped or crashed while it "
             "was in flight)",
             ci->op_ts);
    lost_message(msg, sizeof msg, it, what);
    end_op(it, "lost", "no recorded answer");
    fail(e, it, error_obj("op_lost", 0, NULL, msg), NULL, 0, 0);
}
