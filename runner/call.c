/* call: one API call of an item, from start to outcome: classify the result (done, retry or
 * failed), and record it (artifact, item_done, manifest, call record, events). */
#include "base64.h"
#include "callrec.h"
#include "engine_int.h"
#include "fsutil.h"
#include "gemini.h"
#include "jsonutil.h"
#include "refs.h"
#include "retry.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#define RETRY_BASE_MS       1000
#define RETRY_CAP_MS        60000
#define SERVER_DELAY_MAX_MS (10 * 60 * 1000) /* an advised wait longer than this fails */

/* What became of one attempt. */
struct outcome {
    bool ok, retryable;
    bool paid;             /* a 200 reply whose content was unusable: a paid retry, if any */
    const char *served_by; /* the model that answered when not the one asked (in the reply) */
    char *rejected;        /* where its unused content was kept (.gemflow/rejected/...) */
    int64_t delay_ms;      /* the server's advice, -1 when none */
    cJSON *error;          /* {kind, http_status, status, message, finish_reason, block_reason} */
    struct gemini_reply reply;
    bool have_reply;
    struct stage_output out;
    struct ckpt_output art; /* ok: the artifact as written (path is the item's out_path) */
    size_t reply_bytes;     /* the response body's size (the body itself may be freed) */
};

static const char *stage_name(const struct item *it)
{
    return it->job->wf.stages[it->stage].name;
}

static cJSON *base_fields(const struct item *it)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "stage", stage_name(it));
    cJSON_AddStringToObject(f, "item", it->id);
    return f;
}

static void done_cb(void *ctx, struct http_result *res);
static cJSON *error_obj(const char *kind, long http_status, const char *status, const char *message,
                        const char *finish, const char *block);
static void fail_item(struct engine *e, struct item *it, cJSON *error, const char *response_body,
                      size_t response_len, cJSON *parsed, long http_status);

/* The reply is in: give the slot back before the reply is decoded and written, so that the
 * engine's refill can start the next call at once (http.c drain). */
static void released_cb(void *ctx)
{
    struct call *c = ctx;
    c->released = true;
    c->it->replied_ms = now_ms();
    c->it->job->inflight--;
    c->e->inflight--;
}

void call_start(struct engine *e, struct item *it)
{
    struct job *job = it->job;
    const struct stage_def *def = &job->wf.stages[it->stage];
    it->attempts++;
    it->state = IS_INFLIGHT;
    /* references travel as base64 in the body sent; the item keeps its placeholders */
    struct gf_err err = GF_ERR_INIT;
    char *sent = NULL;
    size_t sent_len = 0;
    bool refs_failed = refs_in(it->body) &&
                       refs_inline(job->dir, it->body, it->body_len, &sent, &sent_len, &err) < 0;
    /* the call starts now, after the references were read (milliseconds for a few portraits):
     * call_start's time plus call_end's ms is then the transfer, not our own work */
    it->started_ms = now_ms();
    if (it->attempts == 1) {
        it->first_start_ms = it->started_ms;
        now_rfc3339(it->started_ts, sizeof it->started_ts);
    }
    if (refs_failed) {
        fail_item(e, it, error_obj("input", 0, NULL, err.msg, NULL, NULL), NULL, 0, NULL, 0);
        return;
    }
    cJSON *f = base_fields(it);
    cJSON_AddStringToObject(f, "model", def->model);
    cJSON_AddNumberToObject(f, "attempt", it->attempts);
    job_event(job, "call_start", f, false);

    char *url = xasprintf("%s%s", job->origin, it->method_path);
    /* A call may be sent again by libcurl on a reused connection that died before any answer
     * byte, as its own retry of a transport error would (http.h, `once`): calls keep the
     * connection reuse their latency needs. */
    struct http_request req = {url,
                               sent ? sent : it->body,
                               sent ? sent_len : it->body_len,
                               e->opts.api_key,
                               def->timeout_ms,
                               false};
    struct call *c = xcalloc(1, sizeof *c);
    c->e = e;
    c->it = it;
    c->sent = sent; /* borrowed by the request until done_cb */
    job->inflight++;
    e->inflight++;
    if (http_submit_released(e->http, &req, done_cb, released_cb, c, &err) < 0) {
        struct http_result res;
        memset(&res, 0, sizeof res);
        res.transport_error = true;
        res.body = (struct buf)BUF_INIT;
        snprintf(res.error, sizeof res.error, "%.*s", (int)sizeof res.error - 1, err.msg);
        done_cb(c, &res);
    }
    free(url);
}

