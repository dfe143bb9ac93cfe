/* fake_interactions.c: the Interactions API of the fake Gemini server, as Gemini Omni Flash
 * uses it for video (POST /v1beta/interactions, GET /v1beta/interactions/{id}, POST .../cancel)
 * and the Files API routes a URI-delivered clip is fetched from: the routes, the key check, the
 * Interactions API's error answers and the handlers. An interaction is created at once and
 * "renders" for --render-ms of wall clock; its status is worked out from the clock on each read,
 * so it needs no thread. The store, the ids and the interaction as the API shows it are
 * fake_interactions_store.c; the checks of a create's body, fake_interactions_request.c. Shapes and
 * sources: README.md. */
#include "fake.h"
#include "fake_interactions_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- errors: {"error": {"message", "code"}} with the Interactions API's string codes ---- */

void fk_ix_error(struct fk_reply *out, int http, const char *code, const char *message)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(doc, "error");
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddStringToObject(e, "code", code);
    fk_reply_json(out, http, doc);
}

bool fk_ix_fail(struct fk_reply *out, const char *code, char *message)
{
    fk_ix_error(out,
                strcmp(code, "not_found") == 0 || strcmp(code, "model_not_found") == 0 ? 404 : 400,
                code, message);
    free(message);
    return false;
}

bool fk_ix_invalid(struct fk_reply *out, char *message)
{
    return fk_ix_fail(out, "invalid_request", message);
}

/* The HTTP-error fault kinds in the Interactions form (codes from the API errors page). */
static void ix_fault(struct fk_server *s, enum fk_fault f, const char *model, const char *verb,
                     struct fk_reply *out)
{
    switch (f) {
    case FK_F_429:
    case FK_F_429_RETRY_AFTER:
        fk_ix_error(out, 429, "rate_limit_exceeded",
                    "You exceeded your current quota, please check your plan and billing details. "
                    "For more information on this error, head to: "
                    "https://ai.google.dev/gemini-api/docs/rate-limits.");
        if (f == FK_F_429_RETRY_AFTER)
            out->retry_after = s->cfg.retry_after;
        break;
    case FK_F_429_DAILY:
        fk_ix_error(out, 429, "quota_exceeded",
                    "You exceeded your daily quota. Wait until the quota resets or request a quota "
                    "increase.");
        break;
    case FK_F_500:
        fk_ix_error(out, 500, "api_error",
                    "An internal error has occurred. Please retry or report in "
                    "https://developers.generativeai.google/guide/troubleshooting");
        break;
    case FK_F_503:
        fk_ix_error(out, 503, "unavailable", "The model is overloaded. Please try again later.");
        break;
    case FK_F_504:
        fk_ix_error(out, 504, "deadline_exceeded",
                    "Deadline expired before operation could complete.");
        break;
    case FK_F_400:
        fk_ix_error(out, 400, "invalid_request", "Request contains an invalid argument.");
        break;
    case FK_F_401:
        fk_ix_error(out, 401, "authentication", "API key not valid. Please pass a valid API key.");
        break;
    case FK_F_403:
        fk_ix_error(out, 403, "permission_denied", "The caller does not have permission");
        break;
    case FK_F_404:
        fk_ix_error(out, 404, "not_found", "Requested entity was not found.");
        break;
    default: /* 502 (the front end's HTML page) and 400-controls: as on every route */
        fk_error_fault(s, f, model, verb, out);
    }
}

/* ---- routes ---- */

enum route { R_NONE, R_CREATE, R_GET, R_CANCEL, R_FILE_GET, R_FILE_DOWNLOAD, R_WRONG_METHOD };

