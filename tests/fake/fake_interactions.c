/* fake_interactions.c: the Interactions API of the fake Gemini server, as Gemini Omni Flash
 * uses it for video (POST /v1beta/interactions, GET /v1beta/interactions/{id}, POST .../cancel)
 * and the Files API routes a URI-delivered clip is fetched from. An interaction is created at
 * once and "renders" for --render-ms of wall clock; its status is worked out from the clock on
 * each read, so it needs no thread. The store lives in memory, keyed by id, and with --state
 * in a file rewritten atomically on every change. Shapes and sources: README.md. */
#include "fake.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum outcome { OUT_COMPLETED, OUT_FAILED, OUT_EXPIRED };
static const char *const outcome_names[] = {"completed", "failed", "expired"};

struct fk_ix {
    char id[80];
    char file_id[16];
    char model[64];
    char body_sha[65];
    char resolution[8];
    char task[24];
    char *text; /* the text parts, joined by newlines */
    uint64_t variant;
    int64_t created_ms, done_ms, cancelled_ms; /* wall clock (survives a restart) */
    int duration_ms;
    int images;
    int input_tokens;
    bool portrait, uri_delivery, background, stored;
    enum outcome outcome;
};

/* What a valid create asks for. */
struct spec {
    const char *model;
    int duration_ms;
    bool portrait, uri_delivery, background, stored;
    const char *resolution;
    const char *task;
    int images;
    struct fk_buf text;
    uint64_t variant;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void rfc3339_s(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- errors: {"error": {"message", "code"}} with the Interactions API's string codes ---- */

static void ix_error(struct fk_reply *out, int http, const char *code, const char *message)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(doc, "error");
    cJSON_AddStringToObject(e, "message", message);
    cJSON_AddStringToObject(e, "code", code);
    fk_reply_json(out, http, doc);
}

static bool ix_fail(struct fk_reply *out, const char *code, char *message)
{
    ix_error(out,
             strcmp(code, "not_found") == 0 || strcmp(code, "model_not_found") == 0 ? 404 : 400,
             code, message);
    free(message);
    return false;
}

static bool invalid(struct fk_reply *out, char *message)
{
    return ix_fail(out, "invalid_request", message);
}

/* The HTTP-error fault kinds in the Interactions form (codes from the API errors page). */
static void ix_fault(struct fk_server *s, enum fk_fault f, const char *model, const char *verb,
                     struct fk_reply *out)
{
    switch (f) {
    case FK_F_429:
    case FK_F_429_RETRY_AFTER:
        ix_error(out, 429, "rate_limit_exceeded",
                 "You exceeded your current quota, please check your plan and billing details. "
                 "For more information on this error, head to: "
                 "https://ai.google.dev/gemini-api/docs/rate-limits.");
        if (f == FK_F_429_RETRY_AFTER)
            out->retry_after = s->cfg.retry_after;
        break;
    case FK_F_429_DAILY:
        ix_error(out, 429, "quota_exceeded",
                 "You exceeded your daily quota. Wait until the quota resets or request a quota "
                 "increase.");
        break;
    case FK_F_500:
        ix_error(out, 500, "api_error",
                 "An internal error has occurred. Please retry or report in "
                 "https://developers.generativeai.google/guide/troubleshooting");
        break;
    case FK_F_503:
        ix_error(out, 503, "unavailable", "The model is overloaded. Please try again later.");
        break;
    case FK_F_504:
        ix_error(out, 504, "deadline_exceeded",
                 "Deadline expired before operation could complete.");
        break;
    case FK_F_400:
        ix_error(out, 400, "invalid_request", "Request contains an invalid argument.");
        break;
    case FK_F_401:
        ix_error(out, 401, "authentication", "API key not valid. Please pass a valid API key.");
        break;
    case FK_F_403:
        ix_error(out, 403, "permission_denied", "The caller does not have permission");
        break;
    case FK_F_404:
        ix_error(out, 404, "not_found", "Requested entity was not found.");
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
        ix_error(out, 401, "authentication", none ? missing : wrong);
    return false;
}

/* ---- the store (callers hold s->lock) ---- */

static struct fk_ix *find(struct fk_server *s, const char *id)
{
    for (size_t i = 0; i < s->n_ix; i++)
        if (strcmp(s->ix[i].id, id) == 0)
            return &s->ix[i];
    return NULL;
}

static struct fk_ix *find_file(struct fk_server *s, const char *fid)
{
    for (size_t i = 0; i < s->n_ix; i++)
        if (s->ix[i].uri_delivery && strcmp(s->ix[i].file_id, fid) == 0)
            return &s->ix[i];
    return NULL;
}

static cJSON *ix_to_state(const struct fk_ix *x)
{
    cJSON *o = cJSON_CreateObject();
    char v[24];
    cJSON_AddStringToObject(o, "id", x->id);
    cJSON_AddStringToObject(o, "file_id", x->file_id);
    cJSON_AddStringToObject(o, "model", x->model);
    cJSON_AddStringToObject(o, "body_sha256", x->body_sha);
    cJSON_AddStringToObject(o, "resolution", x->resolution);
    cJSON_AddStringToObject(o, "task", x->task);
    cJSON_AddStringToObject(o, "text", x->text ? x->text : "");
    snprintf(v, sizeof v, "%016llx", (unsigned long long)x->variant);
    cJSON_AddStringToObject(o, "variant", v);
    cJSON_AddNumberToObject(o, "created_ms", (double)x->created_ms);
    cJSON_AddNumberToObject(o, "done_ms", (double)x->done_ms);
    cJSON_AddNumberToObject(o, "cancelled_ms", (double)x->cancelled_ms);
    cJSON_AddNumberToObject(o, "duration_ms", x->duration_ms);
    cJSON_AddNumberToObject(o, "images", x->images);
    cJSON_AddNumberToObject(o, "input_tokens", x->input_tokens);
    cJSON_AddBoolToObject(o, "portrait", x->portrait);
    cJSON_AddBoolToObject(o, "uri_delivery", x->uri_delivery);
    cJSON_AddBoolToObject(o, "background", x->background);
    cJSON_AddBoolToObject(o, "stored", x->stored);
    cJSON_AddStringToObject(o, "outcome", outcome_names[x->outcome]);
    return o;
}

static void copy_str(char *dst, size_t size, const cJSON *o, const char *key)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
    snprintf(dst, size, "%s", v ? v : "");
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(n) ? n->valuedouble : 0;
}

static bool flag(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int ix_from_state(const cJSON *o, struct fk_ix *x)
{
    memset(x, 0, sizeof *x);
    copy_str(x->id, sizeof x->id, o, "id");
    copy_str(x->file_id, sizeof x->file_id, o, "file_id");
    copy_str(x->model, sizeof x->model, o, "model");
    copy_str(x->body_sha, sizeof x->body_sha, o, "body_sha256");
    copy_str(x->resolution, sizeof x->resolution, o, "resolution");
    copy_str(x->task, sizeof x->task, o, "task");
    const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "text"));
    x->text = fk_strdup(t ? t : "");
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "variant"));
    x->variant = v ? strtoull(v, NULL, 16) : 0;
    x->created_ms = (int64_t)num(o, "created_ms");
    x->done_ms = (int64_t)num(o, "done_ms");
    x->cancelled_ms = (int64_t)num(o, "cancelled_ms");
    x->duration_ms = (int)num(o, "duration_ms");
    x->images = (int)num(o, "images");
    x->input_tokens = (int)num(o, "input_tokens");
    x->portrait = flag(o, "portrait");
    x->uri_delivery = flag(o, "uri_delivery");
    x->background = flag(o, "background");
    x->stored = flag(o, "stored");
    const char *oc = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "outcome"));
    x->outcome = OUT_COMPLETED;
    for (int i = 0; oc && i < 3; i++)
        if (strcmp(oc, outcome_names[i]) == 0)
            x->outcome = (enum outcome)i;
    return x->id[0] && x->duration_ms > 0 ? 0 : -1;
}

