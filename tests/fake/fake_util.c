/* fake_util.c: small helpers shared by the fake Gemini server: allocation, growable buffer,
 * hashing and seeded randomness, time stamps, SHA-256, CRC-32, UTF-8, base64, and a JSON
 * printer that indents like the real API. */
#include "fake.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

char fk_buf_slop[1];

static void die_oom(void)
{
    fputs(FK_PREFIX "out of memory\n", stderr);
    abort();
}

void *fk_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die_oom();
    return p;
}

void *fk_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        die_oom();
    return p;
}

void *fk_realloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die_oom();
    return p;
}

char *fk_strdup(const char *s)
{
    return fk_strndup(s, strlen(s));
}

char *fk_strndup(const char *s, size_t n)
{
    char *p = fk_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *fk_printf(const char *fmt, ...)
{
    struct fk_buf b = FK_BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    fk_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    return fk_buf_detach(&b, NULL);
}

/* ---- growable buffer ---- */

void fk_buf_grow(struct fk_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->alloc)
        return;
    size_t want = b->alloc ? b->alloc : 64;
    while (want < b->len + extra + 1)
        want *= 2;
    char *p = b->alloc ? fk_realloc(b->buf, want) : fk_malloc(want);
    if (!b->alloc)
        p[0] = '\0';
    b->buf = p;
    b->alloc = want;
}

void fk_buf_add(struct fk_buf *b, const void *data, size_t len)
{
    fk_buf_grow(b, len);
    memcpy(b->buf + b->len, data, len);
    b->len += len;
    b->buf[b->len] = '\0';
}

void fk_buf_adds(struct fk_buf *b, const char *s)
{
    fk_buf_add(b, s, strlen(s));
}

void fk_buf_addch(struct fk_buf *b, char c)
{
    fk_buf_add(b, &c, 1);
}

void fk_buf_vaddf(struct fk_buf *b, const char *fmt, va_list ap)
{
    char small[256];
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(again);
        return;
    }
    fk_buf_grow(b, (size_t)n);
    if ((size_t)n < sizeof small)
        memcpy(b->buf + b->len, small, (size_t)n + 1);
    else
        vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, again);
    va_end(again);
    b->len += (size_t)n;
}

void fk_buf_addf(struct fk_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fk_buf_vaddf(b, fmt, ap);
    va_end(ap);
}

void fk_buf_setlen(struct fk_buf *b, size_t len)
{
    if (!b->alloc)
        return;
    b->len = len;
    b->buf[len] = '\0';
}

int fk_buf_add_stream(struct fk_buf *b, FILE *f)
{
    char chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fk_buf_add(b, chunk, n);
    return ferror(f) ? -1 : 0;
}

char *fk_buf_detach(struct fk_buf *b, size_t *len)
{
    char *p = b->alloc ? b->buf : fk_strdup("");
    if (len)
        *len = b->len;
    b->buf = fk_buf_slop;
    b->len = b->alloc = 0;
    return p;
}

void fk_buf_release(struct fk_buf *b)
{
    if (b->alloc)
        free(b->buf);
    b->buf = fk_buf_slop;
    b->len = b->alloc = 0;
}

/* ---- hashing and randomness ---- */

uint64_t fk_mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t fk_mix3(uint64_t a, uint64_t b, uint64_t c)
{
    return fk_mix(fk_mix(fk_mix(a) ^ b) ^ c);
}

uint64_t fk_hash(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return fk_mix(h);
}

double fk_unit(uint64_t x)
{
    return (double)(x >> 11) / 9007199254740992.0;
}

int64_t fk_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fk_rfc3339_ms(const struct timespec *ts, char out[32])
{
    struct tm tm;
    time_t t = ts->tv_sec;
    gmtime_r(&t, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)((ts->tv_nsec / 1000000) % 1000));
}

void fk_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL))
        n = 0;
    for (unsigned int i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[2 * n] = '\0';
}

uint32_t fk_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* ---- text ---- */

size_t fk_utf8_chars(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

size_t fk_utf8_prefix(const char *s, size_t len, size_t maxchars)
{
    size_t chars = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80) {
            if (chars == maxchars)
                return i;
            chars++;
        }
    }
    return len;
}