static cJSON *error_obj(const char *kind, long http_status, const char *status, const char *message,
                        const char *finish, const char *block)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "kind", kind);
    cJSON_AddNumberToObject(e, "http_status", (double)http_status);
    json_add_str_or_null(e, "status", status);
    cJSON_AddStringToObject(e, "message", message);
    json_add_str_or_null(e, "finish_reason", finish);
    json_add_str_or_null(e, "block_reason", block);
    return e;
}

static void classify_http_error(const struct item *it, const struct http_result *res,
                                struct outcome *o)
{
    struct gemini_error ge;
    gemini_error_parse((int)res->status, res->body.data, res->body.len, &ge);
    if (res->status == 429)
        engine_quota_note_429(it, &ge); /* kept for every process on the key */
    /* "limit: 0": the project has no quota at all for this model; waiting cannot help */
    bool no_quota = res->status == 429 && ge.message && strstr(ge.message, "limit: 0,");
    o->retryable = retry_status_is_retryable((int)res->status) && !ge.daily_quota && !no_quota;
    o->delay_ms = ge.retry_delay_ms;
    if (o->delay_ms < 0 && res->retry_after)
        o->delay_ms = retry_parse_retry_after(res->retry_after, time(NULL));
    struct buf msg = BUF_INIT;
    if (ge.daily_quota)
        buf_addf(&msg,
                 "the daily quota of model '%s' is used up (quota %s); it resets at "
                 "midnight Pacific time, retrying sooner cannot succeed. The API said: %s",
                 it->job->wf.stages[it->stage].model, ge.quota_id ? ge.quota_id : "per day",
                 ge.message);
    else if (no_quota)
        buf_addf(&msg,
                 "model '%s' has no quota on this project (limit: 0), so retrying cannot "
                 "succeed; enable billing or choose another model. The API said: %s",
                 it->job->wf.stages[it->stage].model, ge.message);
    else
        buf_adds(&msg, ge.message);
    o->error = error_obj(ge.daily_quota ? "quota_daily"
                         : no_quota     ? "quota_none"
                                        : "http",
                         res->status, ge.status, msg.data, NULL, NULL);
    buf_release(&msg);
    gemini_error_release(&ge);
}

/* Transport and HTTP errors, then the reply's envelope; true when the reply parsed and the
 * stage's accept step (accept_reply) is still to judge it. */
static bool classify_reply(const struct item *it, struct http_result *res, struct outcome *o)
{
    o->delay_ms = -1;
    if (res->transport_error) {
        o->retryable = true;
        o->error = error_obj(res->timed_out ? "timeout" : "transport", res->status, NULL,
                             res->error, NULL, NULL);
        return false;
    }
    if (res->status < 200 || res->status > 299) {
        classify_http_error(it, res, o);
        return false;
    }
    struct gf_err err = GF_ERR_INIT;
    if (gemini_reply_parse(res->body.data, res->body.len, it->verb, &o->reply, &err) < 0) {
        o->retryable = true;
        o->error = error_obj("bad_reply", res->status, NULL, err.msg, NULL, NULL);
        return false;
    }
    o->have_reply = true;
    return true;
}

/* The accepted output to disk, durably, and its digest; the decoded copy is freed. Touches
 * only the item's own file (and mkdir -p of its directory), so it may run on a worker. */
