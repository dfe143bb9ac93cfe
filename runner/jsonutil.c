/* jsonutil: pretty printing and typed member access over cJSON. */
#include "jsonutil.h"
#include "util.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void indent(struct buf *out, int depth)
{
    buf_addc(out, '\n');
    for (int i = 0; i < depth; i++)
        buf_adds(out, "  ");
}

/* A JSON string, escaped as cJSON escapes it (bytes >= 0x20 other than '"' and '\\' as they are).
 */
static void add_string(const char *s, struct buf *out)
{
    static const char hex[] = "0123456789abcdef";
    buf_addc(out, '"');
    const char *run = s;
    for (const char *p = s;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_add(out, run, (size_t)(p - run));
        if (!c)
            break;
        run = p + 1;
        char esc[7] = {'\\', 0};
        switch (c) {
        case '"':
        case '\\':
            esc[1] = (char)c;
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
        }
        buf_adds(out, esc);
    }
    buf_addc(out, '"');
}

/* A number as cJSON 1.7 prints it: "%1.15g", or "%1.17g" when 15 digits do not read back
 * (within DBL_EPSILON, as cJSON compares); NaN and infinities (not JSON) as null. */
static void add_number(const cJSON *v, struct buf *out)
{
    double d = v->valuedouble, back;
    char tmp[32];
    if (isnan(d) || isinf(d)) {
        buf_adds(out, "null");
        return;
    }
    if (d == trunc(d) && fabs(d) < 1e15 && !(d == 0 && signbit(d))) { /* the common case */
        snprintf(tmp, sizeof tmp, "%lld", (long long)d); /* what %1.15g prints, faster */
        buf_adds(out, tmp);
        return;
    }
    snprintf(tmp, sizeof tmp, "%1.15g", d);
    double most = fabs(d) > 0 ? fabs(d) : 1; /* cJSON: max(|a|, |b|), here |d| */
    if (sscanf(tmp, "%lg", &back) != 1 || fabs(back - d) > most * DBL_EPSILON)
        snprintf(tmp, sizeof tmp, "%1.17g", d);
    buf_adds(out, tmp);
}

/* Scalars are printed here rather than by cJSON_Print, which allocates for each one: the
 * manifest and the call records are mostly scalars (profiled: half of a text call's CPU). */
static void add_scalar(const cJSON *v, struct buf *out)
{
    if (cJSON_IsString(v)) {
        add_string(v->valuestring ? v->valuestring : "", out);
    } else if (cJSON_IsNumber(v)) {
        add_number(v, out);
    } else if (cJSON_IsBool(v)) {
        buf_adds(out, cJSON_IsTrue(v) ? "true" : "false");
    } else if (cJSON_IsNull(v)) {
        buf_adds(out, "null");
    } else { /* raw or invalid: let cJSON decide */
        char *s = cJSON_PrintUnformatted(v);
        buf_adds(out, s ? s : "null");
        free(s);
    }
}

static void add_key(const char *key, struct buf *out)
{
    add_string(key, out);
    buf_adds(out, ": ");
}

static void pretty(const cJSON *v, struct buf *out, int depth)
{
    if (!cJSON_IsArray(v) && !cJSON_IsObject(v)) {
        add_scalar(v, out);
        return;
    }
    bool obj = cJSON_IsObject(v);
    if (!v->child) {
        buf_adds(out, obj ? "{}" : "[]");
        return;
    }
    buf_addc(out, obj ? '{' : '[');
    for (const cJSON *c = v->child; c; c = c->next) {
        indent(out, depth + 1);
        if (obj)
            add_key(c->string ? c->string : "", out);
        pretty(c, out, depth + 1);
        if (c->next)
            buf_addc(out, ',');
    }
    indent(out, depth);
    buf_addc(out, obj ? '}' : ']');
}

void json_pretty(const cJSON *v, struct buf *out)
{
    pretty(v, out, 0);
    buf_addc(out, '\n');
}

const cJSON *json_field(const cJSON *obj, const char *name)
{
    const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;
    return cJSON_IsNull(v) ? NULL : v;
}

const char *json_str(const cJSON *obj, const char *name)
{
    const cJSON *v = json_field(obj, name);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

double json_num(const cJSON *obj, const char *name, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

cJSON *json_add_i64(cJSON *obj, const char *name, int64_t v)
{
    return cJSON_AddNumberToObject(obj, name, (double)v);
}

cJSON *json_add_str_or_null(cJSON *obj, const char *name, const char *s)
{
    return s ? cJSON_AddStringToObject(obj, name, s) : cJSON_AddNullToObject(obj, name);
}

void json_text_place(const char *text, size_t len, const char *at, int *line, int *col)
{
    *line = *col = 1;
    if (!at || at < text || at > text + len)
        return;
    for (const char *p = text; p < at; p++) {
        if (*p == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}
