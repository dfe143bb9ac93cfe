/* gemini_error: reading Gemini error bodies ({"error": {code, message, status, details}}) and
 * the non-JSON bodies proxies send (HTML, empty): the API's own words, the advised retry delay,
 * and whether a quota is per day. */
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

#define ERROR_TEXT_MAX 300 /* bytes of a non-JSON error body kept as the message */

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

/* quotaValue: a decimal string in the real bodies ("250000"), a number from some proxies; -1
 * when absent or not a non-negative number. */
static double quota_value(const cJSON *v)
{
    if (cJSON_IsNumber(v))
        return v->valuedouble >= 0 ? v->valuedouble : -1;
    if (!cJSON_IsString(v) || !*v->valuestring)
        return -1;
    char *end = NULL;
    double d = strtod(v->valuestring, &end);
    return *end == '\0' && d >= 0 && d < 1e15 ? d : -1;
}

/* details[]: RetryInfo{retryDelay} and QuotaFailure{violations[].quotaId}. Entries are matched
 * by their fields rather than by "@type", which proxies sometimes drop. */
static void parse_details(const cJSON *details, struct gemini_error *out)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, details)
    {
        const char *delay = json_str(d, "retryDelay");
        if (delay && out->retry_delay_ms < 0)
            out->retry_delay_ms = retry_parse_duration(delay);
        const cJSON *violations = json_field(d, "violations");
        const cJSON *v;
        if (!cJSON_IsArray(violations))
            continue;
        cJSON_ArrayForEach(v, violations)
        {
            const char *id = json_str(v, "quotaId");
            if (!id)
                continue;
            if (!out->quota_id)
                out->quota_id = xstrdup(id);
            if (out->n_violations < GEMINI_MAX_VIOLATIONS) {
                struct gemini_violation *gv = &out->violations[out->n_violations++];
                gv->quota_id = xstrdup(id);
                const char *metric = json_str(v, "quotaMetric");
                gv->quota_metric = metric ? xstrdup(metric) : NULL;
                gv->quota_value = quota_value(json_field(v, "quotaValue"));
            }
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
    return json_field(root, "error");
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
        const cJSON *code = json_field(e, "code");
        if (cJSON_IsNumber(code) && code->valuedouble >= 100 && code->valuedouble <= 599)
            out->code = (int)code->valuedouble;
        const char *status = json_str(e, "status");
        if (status && *status)
            out->status = xstrdup(status);
        const char *msg = json_str(e, "message");
        if (msg) {
            struct buf b = BUF_INIT;
            add_clean_text(&b, msg, strlen(msg), true, SIZE_MAX);
            if (b.len)
                out->message = buf_detach(&b, NULL);
            buf_release(&b);
        }
        if (cJSON_IsArray(json_field(e, "details")))
            parse_details(json_field(e, "details"), out);
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
    for (size_t i = 0; i < e->n_violations; i++) {
        free(e->violations[i].quota_id);
        free(e->violations[i].quota_metric);
    }
    memset(e, 0, sizeof *e);
    e->retry_delay_ms = -1;
}