/* Rewrite --state FILE: temporary file, fsync, rename, fsync of the directory. */
static void save_state(struct fk_server *s)
{
    const char *path = s->cfg.state_path;
    if (!path)
        return;
    cJSON *doc = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(doc, "interactions");
    cJSON_AddNumberToObject(doc, "version", 1);
    for (size_t i = 0; i < s->n_ix; i++)
        cJSON_AddItemToArray(arr, ix_to_state(&s->ix[i]));
    size_t len;
    char *text = fk_json_print(doc, &len);
    cJSON_Delete(doc);
    char *tmp = fk_printf("%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    bool ok = fd >= 0;
    for (size_t off = 0; ok && off < len;) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        off += ok ? (size_t)n : 0;
    }
    ok = ok && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        fprintf(stderr, FK_PREFIX "cannot write the state file '%s': %s\n", path, strerror(errno));
        unlink(tmp);
    } else {
        char *dir = fk_strdup(path), *slash = strrchr(dir, '/');
        if (slash)
            *(slash == dir ? slash + 1 : slash) = '\0';
        int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    free(tmp);
    free(text);
}

int fk_ix_load(struct fk_server *s, char *err, size_t errlen)
{
    const char *path = s->cfg.state_path;
    if (!path)
        return 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read the state file '%s': %s", path, strerror(errno));
        return -1;
    }
    struct fk_buf b = FK_BUF_INIT;
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fk_buf_add(&b, chunk, n);
    fclose(f);
    cJSON *doc = fk_json_parse(b.buf, b.len, NULL);
    fk_buf_release(&b);
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "interactions");
    if (!cJSON_IsArray(arr)) {
        cJSON_Delete(doc);
        snprintf(err, errlen, "the state file '%s' is not a fake-gemini state file", path);
        return -1;
    }
    for (const cJSON *o = arr->child; o; o = o->next) {
        struct fk_ix x;
        if (ix_from_state(o, &x) < 0) {
            free(x.text);
            cJSON_Delete(doc);
            snprintf(err, errlen, "the state file '%s' holds a broken interaction", path);
            return -1;
        }
        s->ix = fk_realloc(s->ix, (s->n_ix + 1) * sizeof *s->ix);
        s->ix[s->n_ix++] = x;
    }
    cJSON_Delete(doc);
    return 0;
}

void fk_ix_release(struct fk_server *s)
{
    for (size_t i = 0; i < s->n_ix; i++)
        free(s->ix[i].text);
    free(s->ix);
    s->ix = NULL;
    s->n_ix = 0;
}

/* ---- ids ---- */

/* "v1_" and the unpadded base64url of two 23-character tokens framed like the real ids
 * (v1_ChdPU0F4... decodes to 0x0a 0x17 <23 chars> 0x12 0x17 <23 chars>). Drawn from the seed,
 * the request body and how many interactions that body made before: a rerun of the same test
 * gets the same ids, two creates never share one. */
