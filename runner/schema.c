/* schema: what checking and linting share (the type names and their bits, JSON paths and value
 * descriptions for messages) and walking a schema along a template path. Checking JSON values
 * against the subset of schema.h is schema_check.c; linting schemas and their size limits,
 * schema_lint.c. */
#include "schema.h"
#include "schema_int.h"
#include "template.h"
#include "util.h"

#include <math.h>
#include <string.h>

enum {
    T_OBJECT = 1,
    T_ARRAY = 2,
    T_STRING = 4,
    T_NUMBER = 8,
    T_INTEGER = 16,
    T_BOOLEAN = 32,
    T_NULL = 64,
};

static const struct {
    const char *lower, *upper, *noun;
    int bit;
} types[] = {
    {"object", "OBJECT", "an object", T_OBJECT},
    {"array", "ARRAY", "an array", T_ARRAY},
    {"string", "STRING", "a string", T_STRING},
    {"number", "NUMBER", "a number", T_NUMBER},
    {"integer", "INTEGER", "an integer", T_INTEGER},
    {"boolean", "BOOLEAN", "a boolean", T_BOOLEAN},
    {"null", "NULL", "null", T_NULL},
};

int schema_type_bit(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(types); i++)
        if (strcmp(name, types[i].lower) == 0 || strcmp(name, types[i].upper) == 0)
            return types[i].bit;
    return 0;
}

/* The types a schema allows as a bit mask; 0 when it does not say. */
int schema_types(const cJSON *s)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "type");
    int mask = 0;
    if (cJSON_IsString(t)) {
        mask = schema_type_bit(t->valuestring);
    } else if (cJSON_IsArray(t)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, t)
        {
            if (cJSON_IsString(e))
                mask |= schema_type_bit(e->valuestring);
        }
    }
    if (mask && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "nullable")))
        mask |= T_NULL;
    return mask;
}

int schema_value_types(const cJSON *v)
{
    if (cJSON_IsObject(v))
        return T_OBJECT;
    if (cJSON_IsArray(v))
        return T_ARRAY;
    if (cJSON_IsString(v))
        return T_STRING;
    if (cJSON_IsBool(v))
        return T_BOOLEAN;
    if (cJSON_IsNull(v))
        return T_NULL;
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        return T_NUMBER | (isfinite(d) && d == floor(d) ? T_INTEGER : 0);
    }
    return 0;
}

const cJSON *schema_any(void)
{
    static cJSON any = {.type = cJSON_Object};
    return &any;
}

bool schema_is_array(const cJSON *schema)
{
    return cJSON_IsObject(schema) && (schema_types(schema) & T_ARRAY);
}

/* ---- JSON paths and value descriptions ---- */

static bool is_ident(const char *s)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return false;
    return true;
}

static void add_quoted(struct buf *b, const char *s)
{
    buf_addc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            buf_addc(b, '\\');
        buf_addc(b, *s);
    }
    buf_addc(b, '"');
}

void schema_path_key(struct buf *path, const char *key)
{
    if (is_ident(key)) {
        buf_addf(path, ".%s", key);
    } else {
        buf_addc(path, '[');
        add_quoted(path, key);
        buf_addc(path, ']');
    }
}

/* A short description of a value for messages: "abc" (quoted), 42, true, an object. */
void schema_describe(const cJSON *v, struct buf *b)
{
    if (cJSON_IsString(v)) {
        size_t n = strlen(v->valuestring);
        if (n <= 40) {
            add_quoted(b, v->valuestring);
        } else {
            char *cut = xstrndup(v->valuestring, 37);
            add_quoted(b, cut);
            buf_adds(b, "...");
            free(cut);
        }
    } else if (cJSON_IsObject(v)) {
        buf_adds(b, "an object");
    } else if (cJSON_IsArray(v)) {
        buf_adds(b, "an array");
    } else {
        tmpl_render_value(v, b);
    }
}

void schema_describe_types(int mask, struct buf *b)
{
    int n = 0, total = 0;
    for (size_t i = 0; i < ARRAY_SIZE(types); i++)
        total += (mask & types[i].bit) != 0;
    for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
        if (!(mask & types[i].bit))
            continue;
        n++;
        if (n > 1)
            buf_adds(b, n == total ? " or " : ", ");
        buf_adds(b, types[i].noun);
    }
}

/* ---- walking a template path ---- */

static bool is_index(const char *s)
{
    return *s && strspn(s, "0123456789") == strlen(s);
}

static const cJSON *step(const cJSON *s, const char *seg)
{
    if (cJSON_IsFalse(s))
        return NULL;
    if (!cJSON_IsObject(s))
        return schema_any();
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
    const cJSON *alts = cJSON_GetObjectItemCaseSensitive(s, "anyOf");
    bool idx = is_index(seg);
    if (idx && items)
        return items;
    if (cJSON_IsObject(props)) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(props, seg);
        if (p)
            return p;
        const cJSON *extra = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
        if (cJSON_IsObject(extra))
            return extra;
        return cJSON_IsTrue(extra) ? schema_any() : NULL;
    }
    if (cJSON_IsArray(alts) && !items) {
        const cJSON *alt;
        cJSON_ArrayForEach(alt, alts)
        {
            const cJSON *r = step(alt, seg);
            if (r)
                return r;
        }
        return NULL;
    }
    int mask = schema_types(s);
    if (mask && !(mask & (T_OBJECT | T_ARRAY)))
        return NULL; /* a scalar has no fields */
    if (!idx && (items || mask == T_ARRAY || mask == (T_ARRAY | T_NULL)))
        return NULL; /* an array has no named fields */
    return schema_any();
}

const cJSON *schema_at_path(const cJSON *schema, char *const *segs, size_t n_segs)
{
    const cJSON *s = schema;
    for (size_t i = 0; i < n_segs && s; i++)
        s = step(s, segs[i]);
    return s;
}