static int write_artifact(const struct item *it, struct outcome *o, struct gf_err *err)
{
    const void *data = o->out.bytes ? (const void *)o->out.bytes : o->out.data.data;
    size_t len = o->out.bytes ? o->out.n_bytes : o->out.data.len;
    struct fs_facts facts;
    if (fs_write_atomic(it->job->dir, it->out_path, data, len, FS_DURABLE, &facts, err) < 0)
        return -1;
    o->art = (struct ckpt_output){it->out_path, facts.bytes, facts.mtime_ns, {0}};
    sha256_hex(data, len, o->art.sha256);
    buf_release(&o->out.data);
    return 0;
}

/* Redact the reply for its call record now (a later redaction finds nothing left to do): the
 * base64 copy of the media is freed as soon as it is no longer needed, the artifact's digest is
 * not computed twice, and a string decoded in place, whose text is gone, gets its digest from
 * its decoded bytes. `saved` is whether the artifact was written. */
static void redact_reply(const struct item *it, struct outcome *o, bool saved)
{
    if (!o->reply.root)
        return;
    const struct stage_output *out = &o->out;
    const char *src = out->consumed_b64 ? out->consumed_b64 : saved ? out->verbatim_b64 : NULL;
    if (!src && !saved)
        return; /* the failure's record redacts it, from its text */
    char hex[SHA256_HEX_LEN + 1] = "";
    struct callrec_known known = {
        src, true, 0, hex, out->consumed_len, json_str(out->media, "source_format")};
    if (saved && src == out->verbatim_b64) {
        known.bytes = (size_t)o->art.bytes;
        memcpy(hex, o->art.sha256, sizeof hex);
    } else if (src && out->consumed_ok) {
        known.bytes = out->n_consumed;
        sha256_hex(out->consumed, out->n_consumed, hex);
    } else {
        known.valid = false;
    }
    callrec_redact_known(o->reply.root, saved ? it->out_path : NULL, src ? &known : NULL);
}

/* The file extension for content kept aside, from its first bytes. */
static const char *content_ext(const unsigned char *p, size_t n, const struct stage_kind *kind)
{
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "png";
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF)
        return "jpg";
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
        return "webp";
    if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WAVE", 4) == 0)
        return "wav";
    return kind->media == MEDIA_TEXT ? "txt" : "bin";
}

/* Keep the content of a paid reply that is not used as
 * .gemflow/rejected/STAGE/ITEM.ATTEMPT.EXT (for `gemflow inspect`): the decoded media, else the
 * reply's text, else its first media part decoded. Sets o->rejected; nothing on failure (the
 * call record still has the reply). Touches only the item's own files: may run on a worker. */
static void save_rejected(const struct item *it, struct outcome *o)
{
    const struct stage_def *def = &it->job->wf.stages[it->stage];
    /* the media as they came (decoded in place), else what the stage made of them */
    const void *data = o->out.consumed_ok ? (const void *)o->out.consumed
                       : o->out.bytes     ? (const void *)o->out.bytes
                                          : o->out.data.data;
    size_t len = o->out.consumed_ok ? o->out.n_consumed
                 : o->out.bytes     ? o->out.n_bytes
                                    : o->out.data.len;
    char *text = NULL;
    struct buf raw = BUF_INIT;
    if (!len && (text = gemini_reply_text(&o->reply))) {
        data = text;
        len = strlen(text);
    }
    for (size_t i = 0; !len && i < o->reply.n_parts; i++) {
        const struct gemini_part *p = &o->reply.parts[i];
        size_t bad = 0;
        if (p->data && p->data != o->out.consumed_b64 &&
            base64_decode(p->data, p->data_len, &raw, &bad) == 0 && raw.len) {
            data = raw.data;
            len = raw.len;
        }
    }
    if (len) {
        char *rel = xasprintf(".gemflow/rejected/%s/%s.%d.%s", def->name, it->id, it->attempts,
                              content_ext(data, len, def->kind));
        struct gf_err err = GF_ERR_INIT;
        if (fs_write_atomic(it->job->dir, rel, data, len, FS_ATOMIC, NULL, &err) == 0)
            o->rejected = rel;
        else
            free(rel);
    }
    free(text);
    buf_release(&raw);
}

