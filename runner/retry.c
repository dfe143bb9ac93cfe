/* retry: the retry policy's pure parts: protobuf Duration and Retry-After parsing, full-jitter
 * exponential backoff, and the table of retryable HTTP statuses. See retry.h for the policy. */
#include "retry.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* protobuf's Duration range is +-315,576,000,000 s (10,000 years); anything longer is garbage,
 * and the bound keeps every millisecond value far from INT64_MAX. */
#define MAX_SECONDS 315576000000LL

int64_t retry_parse_duration(const char *s)
{
    if (!s)
        return -1;
    while (*s == ' ' || *s == '\t')
        s++;
    if (!isdigit((unsigned char)*s))
        return -1; /* also rejects "-1s", "+1s", ".5s", "s", "" */
    int64_t sec = 0;
    for (; isdigit((unsigned char)*s); s++) {
        sec = sec * 10 + (*s - '0');
        if (sec > MAX_SECONDS)
            return -1;
    }
    int64_t ms = 0;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return -1; /* "1.s" */
        int digits = 0;
        bool rest = false; /* a nonzero digit below the millisecond: round up */
        for (; isdigit((unsigned char)*s); s++, digits++) {
            if (digits < 3)
                ms = ms * 10 + (*s - '0');
            else if (*s != '0')
                rest = true;
        }
        for (; digits < 3; digits++)
            ms *= 10;
        ms += rest;
    }
    if (*s++ != 's')
        return -1; /* "1.5", "26 s", "3m" */
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s)
        return -1;
    return sec * 1000 + ms;
}

/* Retry-After as an IMF-fixdate (RFC 9110 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT". The obsolete
 * RFC 850 and asctime forms are not accepted: servers have sent IMF-fixdate for decades. */
static int parse_http_date(const char *s, time_t *out)
{
    static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    size_t i;
    for (i = 0; i < 7; i++)
        if (strncmp(s, days[i], 3) == 0)
            break;
    if (i == 7 || strncmp(s + 3, ", ", 2) != 0)
        return -1;
    s += 5;
    /* "DD Mon YYYY HH:MM:SS GMT": check the shape, then read the numbers */
    static const char shape[] = "dd mmm yyyy dd:dd:dd GMT";
    for (i = 0; shape[i]; i++) {
        char c = s[i];
        if (shape[i] == 'd' || shape[i] == 'y') {
            if (!isdigit((unsigned char)c))
                return -1;
        } else if (shape[i] == 'm') {
            if (!isalpha((unsigned char)c))
                return -1;
        } else if (c != shape[i]) {
            return -1;
        }
    }
    if (s[i] != '\0')
        return -1;
    struct tm tm = {0};
    for (i = 0; i < 12; i++)
        if (strncmp(s + 3, months[i], 3) == 0)
            break;
    if (i == 12)
        return -1;
    tm.tm_mon = (int)i;
    tm.tm_mday = (s[0] - '0') * 10 + (s[1] - '0');
    tm.tm_year =
        (s[7] - '0') * 1000 + (s[8] - '0') * 100 + (s[9] - '0') * 10 + (s[10] - '0') - 1900;
    tm.tm_hour = (s[12] - '0') * 10 + (s[13] - '0');
    tm.tm_min = (s[15] - '0') * 10 + (s[16] - '0');
    tm.tm_sec = (s[18] - '0') * 10 + (s[19] - '0');
    if (tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return -1;
    int mon = tm.tm_mon;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mon != mon)
        return -1; /* timegm carried an impossible day ("31 Feb") into the next month */
    *out = t;
    return 0;
}

int64_t retry_parse_retry_after(const char *value, time_t now)
{
    if (!value)
        return -1;
    while (*value == ' ' || *value == '\t')
        value++;
    size_t len = strlen(value);
    while (len && (value[len - 1] == ' ' || value[len - 1] == '\t' || value[len - 1] == '\r' ||
                   value[len - 1] == '\n'))
        len--;
    if (len == 0 || len >= 64)
        return -1;
    char v[64];
    memcpy(v, value, len);
    v[len] = '\0';

    if (isdigit((unsigned char)v[0])) { /* delta-seconds: digits only */
        int64_t sec = 0;
        for (const char *p = v; *p; p++) {
            if (!isdigit((unsigned char)*p))
                return -1;
            sec = sec * 10 + (*p - '0');
            if (sec > MAX_SECONDS)
                return -1;
        }
        return sec * 1000;
    }
    time_t at;
    if (parse_http_date(v, &at) < 0)
        return -1;
    if (at <= now)
        return 0;
    int64_t diff = (int64_t)at - (int64_t)now;
    return diff > MAX_SECONDS ? -1 : diff * 1000;
}

/* xorshift64* (Vigna): tiny, fast, good enough for jitter; a zero state would stick at zero. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

int64_t retry_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint64_t *rng)
{
    if (base_ms <= 0 || cap_ms <= 0)
        return 0;
    if (attempt < 1)
        attempt = 1;
    /* ceiling = min(cap, base * 2^(attempt-1)), doubling without overflow */
    int64_t ceiling = base_ms < cap_ms ? base_ms : cap_ms;
    for (int i = 1; i < attempt && ceiling < cap_ms; i++)
        ceiling = ceiling > cap_ms / 2 ? cap_ms : ceiling * 2;
    /* uniform in [0, ceiling]; the modulo bias is below 2^-40 for any sane ceiling */
    return (int64_t)(next_random(rng) % ((uint64_t)ceiling + 1));
}

bool retry_status_is_retryable(int http_status)
{
    switch (http_status) {
    case 408: /* Request Timeout */
    case 429: /* Too Many Requests: RESOURCE_EXHAUSTED (the caller checks for per-day quota) */
    case 500: /* INTERNAL: "wait a bit and retry" */
    case 502: /* Bad Gateway: a proxy in between */
    case 503: /* UNAVAILABLE: model overloaded */
    case 504: /* DEADLINE_EXCEEDED */
        return true;
    default: /* 400 bad request, 401/403 key, 404 model, anything else: fix, don't repeat */
        return false;
    }
}
