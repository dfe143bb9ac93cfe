/* callrec: `.gemflow/calls/<stage>/<item>.json`, the last request and response of an item with
 * its status, attempts, timings and token usage, for debugging prompts. Inline media (base64)
 * is replaced by {bytes, sha256, saved_as}; the API key is never part of it (it travels only
 * in a header that is not recorded). Written atomically when an item ends. */
#ifndef GF_CALLREC_H
#define GF_CALLREC_H

#include "err.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct callrec {
    const char *stage, *item, *key, *model, *url;
    const char *served_by; /* the model that answered when it was another one, else NULL */
    const char *status;    /* "done" | "failed" */
    const char *request_body;
    long http_status;
    const char *response_body; /* NULL when there was no response */
    size_t response_len;
    /* The response already parsed (optional): used instead of parsing response_body again,
     * and redacted in place, so its inline media strings are gone afterwards. */
    cJSON *response_json;
    const char *saved_as; /* artifact written from the response, NULL if none */
    const char *model_text;
    const cJSON *attempts; /* borrowed */
    const cJSON *error;    /* borrowed, NULL when done */
    const cJSON *usage;    /* borrowed, may be NULL */
    const char *started, *ended;
    int64_t total_ms;
};

int callrec_write(const char *job_dir, const struct callrec *rec, struct gf_err *err);
/* Replace inline media in a parsed request/response in place: every inlineData.data and
 * bytesBase64Encoded string becomes {bytes, sha256, saved_as} (plus "format", what the bytes
 * are, when known); the first one gets saved_as. */
void callrec_redact(cJSON *v, const char *saved_as);
/* What is already known of the inline string at address `b64`: it decodes to `bytes` bytes
 * with SHA-256 `sha256` (the artifact written from it), or (valid false) it was not valid
 * base64 of `b64_len` characters. Its text is not read: it may have been decoded in place. */
struct callrec_known {
    const char *b64;
    bool valid;
    size_t bytes;
    const char *sha256;
    size_t b64_len;
    const char *format; /* what the bytes are ("jpeg"), whatever the label said; NULL: unknown */
};
/* callrec_redact, taking the digest of `known->b64` from `known` (NULL: none known). */
void callrec_redact_known(cJSON *v, const char *saved_as, const struct callrec_known *known);
/* Path of an item's call record relative to the job directory (caller frees). */
char *callrec_path(const char *stage, const char *item);

#endif
