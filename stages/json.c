/* json stage: generateContent with responseMimeType application/json and the stage's schema as
 * responseJsonSchema; the reply's text is parsed and checked against the schema again. Its
 * output is the value other stages' templates read ({{stage.path}}), checked statically
 * against the same schema. Keys: prompt, system, schema. */
#include "stage.h"
#include "stage_prompt.h"
#include "../runner/jsonutil.h"
#include "../runner/schema.h"
#include "../runner/util.h"
#include "../runner/workflow_int.h"

#include <string.h>

struct json_settings {
    struct prompt_settings p;
    cJSON *schema;     /* loaded from a file next to the workflow, or inline */
    char *schema_file; /* the schema file's path as resolved, NULL when inline */
};

static const char *const json_keys[] = {"prompt", "system", "schema", NULL};

/* Line and column (1-based, in characters) of byte `off` in `text`. */
static void text_pos(const char *text, size_t off, int *line, int *col)
{
    *line = *col = 1;
    for (size_t i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            ++*col;
        }
    }
}

static cJSON *read_schema_file(struct wf_loader *L, const struct stage_def *s,
                               const struct ydoc_node *n, const char *name, char **path)
{
    struct buf text = BUF_INIT;
    cJSON *schema = NULL;
    if (wfl_read_beside(L, n, "schema", name, &text, path) == 0) {
        const char *end = NULL;
        schema = cJSON_ParseWithOpts(text.data, &end, true);
        if (!schema) {
            int line, col;
            size_t off = end && end >= text.data ? (size_t)(end - text.data) : 0;
            text_pos(text.data, off, &line, &col);
            diag_add(L->dl, wfl_intern(L->wf, *path), line, col,
                     "invalid JSON in the schema of stage '%s'", s->name);
        }
    }
    buf_release(&text);
    return schema;
}

static void schema_field(struct wf_loader *L, const struct stage_def *s, struct json_settings *js,
                         struct wf_stage_info *info, const struct ydoc_node *n)
{
    char *path = NULL;
    cJSON *schema = NULL;
    const char *str;
    if (n->kind == YDOC_MAP) {
        schema = ydoc_to_json(n);
    } else if ((str = wfl_string(L, n, "schema"))) {
        if (!str_ends_with(str, ".json")) {
            wfl_error(L, n, "'schema' must name a .json file or be a mapping, got '%s'", str);
            return;
        }
        schema = read_schema_file(L, s, n, str, &path);
    }
    if (!schema) {
        free(path);
        return;
    }
    struct buf problems = BUF_INIT;
    if (schema_check_size(schema, &problems) < 0) {
        wfl_error(L, n, "schema%s%s%s is too large: %s", path ? " '" : "", path ? path : "",
                  path ? "'" : "", problems.data);
        buf_release(&problems);
        cJSON_Delete(schema);
        free(path);
        return;
    }
    int np = schema_lint(schema, &problems);
    for (char *line = problems.data, *nl; np && *line; line = nl + 1) {
        nl = strchr(line, '\n');
        *nl = '\0';
        if (path)
            wfl_error(L, n, "bad schema '%s': %s", path, line);
        else
            wfl_error(L, n, "bad schema: %s", line);
    }
    buf_release(&problems);
    js->schema = schema;
    js->schema_file = path;
    info->schema_ok = np == 0;
}

static void json_parse(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                       const struct ydoc_node *st, const struct ydoc_node *key)
{
    struct json_settings *js = xcalloc(1, sizeof *js);
    s->k = js;
    stage_prompt_parse(L, s, &js->p, st, key);
    const struct ydoc_node *v = ydoc_get(st, "schema");
    if (v)
        schema_field(L, s, js, info, v);
    else
        wfl_error(L, key, "stage '%s' has no 'schema' (required for kind json)", s->name);
}

static void json_release(void *k)
{
    struct json_settings *js = k;
    if (!js)
        return;
    stage_prompt_release(&js->p);
    cJSON_Delete(js->schema);
    free(js->schema_file);
    free(js);
}

static size_t json_templates(const struct stage_def *s, struct stage_tmpl *out, size_t max)
{
    const struct json_settings *js = s->k;
    return stage_prompt_templates(&js->p, out, max);
}

static const cJSON *json_schema(const struct stage_def *s)
{
    const struct json_settings *js = s->k;
    return js ? js->schema : NULL;
}