/* /VERSION/interactions[/ID[/cancel]] and /VERSION/files/ID[:download]; *arg gets ID. */
static enum route route(const struct fk_request *req, char **arg)
{
    const char *p = req->path;
    const char *slash = p[0] == '/' ? strchr(p + 1, '/') : NULL;
    if (!slash)
        return R_NONE;
    size_t vlen = (size_t)(slash - p - 1);
    if (!((vlen == 6 && strncmp(p + 1, "v1beta", 6) == 0) ||
          (vlen == 2 && strncmp(p + 1, "v1", 2) == 0) ||
          (vlen == 7 && strncmp(p + 1, "v1alpha", 7) == 0)))
        return R_NONE;
    const char *rest = slash + 1;
    bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    if (strcmp(rest, "interactions") == 0)
        return post ? R_CREATE : R_WRONG_METHOD;
    if (strncmp(rest, "interactions/", 13) == 0 && rest[13]) {
        const char *id = rest + 13, *end = strchr(id, '/');
        if (!end) {
            *arg = fk_strdup(id);
            return get ? R_GET : R_WRONG_METHOD;
        }
        if (strcmp(end, "/cancel") == 0 && end > id) {
            *arg = fk_strndup(id, (size_t)(end - id));
            return post ? R_CANCEL : R_WRONG_METHOD;
        }
        return R_NONE;
    }
    if (strncmp(rest, "files/", 6) == 0 && rest[6] && !strchr(rest + 6, '/')) {
        const char *id = rest + 6, *colon = strchr(id, ':');
        if (colon && strcmp(colon, ":download") != 0)
            return R_NONE;
        *arg = colon ? fk_strndup(id, (size_t)(colon - id)) : fk_strdup(id);
        if (!get)
            return R_WRONG_METHOD;
        return colon ? R_FILE_DOWNLOAD : R_FILE_GET;
    }
    return R_NONE;
}

/* The Interactions API's key errors: 401 "authentication" (API errors page). */
static bool authorized(struct fk_server *s, const struct fk_request *req, bool files,
                       struct fk_reply *out)
{
    const char *key = req->header_key && *req->header_key ? req->header_key : req->query_key;
    const char *missing = "Method doesn't allow unregistered callers (callers without established "
                          "identity). Please use API Key or other form of API consumer identity "
                          "to call this API.";
    const char *wrong = "API key not valid. Please pass a valid API key.";
    bool ok = key && *key && (!s->cfg.key || strcmp(key, s->cfg.key) == 0);
    if (ok)
        return true;
    bool none = !key || !*key;
    if (files) /* the Files API answers in the google.rpc form of the other v1beta routes */
        fk_error(out, none ? 403 : 400, none ? "PERMISSION_DENIED" : "INVALID_ARGUMENT",
                 none ? missing : wrong, NULL);
    else
        fk_ix_error(out, 401, "authentication", none ? missing : wrong);
    return false;
}

/* ---- the handlers ---- */

static cJSON *parse(const struct fk_server *s, const struct fk_request *req, struct fk_reply *out)
{
    if (req->body_too_large) {
        char *msg =
            fk_printf("Request payload size exceeds the limit: %zu bytes.", s->cfg.max_body);
        fk_ix_error(out, 400, "invalid_request", msg);
        free(msg);
        return NULL;
    }
    cJSON *j = fk_json_parse(req->body.buf, req->body.len, NULL);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        fk_ix_error(out, 400, "invalid_request", "Invalid JSON payload received.");
        return NULL;
    }
    return j;
}

static char *first_text(const char *text)
{
    return fk_strndup(text, fk_utf8_prefix(text, strlen(text), 200));
}