/* The stage's verdict on a parsed reply and, when it is usable, its artifact written to disk
 * (write_artifact); otherwise why not. A usable reply from another model than the one asked is
 * refused under strict_model. */
static void accept_reply(const struct item *it, const struct http_result *res, struct outcome *o)
{
    const struct stage_def *def = &it->job->wf.stages[it->stage];
    struct stage_failure fail;
    memset(&fail, 0, sizeof fail);
    if (def->kind->accept(def, &o->reply, &o->out, &fail) < 0) {
        o->retryable = stage_fail_is_retryable(fail.kind);
        o->paid = o->retryable; /* the reply was paid for; its content is unusable */
        o->error = error_obj(stage_fail_kind_name(fail.kind), res->status, NULL, fail.message,
                             fail.finish_reason, fail.block_reason);
        if (o->paid)
            save_rejected(it, o);
        redact_reply(it, o, false);
        return;
    }
    if (o->served_by && def->strict_model) {
        struct buf msg = BUF_INIT;
        buf_addf(&msg,
                 "asked for model '%s', but '%s' answered (modelVersion); strict_model refuses "
                 "a reply from another model",
                 def->model, o->served_by);
        o->error = error_obj("rerouted", res->status, NULL, msg.data, o->reply.finish_reason, NULL);
        buf_release(&msg);
        save_rejected(it, o);
        redact_reply(it, o, false);
        return;
    }
    struct gf_err err = GF_ERR_INIT;
    if (write_artifact(it, o, &err) < 0) {
        o->error = error_obj("io", res->status, NULL, err.msg, NULL, NULL); /* not retried */
        redact_reply(it, o, false);
        return;
    }
    redact_reply(it, o, true);
    o->ok = true;
}

static cJSON *usage_json(const struct outcome *o)
{
    cJSON *u = cJSON_CreateObject();
    const struct gemini_usage *g = &o->reply.usage;
    if (o->have_reply && g->prompt >= 0)
        json_add_i64(u, "prompt", g->prompt);
    else
        cJSON_AddNullToObject(u, "prompt");
    if (o->have_reply && g->output >= 0)
        json_add_i64(u, "output", g->output + (g->thoughts > 0 ? g->thoughts : 0));
    else
        cJSON_AddNullToObject(u, "output");
    if (o->have_reply && g->total >= 0)
        json_add_i64(u, "total", g->total);
    else
        cJSON_AddNullToObject(u, "total");
    return u;
}

static void write_record(struct item *it, const char *status, const cJSON *error, const char *body,
                         size_t body_len, cJSON *parsed, long http_status, const char *saved_as,
                         const char *model_text, const cJSON *usage);

void call_write_record(struct item *it, const char *status, const cJSON *error, const char *body,
                       size_t body_len, long http_status, const char *saved_as,
                       const char *model_text, const cJSON *usage)
{
    write_record(it, status, error, body, body_len, NULL, http_status, saved_as, model_text, usage);
}

