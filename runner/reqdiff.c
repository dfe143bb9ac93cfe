/* reqdiff: a generic comparison of two request bodies, naming the JSON paths that differ. */
#include "reqdiff.h"
#include "refs.h"

#include <string.h>

/* A string this long made only of base64 characters is media (or a token), not a setting. */
#define REQDIFF_BASE64_MIN 64

struct walk {
    struct buf path; /* "a.b[2].c" of the value being compared */
    struct buf *out;
    size_t max_shown, n;
};

static bool looks_base64(const char *s, size_t len)
{
    if (len < REQDIFF_BASE64_MIN)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/' || c == '=' || c == '-' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

/* Up to REQDIFF_VALUE_MAX bytes of `s`, cut at a character boundary, control characters as
 * spaces. */
static void add_short(struct buf *out, const char *s, size_t len)
{
    size_t n = len;
    if (len > REQDIFF_VALUE_MAX) {
        n = REQDIFF_VALUE_MAX - 3;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) /* not inside a UTF-8 sequence */
            n--;
    }
    for (size_t i = 0; i < n; i++)
        buf_addc(out, (unsigned char)s[i] < 0x20 ? ' ' : s[i]);
    if (n < len)
        buf_adds(out, "...");
}

static void add_string(struct buf *out, const char *s)
{
    const char *sha, *path;
    size_t sha_len, len = strlen(s);
    if (refs_parse(s, &sha, &sha_len, &path)) {
        buf_adds(out, "reference ");
        add_short(out, path, strlen(path));
    } else if (looks_base64(s, len)) {
        buf_addf(out, "<%zu characters of base64>", len);
    } else if (len == 0) {
        buf_adds(out, "\"\"");
    } else {
        add_short(out, s, len);
    }
}

static void add_value(struct buf *out, const cJSON *v)
{
    if (!v) {
        buf_adds(out, "unset");
    } else if (cJSON_IsString(v)) {
        add_string(out, v->valuestring);
    } else if (cJSON_IsObject(v)) {
        buf_adds(out, v->child ? "{...}" : "{}");
    } else if (cJSON_IsArray(v)) {
        int n = cJSON_GetArraySize(v);
        if (n)
            buf_addf(out, "[%d item%s]", n, n == 1 ? "" : "s");
        else
            buf_adds(out, "[]");
    } else {
        char *text = cJSON_PrintUnformatted(v); /* numbers, true, false, null */
        add_short(out, text ? text : "?", text ? strlen(text) : 1);
        cJSON_free(text);
    }
}

static void record(struct walk *w, const cJSON *old, const cJSON *now)
{
    if (w->n++ >= w->max_shown)
        return;
    if (w->n > 1)
        buf_adds(w->out, ", ");
    if (w->path.len)
        buf_add(w->out, w->path.data, w->path.len); /* the body's own keys: short */
    else
        buf_adds(w->out, "the body");
    buf_adds(w->out, " (");
    add_value(w->out, old);
    buf_adds(w->out, " -> ");
    add_value(w->out, now);
    buf_addc(w->out, ')');
}

static void walk(struct walk *w, const cJSON *old, const cJSON *now);

static void walk_member(struct walk *w, const char *key, const cJSON *old, const cJSON *now)
{
    size_t len = w->path.len;
    buf_addf(&w->path, "%s%s", len ? "." : "", key);
    walk(w, old, now);
    buf_setlen(&w->path, len);
}

static void walk(struct walk *w, const cJSON *old, const cJSON *now)
{
    if (old && now && cJSON_Compare(old, now, 1))
        return;
    if (cJSON_IsObject(old) && cJSON_IsObject(now)) {
        for (const cJSON *c = old->child; c; c = c->next)
            walk_member(w, c->string, c, cJSON_GetObjectItemCaseSensitive(now, c->string));
        for (const cJSON *c = now->child; c; c = c->next)
            if (!cJSON_GetObjectItemCaseSensitive(old, c->string))
                walk_member(w, c->string, NULL, c);
        return;
    }
    if (cJSON_IsArray(old) && cJSON_IsArray(now)) {
        const cJSON *a = old->child, *b = now->child;
        for (int i = 0; a || b; i++) {
            size_t len = w->path.len;
            buf_addf(&w->path, "[%d]", i);
            walk(w, a, b);
            buf_setlen(&w->path, len);
            a = a ? a->next : NULL;
            b = b ? b->next : NULL;
        }
        return;
    }
    record(w, old, now);
}

size_t reqdiff_describe(const cJSON *old, const cJSON *now, size_t max_shown, struct buf *out)
{
    struct walk w = {BUF_INIT, out, max_shown, 0};
    if (old || now)
        walk(&w, old, now);
    buf_release(&w.path);
    return w.n;
}
