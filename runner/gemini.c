/* gemini: reading Gemini replies (generateContent, :predict) and error bodies with cJSON.
 * Replies are untrusted: a wrong-typed structure (candidates, content, parts) fails with its
 * path; a wrong-typed leaf (a number where text belongs) is ignored. Byte offsets are 0-based. */
#include "gemini.h"
#include "buf.h"
#include "jsonutil.h"
#include "retry.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- small cJSON helpers ---- */

/* A token count: a non-negative integral number, else -1. */
static int64_t field_count(const cJSON *obj, const char *name)
{
    const cJSON *v = json_field(obj, name);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
        v->valuedouble > 9007199254740992.0 || v->valuedouble != floor(v->valuedouble))
        return -1;
    return (int64_t)v->valuedouble;
}

static const char *type_name(const cJSON *v)
{
    if (cJSON_IsObject(v))
        return "an object";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsBool(v))
        return "a boolean";
    return "null";
}

static int bad_type(struct gf_err *err, const char *path, const cJSON *v, const char *want)
{
    return gf_error(err, GF_ERR_INPUT, "reply field '%s' is %s, not %s", path, type_name(v), want);
}

/* ---- replies ---- */

/* One part: text, thought flag and inline media. Responses are camelCase; snake_case
 * (inline_data, mime_type) is accepted too, as some proxies re-serialise with it. */
static void parse_part(const cJSON *p, struct gemini_part *part)
{
    part->text = json_str(p, "text");
    part->thought = cJSON_IsTrue(json_field(p, "thought"));
    const cJSON *media = json_field(p, "inlineData");
    if (!cJSON_IsObject(media))
        media = json_field(p, "inline_data");
    if (!cJSON_IsObject(media))
        return;
    const char *data = json_str(media, "data");
    if (!data)
        return; /* no payload: not a media part */
    const char *mime = json_str(media, "mimeType");
    part->mime = mime ? mime : json_str(media, "mime_type");
    part->data = (char *)data; /* the tree is the reply's own (gemini_part.data) */
    part->data_len = strlen(data);
}

static int parse_parts(const cJSON *parts, struct gemini_reply *out, struct gf_err *err)
{
    if (!cJSON_IsArray(parts))
        return bad_type(err, "candidates[0].content.parts", parts, "an array");
    int n = cJSON_GetArraySize(parts);
    if (n <= 0)
        return 0;
    out->parts = xcalloc((size_t)n, sizeof *out->parts);
    const cJSON *p;
    cJSON_ArrayForEach(p, parts)
    {
        if (!cJSON_IsObject(p)) {
            char path[64];
            snprintf(path, sizeof path, "candidates[0].content.parts[%zu]", out->n_parts);
            return bad_type(err, path, p, "an object");
        }
        parse_part(p, &out->parts[out->n_parts++]);
    }
    return 0;
}

/* " (its keys: a, b, c)": up to 6 top-level keys, to show what came instead. */
static void describe_keys(const cJSON *root, char *out, size_t n)
{
    struct buf b = BUF_INIT;
    int shown = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, root)
    {
        if (shown == 6) {
            buf_adds(&b, ", ...");
            break;
        }
        buf_addf(&b, "%s%.40s", shown++ ? ", " : "", v->string ? v->string : "?");
    }
    if (shown)
        snprintf(out, n, " (its keys: %s)", b.data);
    else
        snprintf(out, n, " (it is an empty object)");
    buf_release(&b);
}

static int parse_generate(const cJSON *root, struct gemini_reply *out, struct gf_err *err)
{
    const cJSON *cands = json_field(root, "candidates");
    const cJSON *feedback = json_field(root, "promptFeedback");
    if (cands && !cJSON_IsArray(cands))
        return bad_type(err, "candidates", cands, "an array");
    if (feedback && !cJSON_IsObject(feedback))
        return bad_type(err, "promptFeedback", feedback, "an object");
    if (!cands && !feedback) {
        char keys[400];
        describe_keys(root, keys, sizeof keys);
        return gf_error(err, GF_ERR_INPUT, "reply has neither candidates nor promptFeedback%s",
                        keys);
    }
    if (feedback) {
        out->block_reason = json_str(feedback, "blockReason");
        out->block_message = json_str(feedback, "blockReasonMessage");
        if (cJSON_IsArray(json_field(feedback, "safetyRatings")))
            out->safety_ratings = json_field(feedback, "safetyRatings");
    }
    const cJSON *cand = cands ? cJSON_GetArrayItem(cands, 0) : NULL;
    if (!cand)
        return 0; /* blocked prompt, or an empty candidates array: no answer */
    if (!cJSON_IsObject(cand))
        return bad_type(err, "candidates[0]", cand, "an object");
    out->finish_reason = json_str(cand, "finishReason");
    out->finish_message = json_str(cand, "finishMessage");
    if (cJSON_IsArray(json_field(cand, "safetyRatings")))
        out->safety_ratings = json_field(cand, "safetyRatings");
    const cJSON *content = json_field(cand, "content");
    if (!content)
        return 0; /* SAFETY and IMAGE_SAFETY finishes often come without content */
    if (!cJSON_IsObject(content))
        return bad_type(err, "candidates[0].content", content, "an object");
    const cJSON *parts = json_field(content, "parts");
    return parts ? parse_parts(parts, out, err) : 0; /* content without parts: empty answer */
}

