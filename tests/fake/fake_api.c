/* fake_api.c: the API surface of the fake Gemini server: routes under /v1beta/models, API-key
 * checks, countTokens, and the order in which the model's state (served, rerouted, shut
 * down), rate limits, faults, validation and generation apply to one request. */
#include "fake.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool model_supports(const struct fk_model *m, const char *verb)
{
    if (strcmp(verb, "models.get") == 0)
        return true;
    if (m->kind == FK_KIND_IMAGEN)
        return strcmp(verb, "predict") == 0;
    return strcmp(verb, "predict") != 0;
}

/* ---- request bodies ---- */

static cJSON *parse_body(const struct fk_server *s, const struct fk_request *req,
                         struct fk_reply *out)
{
    if (req->body_too_large) {
        char *msg =
            fk_printf("Request payload size exceeds the limit: %zu bytes.", s->cfg.max_body);
        fk_error_invalid(out, msg);
        free(msg);
        return NULL;
    }
    if (req->body.len == 0)
        return cJSON_CreateObject();
    const char *end = NULL;
    cJSON *j = fk_json_parse(req->body.buf, req->body.len, &end);
    const char *stop = req->body.buf + req->body.len;
    while (j && end && end < stop && isspace((unsigned char)*end))
        end++;
    if (!j || (end && end < stop)) {
        cJSON_Delete(j);
        size_t at = end && end >= req->body.buf ? (size_t)(end - req->body.buf) : 0;
        size_t from = at > 40 ? at - 40 : 0;
        for (size_t i = from; i < at; i++)
            if (req->body.buf[i] == '\n')
                from = i + 1;
        size_t to = from;
        while (to < req->body.len && to < at + 20 && req->body.buf[to] != '\n')
            to++;
        char *msg = fk_printf("Invalid JSON payload received. Unexpected token.\n%.*s\n%*s^",
                              (int)(to - from), req->body.buf + from, (int)(at - from), "");
        cJSON *viol = cJSON_CreateArray(), *v = cJSON_CreateObject();
        cJSON_AddStringToObject(v, "description", msg);
        cJSON_AddItemToArray(viol, v);
        fk_error_bad_request(out, msg, viol);
        free(msg);
        return NULL;
    }
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        cJSON *viol = cJSON_CreateArray(), *v = cJSON_CreateObject();
        const char *msg = "Invalid JSON payload received. Unknown name \"\": Root element must be "
                          "a message.";
        cJSON_AddStringToObject(v, "description", msg);
        cJSON_AddItemToArray(viol, v);
        fk_error_bad_request(out, msg, viol);
        return NULL;
    }
    return j;
}

/* First 200 characters of the first text part (or of the Imagen prompt), for the log. */
static char *log_prompt(const cJSON *body)
{
    const cJSON *src = fk_get(body, "generateContentRequest");
    const cJSON *contents = fk_get(src ? src : body, "contents");
    const char *text = NULL;
    const cJSON *c = cJSON_IsArray(contents) ? contents->child : contents;
    for (; c && !text; c = cJSON_IsArray(contents) ? c->next : NULL) {
        const cJSON *parts = fk_get(c, "parts");
        for (const cJSON *p = cJSON_IsArray(parts) ? parts->child : parts; p && !text;
             p = cJSON_IsArray(parts) ? p->next : NULL)
            text = fk_get_str(p, "text");
    }
    if (!text) {
        const cJSON *inst = fk_get(body, "instances");
        text = fk_get_str(cJSON_IsArray(inst) ? inst->child : NULL, "prompt");
    }
    return text ? fk_strndup(text, fk_utf8_prefix(text, strlen(text), 200)) : NULL;
}

static void count_tokens(const cJSON *body, struct fk_reply *out)
{
    static const char *const fields[] = {"contents", "generateContentRequest", NULL};
    cJSON *viol = cJSON_CreateArray();
    fk_check_fields(body, fields, NULL, viol);
    if (fk_violations_reply(viol, out))
        return;
    const cJSON *src = fk_get(body, "generateContentRequest");
    src = src ? src : body;
    const cJSON *contents = fk_get(src, "contents");
    if (!contents || (cJSON_IsArray(contents) && !contents->child)) {
        fk_error_invalid(out, "* CountTokensRequest.contents: contents is not specified\n");
        return;
    }
    size_t chars = 0;
    int images = 0;
    const cJSON *lists[2] = {contents, fk_get(src, "systemInstruction")};
    for (int l = 0; l < 2; l++) {
        const cJSON *list = lists[l];
        for (const cJSON *c = cJSON_IsArray(list) ? list->child : list; c;
             c = cJSON_IsArray(list) ? c->next : NULL) {
            const cJSON *parts = fk_get(c, "parts");
            for (const cJSON *p = cJSON_IsArray(parts) ? parts->child : parts; p;
                 p = cJSON_IsArray(parts) ? p->next : NULL) {
                const char *t = fk_get_str(p, "text");
                chars += t ? strlen(t) : 0;
                images += fk_get(p, "inlineData") ? 1 : 0;
            }
        }
    }
    int text = fk_tokens_for_text(chars);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "totalTokens", text + 258 * images);
    cJSON *det = cJSON_AddArrayToObject(doc, "promptTokensDetails");
    for (int i = 0; i < (images ? 2 : 1); i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "modality", i ? "IMAGE" : "TEXT");
        cJSON_AddNumberToObject(d, "tokenCount", i ? 258 * images : text);
        cJSON_AddItemToArray(det, d);
    }
    fk_reply_json(out, 200, doc);
}

