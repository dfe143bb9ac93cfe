/* modelcheck: free model checks (models.get, models.list) before paid calls; see modelcheck.h. */
#include "modelcheck.h"
#include "gemini.h"
#include "jsonutil.h"
#include "retry.h"
#include "strmap.h"
#include "util.h"
#include "../stages/stage.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define MC_TIMEOUT_MS   30000
#define MC_PAGE_SIZE    1000 /* the documented maximum: one page for most keys */
#define MC_PAGES_MAX    100  /* a server that pages forever is cut off */
#define MC_DELAY_MAX_MS 60000

struct modelcheck {
    struct http_client *http;
    const char *api_key;
    struct strmap entries; /* root "\n" model -> struct mc_entry */
    struct strmap lists;   /* root -> struct mc_list */
    int inflight;
    uint64_t rng;
};

/* One request in flight. */
struct mc_req {
    struct modelcheck *mc;
    struct mc_entry *entry; /* or */
    struct mc_list *list;
};

struct modelcheck *mc_new(struct http_client *http, const char *api_key)
{
    struct modelcheck *mc = xcalloc(1, sizeof *mc);
    mc->http = http;
    mc->api_key = api_key;
    mc->rng = (uint64_t)time(NULL) * 2654435761u | 1;
    return mc;
}

static void model_release(struct mc_model *m)
{
    free(m->name);
    free(m->display_name);
    for (size_t i = 0; i < m->n_methods; i++)
        free(m->methods[i]);
    free(m->methods);
    memset(m, 0, sizeof *m);
}

static void free_entry(void *val, void *ctx)
{
    (void)ctx;
    struct mc_entry *e = val;
    model_release(&e->info);
    free(e->api_status);
    free(e->message);
    free(e);
}

static void free_list(void *val, void *ctx)
{
    (void)ctx;
    struct mc_list *l = val;
    for (size_t i = 0; i < l->n_models; i++)
        model_release(&l->models[i]);
    free(l->models);
    free(l->page_token);
    free(l->message);
    free(l);
}

void mc_free(struct modelcheck *mc)
{
    if (!mc)
        return;
    strmap_each(&mc->entries, free_entry, NULL);
    strmap_release(&mc->entries);
    strmap_each(&mc->lists, free_list, NULL);
    strmap_release(&mc->lists);
    free(mc);
}

static char *entry_key(const char *root, const char *model)
{
    return xasprintf("%s\n%s", root, model);
}

void mc_want(struct modelcheck *mc, const char *root, const char *model)
{
    char *k = entry_key(root, model);
    if (!strmap_get(&mc->entries, k)) {
        struct mc_entry *e = xcalloc(1, sizeof *e);
        e->state = MC_PENDING;
        e->info.name = xstrdup(model);
        e->info.input_limit = e->info.output_limit = -1;
        strmap_put(&mc->entries, k, e);
    }
    free(k);
}

const struct mc_entry *mc_get(const struct modelcheck *mc, const char *root, const char *model)
{
    char *k = entry_key(root, model);
    const struct mc_entry *e = strmap_get(&mc->entries, k);
    free(k);
    return e;
}

void mc_want_list(struct modelcheck *mc, const char *root)
{
    if (strmap_get(&mc->lists, root))
        return;
    struct mc_list *l = xcalloc(1, sizeof *l);
    l->state = MC_PENDING;
    strmap_put(&mc->lists, root, l);
}

const struct mc_list *mc_get_list(const struct modelcheck *mc, const char *root)
{
    return strmap_get(&mc->lists, root);
}

/* --- answers ---------------------------------------------------------------------------- */

/* A model object of models.get or models.list into `m` (name without "models/"). */
static void parse_model(const cJSON *o, struct mc_model *m)
{
    const char *name = json_str(o, "name");
    if (name) {
        if (str_starts_with(name, "models/"))
            name += 7;
        free(m->name);
        m->name = xstrdup(name);
    }
    const char *dn = json_str(o, "displayName");
    m->display_name = dn ? xstrdup(dn) : NULL;
    const cJSON *methods = json_field(o, "supportedGenerationMethods");
    const cJSON *x;
    size_t cap = 0;
    cJSON_ArrayForEach(x, methods)
    {
        if (cJSON_IsString(x))
            *VEC_PUSH(m->methods, m->n_methods, cap) = xstrdup(x->valuestring);
    }
    m->input_limit = (int64_t)json_num(o, "inputTokenLimit", -1);
    m->output_limit = (int64_t)json_num(o, "outputTokenLimit", -1);
}

