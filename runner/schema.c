/* schema: checking JSON values against the JSON Schema subset of schema.h, linting schemas, and
 * walking a schema along a template path. */
#include "schema.h"
#include "strmap.h"
#include "template.h"
#include "util.h"

#include <math.h>
#include <regex.h>
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

static int type_bit(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(types); i++)
        if (strcmp(name, types[i].lower) == 0 || strcmp(name, types[i].upper) == 0)
            return types[i].bit;
    return 0;
}

/* The types a schema allows as a bit mask; 0 when it does not say. */
static int schema_types(const cJSON *s)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "type");
    int mask = 0;
    if (cJSON_IsString(t)) {
        mask = type_bit(t->valuestring);
    } else if (cJSON_IsArray(t)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, t)
        {
            if (cJSON_IsString(e))
                mask |= type_bit(e->valuestring);
        }
    }
    if (mask && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "nullable")))
        mask |= T_NULL;
    return mask;
}

static int value_types(const cJSON *v)
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

static void path_key(struct buf *path, const char *key)
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
static void describe(const cJSON *v, struct buf *b)
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

static void describe_types(int mask, struct buf *b)
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

/* ---- checking ---- */

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
    if (mask && !(mask & value_types(v))) {
        describe_types(mask, &b);
        buf_adds(&b, ", got ");
        describe(v, &b);
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
                describe(e, &b);
            }
            buf_adds(&b, ", got ");
            describe(v, &b);
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
        path_key(&c->path, e->string);
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
            describe(v, &b);
            int rc = fail(c, "expected a string matching the pattern \"%s\", got %s",
                          pat->valuestring, b.data);
            buf_release(&b);
            return rc;
        }
    }
    if (cJSON_IsNumber(v)) {
        struct buf b = BUF_INIT;
        describe(v, &b);
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

/* ---- linting ---- */

struct linter {
    struct buf path;
    struct buf *out;
    int n;
};

static void problem(struct linter *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct linter *l, const char *fmt, ...)
{
    va_list ap;
    buf_addf(l->out, "at %s: ", l->path.data);
    va_start(ap, fmt);
    buf_vaddf(l->out, fmt, ap);
    va_end(ap);
    buf_addc(l->out, '\n');
    l->n++;
}

static void lint(struct linter *l, const cJSON *s);

static void lint_sub(struct linter *l, const char *key, const char *name, int index, const cJSON *s)
{
    size_t len = l->path.len;
    buf_addf(&l->path, ".%s", key);
    if (name)
        path_key(&l->path, name);
    if (index >= 0)
        buf_addf(&l->path, "[%d]", index);
    lint(l, s);
    buf_setlen(&l->path, len);
}

static void lint_type(struct linter *l, const cJSON *t)
{
    const cJSON *e;
    if (cJSON_IsString(t)) {
        if (!type_bit(t->valuestring))
            problem(l,
                    "unknown type \"%s\" (use object, array, string, number, integer, boolean "
                    "or null)",
                    t->valuestring);
        return;
    }
    if (!cJSON_IsArray(t) || cJSON_GetArraySize(t) == 0) {
        problem(l, "\"type\" must be a type name or a list of them");
        return;
    }
    cJSON_ArrayForEach(e, t)
    {
        if (!cJSON_IsString(e))
            problem(l, "\"type\" must be a type name or a list of them");
        else if (!type_bit(e->valuestring))
            problem(l, "unknown type \"%s\"", e->valuestring);
    }
}

static void lint_bounds(struct linter *l, const cJSON *s, const char *lo, const char *hi,
                        bool count)
{
    const char *names[2] = {lo, hi};
    const cJSON *v[2];
    for (int i = 0; i < 2; i++) {
        v[i] = cJSON_GetObjectItemCaseSensitive(s, names[i]);
        if (!v[i])
            continue;
        if (!cJSON_IsNumber(v[i]))
            problem(l, "\"%s\" must be a number", names[i]);
        else if (count && (v[i]->valuedouble < 0 || v[i]->valuedouble != floor(v[i]->valuedouble)))
            problem(l, "\"%s\" must be a whole number >= 0", names[i]);
    }
    if (cJSON_IsNumber(v[0]) && cJSON_IsNumber(v[1]) && v[0]->valuedouble > v[1]->valuedouble)
        problem(l, "\"%s\" is greater than \"%s\"", lo, hi);
}

static void lint_object_keywords(struct linter *l, const cJSON *s)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties"), *e;
    if (props && !cJSON_IsObject(props))
        problem(l, "\"properties\" must be an object of schemas");
    else
        cJSON_ArrayForEach(e, props) lint_sub(l, "properties", e->string, -1, e);
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required");
    if (req && !cJSON_IsArray(req)) {
        problem(l, "\"required\" must be a list of property names");
    } else {
        cJSON_ArrayForEach(e, req)
        {
            if (!cJSON_IsString(e))
                problem(l, "\"required\" must be a list of property names");
            else if (cJSON_IsObject(props) &&
                     !cJSON_GetObjectItemCaseSensitive(props, e->valuestring))
                problem(l, "required property \"%s\" is not in \"properties\"", e->valuestring);
        }
    }
    const cJSON *extra = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
    if (extra && !cJSON_IsBool(extra) && !cJSON_IsObject(extra))
        problem(l, "\"additionalProperties\" must be true, false or a schema");
    else if (cJSON_IsObject(extra))
        lint_sub(l, "additionalProperties", NULL, -1, extra);
}

