/* gemini: reading Gemini replies (generateContent, :predict) and error bodies with cJSON.
 * Replies are untrusted: a wrong-typed structure (candidates, content, parts) fails with its
 * path; a wrong-typed leaf (a number where text belongs) is ignored. Byte offsets are 0-based. */
#include "gemini.h"
#include "buf.h"
#include "retry.h"
#include "util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define ERROR_TEXT_MAX 300 /* bytes of a non-JSON error body kept as the message */

/* ---- small cJSON helpers ---- */

/* A member, treating JSON null like an absent member. */
static const cJSON *field(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
    return cJSON_IsNull(v) ? NULL : v;
}

static const char *field_string(const cJSON *obj, const char *name)
{
    const cJSON *v = field(obj, name);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

/* A token count: a non-negative integral number, else -1. */
static int64_t field_count(const cJSON *obj, const char *name)
{
    const cJSON *v = field(obj, name);
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
    part->text = field_string(p, "text");
    part->thought = cJSON_IsTrue(field(p, "thought"));
    const cJSON *media = field(p, "inlineData");
    if (!cJSON_IsObject(media))
        media = field(p, "inline_data");
    if (!cJSON_IsObject(media))
        return;
    const char *data = field_string(media, "data");
    if (!data)
        return; /* no payload: not a media part */
    const char *mime = field_string(media, "mimeType");
    part->mime = mime ? mime : field_string(media, "mime_type");
    part->data = data;
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
    const cJSON *cands = field(root, "candidates");
    const cJSON *feedback = field(root, "promptFeedback");
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
        out->block_reason = field_string(feedback, "blockReason");
        out->block_message = field_string(feedback, "blockReasonMessage");
        if (cJSON_IsArray(field(feedback, "safetyRatings")))
            out->safety_ratings = field(feedback, "safetyRatings");
    }
    const cJSON *cand = cands ? cJSON_GetArrayItem(cands, 0) : NULL;
    if (!cand)
        return 0; /* blocked prompt, or an empty candidates array: no answer */
    if (!cJSON_IsObject(cand))
        return bad_type(err, "candidates[0]", cand, "an object");
    out->finish_reason = field_string(cand, "finishReason");
    out->finish_message = field_string(cand, "finishMessage");
    if (cJSON_IsArray(field(cand, "safetyRatings")))
        out->safety_ratings = field(cand, "safetyRatings");
    const cJSON *content = field(cand, "content");
    if (!content)
        return 0; /* SAFETY and IMAGE_SAFETY finishes often come without content */
    if (!cJSON_IsObject(content))
        return bad_type(err, "candidates[0].content", content, "an object");
    const cJSON *parts = field(content, "parts");
    return parts ? parse_parts(parts, out, err) : 0; /* content without parts: empty answer */
}

/* :predict (Imagen): {"predictions": [{bytesBase64Encoded, mimeType} | {raiFilteredReason}]}.
 * A reply whose samples were all filtered may have no predictions at all: that parses, with no
 * parts, and the caller reports the missing image. */
static int parse_predict(const cJSON *root, struct gemini_reply *out, struct gf_err *err)
{
    const cJSON *preds = field(root, "predictions");
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
        const char *rai = field_string(p, "raiFilteredReason");
        if (rai && !out->rai_reason)
            out->rai_reason = rai;
        const char *data = field_string(p, "bytesBase64Encoded");
        if (!data)
            continue; /* a filtered sample, or safety attributes only */
        struct gemini_part *part = &out->parts[out->n_parts++];
        const char *mime = field_string(p, "mimeType");
        part->mime = mime ? mime : "image/png";
        part->data = data;
        part->data_len = strlen(data);
    }
    return 0;
}