/* `parsed`, when not NULL, is the body already parsed; it is redacted in place. */
static void write_record(struct item *it, const char *status, const cJSON *error, const char *body,
                         size_t body_len, cJSON *parsed, long http_status, const char *saved_as,
                         const char *model_text, const cJSON *usage)
{
    struct job *job = it->job;
    char ended[40];
    now_rfc3339(ended, sizeof ended);
    const char *method = it->method_path ? it->method_path : "";
    char *url = job->wf.stages[it->stage].kind->exec == EXEC_LOCAL
                    ? xasprintf("local:%s", method)
                    : xasprintf("%s%s", job->origin, method);
    struct callrec rec = {
        .stage = stage_name(it),
        .item = it->id,
        .key = it->key,
        .model = job->wf.stages[it->stage].model,
        .served_by = it->served_by,
        .url = url,
        .status = status,
        .request_body = it->body ? it->body : "",
        .http_status = http_status,
        .response_body = body,
        .response_len = body_len,
        .response_json = parsed,
        .saved_as = saved_as,
        .model_text = model_text,
        .attempts = it->attempt_log,
        .error = error,
        .usage = usage,
        .started = it->started_ts[0] ? it->started_ts : NULL,
        .ended = ended,
        .total_ms = it->first_start_ms ? now_ms() - it->first_start_ms : 0,
    };
    struct gf_err err = GF_ERR_INIT;
    if (callrec_write(job->dir, &rec, &err) < 0)
        fprintf(stderr, "gemflow: %s: %s\n", job->name, err.msg);
    free(url);
}

/* `parsed`, when not NULL, is the reply already parsed (the raw body is then not needed). */
static void fail_item(struct engine *e, struct item *it, cJSON *error, const char *response_body,
                      size_t response_len, cJSON *parsed, long http_status)
{
    struct job *job = it->job;
    struct stage_run *sr = &job->st[it->stage];
    write_record(it, "failed", error, response_body, response_len, parsed, http_status, NULL, NULL,
                 NULL);
    const char *api_status = json_str(error, "status");
    if (http_status > 0 && (http_status < 200 || http_status > 299))
        engine_note(e, job, -1, "%s/%s failed: HTTP %ld%s%s: %s", stage_name(it), it->id,
                    http_status, api_status ? " " : "", api_status ? api_status : "",
                    json_str(error, "message"));
    else
        engine_note(e, job, -1, "%s/%s failed (%s): %s", stage_name(it), it->id,
                    json_str(error, "kind"), json_str(error, "message"));
    cJSON *f = base_fields(it);
    cJSON_AddStringToObject(f, "key", it->key);
    cJSON_AddNumberToObject(f, "attempts", it->attempts);
    cJSON_AddItemToObject(f, "error", error);
    job_event(job, "item_failed", f, true);
    it->state = IS_FAILED;
    sr->n_failed++;
    engine_item_finished(e, it);
}

void engine_fail_item(struct engine *e, struct item *it, cJSON *error, const char *response_body,
                      size_t response_len, long http_status)
{
    fail_item(e, it, error, response_body, response_len, NULL, http_status);
}

static void note_attempt(struct item *it, const struct http_result *res, const struct outcome *o,
                         int64_t delay_ms)
{
    if (!it->attempt_log)
        it->attempt_log = cJSON_CreateArray();
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "attempt", it->attempts);
    json_add_i64(a, "ms", now_ms() - it->started_ms);
    cJSON_AddNumberToObject(a, "http_status", (double)res->status);
    if (o->error)
        cJSON_AddStringToObject(a, "error", json_str(o->error, "message"));
    if (o->served_by)
        cJSON_AddStringToObject(a, "served_by", o->served_by);
    if (o->rejected)
        cJSON_AddStringToObject(a, "rejected", o->rejected);
    if (delay_ms >= 0)
        json_add_i64(a, "retry_in_ms", delay_ms);
    cJSON_AddItemToArray(it->attempt_log, a);
}