static void lint(struct linter *l, const cJSON *s)
{
    if (!cJSON_IsObject(s)) {
        problem(l, "a schema must be an object");
        return;
    }
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "type"), *e;
    if (t)
        lint_type(l, t);
    lint_object_keywords(l, s);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
    if (items)
        lint_sub(l, "items", NULL, -1, items);
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(s, "enum");
    if (en && (!cJSON_IsArray(en) || cJSON_GetArraySize(en) == 0))
        problem(l, "\"enum\" must be a non-empty list");
    lint_bounds(l, s, "minItems", "maxItems", true);
    lint_bounds(l, s, "minLength", "maxLength", true);
    lint_bounds(l, s, "minimum", "maximum", false);
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(s, "pattern");
    regex_t re;
    if (pat && !cJSON_IsString(pat))
        problem(l, "\"pattern\" must be a string (a regular expression)");
    else if (pat && strlen(pat->valuestring) > SCHEMA_MAX_PATTERN)
        problem(l, "\"pattern\" is longer than %d characters", SCHEMA_MAX_PATTERN);
    else if (pat && regcomp(&re, pat->valuestring, REG_EXTENDED | REG_NOSUB))
        problem(l,
                "\"pattern\" is not a regular expression gemflow can check (POSIX extended: "
                "no \\d, \\w, lookarounds or lazy quantifiers): \"%s\"",
                pat->valuestring);
    else if (pat)
        regfree(&re);
    const cJSON *any = cJSON_GetObjectItemCaseSensitive(s, "anyOf");
    if (any && (!cJSON_IsArray(any) || cJSON_GetArraySize(any) == 0)) {
        problem(l, "\"anyOf\" must be a non-empty list of schemas");
    } else {
        int i = 0;
        cJSON_ArrayForEach(e, any) lint_sub(l, "anyOf", NULL, i++, e);
    }
    const cJSON *nullable = cJSON_GetObjectItemCaseSensitive(s, "nullable");
    if (nullable && !cJSON_IsBool(nullable))
        problem(l, "\"nullable\" must be true or false");
}

/* Count values below `v` (depth `depth`) into *nodes; -1 with `why` at the first limit. */
static int size_walk(const cJSON *v, int depth, size_t *nodes, struct buf *path, struct buf *why)
{
    if (++*nodes > SCHEMA_MAX_NODES) {
        buf_addf(why, "more than %d values in all (at %s)", SCHEMA_MAX_NODES, path->data);
        return -1;
    }
    if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
        return 0;
    if (depth >= SCHEMA_MAX_DEPTH) {
        buf_addf(why, "nested more than %d levels deep (at %s)", SCHEMA_MAX_DEPTH, path->data);
        return -1;
    }
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (i >= SCHEMA_MAX_MEMBERS) {
            buf_addf(why, "more than %d members in one %s (at %s)", SCHEMA_MAX_MEMBERS,
                     cJSON_IsObject(v) ? "object" : "list", path->data);
            return -1;
        }
        size_t len = path->len;
        if (cJSON_IsObject(v))
            path_key(path, e->string ? e->string : "");
        else
            buf_addf(path, "[%d]", i);
        int rc = size_walk(e, depth + 1, nodes, path, why);
        buf_setlen(path, len);
        if (rc < 0)
            return -1;
        i++;
    }
    return 0;
}

int schema_check_size(const cJSON *schema, struct buf *why)
{
    struct buf path = BUF_INIT;
    size_t nodes = 0;
    buf_adds(&path, "$");
    int rc = size_walk(schema, 0, &nodes, &path, why);
    buf_release(&path);
    return rc;
}

int schema_lint(const cJSON *schema, struct buf *problems)
{
    struct linter l = {BUF_INIT, problems, 0};
    buf_adds(&l.path, "$");
    lint(&l, schema);
    buf_release(&l.path);
    return l.n;
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
