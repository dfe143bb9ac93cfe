/* fake_interactions_store.c: the interactions of the fake Gemini server (fake_interactions.c): the
 * store, in memory keyed by id and with --state in a file rewritten atomically on every change;
 * their ids; the interaction as the API shows it at a given time (status, usage, the clip inline or
 * as a Files URI); and the control route that finishes them. */
#include "fake.h"
#include "fake_interactions_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const outcome_names[] = {"completed", "failed", "expired"};

int64_t fk_ix_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fk_ix_rfc3339_s(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- the store (callers hold s->lock) ---- */

struct fk_ix *fk_ix_find(struct fk_server *s, const char *id)
{
    for (size_t i = 0; i < s->n_ix; i++)
        if (strcmp(s->ix[i].id, id) == 0)
            return &s->ix[i];
    return NULL;
}

struct fk_ix *fk_ix_find_file(struct fk_server *s, const char *fid)
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
void fk_ix_save_state(struct fk_server *s)
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
    fk_buf_add_stream(&b, f);
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
void fk_ix_make_id(struct fk_server *s, const char *body_sha, struct fk_ix *x)
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
        if (!fk_ix_find(s, x->id))
            break;
    }
    uint64_t f = fk_hash(x->id, strlen(x->id), 5);
    for (int i = 0; i < 12; i++, f = fk_mix(f)) /* files ids are [a-z0-9]+ (SDK tFileName) */
        x->file_id[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[f % 36];
    x->file_id[12] = '\0';
}

/* A well-formed id: v1_ and base64url characters. */
bool fk_ix_id_well_formed(const char *id)
{
    if (strncmp(id, "v1_", 3) != 0 || strlen(id) < 8 || strlen(id) > 200)
        return false;
    for (const char *c = id + 3; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
            return false;
    return true;
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

const char *fk_ix_status_of(const struct fk_ix *x, int64_t now)
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

char *fk_ix_base_url(const struct fk_request *req)
{
    return fk_printf("http://%s", req->host && *req->host ? req->host : "127.0.0.1");
}

/* The interaction as the API shows it at `now`; a completed one carries its clip, inline or
 * (`uri`) as the Files URI. On a render failure `err` is set and NULL returned. */
static cJSON *ix_json(const struct fk_ix *x, int64_t now, bool uri, struct fk_request *req,
                      char *err, size_t errlen)
{
    const char *status = fk_ix_status_of(x, now);
    cJSON *o = cJSON_CreateObject();
    char ts[32];
    cJSON_AddStringToObject(o, "id", x->id);
    cJSON_AddStringToObject(o, "status", status);
    cJSON_AddStringToObject(o, "model", x->model);
    cJSON_AddStringToObject(o, "object", "interaction");
    fk_ix_rfc3339_s(x->created_ms, ts);
    cJSON_AddStringToObject(o, "created", ts);
    int64_t upd = x->cancelled_ms ? x->cancelled_ms : now < x->done_ms ? x->created_ms : x->done_ms;
    fk_ix_rfc3339_s(upd, ts);
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
        char *b = fk_ix_base_url(req);
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

void fk_ix_log_view(struct fk_request *req, const struct fk_ix *x, const char *state)
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
void fk_ix_reply(const struct fk_ix *x, int64_t now, bool uri, struct fk_request *req,
                 struct fk_reply *out)
{
    char err[400];
    cJSON *doc = ix_json(x, now, uri, req, err, sizeof err);
    fk_ix_log_view(req, x, fk_ix_status_of(x, now));
    if (!doc) {
        fprintf(stderr, FK_PREFIX "%s\n", err);
        char *msg = fk_printf("fake-gemini could not render the clip: %s", err);
        fk_ix_error(out, 500, "api_error", msg);
        free(msg);
        return;
    }
    fk_reply_json(out, 200, doc);
}

/* ---- the control route ---- */

void fk_ix_control(struct fk_server *s, struct fk_request *req, struct fk_reply *out)
{
    cJSON *body = fk_json_parse(req->body.buf, req->body.len, NULL);
    const cJSON *ms = cJSON_GetObjectItemCaseSensitive(body, "render_ms");
    const cJSON *finish = cJSON_GetObjectItemCaseSensitive(body, "finish");
    if (!cJSON_IsObject(body) ||
        (ms && (!cJSON_IsNumber(ms) || ms->valuedouble < 0 || ms->valuedouble > 86400000)) ||
        (finish && !cJSON_IsBool(finish))) {
        cJSON_Delete(body);
        fk_error_invalid(out, "want {\"render_ms\": 0..86400000, \"finish\": true|false}");
        return;
    }
    int finished = 0;
    int64_t now = fk_ix_now_ms();
    pthread_mutex_lock(&s->lock);
    if (ms)
        s->cfg.render_ms = (int)ms->valuedouble;
    for (size_t i = 0; cJSON_IsTrue(finish) && i < s->n_ix; i++) {
        struct fk_ix *x = &s->ix[i];
        if (!x->cancelled_ms && now < x->done_ms) {
            x->done_ms = now;
            finished++;
        }
    }
    if (finished)
        fk_ix_save_state(s);
    int render_ms = s->cfg.render_ms;
    pthread_mutex_unlock(&s->lock);
    cJSON_Delete(body);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddNumberToObject(doc, "render_ms", render_ms);
    cJSON_AddNumberToObject(doc, "finished", finished);
    fk_reply_json(out, 200, doc);
}