static void call_end_event(struct item *it, const struct http_result *res, const struct outcome *o,
                           cJSON *usage)
{
    cJSON *f = base_fields(it);
    cJSON_AddNumberToObject(f, "http_status", (double)res->status);
    json_add_i64(f, "ms", it->replied_ms - it->started_ms); /* latency, not our work */
    cJSON_AddNumberToObject(f, "bytes", (double)o->reply_bytes);
    cJSON_AddItemToObject(f, "tokens", cJSON_Duplicate(usage, 1));
    json_add_str_or_null(f, "finish_reason", o->have_reply ? o->reply.finish_reason : NULL);
    if (o->served_by)
        cJSON_AddStringToObject(f, "served_by", o->served_by);
    const char *tier = it->job->wf.stages[it->stage].service_tier;
    if (tier && it->verb == GEMINI_GENERATE)
        cJSON_AddStringToObject(f, "service_tier", tier);
    if (o->error)
        cJSON_AddStringToObject(f, "error", json_str(o->error, "message"));
    job_event(it->job, "call_end", f, false);
}

static void schedule_retry(struct engine *e, struct item *it, struct outcome *o, long status)
{
    const char *model = it->job->wf.stages[it->stage].model;
    int64_t delay = o->delay_ms >= 0
                        ? o->delay_ms
                        : retry_backoff_ms(it->attempts, RETRY_BASE_MS, RETRY_CAP_MS, &e->rng);
    it->state = IS_WAIT;
    it->not_before_ms = now_ms() + delay;
    if (status == 429)
        rl_pause(&e->rl, model, it->not_before_ms); /* the whole model slows down */
    cJSON *f = base_fields(it);
    cJSON_AddNumberToObject(f, "attempt", it->attempts + 1);
    json_add_i64(f, "delay_ms", delay);
    cJSON_AddStringToObject(f, "reason", json_str(o->error, "message"));
    if (o->paid) {
        cJSON_AddBoolToObject(f, "paid", true);
        json_add_str_or_null(f, "rejected", o->rejected);
    }
    job_event(it->job, "retry", f, false);
    engine_note(e, it->job, 0, "%s/%s: %sretry %d in %.1fs: %s", stage_name(it), it->id,
                o->paid ? "paid " : "", it->attempts + 1, (double)delay / 1000.0,
                json_str(o->error, "message"));
}

/* What happens once the outcome is known: events, artifact, record, retry or failure. */
static void finish(struct engine *e, struct item *it, struct http_result *res, struct outcome *o);

/* A reply being checked on a worker thread (check_work), then finished on the loop. */
struct checking {
    struct engine *e;
    struct item *it;
    struct http_result res; /* its body moved here; no header pointers */
    struct outcome o;
};

/* The stage's accept step (base64 decode, PNG or WAV check) and the artifact's write run on the
 * worker: they read the parsed reply and the stage definition, and write only k->o and the
 * item's own file. Events, the checkpoint and the manifest stay on the loop (check_done). */
static void check_work(void *ctx)
{
    struct checking *k = ctx;
    accept_reply(k->it, &k->res, &k->o);
}

static void check_done(void *ctx)
{
    struct checking *k = ctx;
    k->it->job->checking--;
    finish(k->e, k->it, &k->res, &k->o);
    buf_release(&k->res.body);
    free(k);
}

static void done_cb(void *ctx, struct http_result *res)
{
    struct call *c = ctx;
    struct engine *e = c->e;
    struct item *it = c->it;
    struct job *job = it->job;
    const struct stage_def *def = &job->wf.stages[it->stage];
    if (!c->released) {
        it->replied_ms = now_ms();
        job->inflight--;
        e->inflight--;
    }
    cJSON_free(c->sent);
    free(c);
    job->calls++;

    struct outcome o;
    memset(&o, 0, sizeof o);
    if (res->transport_error && strcmp(res->error, "abandoned") == 0) {
        /* Interrupted twice: not an outcome. The next run calls it again. */
        it->state = IS_TODO;
        return;
    }
    o.reply_bytes = res->body.len;
    bool parsed = classify_reply(it, res, &o);
    free(it->served_by);
    it->served_by = NULL;
    if (parsed && o.reply.model_version && !mc_same_model(def->model, o.reply.model_version)) {
        o.served_by = o.reply.model_version;
        it->served_by = xstrdup(o.served_by);
        engine_note_served_by(e, it, o.served_by);
    }
    /* The parsed reply holds all of it (the records are made from it): a media reply is not
     * kept twice while it waits to be checked. */
    if (parsed)
        buf_release(&res->body);
    if (parsed && e->pool && def->kind->check_on_worker) {
        struct checking *k = xcalloc(1, sizeof *k);
        k->e = e;
        k->it = it;
        k->res = *res;
        k->res.content_type = k->res.retry_after = NULL; /* valid only during this callback */
        res->body = (struct buf)BUF_INIT;
        k->o = o;
        job->checking++;
        workpool_submit(e->pool, check_work, check_done, k);
        return;
    }
    if (parsed)
        accept_reply(it, res, &o);
    finish(e, it, res, &o);
}

