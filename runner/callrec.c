/* callrec: writing per-item call records with inline media replaced by digests. */
#include "callrec.h"
#include "base64.h"
#include "buf.h"
#include "fsutil.h"
#include "jsonutil.h"
#include "refs.h"
#include "sha256.h"
#include "util.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define BODY_TEXT_MAX 4096

char *callrec_path(const char *stage, const char *item)
{
    return xasprintf(".gemflow/calls/%s/%s.json", stage, item);
}

/* Size and SHA-256 of base64 media, decoded a slice at a time (no copy of the whole). */
static int digest_base64(const char *b64, size_t len, size_t *bytes, char hex[SHA256_HEX_LEN + 1])
{
    enum { SLICE = 64 * 1024 }; /* characters, a multiple of 4 */
    struct sha256_ctx *sc = sha256_new();
    struct buf raw = BUF_INIT;
    *bytes = 0;
    int rc = 0;
    for (size_t at = 0; at < len && rc == 0; at += SLICE) {
        size_t n = len - at < SLICE ? len - at : SLICE;
        raw.len = 0;
        rc = base64_decode(b64 + at, n, &raw, NULL);
        if (rc == 0) {
            sha256_update(sc, raw.data, raw.len);
            *bytes += raw.len;
        }
    }
    sha256_final_hex(sc, hex);
    buf_release(&raw);
    return rc;
}

static cJSON *media_digest(const char *b64, const char **saved_as,
                           const struct callrec_known *known)
{
    cJSON *d = cJSON_CreateObject();
    size_t len, bytes = 0;
    char hex[SHA256_HEX_LEN + 1];
    bool ok, from_known = known && known->b64 == b64;
    if (from_known) { /* its text may be gone: decoded in place */
        len = known->b64_len;
        ok = known->valid;
        bytes = known->bytes;
        snprintf(hex, sizeof hex, "%s", ok ? known->sha256 : "");
    } else {
        len = strlen(b64);
        /* padding or a line break inside a slice makes it fail: then decode the whole at once */
        ok = digest_base64(b64, len, &bytes, hex) == 0;
    }
    if (!ok && !from_known) {
        struct buf raw = BUF_INIT;
        ok = base64_decode(b64, len, &raw, NULL) == 0;
        if (ok) {
            sha256_hex(raw.data, raw.len, hex);
            bytes = raw.len;
        }
        buf_release(&raw);
    }
    if (ok) {
        cJSON_AddNumberToObject(d, "bytes", (double)bytes);
        cJSON_AddStringToObject(d, "sha256", hex);
    } else {
        cJSON_AddNumberToObject(d, "base64_chars", (double)len);
        cJSON_AddStringToObject(d, "error", "not valid base64");
    }
    json_add_str_or_null(d, "saved_as", *saved_as);
    *saved_as = NULL; /* only the first media part is the saved one */
    if (from_known && known->format)
        cJSON_AddStringToObject(d, "format", known->format);
    return d;
}

static void redact(cJSON *v, const char **saved_as, const struct callrec_known *known)
{
    for (cJSON *c = v ? v->child : NULL; c; c = c->next) {
        const char *sha, *path;
        size_t sha_len;
        /* a reference's placeholder (refs.h) stays: it names the file and its digest, and
         * `plan` reads it to say which reference changed */
        if (cJSON_IsString(c) && refs_parse(c->valuestring, &sha, &sha_len, &path))
            continue;
        if (cJSON_IsString(c) && c->string &&
            (strcmp(c->string, "bytesBase64Encoded") == 0 ||
             (strcmp(c->string, "data") == 0 && v->string &&
              (strcmp(v->string, "inlineData") == 0 || strcmp(v->string, "inline_data") == 0)))) {
            cJSON *d = media_digest(c->valuestring, saved_as, known);
            /* ReplaceItemViaPointer keeps no member name: hand the old one over */
            d->string = c->string;
            c->string = NULL;
            cJSON_ReplaceItemViaPointer(v, c, d);
            c = d;
            continue;
        }
        if (cJSON_IsObject(c) || cJSON_IsArray(c))
            redact(c, saved_as, known);
    }
}

void callrec_redact(cJSON *v, const char *saved_as)
{
    redact(v, &saved_as, NULL);
}

void callrec_redact_known(cJSON *v, const char *saved_as, const struct callrec_known *known)
{
    redact(v, &saved_as, known);
}

/* The body as JSON when it parses, else its first bytes as text. */
static cJSON *body_value(const char *body, size_t len, const char *saved_as)
{
    cJSON *v = cJSON_ParseWithLength(body, len);
    if (v) {
        callrec_redact(v, saved_as);
        return v;
    }
    struct buf t = BUF_INIT;
    buf_add(&t, body, len > BODY_TEXT_MAX ? BODY_TEXT_MAX : len);
    if (len > BODY_TEXT_MAX)
        buf_addf(&t, "... (%zu bytes in all)", len);
    v = cJSON_CreateString(t.data);
    buf_release(&t);
    return v;
}

int callrec_write(const char *job_dir, const struct callrec *rec, struct gf_err *err)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "stage", rec->stage);
    cJSON_AddStringToObject(root, "item", rec->item);
    cJSON_AddStringToObject(root, "status", rec->status);
    cJSON_AddStringToObject(root, "key", rec->key);
    cJSON_AddStringToObject(root, "model", rec->model);
    if (rec->served_by)
        cJSON_AddStringToObject(root, "served_by", rec->served_by);
    cJSON *req = cJSON_AddObjectToObject(root, "request");
    cJSON_AddStringToObject(req, "method", "POST");
    cJSON_AddStringToObject(req, "url", rec->url);
    cJSON_AddItemToObject(req, "body",
                          body_value(rec->request_body, strlen(rec->request_body), NULL));
    cJSON *resp = cJSON_AddObjectToObject(root, "response");
    cJSON_AddNumberToObject(resp, "http_status", (double)rec->http_status);
    if (rec->response_json) {
        callrec_redact(rec->response_json, rec->saved_as);
        cJSON_AddItemReferenceToObject(resp, "body", rec->response_json);
    } else if (rec->response_body) {
        cJSON_AddItemToObject(resp, "body",
                              body_value(rec->response_body, rec->response_len, rec->saved_as));
    }
    if (!rec->response_json && !rec->response_body)
        cJSON_AddNullToObject(resp, "body");
    if (rec->model_text)
        cJSON_AddStringToObject(root, "model_text", rec->model_text);
    if (rec->error)
        cJSON_AddItemToObject(root, "error", cJSON_Duplicate(rec->error, 1));
    json_add_str_or_null(root, "saved_as", rec->saved_as);
    cJSON_AddItemToObject(root, "attempts",
                          rec->attempts ? cJSON_Duplicate(rec->attempts, 1) : cJSON_CreateArray());
    cJSON *t = cJSON_AddObjectToObject(root, "timings");
    json_add_str_or_null(t, "started", rec->started);
    json_add_str_or_null(t, "ended", rec->ended);
    cJSON_AddNumberToObject(t, "total_ms", (double)rec->total_ms);
    if (rec->usage)
        cJSON_AddItemToObject(root, "usage", cJSON_Duplicate(rec->usage, 1));
    struct buf out = BUF_INIT;
    json_pretty(root, &out);
    cJSON_Delete(root);
    char *rel = callrec_path(rec->stage, rec->item);
    int rc = fs_write_atomic(job_dir, rel, out.data, out.len, FS_ATOMIC, NULL, err);
    free(rel);
    buf_release(&out);
    return rc;
}