static void create(struct fk_server *s, struct fk_request *req, struct fk_reply *out)
{
    cJSON *body = parse(s, req, out);
    if (!body)
        return;
    const char *model = fk_get_str(body, "model");
    req->model = model ? fk_strdup(model) : NULL;
    const cJSON *in = fk_get(body, "input");
    if (cJSON_IsString(in))
        req->prompt = first_text(in->valuestring);
    for (const cJSON *c = cJSON_IsArray(in) ? in->child : NULL; c && !req->prompt; c = c->next)
        if (fk_get_str(c, "text"))
            req->prompt = first_text(fk_get_str(c, "text"));
    const struct fk_model *m = model ? fk_model_find(s, model) : NULL;
    if (!model) {
        fk_ix_error(out, 400, "invalid_request", "Required field 'model' is missing.");
    } else if (m && m->retired) {
        char *msg = fk_printf("This model models/%s is no longer available. Please update your "
                              "code to use a newer model for the latest features and "
                              "improvements.",
                              model);
        fk_ix_error(out, 404, "model_not_found", msg);
        free(msg);
    } else if (!m) {
        char *msg = fk_printf("Model '%s' was not found.", model);
        fk_ix_error(out, 404, "model_not_found", msg);
        free(msg);
    } else if ((m->served_by ? m->served_by : m)->kind != FK_KIND_VIDEO) {
        char *msg = fk_printf("Model %s does not generate video; video generation is served by "
                              "gemini-omni-1.1-flash. (fake-gemini serves only video models on "
                              "the Interactions API.)",
                              model);
        fk_ix_error(out, 400, "invalid_request", msg);
        free(msg);
    } else if (!fk_rpm_admit(s, model, out)) {
        req->fault = "rpm";
        fk_ix_error(out, 429, "rate_limit_exceeded",
                    "You exceeded your current quota, please check your plan and billing details. "
                    "For more information on this error, head to: "
                    "https://ai.google.dev/gemini-api/docs/rate-limits.");
    } else {
        enum fk_fault fault = fk_fault_pick(s, req, model, true);
        req->fault = fault ? fk_fault_name(fault) : NULL;
        struct fk_ix_spec sp = {
            .model = model, .duration_ms = 8000, .resolution = "720p", .text = FK_BUF_INIT};
        if (fault == FK_F_TIMEOUT || fault == FK_F_RESET) {
            out->mode = fault == FK_F_TIMEOUT ? FK_SEND_HANG : FK_SEND_RESET;
        } else if (fk_fault_is_http_error(fault)) {
            ix_fault(s, fault, model, "interactions.create", out);
        } else if (fk_ix_check_create(body, &sp, out)) {
            struct fk_ix x;
            memset(&x, 0, sizeof x);
            snprintf(x.model, sizeof x.model, "%s", model);
            fk_sha256_hex(req->body.buf, req->body.len, x.body_sha);
            snprintf(x.resolution, sizeof x.resolution, "%s", sp.resolution);
            snprintf(x.task, sizeof x.task, "%s", sp.task ? sp.task : "");
            x.text = fk_strdup(sp.text.buf);
            x.variant = sp.variant;
            x.created_ms = fk_ix_now_ms();
            pthread_mutex_lock(&s->lock);
            x.done_ms = x.created_ms + s->cfg.render_ms;
            pthread_mutex_unlock(&s->lock);
            x.duration_ms = sp.duration_ms;
            x.images = sp.images;
            x.input_tokens = fk_tokens_for_text(sp.text.len) + 258 * sp.images;
            x.portrait = sp.portrait;
            x.uri_delivery = sp.uri_delivery;
            x.background = sp.background;
            x.stored = sp.stored;
            pthread_mutex_lock(&s->lock);
            fk_ix_make_id(s, x.body_sha, &x);
            double draw = fk_unit(fk_mix3(s->cfg.seed, fk_hash(x.id, strlen(x.id), 11), 7));
            x.outcome = fault == FK_F_OP_FAILED      ? OUT_FAILED
                        : fault == FK_F_OP_EXPIRED   ? OUT_EXPIRED
                        : draw < s->cfg.op_fail_rate ? OUT_FAILED
                                                     : OUT_COMPLETED;
            s->ix = fk_realloc(s->ix, (s->n_ix + 1) * sizeof *s->ix);
            s->ix[s->n_ix++] = x;
            fk_stats_bump(s, "interactions_created", x.model);
            fk_ix_save_state(s);
            pthread_mutex_unlock(&s->lock);
            struct fk_ix view = x; /* the stored copy owns text; this one borrows it */
            if (!x.background) {   /* unary: the call lasts the whole render */
                int64_t left = x.done_ms - fk_ix_now_ms();
                if (left > 0 && !fk_server_sleep(s, left)) {
                    out->mode = FK_SEND_RESET;
                } else {
                    pthread_mutex_lock(&s->lock);
                    struct fk_ix *st = fk_ix_find(s, view.id);
                    view.cancelled_ms = st ? st->cancelled_ms : 0;
                    view.text = st ? fk_strdup(st->text) : NULL;
                    pthread_mutex_unlock(&s->lock);
                    if (view.outcome == OUT_EXPIRED && !view.cancelled_ms)
                        view.outcome = OUT_COMPLETED; /* expiry only shows on later reads */
                    fk_ix_reply(&view, fk_ix_now_ms(), view.uri_delivery, req, out);
                    free(view.text);
                }
            } else { /* background: answered at once, in its initial state */
                view.text = NULL;
                fk_ix_reply(&view, x.done_ms - 1, false, req, out);
            }
            if (!x.stored) { /* store: false: nothing to read back later */
                pthread_mutex_lock(&s->lock);
                struct fk_ix *st = fk_ix_find(s, x.id);
                if (st)
                    st->stored = false;
                fk_ix_save_state(s);
                pthread_mutex_unlock(&s->lock);
            }
        }
        fk_buf_release(&sp.text);
        if (fault == FK_F_BADJSON && out->status == 200 && out->len > 1) {
            out->len /= 2;
            out->body[out->len] = '\0';
        }
        if (fault == FK_F_TRUNCATED)
            out->mode = FK_SEND_TRUNCATED;
    }
    cJSON_Delete(body);
}