static void make_id(struct fk_server *s, const char *body_sha, struct fk_ix *x)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint64_t ordinal = 0;
    for (size_t i = 0; i < s->n_ix; i++)
        ordinal += strcmp(s->ix[i].body_sha, body_sha) == 0;
    for (;; ordinal++) {
        unsigned char raw[50];
        uint64_t h = fk_mix3(s->cfg.seed, fk_hash(body_sha, strlen(body_sha), 77), ordinal);
        raw[0] = 0x0a;
        raw[1] = 23;
        raw[25] = 0x12;
        raw[26] = 23;
        for (int i = 0; i < 23; i++) {
            h = fk_mix(h + (uint64_t)i);
            raw[2 + i] = (unsigned char)alnum[h % 62];
            raw[27 + i] = (unsigned char)alnum[(h >> 32) % 62];
        }
        char *b64 = fk_base64(raw, sizeof raw, NULL);
        size_t o = 0;
        for (const char *c = b64; *c && *c != '='; c++)
            b64[o++] = *c == '+' ? '-' : *c == '/' ? '_' : *c;
        b64[o] = '\0';
        snprintf(x->id, sizeof x->id, "v1_%s", b64);
        free(b64);
        if (!find(s, x->id))
            break;
    }
    uint64_t f = fk_hash(x->id, strlen(x->id), 5);
    for (int i = 0; i < 12; i++, f = fk_mix(f)) /* files ids are [a-z0-9]+ (SDK tFileName) */
        x->file_id[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[f % 36];
    x->file_id[12] = '\0';
}

/* A well-formed id: v1_ and base64url characters. */
static bool id_well_formed(const char *id)
{
    if (strncmp(id, "v1_", 3) != 0 || strlen(id) < 8 || strlen(id) > 200)
        return false;
    for (const char *c = id + 3; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
            return false;
    return true;
}

/* ---- request validation ---- */

static char *snake_to_camel(const char *snake)
{
    char *out = fk_strdup(snake);
    size_t o = 0;
    for (const char *c = snake; *c; c++)
        if (*c == '_' && c[1])
            out[o++] = (char)toupper((unsigned char)*++c);
        else
            out[o++] = *c;
    out[o] = '\0';
    return out;
}

/* Every member of `obj` must be one of `names` (snake_case, the form the SDK sends; the
 * lowerCamelCase form is taken too). */
static bool known_fields(const cJSON *obj, const char *const *names, const char *at,
                         struct fk_reply *out)
{
    for (const cJSON *m = obj ? obj->child : NULL; m; m = m->next) {
        bool ok = false;
        for (int i = 0; names[i] && !ok; i++) {
            char *camel = snake_to_camel(names[i]);
            ok = strcmp(m->string, names[i]) == 0 || strcmp(m->string, camel) == 0;
            free(camel);
        }
        if (!ok)
            return ix_fail(out, "parameter_unknown",
                           at ? fk_printf("Unknown parameter '%s' at '%s'.", m->string, at)
                              : fk_printf("Unknown parameter '%s'.", m->string));
    }
    return true;
}

/* A string member that must be one of `values`; absent is fine. */
static bool enum_value(const cJSON *obj, const char *name, const char *at,
                       const char *const *values, const char **got, struct fk_reply *out)
{
    const cJSON *v = fk_get(obj, name);
    if (!v)
        return true;
    for (int i = 0; cJSON_IsString(v) && values[i]; i++)
        if (strcmp(v->valuestring, values[i]) == 0) {
            *got = values[i];
            return true;
        }
    struct fk_buf list = FK_BUF_INIT;
    for (int i = 0; values[i]; i++)
        fk_buf_addf(&list, "%s'%s'", i ? ", " : "", values[i]);
    char *shown = cJSON_IsString(v) ? fk_strdup(v->valuestring) : cJSON_PrintUnformatted(v);
    bool r = invalid(
        out, fk_printf("Invalid value '%s' for '%s'. Supported values: %s", shown, at, list.buf));
    free(shown);
    fk_buf_release(&list);
    return r;
}

/* A protobuf Duration string ("6s", "4.5s") in milliseconds; -1 when not one. */
static int duration_ms(const char *s)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*s))
        return -1;
    double v = strtod(s, &end);
    if (errno || strcmp(end, "s") != 0 || v > 86400)
        return -1;
    return (int)(v * 1000 + 0.5);
}

