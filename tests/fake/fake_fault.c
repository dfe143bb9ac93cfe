/* fake_fault.c: fault injection and rate limiting for the fake Gemini server: the fault kinds,
 * the four triggers (X-Fake-Fault header, [[fault:KIND*N]] body marker, rules, seeded rate) and
 * the sliding-window --rpm limiter. */
#include "fake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const fault_names[FK_FAULT_COUNT] = {
    [FK_FAULT_NONE] = "none",
    [FK_F_429] = "429",
    [FK_F_429_RETRY_AFTER] = "429-retry-after",
    [FK_F_429_DAILY] = "429-daily",
    [FK_F_500] = "500",
    [FK_F_502] = "502",
    [FK_F_503] = "503",
    [FK_F_504] = "504",
    [FK_F_400] = "400",
    [FK_F_401] = "401",
    [FK_F_403] = "403",
    [FK_F_404] = "404",
    [FK_F_400_CONTROLS] = "400-controls",
    [FK_F_TIMEOUT] = "timeout",
    [FK_F_RESET] = "reset",
    [FK_F_TRUNCATED] = "truncated",
    [FK_F_BADJSON] = "badjson",
    [FK_F_SAFETY] = "safety",
    [FK_F_BLOCKED] = "blocked",
    [FK_F_TEXT_ONLY] = "text-only",
    [FK_F_EMPTY_PARTS] = "empty-parts",
    [FK_F_BAD_BASE64] = "bad-base64",
    [FK_F_BAD_PNG] = "bad-png",
    [FK_F_ODD_PCM] = "odd-pcm",
    [FK_F_SCHEMA_BREAK] = "schema-break",
    [FK_F_MAX_TOKENS] = "max-tokens",
    [FK_F_PNG] = "png",
    [FK_F_WEBP] = "webp",
    [FK_F_BAD_JPEG] = "bad-jpeg",
    [FK_F_HUGE_IMAGE] = "huge-image",
    [FK_F_WAV_1HZ] = "wav-1hz",
    [FK_F_OP_FAILED] = "op-failed",
    [FK_F_OP_EXPIRED] = "op-expired",
};

const char *fk_fault_name(enum fk_fault f)
{
    return f >= 0 && f < FK_FAULT_COUNT ? fault_names[f] : "none";
}

int fk_fault_parse(const char *name, size_t len)
{
    while (len && (*name == ' ' || *name == '\t')) {
        name++;
        len--;
    }
    while (len && (name[len - 1] == ' ' || name[len - 1] == '\t'))
        len--;
    for (int i = 0; i < FK_FAULT_COUNT; i++)
        if (strlen(fault_names[i]) == len && strncasecmp(fault_names[i], name, len) == 0)
            return i;
    return -1;
}

bool fk_fault_is_http_error(enum fk_fault f)
{
    return f >= FK_F_429 && f <= FK_F_400_CONTROLS;
}

/* ---- rules ---- */

void fk_rules_release(struct fk_rules *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].match);
        free(r->v[i].model);
    }
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