/* A copy of interaction `id` (text duplicated; caller frees it), or false with the error. */
static bool lookup(struct fk_server *s, const char *id, struct fk_ix *copy, struct fk_reply *out)
{
    if (!fk_ix_id_well_formed(id)) {
        char *msg = fk_printf("Invalid interaction name: '%s'.", id);
        fk_ix_error(out, 400, "invalid_request", msg);
        free(msg);
        return false;
    }
    pthread_mutex_lock(&s->lock);
    struct fk_ix *x = fk_ix_find(s, id);
    bool found = x && x->stored;
    if (found) {
        *copy = *x;
        copy->text = fk_strdup(x->text);
    }
    pthread_mutex_unlock(&s->lock);
    if (!found)
        fk_ix_error(out, 404, "not_found", "Requested entity was not found.");
    return found;
}

static void get(struct fk_server *s, struct fk_request *req, const char *id, bool cancel,
                struct fk_reply *out)
{
    enum fk_fault fault = fk_fault_pick(s, req, NULL, false);
    req->fault = fault ? fk_fault_name(fault) : NULL;
    if (fault == FK_F_TIMEOUT || fault == FK_F_RESET) {
        out->mode = fault == FK_F_TIMEOUT ? FK_SEND_HANG : FK_SEND_RESET;
        return;
    }
    if (fk_fault_is_http_error(fault)) {
        ix_fault(s, fault, NULL, cancel ? "interactions.cancel" : "interactions.get", out);
        return;
    }
    struct fk_ix x;
    if (!lookup(s, id, &x, out))
        return;
    req->model = fk_strdup(x.model);
    int64_t now = fk_ix_now_ms();
    if (cancel) {
        if (x.cancelled_ms || now >= x.done_ms || !x.background) {
            char *msg = fk_printf("Interaction %s is not running and cannot be cancelled.", x.id);
            fk_ix_error(out, 400, "invalid_request", msg);
            free(msg);
            fk_ix_log_view(req, &x, fk_ix_status_of(&x, now));
            free(x.text);
            return;
        }
        pthread_mutex_lock(&s->lock);
        struct fk_ix *st = fk_ix_find(s, x.id);
        if (st)
            st->cancelled_ms = x.cancelled_ms = now;
        fk_ix_save_state(s);
        pthread_mutex_unlock(&s->lock);
    }
    if (x.outcome == OUT_EXPIRED && !x.cancelled_ms && now >= x.done_ms) {
        /* our model of retention: once over, the record is gone */
        fk_ix_error(out, 404, "not_found", "Requested entity was not found.");
        fk_ix_log_view(req, &x, "expired");
    } else {
        /* the guide: GET answers the video inline even when it was created with delivery uri */
        fk_ix_reply(&x, now, false, req, out);
    }
    free(x.text);
    if (fault == FK_F_BADJSON && out->status == 200 && out->len > 1) {
        out->len /= 2;
        out->body[out->len] = '\0';
    }
    if (fault == FK_F_TRUNCATED)
        out->mode = FK_SEND_TRUNCATED;
}