static void finish(struct engine *e, struct item *it, struct http_result *res, struct outcome *o)
{
    struct job *job = it->job;
    const struct stage_def *def = &job->wf.stages[it->stage];
    cJSON *usage = usage_json(o);
    if (o->have_reply && o->reply.usage.total > 0)
        job->tokens += o->reply.usage.total;
    call_end_event(it, res, o, usage);
    /* A paid reply that was unusable is retried at most paid_retries times; the other failures
     * (transport, 429, 5xx) at most `retries` times, counted apart. */
    if (o->paid)
        it->paid_rejects++;
    bool budget = o->paid ? it->paid_rejects <= def->paid_retries
                          : it->attempts - it->paid_rejects <= def->retries;
    bool retry = !o->ok && o->retryable && budget && e->stop_level == 0 &&
                 (o->delay_ms < 0 || o->delay_ms <= SERVER_DELAY_MAX_MS);
    note_attempt(it, res, o, retry ? (o->delay_ms >= 0 ? o->delay_ms : -1) : -1);

    /* records are made from the parsed reply when there is one (redacted in place) */
    cJSON *parsed = o->have_reply ? o->reply.root : NULL;
    if (o->ok) {
        e->ok_calls++;
        e->ok_ms += it->replied_ms - it->started_ms;
        struct gf_err err = GF_ERR_INIT;
        struct item_done_facts facts = {&o->art, 1, o->out.media, NULL, usage, false};
        if (job_record_done(job, it, &facts, &err) < 0) {
            fail_item(e, it, error_obj("io", res->status, NULL, err.msg, NULL, NULL),
                      res->body.data, res->body.len, parsed, res->status);
        } else {
            write_record(it, "done", NULL, res->body.data, res->body.len, parsed, res->status,
                         it->out_path, o->out.model_text, usage);
            it->state = IS_DONE;
            job->st[it->stage].n_done++;
            engine_item_finished(e, it);
        }
    } else if (retry) {
        schedule_retry(e, it, o, res->status);
        cJSON_Delete(o->error);
        o->error = NULL;
    } else if (engine_quota_defer(e, it, o->error)) {
        /* the day's quota is used up: the item waits for the reset (engine_quota.c) */
        cJSON_Delete(o->error);
        o->error = NULL;
    } else if (!o->retryable || e->stop_level == 0) {
        if (o->retryable && !budget)
            engine_note(e, job, 0, "%s/%s: giving up after %d attempts%s", stage_name(it), it->id,
                        it->attempts, o->paid ? " (paid_retries used up)" : "");
        if (o->rejected)
            cJSON_AddStringToObject(o->error, "rejected", o->rejected);
        fail_item(e, it, o->error, res->body.data, res->body.len, parsed, res->status);
        o->error = NULL;
    } else {
        /* stopping: a retryable failure is left for the next run */
        it->state = IS_TODO;
    }
    cJSON_Delete(o->error);
    cJSON_Delete(usage);
    free(o->rejected);
    stage_output_release(&o->out);
    if (o->have_reply)
        gemini_reply_release(&o->reply);
}