/* :predict (Imagen): {"predictions": [{bytesBase64Encoded, mimeType} | {raiFilteredReason}]}.
 * A reply whose samples were all filtered may have no predictions at all: that parses, with no
 * parts, and the caller reports the missing image. */
static int parse_predict(const cJSON *root, struct gemini_reply *out, struct gf_err *err)
{
    const cJSON *preds = json_field(root, "predictions");
    if (!preds)
        return 0;
    if (!cJSON_IsArray(preds))
        return bad_type(err, "predictions", preds, "an array");
    int n = cJSON_GetArraySize(preds);
    if (n <= 0)
        return 0;
    out->parts = xcalloc((size_t)n, sizeof *out->parts);
    size_t i = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, preds)
    {
        if (!cJSON_IsObject(p)) {
            char path[48];
            snprintf(path, sizeof path, "predictions[%zu]", i);
            return bad_type(err, path, p, "an object");
        }
        i++;
        const char *rai = json_str(p, "raiFilteredReason");
        if (rai && !out->rai_reason)
            out->rai_reason = rai;
        const char *data = json_str(p, "bytesBase64Encoded");
        if (!data)
            continue; /* a filtered sample, or safety attributes only */
        struct gemini_part *part = &out->parts[out->n_parts++];
        const char *mime = json_str(p, "mimeType");
        part->mime = mime ? mime : "image/png";
        part->data = (char *)data; /* the tree is the reply's own (gemini_part.data) */
        part->data_len = strlen(data);
    }
    return 0;
}

static void parse_common(const cJSON *root, struct gemini_reply *out)
{
    const cJSON *usage = json_field(root, "usageMetadata");
    out->usage.prompt = field_count(usage, "promptTokenCount");
    out->usage.output = field_count(usage, "candidatesTokenCount");
    out->usage.thoughts = field_count(usage, "thoughtsTokenCount");
    out->usage.total = field_count(usage, "totalTokenCount");
    out->model_version = json_str(root, "modelVersion");
    out->response_id = json_str(root, "responseId");
}

/* Whether a JSON text stops inside a string, object or array: the mark of a body cut short
 * (cJSON reports where a value began, not where the bytes ran out). */
static bool json_ends_open(const char *s, size_t len)
{
    size_t depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return in_string || depth > 0;
}

/* Parse JSON with the failure's offset in the message. Trailing bytes other than white space
 * after the value are an error too (cJSON itself would ignore them). */