/* The Files API side of delivery "uri": metadata, and the bytes with ?alt=media. */
static void file(struct fk_server *s, struct fk_request *req, const char *fid, bool download,
                 struct fk_reply *out)
{
    pthread_mutex_lock(&s->lock);
    struct fk_ix *st = fk_ix_find_file(s, fid);
    struct fk_ix x;
    bool found =
        st && !st->cancelled_ms && fk_ix_now_ms() >= st->done_ms && st->outcome == OUT_COMPLETED;
    if (found)
        x = *st;
    pthread_mutex_unlock(&s->lock);
    if (!found) {
        char *msg = fk_printf("You do not have permission to access the File %s or it may not "
                              "exist.",
                              fid);
        fk_error(out, 403, "PERMISSION_DENIED", msg, NULL);
        free(msg);
        return;
    }
    req->model = fk_strdup(x.model);
    unsigned char *clip = NULL;
    size_t len = 0;
    char err[400];
    if (fk_video_clip(x.duration_ms, x.portrait, x.variant, &clip, &len, err, sizeof err) < 0) {
        fprintf(stderr, FK_PREFIX "%s\n", err);
        fk_error(out, 500, "INTERNAL", err, NULL);
        return;
    }
    if (download && req->alt_media) {
        req->media.type = 3;
        snprintf(req->media.mime, sizeof req->media.mime, "video/mp4");
        fk_video_dims(x.portrait, &req->media.width, &req->media.height);
        req->media.bytes = len;
        req->media.duration_s = x.duration_ms / 1000.0;
        fk_reply_set(out, 200, (char *)clip, len, "video/mp4");
        return;
    }
    free(clip);
    if (download) {
        fk_error_invalid(out, "Download requires alt=media.");
        return;
    }
    char ts[32], *b = fk_ix_base_url(req);
    cJSON *o = cJSON_CreateObject();
    char *name = fk_printf("files/%s", x.file_id);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "mimeType", "video/mp4");
    char size[24];
    snprintf(size, sizeof size, "%zu", len);
    cJSON_AddStringToObject(o, "sizeBytes", size);
    fk_ix_rfc3339_s(x.done_ms, ts);
    cJSON_AddStringToObject(o, "createTime", ts);
    cJSON_AddStringToObject(o, "updateTime", ts);
    fk_ix_rfc3339_s(x.done_ms + 48LL * 3600 * 1000, ts); /* Files API: deleted after 48 hours */
    cJSON_AddStringToObject(o, "expirationTime", ts);
    char *u = fk_printf("%s/v1beta/%s", b, name);
    cJSON_AddStringToObject(o, "uri", u);
    cJSON_AddStringToObject(o, "state", "ACTIVE");
    cJSON_AddStringToObject(o, "source", "GENERATED");
    fk_reply_json(out, 200, o);
    free(u);
    free(name);
    free(b);
}

bool fk_ix_handle(struct fk_server *s, struct fk_request *req, struct fk_reply *out)
{
    char *arg = NULL;
    enum route r = route(req, &arg);
    static const char *const verbs[] = {NULL,
                                        "interactions.create",
                                        "interactions.get",
                                        "interactions.cancel",
                                        "files.get",
                                        "files.download",
                                        NULL};
    if (r == R_NONE)
        return false;
    req->verb = verbs[r];
    if (r == R_WRONG_METHOD) {
        fk_error_no_route(out, req->path);
    } else if (authorized(s, req, r == R_FILE_GET || r == R_FILE_DOWNLOAD, out)) {
        switch (r) {
        case R_CREATE:
            create(s, req, out);
            break;
        case R_GET:
        case R_CANCEL:
            get(s, req, arg, r == R_CANCEL, out);
            break;
        default:
            file(s, req, arg, r == R_FILE_DOWNLOAD, out);
        }
    }
    free(arg);
    return true;
}
