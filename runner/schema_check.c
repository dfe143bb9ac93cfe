/* schema_check: checking a JSON value against the JSON Schema subset of schema.h (schema_check),
 * with the JSON path of the first mismatch and what was expected. */
#include "schema.h"
#include "schema_int.h"
#include "strmap.h"
#include "util.h"

#include <regex.h>
#include <string.h>

struct checker {
    struct buf path;
    struct buf msg;
};

static int fail(struct checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct checker *c, const char *fmt, ...)
{
    va_list ap;
    buf_reset(&c->msg);
    buf_addf(&c->msg, "%s: ", c->path.data);
    va_start(ap, fmt);
    buf_vaddf(&c->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static int check(struct checker *c, const cJSON *s, const cJSON *v);

static double num(const cJSON *s, const char *key, bool *has)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(s, key);
    *has = cJSON_IsNumber(n);
    return *has ? n->valuedouble : 0;
}

static int check_type_enum(struct checker *c, const cJSON *s, const cJSON *v)
{
    int mask = schema_types(s);
    struct buf b = BUF_INIT;
    int rc = 0;
    if (mask && !(mask & schema_value_types(v))) {
        schema_describe_types(mask, &b);
        buf_adds(&b, ", got ");
        schema_describe(v, &b);
        rc = fail(c, "expected %s", b.data);
    }
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(s, "enum"), *e;
    bool found = false;
    if (!rc && cJSON_IsArray(en)) {
        cJSON_ArrayForEach(e, en)
        {
            found = found || cJSON_Compare(e, v, true);
        }
        if (!found) {
            int k = 0;
            cJSON_ArrayForEach(e, en)
            {
                if (k++ == 12) {
                    buf_adds(&b, ", ...");
                    break;
                }
                if (k > 1)
                    buf_adds(&b, ", ");
                schema_describe(e, &b);
            }
            buf_adds(&b, ", got ");
            schema_describe(v, &b);
            rc = fail(c, "expected one of %s", b.data);
        }
    }
    buf_release(&b);
    return rc;
}

/* The members of a JSON object by name, as cJSON_GetObjectItemCaseSensitive finds them (the
 * first of equal names), through a hash map once there are many: a reply with a huge object
 * against a schema with many properties costs time in proportion to their sizes, not their
 * product. */
#define MEMBERS_HASHED 16

struct members {
    const cJSON *obj;
    struct strmap map;
    bool hashed;
};

static void members_init(struct members *m, const cJSON *obj)
{
    *m = (struct members){obj, STRMAP_INIT, false};
    if (!cJSON_IsObject(obj) || cJSON_GetArraySize(obj) <= MEMBERS_HASHED)
        return;
    m->hashed = true;
    const cJSON *e;
    cJSON_ArrayForEach(e, obj)
    {
        if (e->string && !strmap_get(&m->map, e->string))
            strmap_put(&m->map, e->string, (void *)e);
    }
}

static const cJSON *members_get(const struct members *m, const char *name)
{
    return m->hashed ? strmap_get(&m->map, name) : cJSON_GetObjectItemCaseSensitive(m->obj, name);
}

static void members_release(struct members *m)
{
    strmap_release(&m->map);
}

static int check_members(struct checker *c, const cJSON *s, const cJSON *v,
                         const struct members *props);

static int check_object(struct checker *c, const cJSON *s, const cJSON *v)
{
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required"), *e;
    struct members have, props;
    int rc = 0;
    members_init(&have, cJSON_GetArraySize(req) > MEMBERS_HASHED ? v : NULL);
    cJSON_ArrayForEach(e, req)
    {
        if (cJSON_IsString(e) &&
            !(have.hashed ? members_get(&have, e->valuestring)
                          : cJSON_GetObjectItemCaseSensitive(v, e->valuestring))) {
            rc = fail(c, "missing required property \"%s\"", e->valuestring);
            break;
        }
    }
    members_release(&have);
    if (rc < 0)
        return -1;
    members_init(&props, cJSON_GetObjectItemCaseSensitive(s, "properties"));
    rc = check_members(c, s, v, &props);
    members_release(&props);
    return rc;
}

static int check_members(struct checker *c, const cJSON *s, const cJSON *v,
                         const struct members *props)
{
    const cJSON *extra = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties"), *e;
    cJSON_ArrayForEach(e, v)
    {
        const cJSON *sub = props->obj ? members_get(props, e->string) : NULL;
        if (!sub && cJSON_IsFalse(extra))
            return fail(c, "unexpected property \"%s\"", e->string);
        if (!sub && cJSON_IsObject(extra))
            sub = extra;
        if (!sub)
            continue;
        size_t len = c->path.len;
        schema_path_key(&c->path, e->string);
        int rc = check(c, sub, e);
        buf_setlen(&c->path, len);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int check_array(struct checker *c, const cJSON *s, const cJSON *v)
{
    bool has;
    int n = cJSON_GetArraySize(v);
    double lim = num(s, "minItems", &has);
    if (has && n < lim)
        return fail(c, "expected at least %g item%s, got %d", lim, lim == 1 ? "" : "s", n);
    lim = num(s, "maxItems", &has);
    if (has && n > lim)
        return fail(c, "expected at most %g item%s, got %d", lim, lim == 1 ? "" : "s", n);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items"), *e;
    int i = 0;
    cJSON_ArrayForEach(e, v)
    {
        size_t len = c->path.len;
        buf_addf(&c->path, "[%d]", i++);
        int rc = items ? check(c, items, e) : 0;
        buf_setlen(&c->path, len);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static size_t utf8_length(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* `pattern`: a POSIX extended regular expression (the ECMA-262 patterns a schema usually holds,
 * like ^[a-z0-9]+(-[a-z0-9]+)*$, mean the same), searched for anywhere in the string unless
 * anchored, as JSON Schema says. A pattern that does not compile matches nothing (schema_lint
 * reports it when the workflow is loaded). */
static bool pattern_matches(const char *pattern, const char *s)
{
    regex_t re;
    if (strlen(pattern) > SCHEMA_MAX_PATTERN || regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB))
        return false;
    bool ok = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return ok;
}

static int check_scalar(struct checker *c, const cJSON *s, const cJSON *v)
{
    bool has;
    double lim;
    if (cJSON_IsString(v)) {
        size_t n = utf8_length(v->valuestring);
        lim = num(s, "minLength", &has);
        if (has && n < lim)
            return fail(c, "expected at least %g character%s, got %zu", lim, lim == 1 ? "" : "s",
                        n);
        lim = num(s, "maxLength", &has);
        if (has && n > lim)
            return fail(c, "expected at most %g character%s, got %zu", lim, lim == 1 ? "" : "s", n);
        const cJSON *pat = cJSON_GetObjectItemCaseSensitive(s, "pattern");
        if (cJSON_IsString(pat) && !pattern_matches(pat->valuestring, v->valuestring)) {
            struct buf b = BUF_INIT;
            schema_describe(v, &b);
            int rc = fail(c, "expected a string matching the pattern \"%s\", got %s",
                          pat->valuestring, b.data);
            buf_release(&b);
            return rc;
        }
    }
    if (cJSON_IsNumber(v)) {
        struct buf b = BUF_INIT;
        schema_describe(v, &b);
        int rc = 0;
        lim = num(s, "minimum", &has);
        if (has && v->valuedouble < lim)
            rc = fail(c, "expected a number >= %g, got %s", lim, b.data);
        lim = num(s, "maximum", &has);
        if (!rc && has && v->valuedouble > lim)
            rc = fail(c, "expected a number <= %g, got %s", lim, b.data);
        buf_release(&b);
        return rc;
    }
    return 0;
}

static int check_any_of(struct checker *c, const cJSON *s, const cJSON *v)
{
    const cJSON *alts = cJSON_GetObjectItemCaseSensitive(s, "anyOf"), *alt;
    if (!cJSON_IsArray(alts) || cJSON_GetArraySize(alts) == 0)
        return 0;
    char *first = NULL;
    cJSON_ArrayForEach(alt, alts)
    {
        if (check(c, alt, v) == 0) {
            free(first);
            return 0;
        }
        if (!first)
            first = buf_detach(&c->msg, NULL);
    }
    fail(c, "matches none of the %d schemas of anyOf (the first says: %s)",
         cJSON_GetArraySize(alts), first);
    free(first);
    return -1;
}

static int check(struct checker *c, const cJSON *s, const cJSON *v)
{
    if (cJSON_IsFalse(s))
        return fail(c, "no value is allowed here");
    if (!cJSON_IsObject(s))
        return 0;
    if (check_type_enum(c, s, v) < 0)
        return -1;
    if (cJSON_IsNull(v))
        return check_any_of(c, s, v);
    if (cJSON_IsObject(v) && check_object(c, s, v) < 0)
        return -1;
    if (cJSON_IsArray(v) && check_array(c, s, v) < 0)
        return -1;
    if (check_scalar(c, s, v) < 0)
        return -1;
    return check_any_of(c, s, v);
}

int schema_check(const cJSON *schema, const cJSON *value, struct gf_err *err)
{
    struct checker c = {BUF_INIT, BUF_INIT};
    buf_adds(&c.path, "$");
    int rc = check(&c, schema, value);
    if (rc < 0)
        gf_error(err, GF_ERR_INPUT, "%s", c.msg.data);
    buf_release(&c.path);
    buf_release(&c.msg);
    return rc;
}