static bool check_response_format(const cJSON *body, struct spec *sp, struct fk_reply *out)
{
    static const char *const fields[] = {"type",       "aspect_ratio", "delivery", "duration",
                                         "resolution", "gcs_uri",      NULL};
    static const char *const ratios[] = {"16:9", "9:16", NULL};
    static const char *const deliveries[] = {"inline", "uri", NULL};
    static const char *const resolutions[] = {"360p", "720p", "1080p", "4k", NULL};
    const cJSON *rf = fk_get(body, "responseFormat");
    if (!rf)
        return true;
    int videos = 0;
    for (const cJSON *f = cJSON_IsArray(rf) ? rf->child : rf; f;
         f = cJSON_IsArray(rf) ? f->next : NULL) {
        if (!cJSON_IsObject(f))
            return invalid(out, fk_strdup("Invalid value for 'response_format': expected an "
                                          "object or a list of objects."));
        const char *type = fk_get_str(f, "type");
        if (type && strcmp(type, "video") != 0)
            return invalid(out, fk_printf("Response format type '%s' is not supported by this "
                                          "model: it generates video.",
                                          type));
        if (!known_fields(f, fields, "response_format", out))
            return false;
        if (++videos > 1)
            return invalid(out, fk_strdup("Only one video response format may be given."));
        const char *ratio = "16:9", *delivery = "inline", *res = "720p";
        if (!enum_value(f, "aspectRatio", "response_format.aspect_ratio", ratios, &ratio, out) ||
            !enum_value(f, "delivery", "response_format.delivery", deliveries, &delivery, out) ||
            !enum_value(f, "resolution", "response_format.resolution", resolutions, &res, out))
            return false;
        sp->portrait = strcmp(ratio, "9:16") == 0;
        sp->uri_delivery = strcmp(delivery, "uri") == 0;
        sp->resolution = res;
        if (fk_get(f, "gcsUri"))
            return invalid(out, fk_strdup("gcs_uri is only supported on Vertex AI (Gemini "
                                          "Enterprise Agent Platform)."));
        const cJSON *d = fk_get(f, "duration");
        if (d) {
            int ms = cJSON_IsString(d) ? duration_ms(d->valuestring) : -1;
            if (ms < 0)
                return invalid(out, fk_strdup("Invalid value for 'response_format.duration': "
                                              "expected a duration string such as \"6s\"."));
            if (ms < 3000 || ms > 10000)
                return invalid(out, fk_printf("Requested video duration %ds %dns %s %ds 0ns",
                                              ms / 1000, ms % 1000 * 1000000,
                                              ms < 3000 ? "is less than the minimum allowed"
                                                        : "exceeds the maximum allowed",
                                              ms < 3000 ? 3 : 10));
            sp->duration_ms = ms;
        }
    }
    return true;
}

static bool check_generation_config(const cJSON *body, struct spec *sp, struct fk_reply *out)
{
    static const char *const fields[] = {"image_config",
                                         "max_output_tokens",
                                         "seed",
                                         "speech_config",
                                         "stop_sequences",
                                         "temperature",
                                         "thinking_level",
                                         "thinking_summaries",
                                         "tool_choice",
                                         "top_p",
                                         "transcription_config",
                                         "video_config",
                                         NULL};
    static const char *const vfields[] = {"task", "resolution", NULL};
    static const char *const tasks[] = {"text_to_video", "image_to_video", "reference_to_video",
                                        "edit",          "extend",         NULL};
    static const char *const resolutions[] = {"360p", "720p", "1080p", "4k", NULL};
    static const char *const refused[] = {"temperature", "top_p", "stop_sequences", NULL};
    const cJSON *gc = fk_get(body, "generationConfig");
    if (!gc)
        return true;
    if (!cJSON_IsObject(gc))
        return invalid(out, fk_strdup("Invalid value for 'generation_config': expected an "
                                      "object."));
    if (!known_fields(gc, fields, "generation_config", out))
        return false;
    for (int i = 0; refused[i]; i++) /* the Omni guide's Limitations */
        if (fk_get(gc, refused[i]))
            return invalid(out, fk_printf("%s is not supported by this model.", refused[i]));
    const cJSON *vc = fk_get(gc, "videoConfig");
    if (!vc)
        return true;
    if (!known_fields(vc, vfields, "generation_config.video_config", out) ||
        !enum_value(vc, "task", "generation_config.video_config.task", tasks, &sp->task, out))
        return false;
    /* the changelog of 2026-08-27 puts resolution in video_config, the guide and the SDK in
     * response_format: both are taken */
    const char *res = NULL;
    if (!enum_value(vc, "resolution", "generation_config.video_config.resolution", resolutions,
                    &res, out))
        return false;
    if (res)
        sp->resolution = res;
    if (sp->task && (strcmp(sp->task, "edit") == 0 || strcmp(sp->task, "extend") == 0))
        return invalid(out, fk_printf("Task '%s' requires a video input (fake-gemini does not "
                                      "implement video inputs).",
                                      sp->task));
    return true;
}

static bool base64_ok(const char *s)
{
    size_t n = 0, pad = 0;
    for (; *s; s++) {
        if (*s == '=') {
            pad++;
            continue;
        }
        if (pad || !(isalnum((unsigned char)*s) || *s == '+' || *s == '/'))
            return false;
        n++;
    }
    return n > 0 && pad <= 2 && (n + pad) % 4 == 0;
}