bool fk_streq_ci(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

char *fk_camel_to_snake(const char *camel)
{
    struct fk_buf b = FK_BUF_INIT;
    for (const char *p = camel; *p; p++) {
        if (isupper((unsigned char)*p)) {
            fk_buf_addch(&b, '_');
            fk_buf_addch(&b, (char)tolower((unsigned char)*p));
        } else {
            fk_buf_addch(&b, *p);
        }
    }
    return fk_buf_detach(&b, NULL);
}

const char *fk_memmem(const char *hay, size_t hlen, const char *needle)
{
    return memmem(hay, hlen, needle, strlen(needle));
}

char *fk_base64(const unsigned char *data, size_t len, size_t *out_len)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = 4 * ((len + 2) / 3);
    char *out = fk_malloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            v |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
    if (out_len)
        *out_len = o;
    return out;
}

/* ---- JSON ---- */

cJSON *fk_json_parse(const char *s, size_t len, const char **end)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&lock);
    cJSON *j = cJSON_ParseWithLengthOpts(s, len, end, 0);
    pthread_mutex_unlock(&lock);
    return j;
}

cJSON *fk_get(const cJSON *obj, const char *camel)
{
    if (!cJSON_IsObject(obj))
        return NULL;
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, camel);
    if (v)
        return v;
    char *snake = fk_camel_to_snake(camel);
    v = cJSON_GetObjectItemCaseSensitive(obj, snake);
    free(snake);
    return v;
}

const char *fk_get_str(const cJSON *obj, const char *camel)
{
    cJSON *v = fk_get(obj, camel);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void json_string(struct fk_buf *b, const char *s)
{
    fk_buf_grow(b, strlen(s) + 2);
    fk_buf_addch(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fk_buf_adds(b, "\\\"");
            break;
        case '\\':
            fk_buf_adds(b, "\\\\");
            break;
        case '\n':
            fk_buf_adds(b, "\\n");
            break;
        case '\r':
            fk_buf_adds(b, "\\r");
            break;
        case '\t':
            fk_buf_adds(b, "\\t");
            break;
        default:
            if (*p < 0x20)
                fk_buf_addf(b, "\\u%04x", *p);
            else
                fk_buf_addch(b, (char)*p);
        }
    }
    fk_buf_addch(b, '"');
}

static void json_number(struct fk_buf *b, double d)
{
    char tmp[40];
    if (!isfinite(d)) {
        fk_buf_adds(b, "null");
        return;
    }
    if (d == floor(d) && fabs(d) < 9007199254740992.0) {
        fk_buf_addf(b, "%.0f", d);
        return;
    }
    snprintf(tmp, sizeof tmp, "%.15g", d);
    if (strtod(tmp, NULL) != d)
        snprintf(tmp, sizeof tmp, "%.17g", d);
    fk_buf_adds(b, tmp);
}

static void json_indent(struct fk_buf *b, int depth)
{
    fk_buf_addch(b, '\n');
    for (int i = 0; i < depth; i++)
        fk_buf_adds(b, "  ");
}

static void json_value(struct fk_buf *b, const cJSON *j, int depth)
{
    if (cJSON_IsString(j)) {
        json_string(b, j->valuestring);
    } else if (cJSON_IsNumber(j)) {
        json_number(b, j->valuedouble);
    } else if (cJSON_IsBool(j)) {
        fk_buf_adds(b, cJSON_IsTrue(j) ? "true" : "false");
    } else if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
        bool obj = cJSON_IsObject(j);
        if (!j->child) {
            fk_buf_adds(b, obj ? "{}" : "[]");
            return;
        }
        fk_buf_addch(b, obj ? '{' : '[');
        for (const cJSON *c = j->child; c; c = c->next) {
            json_indent(b, depth + 1);
            if (obj) {
                json_string(b, c->string ? c->string : "");
                fk_buf_adds(b, ": ");
            }
            json_value(b, c, depth + 1);
            if (c->next)
                fk_buf_addch(b, ',');
        }
        json_indent(b, depth);
        fk_buf_addch(b, obj ? '}' : ']');
    } else {
        fk_buf_adds(b, "null");
    }
}

char *fk_json_print(const cJSON *j, size_t *len)
{
    struct fk_buf b = FK_BUF_INIT;
    json_value(&b, j, 0);
    fk_buf_addch(&b, '\n');
    return fk_buf_detach(&b, len);
}
