/* textout: colour decisions and time formatting for human-readable output. */
#include "textout.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int tx_color_parse(const char *s, enum tx_color_mode *mode)
{
    if (strcmp(s, "auto") == 0)
        *mode = TX_COLOR_AUTO;
    else if (strcmp(s, "always") == 0)
        *mode = TX_COLOR_ALWAYS;
    else if (strcmp(s, "never") == 0)
        *mode = TX_COLOR_NEVER;
    else
        return -1;
    return 0;
}

int tx_color_option(bool no_color, const char *arg, int argc, char **argv, enum tx_color_mode *mode)
{
    if (no_color) {
        *mode = TX_COLOR_NEVER;
        return 0;
    }
    if (arg)
        return tx_color_parse(arg, mode);
    /* --color WHEN: take the next argument only when it is a WHEN, so "--color JOB" works */
    if (optind < argc && tx_color_parse(argv[optind], mode) == 0) {
        optind++;
        return 0;
    }
    *mode = TX_COLOR_ALWAYS;
    return 0;
}

bool tx_use_color(FILE *f, enum tx_color_mode mode)
{
    if (mode != TX_COLOR_AUTO)
        return mode == TX_COLOR_ALWAYS;
    const char *no = getenv("NO_COLOR");
    if (no && no[0])
        return false;
    return isatty(fileno(f)) == 1;
}

const char *tx_c(bool color, const char *sgr)
{
    return color ? sgr : "";
}

const char *tx_state_sgr(const char *state)
{
    static const struct {
        const char *state, *sgr;
    } map[] = {
        {"done", TX_GREEN},     {"accepted", TX_GREEN}, {"failed", TX_RED},
        {"killed", TX_RED},     {"invalid", TX_RED},    {"running", TX_CYAN},
        {"partial", TX_YELLOW}, {"pending", TX_YELLOW}, {"interrupted", TX_YELLOW},
        {"edited", TX_YELLOW},  {"waiting", TX_DIM},    {"new", TX_DIM},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (state && strcmp(map[i].state, state) == 0)
            return map[i].sgr;
    }
    return "";
}

/* Length of the valid UTF-8 sequence at `s` that is neither a control nor DEL, or 0. Follows
 * RFC 3629 (Table 3-7 of Unicode): no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t printable_len(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return c >= 0x20 && c != 0x7f ? 1 : 0;
    unsigned char lo = 0x80, hi = 0xbf;
    size_t n;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        if (c == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
            return 0; /* U+0080..U+009F: the C1 controls */
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    } else {
        return 0; /* a continuation byte alone, 0xc0, 0xc1, 0xf5..0xff */
    }
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* Sanitize into `out` (which may be `s` itself: it never runs ahead of the reading). */
static size_t sanitize_to(char *out, const char *s, bool line)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t o = 0;
    while (*p) {
        size_t n = printable_len(p);
        if (n) {
            memmove(out + o, p, n);
            o += n;
            p += n;
        } else if (*p == '\n' || *p == '\t') {
            out[o++] = line ? ' ' : (char)*p;
            p++;
        } else {
            /* a C1 control is one character of two bytes; anything else, one byte (decided
             * before writing: `out` may be `s`) */
            size_t skip = p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f ? 2 : 1;
            out[o++] = TX_SUBSTITUTE;
            p += skip;
        }
    }
    out[o] = '\0';
    return o;
}

static void sanitize_append(struct buf *out, const char *s, bool line)
{
    buf_grow(out, strlen(s) + 1); /* never longer than `s` */
    out->len += sanitize_to(out->data + out->len, s, line);
}

void tx_sanitize(struct buf *out, const char *s)
{
    sanitize_append(out, s, false);
}

void tx_sanitize_line(struct buf *out, const char *s)
{
    sanitize_append(out, s, true);
}

void tx_sanitize_inplace(char *s)
{
    sanitize_to(s, s, false);
}