/* The first bytes of a base64 string. */
static size_t b64_head(const char *s, unsigned char *out, size_t max)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (; *s && *s != '=' && o < max; s++) {
        const char *tbl = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = strchr(tbl, *s);
        if (!p)
            break;
        acc = acc << 6 | (uint32_t)(p - tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return o;
}

static bool image_bytes_match(const char *mime, const char *data)
{
    unsigned char h[12] = {0};
    size_t n = b64_head(data, h, sizeof h);
    if (strcmp(mime, "image/png") == 0)
        return n >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0;
    if (strcmp(mime, "image/jpeg") == 0)
        return n >= 3 && h[0] == 0xff && h[1] == 0xd8 && h[2] == 0xff;
    if (strcmp(mime, "image/webp") == 0)
        return n >= 12 && memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WEBP", 4) == 0;
    return n >= 12; /* heic / heif: not looked into */
}

static bool check_part(const cJSON *p, const char *at, struct spec *sp, uint64_t *hash,
                       struct fk_reply *out)
{
    static const char *const text_fields[] = {"type", "text", "annotations", NULL};
    static const char *const image_fields[] = {"type", "data",       "mime_type",
                                               "uri",  "resolution", NULL};
    static const char *const mimes[] = {"image/png",  "image/jpeg", "image/webp",
                                        "image/heic", "image/heif", NULL};
    const char *type = fk_get_str(p, "type");
    if (!cJSON_IsObject(p) || !type)
        return invalid(out, fk_printf("Required field 'type' is missing at '%s'.", at));
    if (strcmp(type, "text") == 0) {
        const char *t = fk_get_str(p, "text");
        if (!known_fields(p, text_fields, at, out))
            return false;
        if (!t)
            return invalid(out, fk_printf("Required field 'text' is missing at '%s'.", at));
        if (sp->text.len)
            fk_buf_addch(&sp->text, '\n');
        fk_buf_adds(&sp->text, t);
        return true;
    }
    if (strcmp(type, "image") == 0) {
        if (!known_fields(p, image_fields, at, out))
            return false;
        const char *data = fk_get_str(p, "data"), *mime = fk_get_str(p, "mimeType");
        if (fk_get(p, "uri"))
            return invalid(out, fk_printf("fake-gemini does not implement image inputs by uri "
                                          "(Files API uploads) at '%s': send the image as data.",
                                          at));
        if (!data)
            return invalid(out, fk_printf("Required field 'data' is missing at '%s'.", at));
        if (!base64_ok(data))
            return invalid(out, fk_printf("Invalid value at '%s.data' (TYPE_BYTES), Base64 "
                                          "decoding failed",
                                          at));
        const char *m = NULL;
        if (!mime)
            return invalid(out, fk_printf("Required field 'mime_type' is missing at '%s'.", at));
        char *mat = fk_printf("%s.mime_type", at);
        bool ok = enum_value(p, "mimeType", mat, mimes, &m, out);
        free(mat);
        if (!ok)
            return false;
        if (!image_bytes_match(mime, data))
            return invalid(out, fk_strdup("Unable to process input image. Please retry or report "
                                          "in https://developers.generativeai.google/guide/"
                                          "troubleshooting"));
        sp->images++;
        *hash = fk_hash(data, strlen(data), *hash);
        return true;
    }
    if (strcmp(type, "audio") == 0)
        return invalid(out, fk_strdup("Uploading audio references is unsupported in the current "
                                      "version of the API."));
    if (strcmp(type, "video") == 0 || strcmp(type, "document") == 0)
        return invalid(out, fk_printf("fake-gemini does not implement %s inputs (edit, extend, "
                                      "video references) at '%s'.",
                                      type, at));
    return invalid(out, fk_printf("The value '%s' is not supported for 'type' at '%s'.", type, at));
}

static bool check_input(const cJSON *body, struct spec *sp, struct fk_reply *out)
{
    const cJSON *in = fk_get(body, "input");
    uint64_t hash = 0x9e3779b97f4a7c15ULL;
    if (!in)
        return invalid(out, fk_strdup("Required field 'input' is missing."));
    if (cJSON_IsString(in)) {
        fk_buf_adds(&sp->text, in->valuestring);
    } else if (cJSON_IsArray(in) || cJSON_IsObject(in)) {
        int i = 0;
        for (const cJSON *c = cJSON_IsArray(in) ? in->child : in; c;
             c = cJSON_IsArray(in) ? c->next : NULL, i++) {
            const char *type = fk_get_str(c, "type");
            const cJSON *content = fk_get(c, "content");
            if (type && strcmp(type, "user_input") == 0) { /* a step that holds the content */
                int j = 0;
                for (const cJSON *p = cJSON_IsArray(content) ? content->child : NULL; p;
                     p = p->next, j++) {
                    char *at = fk_printf("input[%d].content[%d]", i, j);
                    bool ok = check_part(p, at, sp, &hash, out);
                    free(at);
                    if (!ok)
                        return false;
                }
                continue;
            }
            char *at = fk_printf("input[%d]", i);
            bool ok = check_part(c, at, sp, &hash, out);
            free(at);
            if (!ok)
                return false;
        }
    } else {
        return invalid(out, fk_strdup("Invalid value for 'input': expected a string, a content "
                                      "object or a list."));
    }
    if (!sp->text.len && !sp->images)
        return invalid(out, fk_strdup("input must not be empty."));
    const char *task = sp->task;
    if (task && strcmp(task, "image_to_video") == 0 && (sp->images < 1 || sp->images > 2))
        return invalid(out, fk_printf("Task 'image_to_video' takes one image (the first frame) "
                                      "or two (the first and the last frame); the input has %d.",
                                      sp->images));
    if (task && strcmp(task, "reference_to_video") == 0 && !sp->images)
        return invalid(out, fk_strdup("Task 'reference_to_video' needs at least one reference "
                                      "image."));
    if (sp->images > 10)
        return invalid(out,
                       fk_printf("At most 10 images are accepted; the input has %d.", sp->images));
    sp->variant = fk_hash(sp->text.buf, sp->text.len, hash);
    return true;
}

static bool check_create(const cJSON *body, struct spec *sp, struct fk_reply *out)
{
    static const char *const fields[] = {"background",
                                         "cached_content",
                                         "continuation_token",
                                         "environment",
                                         "generation_config",
                                         "input",
                                         "labels",
                                         "model",
                                         "previous_interaction_id",
                                         "response_format",
                                         "response_mime_type",
                                         "response_modalities",
                                         "safety_settings",
                                         "service_tier",
                                         "store",
                                         "stream",
                                         "system_instruction",
                                         "tools",
                                         "webhook_config",
                                         "agent",
                                         "agent_config",
                                         NULL};
    static const char *const not_here[] = {"previous_interaction_id",
                                           "continuation_token",
                                           "cached_content",
                                           "environment",
                                           "agent",
                                           "agent_config",
                                           NULL};
    if (!known_fields(body, fields, NULL, out))
        return false;
    if (fk_get(body, "systemInstruction")) /* the Omni guide's Limitations */
        return invalid(out, fk_strdup("System instructions are not supported by this model."));
    for (int i = 0; not_here[i]; i++)
        if (fk_get(body, not_here[i]))
            return invalid(out, fk_printf("fake-gemini does not implement '%s' (editing, "
                                          "extension, agents).",
                                          not_here[i]));
    const cJSON *bg = fk_get(body, "background"), *store = fk_get(body, "store");
    const cJSON *stream = fk_get(body, "stream");
    if ((bg && !cJSON_IsBool(bg)) || (store && !cJSON_IsBool(store)) ||
        (stream && !cJSON_IsBool(stream)))
        return invalid(out, fk_strdup("Invalid value for 'background', 'store' or 'stream': "
                                      "expected true or false."));
    if (cJSON_IsTrue(stream))
        return invalid(out, fk_strdup("fake-gemini does not implement streaming (stream: "
                                      "true): poll GET /v1beta/interactions/{id} instead."));
    sp->background = cJSON_IsTrue(bg);
    sp->stored = !cJSON_IsFalse(store);
    if (sp->background && !sp->stored)
        return invalid(out, fk_strdup("Background execution requires store to be enabled."));
    const cJSON *mods = fk_get(body, "responseModalities");
    for (const cJSON *m = cJSON_IsArray(mods) ? mods->child : NULL; m; m = m->next)
        if (!cJSON_IsString(m) || !fk_streq_ci(m->valuestring, "video"))
            return invalid(out, fk_strdup("The requested response modalities are not supported "
                                          "by this model: it generates video."));
    return check_generation_config(body, sp, out) && check_response_format(body, sp, out) &&
           check_input(body, sp, out);
}

/* ---- replies ---- */

/* Output tokens per second of video: 5,792 at 720p (pricing page footnote); the others scaled
 * by the per-resolution prices a third party measured (see README.md). */
static int tokens_per_second(const char *res)
{
    if (strcmp(res, "360p") == 0)
        return 1943;
    if (strcmp(res, "1080p") == 0)
        return 8686;
    if (strcmp(res, "4k") == 0)
        return 17371;
    return 5792;
}

static const char *status_of(const struct fk_ix *x, int64_t now)
{
    if (x->cancelled_ms)
        return "cancelled";
    if (now < x->done_ms)
        return "in_progress";
    return outcome_names[x->outcome];
}

static cJSON *usage_json(const struct fk_ix *x)
{
    cJSON *u = cJSON_CreateObject();
    int out_tokens = (int)((int64_t)tokens_per_second(x->resolution) * x->duration_ms / 1000);
    cJSON_AddNumberToObject(u, "total_input_tokens", x->input_tokens);
    cJSON *in = cJSON_AddArrayToObject(u, "input_tokens_by_modality");
    for (int i = 0; i < (x->images ? 2 : 1); i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "modality", i ? "image" : "text");
        cJSON_AddNumberToObject(m, "tokens",
                                i ? 258 * x->images : x->input_tokens - 258 * x->images);
        cJSON_AddItemToArray(in, m);
    }
    cJSON_AddNumberToObject(u, "total_output_tokens", out_tokens);
    cJSON *outm = cJSON_AddArrayToObject(u, "output_tokens_by_modality");
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "modality", "video");
    cJSON_AddNumberToObject(m, "tokens", out_tokens);
    cJSON_AddItemToArray(outm, m);
    cJSON_AddNumberToObject(u, "total_tokens", x->input_tokens + out_tokens);
    return u;
}