static int rule_parse(const cJSON *o, size_t i, struct fk_rule *rule, char *err, size_t errlen)
{
    static const char *const known[] = {"match", "model", "kind", "times", "skip", NULL};
    memset(rule, 0, sizeof *rule);
    rule->times = -1;
    if (!cJSON_IsObject(o)) {
        snprintf(err, errlen, "rule %zu is not an object", i);
        return -1;
    }
    for (const cJSON *m = o->child; m; m = m->next) {
        bool ok = false;
        for (int k = 0; known[k]; k++)
            ok = ok || strcmp(m->string, known[k]) == 0;
        if (!ok) {
            snprintf(err, errlen, "rule %zu: unknown field '%s'", i, m->string);
            return -1;
        }
    }
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
    int k =
        cJSON_IsString(kind) ? fk_fault_parse(kind->valuestring, strlen(kind->valuestring)) : -1;
    if (k < 0) {
        snprintf(err, errlen, "rule %zu: missing or unknown 'kind'", i);
        return -1;
    }
    rule->kind = (enum fk_fault)k;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "match");
    if (v && !cJSON_IsString(v)) {
        snprintf(err, errlen, "rule %zu: 'match' must be a string", i);
        return -1;
    }
    rule->match = v ? fk_strdup(v->valuestring) : NULL;
    v = cJSON_GetObjectItemCaseSensitive(o, "model");
    if (v && !cJSON_IsString(v)) {
        snprintf(err, errlen, "rule %zu: 'model' must be a string", i);
        return -1;
    }
    rule->model = v ? fk_strdup(v->valuestring) : NULL;
    const char *nums[] = {"times", "skip"};
    long *dst[] = {&rule->times, &rule->skip};
    for (int n = 0; n < 2; n++) {
        v = cJSON_GetObjectItemCaseSensitive(o, nums[n]);
        if (!v)
            continue;
        if (!cJSON_IsNumber(v) || v->valuedouble < 0) {
            snprintf(err, errlen, "rule %zu: '%s' must be a number >= 0", i, nums[n]);
            return -1;
        }
        *dst[n] = (long)v->valuedouble;
    }
    return 0;
}

int fk_rules_parse(const cJSON *arr, struct fk_rules *out, char *err, size_t errlen)
{
    out->v = NULL;
    out->n = 0;
    if (!cJSON_IsArray(arr)) {
        snprintf(err, errlen, "fault rules must be a JSON array");
        return -1;
    }
    size_t n = (size_t)cJSON_GetArraySize(arr);
    out->v = fk_calloc(n, sizeof *out->v);
    size_t i = 0;
    for (const cJSON *o = arr->child; o; o = o->next, i++) {
        if (rule_parse(o, i, &out->v[i], err, errlen) < 0) {
            out->n = i + 1; /* free what the failed rule holds too */
            fk_rules_release(out);
            return -1;
        }
    }
    out->n = n;
    return 0;
}