static void parse_common(const cJSON *root, struct gemini_reply *out)
{
    const cJSON *usage = field(root, "usageMetadata");
    out->usage.prompt = field_count(usage, "promptTokenCount");
    out->usage.output = field_count(usage, "candidatesTokenCount");
    out->usage.thoughts = field_count(usage, "thoughtsTokenCount");
    out->usage.total = field_count(usage, "totalTokenCount");
    out->model_version = field_string(root, "modelVersion");
    out->response_id = field_string(root, "responseId");
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
    const cJSON *error = field(root, "error");
    if (error && !field(root, "candidates") && !field(root, "predictions")) {
        /* an error object in a 2xx body (seen mid-stream); keep the server's words */
        const char *msg = field_string(error, "message");
        const char *status = field_string(error, "status");
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

/* ---- error bodies ---- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlongs */
        hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        lo = c == 0xF0 ? 0x90 : 0x80; /* no overlongs */
        hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
    } else {
        return 0; /* ASCII is not handled here; 0x80..0xC1 and 0xF5.. never lead */
    }
    if (need > n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return need;
}

/* Append printable text to out: control characters become spaces (newlines kept when
 * `keep_newlines`, else every run of white space becomes one space), invalid UTF-8 becomes '?',
 * leading and trailing white space is dropped. If the result is longer than `max` bytes it is
 * cut to max - 3 bytes, never inside a UTF-8 sequence, and "..." marks the cut. */
static void add_clean_text(struct buf *out, const char *in, size_t len, bool keep_newlines,
                           size_t max)
{
    const unsigned char *s = (const unsigned char *)in;
    size_t start = out->len;
    bool space = false; /* white space seen since the last byte kept */
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (keep_newlines && (c == '\n' || c == ' ')) {
            buf_addc(out, (char)c);
            i++;
        } else if (c < 0x20 || c == 0x7F || c == ' ') {
            space = true;
            i++;
        } else {
            size_t n = c < 0x80 ? 1 : utf8_seq(s + i, len - i);
            if (space && out->len > start)
                buf_addc(out, ' ');
            space = false;
            if (n == 0) {
                buf_addc(out, '?');
                i++;
            } else {
                buf_add(out, s + i, n);
                i += n;
            }
        }
    }
    while (out->len > start && isspace((unsigned char)out->data[out->len - 1]))
        buf_setlen(out, out->len - 1);
    size_t first = start; /* leading newlines/spaces kept in keep_newlines mode */
    while (first < out->len && isspace((unsigned char)out->data[first]))
        first++;
    if (first > start) {
        memmove(out->data + start, out->data + first, out->len - first);
        buf_setlen(out, out->len - (first - start));
    }
    if (max >= 3 && out->len - start > max) {
        size_t cut = start + max - 3;
        while (cut > start && ((unsigned char)out->data[cut] & 0xC0) == 0x80)
            cut--; /* back to the start of a UTF-8 sequence */
        buf_setlen(out, cut);
        buf_adds(out, "...");
    }
}

/* Case-insensitive search for `needle` in s[0..len). */
static const char *find_ci(const char *s, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (strncasecmp(s + i, needle, n) == 0)
            return s + i;
    return NULL;
}

/* The visible text of an HTML page (a proxy's error page): tags, comments, <script> and
 * <style> dropped, a few entities decoded. */
static void html_to_text(const char *s, size_t len, struct buf *out)
{
    static const struct {
        const char *name, *text;
    } entities[] = {{"&amp;", "&"}, {"&lt;", "<"},   {"&gt;", ">"},  {"&quot;", "\""},
                    {"&#39;", "'"}, {"&apos;", "'"}, {"&nbsp;", " "}};
    size_t i = 0;
    while (i < len) {
        if (s[i] == '<') {
            const char *rest = s + i, *stop;
            size_t left = len - i;
            if (left >= 4 && strncmp(rest, "<!--", 4) == 0) {
                stop = find_ci(rest, left, "-->");
                i = stop ? (size_t)(stop - s) + 3 : len;
            } else if (left > 7 && strncasecmp(rest, "<script", 7) == 0) {
                stop = find_ci(rest, left, "</script");
                i = stop ? (size_t)(stop - s) + 8 : len;
            } else if (left > 6 && strncasecmp(rest, "<style", 6) == 0) {
                stop = find_ci(rest, left, "</style");
                i = stop ? (size_t)(stop - s) + 7 : len;
            }
            while (i < len && s[i] != '>')
                i++;
            i++;
            buf_addc(out, ' ');
            continue;
        }
        if (s[i] == '&') {
            size_t k;
            for (k = 0; k < ARRAY_SIZE(entities); k++) {
                size_t n = strlen(entities[k].name);
                if (n <= len - i && strncasecmp(s + i, entities[k].name, n) == 0) {
                    buf_adds(out, entities[k].text);
                    i += n;
                    break;
                }
            }
            if (k < ARRAY_SIZE(entities))
                continue;
        }
        buf_addc(out, s[i++]);
    }
}