/* streamGenerateContent: one chunk, as SSE with ?alt=sse, else a JSON array. */
static void as_stream(const struct fk_request *req, struct fk_reply *out)
{
    if (out->status != 200)
        return;
    struct fk_buf b = FK_BUF_INIT;
    if (req->alt_sse) {
        cJSON *j = fk_json_parse(out->body, out->len, NULL);
        char *flat = j ? cJSON_PrintUnformatted(j) : NULL;
        fk_buf_addf(&b, "data: %s\r\n\r\n", flat ? flat : "{}");
        cJSON_free(flat);
        cJSON_Delete(j);
    } else {
        fk_buf_addch(&b, '[');
        fk_buf_add(&b, out->body, out->len);
        fk_buf_adds(&b, "]");
    }
    size_t len;
    char *body = fk_buf_detach(&b, &len);
    fk_reply_set(out, 200, body, len,
                 req->alt_sse ? "text/event-stream" : "application/json; charset=UTF-8");
}

/* ---- routing ---- */

/* Split /VERSION/models[/MODEL[:ACTION]]; returns the verb or NULL when no route matches. */
static const char *route(const struct fk_request *req, char *version, size_t vlen, char **model)
{
    static const char *const actions[] = {"generateContent", "streamGenerateContent", "predict",
                                          "countTokens", NULL};
    const char *p = req->path;
    bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;
    const char *slash = p[0] == '/' ? strchr(p + 1, '/') : NULL;
    if (!slash || (size_t)(slash - p - 1) >= vlen)
        return NULL;
    snprintf(version, vlen, "%.*s", (int)(slash - p - 1), p + 1);
    if (strcmp(version, "v1beta") != 0 && strcmp(version, "v1") != 0 &&
        strcmp(version, "v1alpha") != 0)
        return NULL;
    const char *rest = slash + 1;
    if (strcmp(rest, "models") == 0 || strcmp(rest, "models/") == 0)
        return get ? "models.list" : NULL;
    if (strncmp(rest, "models/", 7) != 0 || !rest[7])
        return NULL;
    const char *name = rest + 7, *colon = strchr(name, ':');
    if (strchr(name, '/'))
        return NULL;
    if (!colon) {
        *model = fk_strdup(name);
        return get ? "models.get" : NULL;
    }
    for (int i = 0; actions[i] && post && colon > name; i++)
        if (strcmp(colon + 1, actions[i]) == 0) {
            *model = fk_strndup(name, (size_t)(colon - name));
            return actions[i];
        }
    return NULL;
}

/* No key: 403; with --key, a different key: 400 API_KEY_INVALID. */
static bool authorized(struct fk_server *s, const struct fk_request *req, struct fk_reply *out)
{
    const char *key = req->header_key && *req->header_key ? req->header_key : req->query_key;
    if (!key || !*key) {
        fk_error(out, 403, "PERMISSION_DENIED",
                 "Method doesn't allow unregistered callers (callers without established "
                 "identity). Please use API Key or other form of API consumer identity to call "
                 "this API.",
                 NULL);
        return false;
    }
    if (!s->cfg.key || strcmp(key, s->cfg.key) == 0)
        return true;
    const char *msg = "API key not valid. Please pass a valid API key.";
    cJSON *details = cJSON_CreateArray(), *info = cJSON_CreateObject();
    cJSON_AddStringToObject(info, "@type", "type.googleapis.com/google.rpc.ErrorInfo");
    cJSON_AddStringToObject(info, "reason", "API_KEY_INVALID");
    cJSON_AddStringToObject(info, "domain", "googleapis.com");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(info, "metadata"), "service",
                            "generativelanguage.googleapis.com");
    cJSON_AddItemToArray(details, info);
    cJSON *loc = cJSON_CreateObject();
    cJSON_AddStringToObject(loc, "@type", "type.googleapis.com/google.rpc.LocalizedMessage");
    cJSON_AddStringToObject(loc, "locale", "en-US");
    cJSON_AddStringToObject(loc, "message", msg);
    cJSON_AddItemToArray(details, loc);
    fk_error(out, 400, "INVALID_ARGUMENT", msg, details);
    return false;
}

/* Keep what the log shows of a validated generateContent body once the view is released. */
static void keep_for_log(struct fk_request *req, struct fk_gen *g)
{
    req->service_tier = g->service_tier ? fk_strdup(g->service_tier) : NULL;
    req->thinking_level = g->thinking_level ? fk_strdup(g->thinking_level) : NULL;
    req->speech = g->speech;
    g->speech = NULL;
}

