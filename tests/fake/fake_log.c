/* fake_log.c: the JSON Lines request log of the fake Gemini server (one line per finished API
 * request, flushed at once; the API key is never written) and the counters /_fake/stats shows.
 * Besides the outcome it shows what a test may want to check the client sent: service tier,
 * thinking level, per TTS part the text, style and speaker, and the inline media inputs. */
#include "fake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bump(cJSON *obj, const char *key)
{
    cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (n)
        cJSON_SetNumberValue(n, n->valuedouble + 1);
    else
        cJSON_AddNumberToObject(obj, key, 1);
}

static cJSON *child(cJSON *obj, const char *key)
{
    cJSON *c = cJSON_GetObjectItemCaseSensitive(obj, key);
    return c ? c : cJSON_AddObjectToObject(obj, key);
}

void fk_stats_bump(struct fk_server *s, const char *group, const char *key)
{
    if (!s->stats) {
        s->stats = cJSON_CreateObject();
        cJSON_AddNumberToObject(s->stats, "requests", 0);
    }
    bump(child(s->stats, group), key);
}

/* Caller holds s->lock. */
static void count(struct fk_server *s, const struct fk_request *req, const char *status)
{
    if (!s->stats) {
        s->stats = cJSON_CreateObject();
        cJSON_AddNumberToObject(s->stats, "requests", 0);
    }
    bump(s->stats, "requests");
    bump(child(s->stats, "by_status"), status);
    cJSON *model = child(child(s->stats, "by_model"), req->model ? req->model : "(none)");
    bump(model, "requests");
    bump(child(model, "by_status"), status);
    if (req->fault)
        bump(child(s->stats, "by_fault"), req->fault);
}

static cJSON *media_json(const struct fk_media *m)
{
    if (m->type == 0)
        return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "mime", m->mime);
    if (m->type == 3) {
        cJSON_AddNumberToObject(o, "width", m->width);
        cJSON_AddNumberToObject(o, "height", m->height);
        cJSON_AddNumberToObject(o, "bytes", (double)m->bytes);
        cJSON_AddNumberToObject(o, "duration_s", m->duration_s);
    } else if (m->type == 1) {
        cJSON_AddStringToObject(o, "format", m->format ? m->format : "png");
        cJSON_AddNumberToObject(o, "width", m->width);
        cJSON_AddNumberToObject(o, "height", m->height);
        cJSON_AddNumberToObject(o, "bytes", (double)m->bytes);
    } else {
        cJSON_AddNumberToObject(o, "rate", m->rate);
        cJSON_AddNumberToObject(o, "frames", (double)m->frames);
        cJSON_AddNumberToObject(o, "pcm_bytes", (double)m->pcm_bytes);
        cJSON_AddNumberToObject(o, "duration_s", (double)(long)(m->duration_s * 1000) / 1000);
    }
    return o;
}

static cJSON *str_or_null(const char *s)
{
    return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

void fk_log_request(struct fk_server *s, const struct fk_request *req, bool completed)
{
    char ts[32], sha[65];
    fk_rfc3339_ms(&req->start_rt, ts);
    fk_sha256_hex(req->body.buf, req->body.len, sha);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "seq", (double)req->seq);
    cJSON_AddStringToObject(o, "ts", ts);
    cJSON_AddStringToObject(o, "method", req->method);
    cJSON_AddStringToObject(o, "path", req->path);
    cJSON_AddItemToObject(o, "model", str_or_null(req->model));
    cJSON_AddItemToObject(o, "verb", str_or_null(req->verb));
    cJSON_AddNumberToObject(o, "status", req->status);
    cJSON_AddItemToObject(o, "fault", str_or_null(req->fault));
    cJSON_AddStringToObject(o, "body_sha256", sha);
    cJSON_AddNumberToObject(o, "body_bytes", (double)req->body.len);
    cJSON_AddItemToObject(o, "prompt", str_or_null(req->prompt));
    cJSON_AddBoolToObject(o, "key_present",
                          (req->header_key && *req->header_key) ||
                              (req->query_key && *req->query_key));
    cJSON_AddNumberToObject(o, "response_bytes", (double)req->response_bytes);
    cJSON_AddBoolToObject(o, "completed", completed);
    cJSON_AddNumberToObject(o, "ms", (double)(fk_mono_ms() - req->start_ms));
    cJSON_AddItemToObject(o, "media", media_json(&req->media));
    if (req->scenes >= 0)
        cJSON_AddNumberToObject(o, "scenes", req->scenes);
    else
        cJSON_AddNullToObject(o, "scenes");
    cJSON_AddItemToObject(o, "served_by", str_or_null(req->served_by));
    cJSON_AddItemToObject(o, "service_tier", str_or_null(req->service_tier));
    cJSON_AddItemToObject(o, "thinking_level", str_or_null(req->thinking_level));
    cJSON_AddItemToObject(o, "speech",
                          req->speech ? cJSON_Duplicate(req->speech, 1) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "interaction",
                          req->interaction ? cJSON_Duplicate(req->interaction, 1)
                                           : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "inputs",
                          req->inputs ? cJSON_Duplicate(req->inputs, 1) : cJSON_CreateNull());
    char *line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char status[16];
    snprintf(status, sizeof status, "%d", req->status);
    pthread_mutex_lock(&s->lock);
    count(s, req, status);
    if (req->seq)
        s->logged++;
    if (s->log && line) {
        fputs(line, s->log);
        fputc('\n', s->log);
        if (fflush(s->log) != 0)
            fprintf(stderr, FK_PREFIX "cannot write the request log\n");
    }
    pthread_mutex_unlock(&s->lock);
    cJSON_free(line);
}