/* The message for a body that is not the documented JSON: its text, cleaned and cut. */
static char *body_text_message(int http_status, const char *body, size_t len)
{
    struct buf msg = BUF_INIT;
    size_t i = 0;
    while (i < len && isspace((unsigned char)body[i]))
        i++;
    if (i < len && body[i] == '<') {
        struct buf text = BUF_INIT;
        html_to_text(body + i, len - i, &text);
        add_clean_text(&msg, text.data, text.len, false, ERROR_TEXT_MAX);
        buf_release(&text);
    }
    if (msg.len == 0)
        add_clean_text(&msg, body + i, len - i, false, ERROR_TEXT_MAX);
    if (msg.len == 0) {
        buf_release(&msg);
        return xasprintf("HTTP %d with an empty body", http_status);
    }
    return buf_detach(&msg, NULL);
}

/* Go's time.Duration text as servers print it ("20.04466179s", "1m30.5s", "850ms", "3h0m0s"),
 * rounded up to whole milliseconds; -1 when s does not start with one. */
static int64_t go_duration_ms(const char *s)
{
    static const struct {
        const char *unit;
        int64_t ns;
    } units[] = {
        /* "ms" before "m"; both micro signs Go has printed (U+00B5, U+03BC) */
        {"ns", 1},       {"us", 1000},      {"\xc2\xb5s", 1000},  {"\xce\xbcs", 1000},
        {"ms", 1000000}, {"s", 1000000000}, {"m", 60000000000LL}, {"h", 3600000000000LL},
    };
    int64_t ms = 0;
    bool round_up = false;
    int parts = 0;
    for (; isdigit((unsigned char)*s); parts++) {
        if (parts == 8)
            return -1; /* "1h1h1h...": not a duration Go prints */
        int64_t whole = 0;
        for (; isdigit((unsigned char)*s); s++) {
            whole = whole * 10 + (*s - '0');
            if (whole > 1000000000000LL)
                return -1;
        }
        int64_t frac = 0, scale = 1; /* frac / scale, at most 9 digits kept */
        if (*s == '.') {
            s++;
            if (!isdigit((unsigned char)*s))
                return -1;
            for (; isdigit((unsigned char)*s); s++) {
                if (scale < 1000000000) {
                    frac = frac * 10 + (*s - '0');
                    scale *= 10;
                } else if (*s != '0') {
                    round_up = true;
                }
            }
        }
        size_t k, ulen = 0;
        for (k = 0; k < ARRAY_SIZE(units); k++) {
            ulen = strlen(units[k].unit);
            if (strncmp(s, units[k].unit, ulen) == 0)
                break;
        }
        if (k == ARRAY_SIZE(units))
            return -1;
        s += ulen;
        /* (whole + frac / scale) * unit ns in whole ms, noting any remainder to round up. The
         * fraction of a unit of 1 ms or more is frac * unit_ms / scale ms (< 2^52, exact); the
         * fraction of a sub-millisecond unit is below 1 ms. */
        int64_t unit = units[k].ns;
        if (whole > (INT64_MAX / 16) / unit)
            return -1;
        int64_t ns = whole * unit, unit_ms = unit / 1000000;
        int64_t fms = frac * unit_ms; /* ms * scale */
        ms += ns / 1000000 + fms / scale;
        if (ns % 1000000 || fms % scale || (unit_ms == 0 && frac))
            round_up = true;
    }
    if (parts == 0 || isalnum((unsigned char)*s))
        return -1;
    return ms + (round_up ? 1 : 0);
}