cJSON *fk_rules_to_json(const struct fk_rules *r)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < r->n; i++) {
        const struct fk_rule *u = &r->v[i];
        cJSON *o = cJSON_CreateObject();
        if (u->match)
            cJSON_AddStringToObject(o, "match", u->match);
        if (u->model)
            cJSON_AddStringToObject(o, "model", u->model);
        cJSON_AddStringToObject(o, "kind", fk_fault_name(u->kind));
        if (u->times >= 0)
            cJSON_AddNumberToObject(o, "times", (double)u->times);
        cJSON_AddNumberToObject(o, "skip", (double)u->skip);
        cJSON_AddNumberToObject(o, "seen", (double)u->seen);
        cJSON_AddNumberToObject(o, "fired", (double)u->fired);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

/* ---- triggers; the caller holds s->lock ---- */

static long *marker_counter(struct fk_server *s, const char *key)
{
    for (size_t i = 0; i < s->n_markers; i++)
        if (strcmp(s->markers[i].key, key) == 0)
            return &s->markers[i].count;
    s->markers = fk_realloc(s->markers, (s->n_markers + 1) * sizeof *s->markers);
    s->markers[s->n_markers].key = fk_strdup(key);
    s->markers[s->n_markers].count = 0;
    return &s->markers[s->n_markers++].count;
}

/* [[fault:KIND]] fires every time; [[fault:KIND*N]] for the first N requests carrying it with
 * the same model. Returns -1 when the body holds no valid marker. */
static int from_marker(struct fk_server *s, const struct fk_request *req, const char *model)
{
    const char *p = req->body.buf, *end = req->body.buf + req->body.len;
    while ((p = fk_memmem(p, (size_t)(end - p), "[[fault:")) != NULL) {
        const char *k = p + 8;
        const char *close = fk_memmem(k, (size_t)(end - k), "]]");
        if (!close || close - k > 40) {
            p = k;
            continue;
        }
        const char *star = memchr(k, '*', (size_t)(close - k));
        int kind = fk_fault_parse(k, (size_t)((star ? star : close) - k));
        long limit = star ? strtol(star + 1, NULL, 10) : -1;
        if (kind < 0) {
            p = close;
            continue;
        }
        if (limit < 0)
            return kind;
        char *key = fk_printf("%.*s|%s", (int)(close - k), k, model ? model : "");
        long *count = marker_counter(s, key);
        free(key);
        return ++*count <= limit ? kind : FK_FAULT_NONE;
    }
    return -1;
}

static bool rule_matches(const struct fk_rule *u, const struct fk_request *req, const char *model)
{
    if (u->model && (!model || strcmp(u->model, model) != 0))
        return false;
    if (!u->match || !*u->match)
        return true;
    return strstr(req->path, u->match) || fk_memmem(req->body.buf, req->body.len, u->match) != NULL;
}

static int from_rules(struct fk_server *s, const struct fk_request *req, const char *model,
                      bool generates)
{
    for (size_t i = 0; i < s->rules.n; i++) {
        struct fk_rule *u = &s->rules.v[i];
        /* a rule without `match` is for the paid calls (generateContent, predict, stream), not
         * for the free models.get a client asks first; name the route in `match` for those */
        if ((!generates && !u->match) || !rule_matches(u, req, model))
            continue;
        u->seen++;
        if (u->seen <= u->skip || (u->times >= 0 && u->fired >= u->times))
            continue;
        u->fired++;
        return (int)u->kind;
    }
    return -1;
}

enum fk_fault fk_fault_pick(struct fk_server *s, struct fk_request *req, const char *model,
                            bool generates)
{
    int kind = -1;
    if (req->header_fault) {
        kind = fk_fault_parse(req->header_fault, strlen(req->header_fault));
        if (kind < 0)
            fprintf(stderr, FK_PREFIX "ignoring unknown X-Fake-Fault kind '%s'\n",
                    req->header_fault);
    }
    pthread_mutex_lock(&s->lock);
    if (kind < 0)
        kind = from_marker(s, req, model);
    if (kind < 0)
        kind = from_rules(s, req, model, generates);
    pthread_mutex_unlock(&s->lock);
    if (kind < 0 && generates && s->cfg.fault_rate > 0 && s->cfg.n_rate_kinds > 0) {
        /* Drawn from (seed, seq) so a run is repeatable whatever the thread timing. */
        if (fk_unit(fk_mix3(s->cfg.seed, req->seq, 1)) < s->cfg.fault_rate) {
            uint64_t pick = fk_mix3(s->cfg.seed, req->seq, 2) % (uint64_t)s->cfg.n_rate_kinds;
            kind = (int)s->cfg.rate_kinds[pick];
        }
    }
    return kind < 0 ? FK_FAULT_NONE : (enum fk_fault)kind;
}

/* ---- --rpm: sliding one-"minute" window of admitted requests per model ---- */

bool fk_rpm_admit(struct fk_server *s, const char *model, struct fk_reply *r)
{
    struct fk_rpm *q = NULL;
    for (size_t i = 0; i < s->n_rpm; i++)
        if (strcmp(s->rpm[i].model, model) == 0)
            q = &s->rpm[i];
    if (!q)
        return true;
    int64_t now = fk_mono_ms(), wait = 0;
    pthread_mutex_lock(&s->lock);
    while (q->count > 0 && now - q->stamps[q->head] >= s->cfg.minute_ms) {
        q->head = (q->head + 1) % q->limit;
        q->count--;
    }
    bool ok = q->count < q->limit;
    if (ok) {
        q->stamps[(q->head + q->count) % q->limit] = now;
        q->count++;
    } else {
        wait = q->stamps[q->head] + s->cfg.minute_ms - now;
    }
    pthread_mutex_unlock(&s->lock);
    if (!ok)
        fk_error_rpm(r, model, q->limit, wait < 1 ? 1 : wait);
    return ok;
}