static char *base_url(const struct fk_request *req)
{
    return fk_printf("http://%s", req->host && *req->host ? req->host : "127.0.0.1");
}

/* The interaction as the API shows it at `now`; a completed one carries its clip, inline or
 * (`uri`) as the Files URI. On a render failure `err` is set and NULL returned. */
static cJSON *ix_json(const struct fk_ix *x, int64_t now, bool uri, struct fk_request *req,
                      char *err, size_t errlen)
{
    const char *status = status_of(x, now);
    cJSON *o = cJSON_CreateObject();
    char ts[32];
    cJSON_AddStringToObject(o, "id", x->id);
    cJSON_AddStringToObject(o, "status", status);
    cJSON_AddStringToObject(o, "model", x->model);
    cJSON_AddStringToObject(o, "object", "interaction");
    rfc3339_s(x->created_ms, ts);
    cJSON_AddStringToObject(o, "created", ts);
    int64_t upd = x->cancelled_ms ? x->cancelled_ms : now < x->done_ms ? x->created_ms : x->done_ms;
    rfc3339_s(upd, ts);
    cJSON_AddStringToObject(o, "updated", ts);
    if (strcmp(status, "failed") == 0) {
        cJSON *errs = cJSON_AddArrayToObject(o, "errors"), *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "code", "api_error");
        cJSON_AddStringToObject(e, "message",
                                "Video generation failed due to an internal "
                                "error. Please try again.");
        cJSON_AddItemToArray(errs, e);
        return o;
    }
    if (strcmp(status, "completed") != 0)
        return o;
    unsigned char *clip = NULL;
    size_t len = 0;
    if (fk_video_clip(x->duration_ms, x->portrait, x->variant, &clip, &len, err, errlen) < 0) {
        cJSON_Delete(o);
        return NULL;
    }
    cJSON *steps = cJSON_AddArrayToObject(o, "steps");
    cJSON *in = cJSON_CreateObject();
    cJSON_AddStringToObject(in, "type", "user_input");
    cJSON *ic = cJSON_AddArrayToObject(in, "content"), *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "type", "text");
    cJSON_AddStringToObject(t, "text", x->text ? x->text : "");
    cJSON_AddItemToArray(ic, t);
    cJSON_AddItemToArray(steps, in);
    cJSON *th = cJSON_CreateObject();
    cJSON_AddStringToObject(th, "type", "thought");
    char sig[40];
    snprintf(sig, sizeof sig, "ZmFrZS1nZW1pbmk6%016llx", (unsigned long long)x->variant);
    cJSON_AddStringToObject(th, "signature", sig);
    cJSON_AddItemToArray(steps, th);
    cJSON *mo = cJSON_CreateObject();
    cJSON_AddStringToObject(mo, "type", "model_output");
    cJSON *mc = cJSON_AddArrayToObject(mo, "content"), *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "type", "video");
    cJSON_AddStringToObject(v, "mime_type", "video/mp4");
    if (uri) {
        char *b = base_url(req);
        char *u = fk_printf("%s/v1beta/files/%s:download?alt=media", b, x->file_id);
        cJSON_AddStringToObject(v, "uri", u);
        free(u);
        free(b);
    } else {
        char *b64 = fk_base64(clip, len, NULL);
        cJSON_AddStringToObject(v, "data", b64);
        free(b64);
    }
    cJSON_AddItemToArray(mc, v);
    cJSON_AddItemToArray(steps, mo);
    cJSON_AddItemToObject(o, "usage", usage_json(x));
    req->media.type = 3;
    snprintf(req->media.mime, sizeof req->media.mime, "video/mp4");
    fk_video_dims(x->portrait, &req->media.width, &req->media.height);
    req->media.bytes = len;
    req->media.duration_s = x->duration_ms / 1000.0;
    free(clip);
    return o;
}