static cJSON *parse_json(const char *body, size_t len, struct gf_err *err)
{
    if (!body || len == 0) {
        gf_error(err, GF_ERR_INPUT, "reply is empty (0 bytes)");
        return NULL;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(body, len, &end, false);
    if (!root) {
        size_t at = end && end >= body ? (size_t)(end - body) : 0;
        gf_error(err, GF_ERR_INPUT, "reply is not valid JSON near byte %zu of %zu%s", at, len,
                 json_ends_open(body, len) ? ": it ends inside a value (truncated?)" : "");
        return NULL;
    }
    size_t at = (size_t)(end - body);
    while (at < len && isspace((unsigned char)body[at]))
        at++;
    if (at < len) {
        cJSON_Delete(root);
        gf_error(err, GF_ERR_INPUT, "reply has data after the JSON value at byte %zu of %zu", at,
                 len);
        return NULL;
    }
    return root;
}

int gemini_reply_parse(const char *body, size_t len, enum gemini_verb verb,
                       struct gemini_reply *out, struct gf_err *err)
{
    memset(out, 0, sizeof *out);
    out->usage.prompt = out->usage.output = out->usage.thoughts = out->usage.total = -1;
    cJSON *root = parse_json(body, len, err);
    if (!root)
        return -1;
    out->root = root;
    if (!cJSON_IsObject(root)) {
        gf_error(err, GF_ERR_INPUT, "reply is %s, not a JSON object", type_name(root));
        goto fail;
    }
    const cJSON *error = json_field(root, "error");
    if (error && !json_field(root, "candidates") && !json_field(root, "predictions")) {
        /* an error object in a 2xx body (seen mid-stream); keep the server's words */
        const char *msg = json_str(error, "message");
        const char *status = json_str(error, "status");
        gf_error(err, GF_ERR_INPUT, "reply is an error%s%s: %.600s", status ? " " : "",
                 status ? status : "", msg ? msg : "(no message)");
        goto fail;
    }
    int rc =
        verb == GEMINI_PREDICT ? parse_predict(root, out, err) : parse_generate(root, out, err);
    if (rc < 0)
        goto fail;
    parse_common(root, out);
    return 0;

fail:
    gemini_reply_release(out);
    return -1;
}

void gemini_reply_release(struct gemini_reply *r)
{
    if (!r)
        return;
    cJSON_Delete(r->root);
    free(r->parts);
    memset(r, 0, sizeof *r);
    r->usage.prompt = r->usage.output = r->usage.thoughts = r->usage.total = -1;
}

char *gemini_reply_text(const struct gemini_reply *r)
{
    struct buf b = BUF_INIT;
    bool any = false;
    for (size_t i = 0; i < r->n_parts; i++) {
        if (r->parts[i].text && !r->parts[i].thought) {
            buf_adds(&b, r->parts[i].text);
            any = true;
        }
    }
    return any ? buf_detach(&b, NULL) : NULL;
}

const struct gemini_part *gemini_reply_media(const struct gemini_reply *r, const char *mime_prefix)
{
    size_t plen = mime_prefix ? strlen(mime_prefix) : 0;
    for (size_t i = 0; i < r->n_parts; i++) {
        const struct gemini_part *p = &r->parts[i];
        if (p->thought || !p->data || !p->mime)
            continue;
        if (strncasecmp(p->mime, mime_prefix ? mime_prefix : "", plen) == 0)
            return p; /* mime types are case-insensitive */
    }
    return NULL;
}

/* Every FinishReason of the API (SDK enum), and whether it means the content was refused by
 * policy: retrying the same request is pointless and the result is "blocked". Reasons that are
 * not refusals (limits, tool-call trouble, unknown) are for the caller to judge. */
static const struct {
    const char *name;
    bool blocked;
} finish_reasons[] = {
    {"FINISH_REASON_UNSPECIFIED", false}, /* no reason given: not evidence of a refusal */
    {"STOP", false},                      /* natural end */
    {"MAX_TOKENS", false},                /* cut at the token limit: truncated, not refused */
    {"SAFETY", true},                     /* flagged by the safety filters */
    {"RECITATION", true},                 /* flagged as recitation of training data */
    {"LANGUAGE", true},                   /* unsupported language: refused, would repeat */
    {"OTHER", false},                     /* unknown cause; a retry may succeed */
    {"BLOCKLIST", true},                  /* contains forbidden terms */
    {"PROHIBITED_CONTENT", true},         /* potentially prohibited content */
    {"SPII", true},                       /* sensitive personally identifiable information */
    {"MALFORMED_FUNCTION_CALL", false},   /* a model error, not a refusal */
    {"IMAGE_SAFETY", true},               /* generated image refused by safety filters */
    {"UNEXPECTED_TOOL_CALL", false},      /* tool-call trouble, not a refusal */
    {"TOO_MANY_TOOL_CALLS", false},       /* tool-call trouble, not a refusal */
    {"IMAGE_PROHIBITED_CONTENT", true},   /* generated image refused as prohibited */
    {"NO_IMAGE", false},        /* expected an image, got none: the caller's "no image" case */
    {"IMAGE_RECITATION", true}, /* generated image refused as recitation */
    {"IMAGE_OTHER", false},     /* image stopped for another reason; may pass on retry */
    {"CONTINUATION", false},    /* not a refusal */
};

bool gemini_finish_is_blocked(const char *finish_reason)
{
    if (!finish_reason)
        return false;
    for (size_t i = 0; i < ARRAY_SIZE(finish_reasons); i++)
        if (strcmp(finish_reason, finish_reasons[i].name) == 0)
            return finish_reasons[i].blocked;
    /* A reason newer than this table: treat policy-sounding names as refusals. */
    return strstr(finish_reason, "SAFETY") || strstr(finish_reason, "PROHIBITED") ||
           strstr(finish_reason, "BLOCK") || strstr(finish_reason, "RECITATION");
}
