/* text stage: generateContent; the reply's text (thought parts skipped) is the artifact, and
 * the value other stages' templates read as {{stage}}. Keys: prompt, system. */
#include "stage.h"
#include "stage_prompt.h"
#include "../runner/util.h"

#include <string.h>

static const char *const text_keys[] = {"prompt", "system", NULL};

static void text_parse(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                       const struct ydoc_node *st, const struct ydoc_node *key)
{
    (void)info;
    struct prompt_settings *p = xcalloc(1, sizeof *p);
    s->k = p;
    stage_prompt_parse(L, s, p, st, key);
}

static void text_release(void *k)
{
    if (k)
        stage_prompt_release(k);
    free(k);
}

static size_t text_templates(const struct stage_def *s, struct stage_tmpl *out, size_t max)
{
    return stage_prompt_templates(s->k, out, max);
}

static cJSON *text_settings_json(const struct stage_def *s)
{
    (void)s;
    return cJSON_CreateObject();
}

static int text_render(const struct stage_def *def, struct render_ctx *rc, struct stage_input *in,
                       char **why)
{
    return stage_prompt_render(def->k, rc, in, why);
}

static int text_build(const struct stage_def *def, const struct stage_input *in,
                      struct stage_request *out, struct gf_err *err)
{
    (void)err;
    out->body = stage_body_with_prompt(in->prompt, in->system, in->media, in->n_media);
    if (def->has_temperature || def->has_top_p || def->has_top_k || def->thinking)
        stage_generation_config(out->body, def);
    out->verb = GEMINI_GENERATE;
    return 0;
}

static int text_accept(const struct stage_def *def, const struct gemini_reply *reply,
                       struct stage_output *out, struct stage_failure *fail)
{
    (void)def;
    if (stage_reply_refused(reply, fail))
        return -1;
    char *text = gemini_reply_text(reply);
    if (!text || !text[0]) {
        free(text);
        return stage_failf(fail, FAIL_NO_OUTPUT, "the reply has no text (finishReason %s)",
                           reply->finish_reason ? reply->finish_reason : "none");
    }
    if (reply->finish_reason && strcmp(reply->finish_reason, "MAX_TOKENS") == 0) {
        stage_failf(fail, FAIL_BAD_OUTPUT,
                    "the reply was cut off at the output token limit (finishReason MAX_TOKENS)");
        free(text);
        return -1;
    }
    out->data = (struct buf)BUF_INIT;
    buf_adds(&out->data, text);
    free(text);
    out->media = cJSON_CreateObject();
    cJSON_AddStringToObject(out->media, "type", "text/plain");
    return 0;
}

static int text_check_artifact(const struct stage_def *def, const void *data, size_t len,
                               cJSON **media, struct gf_err *err)
{
    (void)def;
    if (memchr(data, '\0', len))
        return gf_error(err, GF_ERR_INPUT, "it contains a NUL byte (a text stage writes text)");
    *media = cJSON_CreateObject();
    cJSON_AddStringToObject(*media, "type", "text/plain");
    return 0;
}

const struct stage_kind stage_kind_text = {
    .name = "text",
    .exec = EXEC_CALL,
    .media = MEDIA_TEXT,
    .value = VALUE_TEXT,
    .common_keys = KIND_KEYS_MODEL | KIND_KEYS_FOREACH | KIND_KEYS_THINKING | KIND_KEYS_REFS,
    .keys = text_keys,
    .input_label = "prompt",
    .parse = text_parse,
    .release = text_release,
    .templates = text_templates,
    .settings = text_settings_json,
    .render = text_render,
    .build = text_build,
    .accept = text_accept,
    .check_artifact = text_check_artifact,
    .estimate = stage_estimate_text,
    .method = stage_method_generate,
    .model_kind = "text",
};