static void log_view(struct fk_request *req, const struct fk_ix *x, const char *state)
{
    cJSON_Delete(req->interaction);
    cJSON *o = req->interaction = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", x->id);
    cJSON_AddStringToObject(o, "state", state);
    cJSON_AddNumberToObject(o, "duration_s", x->duration_ms / 1000.0);
    cJSON_AddStringToObject(o, "aspect_ratio", x->portrait ? "9:16" : "16:9");
    cJSON_AddStringToObject(o, "resolution", x->resolution);
    if (x->task[0])
        cJSON_AddStringToObject(o, "task", x->task);
    else
        cJSON_AddNullToObject(o, "task");
    cJSON_AddNumberToObject(o, "images", x->images);
    cJSON_AddStringToObject(o, "delivery", x->uri_delivery ? "uri" : "inline");
    cJSON_AddBoolToObject(o, "background", x->background);
}

/* Answer `x` (a copy) as it stands at `now`. */
static void reply_ix(const struct fk_ix *x, int64_t now, bool uri, struct fk_request *req,
                     struct fk_reply *out)
{
    char err[400];
    cJSON *doc = ix_json(x, now, uri, req, err, sizeof err);
    log_view(req, x, status_of(x, now));
    if (!doc) {
        fprintf(stderr, FK_PREFIX "%s\n", err);
        char *msg = fk_printf("fake-gemini could not render the clip: %s", err);
        ix_error(out, 500, "api_error", msg);
        free(msg);
        return;
    }
    fk_reply_json(out, 200, doc);
}

