/* schema_lint: whether a schema itself is usable (schema_lint: known types, well-formed
 * keywords, a pattern gemflow can check) and within the size limits of schema.h
 * (schema_check_size). */
#include "schema.h"
#include "schema_int.h"
#include "util.h"

#include <math.h>
#include <regex.h>
#include <string.h>

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
        schema_path_key(&l->path, name);
    if (index >= 0)
        buf_addf(&l->path, "[%d]", index);
    lint(l, s);
    buf_setlen(&l->path, len);
}

static void lint_type(struct linter *l, const cJSON *t)
{
    const cJSON *e;
    if (cJSON_IsString(t)) {
        if (!schema_type_bit(t->valuestring))
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
        else if (!schema_type_bit(e->valuestring))
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
            schema_path_key(path, e->string ? e->string : "");
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