static cJSON *json_settings_json(const struct stage_def *s)
{
    const struct json_settings *js = s->k;
    cJSON *o = cJSON_CreateObject();
    json_add_str_or_null(o, "schema_file", js->schema_file);
    cJSON_AddItemToObject(o, "schema",
                          js->schema ? cJSON_Duplicate(js->schema, 1) : cJSON_CreateNull());
    return o;
}

static int json_render(const struct stage_def *def, struct render_ctx *rc, struct stage_input *in,
                       char **why)
{
    const struct json_settings *js = def->k;
    return stage_prompt_render(&js->p, rc, in, why);
}

static int json_build(const struct stage_def *def, const struct stage_input *in,
                      struct stage_request *out, struct gf_err *err)
{
    (void)err;
    const struct json_settings *js = def->k;
    cJSON *body = stage_body_with_prompt(in->prompt, in->system, in->media, in->n_media);
    cJSON *gc = stage_generation_config(body, def);
    cJSON_AddStringToObject(gc, "responseMimeType", "application/json");
    cJSON_AddItemToObject(gc, "responseJsonSchema", cJSON_Duplicate(js->schema, 1));
    out->verb = GEMINI_GENERATE;
    out->body = body;
    return 0;
}

/* Where parsing stopped, as a byte offset into text. */
static size_t parse_offset(const char *text)
{
    const char *at = cJSON_GetErrorPtr();
    return at && at >= text && at <= text + strlen(text) ? (size_t)(at - text) : 0;
}

static int json_accept(const struct stage_def *def, const struct gemini_reply *reply,
                       struct stage_output *out, struct stage_failure *fail)
{
    const struct json_settings *js = def->k;
    if (stage_reply_refused(reply, fail))
        return -1;
    char *text = gemini_reply_text(reply);
    if (!text)
        return stage_failf(fail, FAIL_NO_OUTPUT, "the reply has no text (finishReason %s)",
                           reply->finish_reason ? reply->finish_reason : "none");
    cJSON *v = cJSON_ParseWithLength(text, strlen(text));
    if (!v) {
        size_t at = parse_offset(text);
        bool cut = reply->finish_reason && strcmp(reply->finish_reason, "MAX_TOKENS") == 0;
        stage_failf(
            fail, FAIL_BAD_OUTPUT, "the model's reply is not valid JSON near byte %zu%s: %.200s",
            at, cut ? " (cut off at the output token limit: finishReason MAX_TOKENS)" : "", text);
        free(text);
        return -1;
    }
    free(text);
    struct gf_err serr = GF_ERR_INIT;
    if (schema_check(js->schema, v, &serr) < 0) {
        stage_failf(fail, FAIL_BAD_OUTPUT, "the model's JSON does not match the schema: %s",
                    serr.msg);
        cJSON_Delete(v);
        return -1;
    }
    out->data = (struct buf)BUF_INIT;
    json_pretty(v, &out->data);
    cJSON_Delete(v);
    out->media = cJSON_CreateObject();
    cJSON_AddStringToObject(out->media, "type", "application/json");
    return 0;
}

/* Downstream stages read it: it must parse and match the schema. */
static int json_check_artifact(const struct stage_def *def, const void *data, size_t len,
                               cJSON **media, struct gf_err *err)
{
    const struct json_settings *js = def->k;
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    if (!v) {
        int line, col;
        json_text_place((const char *)data, len, end, &line, &col);
        return gf_error(err, GF_ERR_INPUT, "not valid JSON (line %d, column %d)", line, col);
    }
    int rc = schema_check(js->schema, v, err);
    cJSON_Delete(v);
    *media = cJSON_CreateObject();
    cJSON_AddStringToObject(*media, "type", "application/json");
    return rc;
}

const struct stage_kind stage_kind_json = {
    .name = "json",
    .exec = EXEC_CALL,
    .media = MEDIA_TEXT,
    .value = VALUE_JSON,
    .common_keys = KIND_KEYS_MODEL | KIND_KEYS_FOREACH | KIND_KEYS_THINKING | KIND_KEYS_REFS,
    .keys = json_keys,
    .input_label = "prompt",
    .parse = json_parse,
    .release = json_release,
    .templates = json_templates,
    .schema = json_schema,
    .settings = json_settings_json,
    .render = json_render,
    .build = json_build,
    .accept = json_accept,
    .check_artifact = json_check_artifact,
    .estimate = stage_estimate_text,
    .method = stage_method_generate,
    .model_kind = "text",
};