void tx_sanitize_json(cJSON *j)
{
    for (; j; j = j->next) {
        /* strings gemflow does not own (constant names, references) are left alone: gemflow
         * makes none from outside text */
        if (j->string && !(j->type & cJSON_StringIsConst))
            tx_sanitize_inplace(j->string);
        if (cJSON_IsString(j) && j->valuestring && !(j->type & cJSON_IsReference))
            tx_sanitize_inplace(j->valuestring);
        tx_sanitize_json(j->child);
    }
}

void tx_json_safe(struct buf *out, const char *json, size_t len)
{
    const unsigned char *p = (const unsigned char *)json, *end = p + len;
    bool in_string = false;
    buf_grow(out, len);
    while (p < end) {
        unsigned char c = *p;
        size_t n = 1;
        if (c == '"') {
            in_string = !in_string;
        } else if (in_string && c == '\\' && p + 1 < end) {
            n = 2; /* an escape: the next byte is never the string's end */
        } else if (!in_string && (c == '\n' || c == ' ')) {
            /* JSON whitespace: kept */
        } else if (!in_string && (c == '\t' || c == '\r')) {
            buf_addc(out, ' ');
            p++;
            continue;
        } else if (c >= 0x80 || c < 0x20 || c == 0x7f) {
            unsigned char seq[5] = {0};
            memcpy(seq, p, (size_t)(end - p) < 4 ? (size_t)(end - p) : 4);
            n = printable_len(seq);
            if (!n) { /* a control character, or a byte that is not UTF-8 */
                bool c1 = c == 0xc2 && p + 1 < end && p[1] >= 0x80 && p[1] <= 0x9f;
                if (c1)
                    buf_addf(out, "\\u%04x", p[1]);
                else if (c < 0x80)
                    buf_addf(out, "\\u%04x", c);
                else
                    buf_adds(out, "\\ufffd");
                p += c1 ? 2 : 1;
                continue;
            }
        }
        buf_add(out, (const char *)p, n);
        p += n;
    }
}

void tx_fputs(const char *s, FILE *f)
{
    struct buf b = BUF_INIT;
    tx_sanitize(&b, s);
    fputs(b.data, f);
    buf_release(&b);
}

int tx_parse_ts(const char *ts, int64_t *epoch_ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int used = 0;
    if (!ts || sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                      &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    const char *p = ts + used;
    int64_t frac = 0;
    if (*p == '.') {
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9'; p++) {
            if (digits++ < 3)
                frac = frac * 10 + (*p - '0');
        }
        for (; digits < 3; digits++)
            frac *= 10;
    }
    if (*p != 'Z')
        return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *epoch_ms = (int64_t)t * 1000 + frac;
    return 0;
}

int64_t tx_now_epoch_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tx_local_time(char *out, size_t n, int64_t epoch_ms, bool with_date)
{
    time_t t = (time_t)(epoch_ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof base, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
    if (with_date)
        snprintf(out, n, "%s", base);
    else
        snprintf(out, n, "%s.%03d", base, (int)(epoch_ms % 1000));
}

void tx_duration(char *out, size_t n, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    if (ms < 1000)
        snprintf(out, n, "%lld ms", (long long)ms);
    else if (ms < 60000)
        snprintf(out, n, "%.1fs", (double)ms / 1000.0);
    else if (ms < 3600000)
        snprintf(out, n, "%lldm%02llds", (long long)(ms / 60000), (long long)(ms / 1000 % 60));
    else
        snprintf(out, n, "%lldh%02lldm", (long long)(ms / 3600000), (long long)(ms / 60000 % 60));
}

void tx_age(char *out, size_t n, int64_t s)
{
    if (s < 5)
        snprintf(out, n, "just now");
    else if (s < 60)
        snprintf(out, n, "%llds ago", (long long)s);
    else if (s < 3600)
        snprintf(out, n, "%lldm ago", (long long)(s / 60));
    else if (s < 86400 * 2)
        snprintf(out, n, "%lldh ago", (long long)(s / 3600));
    else
        snprintf(out, n, "%lldd ago", (long long)(s / 86400));
}