/* The outcome of an answer that is not a 200: the state it leads to, its words in `msg`, and
 * for a transient one the delay before asking again. */
static enum mc_state judge_failure(struct modelcheck *mc, const struct http_result *res,
                                   int attempts, char **msg, char **api_status, int64_t *delay)
{
    *delay = -1;
    if (res->transport_error) {
        *msg = xstrdup(res->error);
    } else {
        struct gemini_error ge;
        gemini_error_parse((int)res->status, res->body.data, res->body.len, &ge);
        *msg = xstrdup(ge.message);
        *api_status = ge.status ? xstrdup(ge.status) : NULL;
        *delay = ge.retry_delay_ms;
        gemini_error_release(&ge);
        if (res->status == 404)
            return MC_NOT_SERVED;
        if (res->status == 400 || res->status == 401 || res->status == 403)
            return MC_DENIED;
        if (!retry_status_is_retryable((int)res->status))
            return MC_ERROR;
    }
    if (attempts >= MC_ATTEMPTS)
        return MC_ERROR;
    if (*delay < 0 || *delay > MC_DELAY_MAX_MS)
        *delay = retry_backoff_ms(attempts, 500, 8000, &mc->rng);
    return MC_PENDING;
}

static void entry_done(struct mc_req *r, struct http_result *res)
{
    struct mc_entry *e = r->entry;
    e->inflight = false;
    e->http_status = res->status;
    free(e->message);
    free(e->api_status);
    e->message = e->api_status = NULL;
    if (!res->transport_error && res->status == 200) {
        cJSON *j = cJSON_ParseWithLength(res->body.data, res->body.len);
        if (cJSON_IsObject(j)) {
            char *asked = e->info.name;
            e->info.name = NULL;
            parse_model(j, &e->info);
            if (!e->info.name)
                e->info.name = asked;
            else
                free(asked);
            e->state = MC_SERVED;
            cJSON_Delete(j);
            return;
        }
        cJSON_Delete(j);
        e->message = xstrdup("the models.get reply is not a JSON object");
        e->state = e->attempts >= MC_ATTEMPTS ? MC_ERROR : MC_PENDING;
        e->not_before_ms = now_ms() + retry_backoff_ms(e->attempts, 500, 8000, &r->mc->rng);
        return;
    }
    int64_t delay;
    e->state = judge_failure(r->mc, res, e->attempts, &e->message, &e->api_status, &delay);
    if (e->state == MC_PENDING)
        e->not_before_ms = now_ms() + delay;
}

static void list_done(struct mc_req *r, struct http_result *res)
{
    struct mc_list *l = r->list;
    l->inflight = false;
    l->http_status = res->status;
    if (!res->transport_error && res->status == 200) {
        cJSON *j = cJSON_ParseWithLength(res->body.data, res->body.len);
        const cJSON *models = json_field(j, "models");
        const cJSON *m;
        cJSON_ArrayForEach(m, models)
        {
            struct mc_model *x = VEC_PUSH(l->models, l->n_models, l->cap_models);
            memset(x, 0, sizeof *x);
            parse_model(m, x);
            if (!x->name)
                x->name = xstrdup("?");
        }
        const char *next = json_str(j, "nextPageToken");
        free(l->page_token);
        l->page_token = next && next[0] ? xstrdup(next) : NULL;
        l->pages++;
        l->attempts = 0;
        if (!cJSON_IsObject(j)) {
            free(l->message);
            l->message = xstrdup("the models.list reply is not a JSON object");
            l->state = MC_ERROR;
        } else if (!l->page_token) {
            l->state = MC_SERVED;
        } else if (l->pages >= MC_PAGES_MAX) {
            free(l->message);
            l->message = xasprintf("models.list gave more than %d pages", MC_PAGES_MAX);
            l->state = MC_ERROR;
        }
        cJSON_Delete(j);
        return;
    }
    int64_t delay;
    char *status = NULL;
    free(l->message);
    l->message = NULL;
    l->state = judge_failure(r->mc, res, l->attempts, &l->message, &status, &delay);
    free(status);
    if (l->state == MC_NOT_SERVED)
        l->state = MC_ERROR; /* a proxy without ListModels */
    if (l->state == MC_PENDING)
        l->not_before_ms = now_ms() + delay;
}