static cJSON *parse(const struct fk_server *s, const struct fk_request *req, struct fk_reply *out)
{
    if (req->body_too_large) {
        char *msg =
            fk_printf("Request payload size exceeds the limit: %zu bytes.", s->cfg.max_body);
        ix_error(out, 400, "invalid_request", msg);
        free(msg);
        return NULL;
    }
    cJSON *j = fk_json_parse(req->body.buf, req->body.len, NULL);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        ix_error(out, 400, "invalid_request", "Invalid JSON payload received.");
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
        ix_error(out, 400, "invalid_request", "Required field 'model' is missing.");
    } else if (m && m->retired) {
        char *msg = fk_printf("This model models/%s is no longer available. Please update your "
                              "code to use a newer model for the latest features and "
                              "improvements.",
                              model);
        ix_error(out, 404, "model_not_found", msg);
        free(msg);
    } else if (!m) {
        char *msg = fk_printf("Model '%s' was not found.", model);
        ix_error(out, 404, "model_not_found", msg);
        free(msg);
    } else if ((m->served_by ? m->served_by : m)->kind != FK_KIND_VIDEO) {
        char *msg = fk_printf("Model %s does not generate video; video generation is served by "
                              "gemini-omni-1.1-flash. (fake-gemini serves only video models on "
                              "the Interactions API.)",
                              model);
        ix_error(out, 400, "invalid_request", msg);
        free(msg);
    } else if (!fk_rpm_admit(s, model, out)) {
        req->fault = "rpm";
        ix_error(out, 429, "rate_limit_exceeded",
                 "You exceeded your current quota, please check your plan and billing details. "
                 "For more information on this error, head to: "
                 "https://ai.google.dev/gemini-api/docs/rate-limits.");
    } else {
        enum fk_fault fault = fk_fault_pick(s, req, model, true);
        req->fault = fault ? fk_fault_name(fault) : NULL;
        struct spec sp = {
            .model = model, .duration_ms = 8000, .resolution = "720p", .text = FK_BUF_INIT};
        if (fault == FK_F_TIMEOUT || fault == FK_F_RESET) {
            out->mode = fault == FK_F_TIMEOUT ? FK_SEND_HANG : FK_SEND_RESET;
        } else if (fk_fault_is_http_error(fault)) {
            ix_fault(s, fault, model, "interactions.create", out);
        } else if (check_create(body, &sp, out)) {
            struct fk_ix x;
            memset(&x, 0, sizeof x);
            snprintf(x.model, sizeof x.model, "%s", model);
            fk_sha256_hex(req->body.buf, req->body.len, x.body_sha);
            snprintf(x.resolution, sizeof x.resolution, "%s", sp.resolution);
            snprintf(x.task, sizeof x.task, "%s", sp.task ? sp.task : "");
            x.text = fk_strdup(sp.text.buf);
            x.variant = sp.variant;
            x.created_ms = now_ms();
            x.done_ms = x.created_ms + s->cfg.render_ms;
            x.duration_ms = sp.duration_ms;
            x.images = sp.images;
            x.input_tokens = fk_tokens_for_text(sp.text.len) + 258 * sp.images;
            x.portrait = sp.portrait;
            x.uri_delivery = sp.uri_delivery;
            x.background = sp.background;
            x.stored = sp.stored;
            pthread_mutex_lock(&s->lock);
            make_id(s, x.body_sha, &x);
            double draw = fk_unit(fk_mix3(s->cfg.seed, fk_hash(x.id, strlen(x.id), 11), 7));
            x.outcome = fault == FK_F_OP_FAILED      ? OUT_FAILED
                        : fault == FK_F_OP_EXPIRED   ? OUT_EXPIRED
                        : draw < s->cfg.op_fail_rate ? OUT_FAILED
                                                     : OUT_COMPLETED;
            s->ix = fk_realloc(s->ix, (s->n_ix + 1) * sizeof *s->ix);
            s->ix[s->n_ix++] = x;
            fk_stats_bump(s, "interactions_created", x.model);
            save_state(s);
            pthread_mutex_unlock(&s->lock);
            struct fk_ix view = x; /* the stored copy owns text; this one borrows it */
            if (!x.background) {   /* unary: the call lasts the whole render */
                int64_t left = x.done_ms - now_ms();
                if (left > 0 && !fk_server_sleep(s, left)) {
                    out->mode = FK_SEND_RESET;
                } else {
                    pthread_mutex_lock(&s->lock);
                    struct fk_ix *st = find(s, view.id);
                    view.cancelled_ms = st ? st->cancelled_ms : 0;
                    view.text = st ? fk_strdup(st->text) : NULL;
                    pthread_mutex_unlock(&s->lock);
                    if (view.outcome == OUT_EXPIRED && !view.cancelled_ms)
                        view.outcome = OUT_COMPLETED; /* expiry only shows on later reads */
                    reply_ix(&view, now_ms(), view.uri_delivery, req, out);
                    free(view.text);
                }
            } else { /* background: answered at once, in its initial state */
                view.text = NULL;
                reply_ix(&view, x.done_ms - 1, false, req, out);
            }
            if (!x.stored) { /* store: false: nothing to read back later */
                pthread_mutex_lock(&s->lock);
                struct fk_ix *st = find(s, x.id);
                if (st)
                    st->stored = false;
                save_state(s);
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
    if (!id_well_formed(id)) {
        char *msg = fk_printf("Invalid interaction name: '%s'.", id);
        ix_error(out, 400, "invalid_request", msg);
        free(msg);
        return false;
    }
    pthread_mutex_lock(&s->lock);
    struct fk_ix *x = find(s, id);
    bool found = x && x->stored;
    if (found) {
        *copy = *x;
        copy->text = fk_strdup(x->text);
    }
    pthread_mutex_unlock(&s->lock);
    if (!found)
        ix_error(out, 404, "not_found", "Requested entity was not found.");
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
    int64_t now = now_ms();
    if (cancel) {
        if (x.cancelled_ms || now >= x.done_ms || !x.background) {
            char *msg = fk_printf("Interaction %s is not running and cannot be cancelled.", x.id);
            ix_error(out, 400, "invalid_request", msg);
            free(msg);
            log_view(req, &x, status_of(&x, now));
            free(x.text);
            return;
        }
        pthread_mutex_lock(&s->lock);
        struct fk_ix *st = find(s, x.id);
        if (st)
            st->cancelled_ms = x.cancelled_ms = now;
        save_state(s);
        pthread_mutex_unlock(&s->lock);
    }
    if (x.outcome == OUT_EXPIRED && !x.cancelled_ms && now >= x.done_ms) {
        /* our model of retention: once over, the record is gone */
        ix_error(out, 404, "not_found", "Requested entity was not found.");
        log_view(req, &x, "expired");
    } else {
        /* the guide: GET answers the video inline even when it was created with delivery uri */
        reply_ix(&x, now, false, req, out);
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
    struct fk_ix *st = find_file(s, fid);
    struct fk_ix x;
    bool found = st && !st->cancelled_ms && now_ms() >= st->done_ms && st->outcome == OUT_COMPLETED;
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
    char ts[32], *b = base_url(req);
    cJSON *o = cJSON_CreateObject();
    char *name = fk_printf("files/%s", x.file_id);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "mimeType", "video/mp4");
    char size[24];
    snprintf(size, sizeof size, "%zu", len);
    cJSON_AddStringToObject(o, "sizeBytes", size);
    rfc3339_s(x.done_ms, ts);
    cJSON_AddStringToObject(o, "createTime", ts);
    cJSON_AddStringToObject(o, "updateTime", ts);
    rfc3339_s(x.done_ms + 48LL * 3600 * 1000, ts); /* Files API: deleted after 48 hours */
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
