/* gemini: the Gemini REST wire format: parsing generateContent / predict replies and error
 * bodies. Pure functions over bytes; no I/O. Model output is untrusted: everything is checked. */
#ifndef GF_GEMINI_H
#define GF_GEMINI_H

#include "err.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gemini_verb {
    GEMINI_GENERATE, /* :generateContent */
    GEMINI_PREDICT,  /* :predict (imagen-*) */
};

/* One answer part of candidates[0].content.parts[] (or one prediction of :predict). Strings
 * point into the reply's cJSON tree. */
struct gemini_part {
    const char *text; /* NULL unless a text part */
    bool thought;     /* a thought summary ("thought": true): not part of the answer */
    const char *mime; /* inlineData.mimeType (or prediction mimeType); NULL unless media */
    char *data;       /* base64 payload inside the reply's tree; NULL unless media. A stage may
                       * decode it in place (stage_output.consumed_b64) */
    size_t data_len;
};

struct gemini_usage {
    int64_t prompt, output, thoughts, total; /* -1 when absent */
};

struct gemini_reply {
    cJSON *root; /* owned */
    struct gemini_part *parts;
    size_t n_parts;
    const char *finish_reason;   /* candidates[0].finishReason, NULL if absent */
    const char *finish_message;  /* candidates[0].finishMessage, NULL if absent */
    const char *block_reason;    /* promptFeedback.blockReason, NULL if absent */
    const char *block_message;   /* promptFeedback.blockReasonMessage, NULL if absent */
    const char *rai_reason;      /* :predict raiFilteredReason of the first filtered sample */
    const cJSON *safety_ratings; /* candidates[0].safetyRatings or promptFeedback's; may be NULL */
    struct gemini_usage usage;
    const char *model_version, *response_id;
};

/* Parse a 2xx body. Fails (GF_ERR_INPUT, "reply is not valid JSON near byte N of M" / "reply has
 * neither candidates nor promptFeedback" / "reply field 'candidates[0].content.parts' is a
 * string, not an array" / ...) when the body is not a well-formed reply; a parse failure of a
 * 2xx body is treated by the caller as retryable (a truncated body). A reply that is
 * well-formed but carries no answer (blocked, SAFETY, no parts) parses fine: the caller
 * decides. Wrong-typed leaves (a number where text belongs) are ignored, not errors. */
int gemini_reply_parse(const char *body, size_t len, enum gemini_verb verb,
                       struct gemini_reply *out, struct gf_err *err);
void gemini_reply_release(struct gemini_reply *r);

/* The concatenated non-thought text parts (caller frees); NULL when there is none. */
char *gemini_reply_text(const struct gemini_reply *r);
/* The first non-thought media part whose mime type starts with `mime_prefix` ("image/",
 * "audio/"), or NULL. */
const struct gemini_part *gemini_reply_media(const struct gemini_reply *r, const char *mime_prefix);
/* True for finish reasons that mean the content was refused (SAFETY, RECITATION, BLOCKLIST,
 * PROHIBITED_CONTENT, SPII, IMAGE_SAFETY, IMAGE_PROHIBITED_CONTENT, IMAGE_RECITATION, ...). */
bool gemini_finish_is_blocked(const char *finish_reason);

#define GEMINI_MAX_VIOLATIONS 4

/* An error body {"error": {code, message, status, details[]}}. Strings are owned. */
struct gemini_error {
    int code;               /* error.code, else the HTTP status */
    char *status;           /* "RESOURCE_EXHAUSTED", NULL if absent */
    char *message;          /* the API's own words; for a non-JSON body, its first 300 bytes */
    int64_t retry_delay_ms; /* RetryInfo.retryDelay, else "Please retry in Ns" in the message,
                               else -1 */
    char *quota_id;         /* first QuotaFailure violation quotaId, NULL if none */
    bool daily_quota;       /* some quotaId names a per-day quota ("PerDay"): retrying is useless */
    /* every QuotaFailure violation (at most GEMINI_MAX_VIOLATIONS), for the quota directory */
    struct gemini_violation {
        char *quota_id;     /* "GenerateRequestsPerMinutePerProjectPerModel", never NULL */
        char *quota_metric; /* "generativelanguage.googleapis.com/...", NULL if absent */
        double quota_value; /* the limit stated, -1 if absent or not a number */
    } violations[GEMINI_MAX_VIOLATIONS];
    size_t n_violations;
};

/* Parse an error body of an HTTP error status. Never fails, and message is never NULL: a body
 * that is not the documented JSON leaves status NULL and message = the body text (an HTML page's
 * visible text; white space collapsed, control characters and invalid UTF-8 replaced, at most
 * 300 bytes); an empty body gives "HTTP 502 with an empty body". */
void gemini_error_parse(int http_status, const char *body, size_t len, struct gemini_error *out);
void gemini_error_release(struct gemini_error *e);

#endif