static void on_done(void *ctx, struct http_result *res)
{
    struct mc_req *r = ctx;
    r->mc->inflight--;
    if (res->transport_error && strcmp(res->error, "abandoned") == 0) {
        /* stopping: leave it pending, nobody waits for it any more */
        if (r->entry)
            r->entry->inflight = false;
        else
            r->list->inflight = false;
    } else if (r->entry) {
        entry_done(r, res);
    } else {
        list_done(r, res);
    }
    free(r);
}

/* --- asking ----------------------------------------------------------------------------- */

static void submit(struct modelcheck *mc, struct mc_req *r, char *url)
{
    struct http_request req = {url, NULL, 0, mc->api_key, MC_TIMEOUT_MS, false};
    struct gf_err err = GF_ERR_INIT;
    mc->inflight++;
    if (http_submit(mc->http, &req, on_done, r, &err) < 0) {
        struct http_result res;
        memset(&res, 0, sizeof res);
        res.transport_error = true;
        res.body = (struct buf)BUF_INIT;
        snprintf(res.error, sizeof res.error, "%.*s", (int)sizeof res.error - 1, err.msg);
        on_done(r, &res);
    }
    free(url);
}

int64_t mc_pump(struct modelcheck *mc, int64_t now)
{
    int64_t wake = now + 1000;
    for (size_t i = 0; i < mc->entries.cap; i++) {
        const char *key = mc->entries.slots[i].key;
        struct mc_entry *e = key ? mc->entries.slots[i].val : NULL;
        if (!e || e->state != MC_PENDING || e->inflight)
            continue;
        if (e->not_before_ms > now) {
            if (e->not_before_ms < wake)
                wake = e->not_before_ms;
            continue;
        }
        const char *nl = strchr(key, '\n');
        struct mc_req *r = xcalloc(1, sizeof *r);
        r->mc = mc;
        r->entry = e;
        e->inflight = true;
        e->attempts++;
        submit(mc, r, xasprintf("%.*s/models/%s", (int)(nl - key), key, nl + 1));
    }
    for (size_t i = 0; i < mc->lists.cap; i++) {
        const char *root = mc->lists.slots[i].key;
        struct mc_list *l = root ? mc->lists.slots[i].val : NULL;
        if (!l || l->state != MC_PENDING || l->inflight)
            continue;
        if (l->not_before_ms > now) {
            if (l->not_before_ms < wake)
                wake = l->not_before_ms;
            continue;
        }
        struct mc_req *r = xcalloc(1, sizeof *r);
        r->mc = mc;
        r->list = l;
        l->inflight = true;
        l->attempts++;
        char *url = l->page_token ? xasprintf("%s/models?pageSize=%d&pageToken=%s", root,
                                              MC_PAGE_SIZE, l->page_token)
                                  : xasprintf("%s/models?pageSize=%d", root, MC_PAGE_SIZE);
        submit(mc, r, url);
    }
    return wake;
}

static bool any_pending(const struct modelcheck *mc)
{
    for (size_t i = 0; i < mc->entries.cap; i++) {
        const struct mc_entry *e = mc->entries.slots[i].key ? mc->entries.slots[i].val : NULL;
        if (e && e->state == MC_PENDING)
            return true;
    }
    for (size_t i = 0; i < mc->lists.cap; i++) {
        const struct mc_list *l = mc->lists.slots[i].key ? mc->lists.slots[i].val : NULL;
        if (l && l->state == MC_PENDING)
            return true;
    }
    return false;
}

bool mc_busy(const struct modelcheck *mc)
{
    return mc->inflight > 0 || any_pending(mc);
}

int mc_wait_all(struct modelcheck *mc, struct gf_err *err)
{
    while (mc_busy(mc)) {
        int64_t now = now_ms();
        int64_t wake = mc_pump(mc, now);
        int timeout = (int)(wake - now_ms());
        if (http_wait(mc->http, timeout < 0 ? 0 : timeout, NULL, NULL, 0, err) < 0)
            return -1;
    }
    return 0;
}

/* --- facts about models ---------------------------------------------------------------- */

bool mc_model_supports(const struct mc_model *m, const char *method)
{
    for (size_t i = 0; i < m->n_methods; i++) {
        if (strcmp(m->methods[i], method) == 0)
            return true;
    }
    return false;
}