/* "... Please retry in 20.04466179s." -> 20045 ms; -1 if the message has no such hint. */
static int64_t delay_from_message(const char *msg)
{
    const char *p = msg;
    while ((p = strcasestr(p, "retry in "))) {
        p += strlen("retry in ");
        int64_t ms = go_duration_ms(p);
        if (ms >= 0)
            return ms;
    }
    return -1;
}

/* details[]: RetryInfo{retryDelay} and QuotaFailure{violations[].quotaId}. Entries are matched
 * by their fields rather than by "@type", which proxies sometimes drop. */
static void parse_details(const cJSON *details, struct gemini_error *out)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, details)
    {
        const char *delay = field_string(d, "retryDelay");
        if (delay && out->retry_delay_ms < 0)
            out->retry_delay_ms = retry_parse_duration(delay);
        const cJSON *violations = field(d, "violations");
        const cJSON *v;
        if (!cJSON_IsArray(violations))
            continue;
        cJSON_ArrayForEach(v, violations)
        {
            const char *id = field_string(v, "quotaId");
            if (!id)
                continue;
            if (!out->quota_id)
                out->quota_id = xstrdup(id);
            /* GenerateRequestsPerDayPerProjectPerModel-FreeTier and the like */
            if (strcasestr(id, "PerDay"))
                out->daily_quota = true;
        }
    }
}

/* {"error": {...}}, or the same wrapped in a one-element array (the non-SSE stream form). */
static const cJSON *error_object(const cJSON *root)
{
    if (cJSON_IsArray(root) && cJSON_GetArraySize(root) == 1)
        root = cJSON_GetArrayItem(root, 0);
    return field(root, "error");
}

void gemini_error_parse(int http_status, const char *body, size_t len, struct gemini_error *out)
{
    memset(out, 0, sizeof *out);
    out->code = http_status;
    out->retry_delay_ms = -1;
    if (!body)
        len = 0;
    cJSON *root = len ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *e = error_object(root);
    if (cJSON_IsObject(e)) {
        const cJSON *code = field(e, "code");
        if (cJSON_IsNumber(code) && code->valuedouble >= 100 && code->valuedouble <= 599)
            out->code = (int)code->valuedouble;
        const char *status = field_string(e, "status");
        if (status && *status)
            out->status = xstrdup(status);
        const char *msg = field_string(e, "message");
        if (msg) {
            struct buf b = BUF_INIT;
            add_clean_text(&b, msg, strlen(msg), true, SIZE_MAX);
            if (b.len)
                out->message = buf_detach(&b, NULL);
            buf_release(&b);
        }
        if (cJSON_IsArray(field(e, "details")))
            parse_details(field(e, "details"), out);
    } else if (cJSON_IsString(e) && *e->valuestring) {
        /* {"error": "Not Found"} from something that is not the API */
        struct buf b = BUF_INIT;
        add_clean_text(&b, e->valuestring, strlen(e->valuestring), false, ERROR_TEXT_MAX);
        if (b.len)
            out->message = buf_detach(&b, NULL);
        buf_release(&b);
    }
    if (!out->message)
        out->message = body_text_message(http_status, body, len);
    if (out->retry_delay_ms < 0)
        out->retry_delay_ms = delay_from_message(out->message);
    cJSON_Delete(root);
}

void gemini_error_release(struct gemini_error *e)
{
    if (!e)
        return;
    free(e->status);
    free(e->message);
    free(e->quota_id);
    memset(e, 0, sizeof *e);
    e->retry_delay_ms = -1;
}