/* `m` is the model in the path; a rerouted one is answered by the model serving it. */
static void answer(struct fk_server *s, struct fk_request *req, const struct fk_model *m,
                   enum fk_fault fault, const cJSON *body, struct fk_reply *out)
{
    const char *verb = req->verb;
    struct fk_ctx c = {s, req, fault};
    const struct fk_model *serving = m && m->served_by ? m->served_by : m;
    if (strcmp(verb, "models.list") == 0) {
        fk_models_list(s, req, out);
    } else if (strcmp(verb, "models.get") == 0) {
        fk_reply_json(out, 200, fk_model_json(m));
    } else if (strcmp(verb, "countTokens") == 0) {
        count_tokens(body, out);
    } else if (strcmp(verb, "predict") == 0) {
        struct fk_predict p;
        req->served_by = serving != m ? serving->name : NULL;
        if (fk_validate_predict(serving, body, &p, out) == 0)
            fk_predict_reply(&c, serving, &p, out);
    } else {
        struct fk_gen g;
        req->served_by = serving != m ? serving->name : NULL;
        if (fk_validate_generate(serving, body, s->cfg.mime_strict, &g, out) == 0) {
            fk_gen_reply(&c, &g, out);
            keep_for_log(req, &g);
        }
        req->inputs = g.inputs ? g.inputs : cJSON_CreateArray(); /* also when refused */
        g.inputs = NULL;
        fk_gen_release(&g);
        if (strcmp(verb, "streamGenerateContent") == 0)
            as_stream(req, out);
    }
}

static void respond(struct fk_server *s, struct fk_request *req, const char *verb,
                    const char *version, const cJSON *body, struct fk_reply *bad,
                    struct fk_reply *out);

void fk_api_handle(struct fk_server *s, struct fk_request *req, struct fk_reply *out)
{
    if (fk_ix_handle(s, req, out)) /* /interactions and /files: their own errors and checks */
        return;
    char version[16];
    const char *verb = route(req, version, sizeof version, &req->model);
    if (!verb) {
        fk_error_no_route(out, req->path);
        return;
    }
    req->verb = verb;
    /* Parsed first so that even refused requests log their prompt. */
    struct fk_reply bad = {.retry_after = -1};
    cJSON *body = strcmp(req->method, "POST") == 0 ? parse_body(s, req, &bad) : NULL;
    req->prompt = body ? log_prompt(body) : NULL;
    if (!authorized(s, req, out)) {
        cJSON_Delete(body);
        fk_reply_release(&bad);
        return;
    }
    respond(s, req, verb, version, body, &bad, out);
    cJSON_Delete(body);
    fk_reply_release(&bad);
}

/* After routing and auth: model, rate limit, fault, then the answer. */
static void respond(struct fk_server *s, struct fk_request *req, const char *verb,
                    const char *version, const cJSON *body, struct fk_reply *bad,
                    struct fk_reply *out)
{
    const struct fk_model *m = req->model ? fk_model_find(s, req->model) : NULL;
    if (m && m->retired) { /* shut down: the same 404 on every route, models.get too */
        fk_error_model_retired(out, req->model);
        return;
    }
    if (m && m->kind == FK_KIND_VIDEO && strcmp(verb, "models.get") != 0) {
        /* the live answer for Omni on generateContent (TanStack/ai#871, 2026-07-01) */
        fk_error_invalid(out, "This model only supports Interactions API.");
        return;
    }
    if (req->model && (!m || !model_supports(m, verb))) {
        fk_error_model_not_found(out, version, req->model,
                                 strcmp(verb, "models.get") == 0 ? "get" : verb);
        return;
    }
    bool generates = strcmp(verb, "generateContent") == 0 || strcmp(verb, "predict") == 0 ||
                     strcmp(verb, "streamGenerateContent") == 0;
    if (generates && !fk_rpm_admit(s, req->model, out)) {
        req->fault = "rpm";
        return;
    }
    enum fk_fault fault = fk_fault_pick(s, req, req->model, generates);
    req->fault = fault ? fk_fault_name(fault) : NULL;
    if (fault == FK_F_TIMEOUT || fault == FK_F_RESET) {
        out->mode = fault == FK_F_TIMEOUT ? FK_SEND_HANG : FK_SEND_RESET;
    } else if (fk_fault_is_http_error(fault)) {
        fk_error_fault(s, fault, req->model, verb, out);
    } else if (body || strcmp(req->method, "GET") == 0) {
        answer(s, req, m, fault, body, out);
    } else { /* the body did not parse: its 400 */
        fk_reply_set(out, bad->status, bad->body, bad->len, bad->content_type);
        bad->body = NULL;
    }
    if (fault == FK_F_BADJSON && out->len > 1) { /* a 200 whose JSON stops halfway */
        out->len /= 2;
        out->body[out->len] = '\0';
    }
    if (fault == FK_F_TRUNCATED)
        out->mode = FK_SEND_TRUNCATED;
}