const char *mc_model_kind(const struct mc_model *m)
{
    const char *n = m->name ? m->name : "";
    if (strstr(n, "tts"))
        return "speech";
    if (strstr(n, "image") || str_starts_with(n, "imagen") || strstr(n, "nano-banana"))
        return "image";
    if (strstr(n, "omni") || str_starts_with(n, "veo") || strstr(n, "video"))
        return "video";
    if (strstr(n, "embedding") || strstr(n, "live") || strstr(n, "native-audio") ||
        strstr(n, "aqa"))
        return "other";
    return mc_model_supports(m, "generateContent") ? "text" : "other";
}

static const char *strip_models(const char *s)
{
    return str_starts_with(s, "models/") ? s + 7 : s;
}

bool mc_same_model(const char *asked, const char *served)
{
    asked = strip_models(asked);
    served = strip_models(served);
    size_t n = strlen(asked);
    if (strncmp(asked, served, n) != 0)
        return false;
    if (served[n] == '\0')
        return true;
    if (served[n] != '-')
        return false;
    /* A version suffix: groups of digits joined by single dashes ("-001", "-2026-09-02"). A dot
     * or a letter ("-2.1", "-2b") names another model: "x-2.1" is a successor of "x", not x. */
    const char *p = served + n;
    while (*p == '-') {
        p++;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p))
            p++;
    }
    return *p == '\0';
}

/* --- words for people --------------------------------------------------------------------- */

const char *mc_stage_method(const struct stage_def *def)
{
    return def->kind->method ? def->kind->method(def) : "generateContent";
}

const char *mc_stage_kind(const struct stage_def *def)
{
    return def->kind->model_kind ? def->kind->model_kind : def->kind->name;
}

bool mc_entry_is_bad(const struct mc_entry *e, const char *method)
{
    if (e->state == MC_PENDING)
        return false;
    return e->state != MC_SERVED || !mc_model_supports(&e->info, method);
}

void mc_describe_problem(struct buf *b, const struct mc_entry *e, const char *model,
                         const char *method)
{
    const char *st = e->api_status ? e->api_status : "";
    const char *words = e->message ? e->message : "no answer";
    switch (e->state) {
    case MC_NOT_SERVED:
        buf_addf(b, "model '%s' is not served (HTTP %ld%s%s: %s)", model, e->http_status,
                 *st ? " " : "", st, words);
        break;
    case MC_SERVED:
        buf_addf(b, "model '%s' does not support %s (it supports:", model, method);
        for (size_t k = 0; k < e->info.n_methods; k++)
            buf_addf(b, " %s", e->info.methods[k]);
        buf_adds(b, e->info.n_methods ? ")" : " nothing listed)");
        break;
    case MC_DENIED:
        buf_addf(b, "the API refused to describe model '%s' (HTTP %ld%s%s: %s)", model,
                 e->http_status, *st ? " " : "", st, words);
        break;
    case MC_ERROR:
        buf_addf(b,
                 "cannot check model '%s' after %d attempts (%s); run again later, or pass "
                 "--no-model-check for a proxy without models.get",
                 model, e->attempts, words);
        break;
    case MC_PENDING:
        buf_addf(b, "model '%s' is still being checked", model);
        break;
    }
}

void mc_add_alternatives(struct buf *b, const struct mc_list *l, const char *kind,
                         const char *method, cJSON *names)
{
    if (!l || l->state != MC_SERVED) {
        buf_addf(b, "; the list of models could not be read (%s)",
                 l && l->message ? l->message : "no answer");
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < l->n_models; i++) {
        const struct mc_model *m = &l->models[i];
        if (strcmp(mc_model_kind(m), kind) != 0 || !mc_model_supports(m, method))
            continue;
        if (n++ == 0)
            buf_addf(b, "; models this key can use for %s %s stage: ",
                     strchr("aeiou", kind[0]) ? "an" : "a", kind);
        else
            buf_adds(b, ", ");
        buf_adds(b, m->name);
        if (names)
            cJSON_AddItemToArray(names, cJSON_CreateString(m->name));
    }
    if (!n)
        buf_addf(b, "; this key lists no model for %s %s stage",
                 strchr("aeiou", kind[0]) ? "an" : "a", kind);
    else
        buf_addf(b, " (gemflow models --kind %s)", kind);
}
