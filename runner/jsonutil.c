/* jsonutil: pretty printing and typed member access over cJSON. */
#include "jsonutil.h"
#include "util.h"

#include <stdlib.h>

static void indent(struct buf *out, int depth)
{
    buf_addc(out, '\n');
    for (int i = 0; i < depth; i++)
        buf_adds(out, "  ");
}

static void add_scalar(const cJSON *v, struct buf *out)
{
    char *s = cJSON_PrintUnformatted(v);
    buf_adds(out, s);
    free(s);
}

static void add_key(const char *key, struct buf *out)
{
    cJSON *k = cJSON_CreateString(key);
    add_scalar(k, out);
    cJSON_Delete(k);
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
