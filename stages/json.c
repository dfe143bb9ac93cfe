/* json stage: generateContent with responseMimeType application/json and the stage's schema as
 * responseJsonSchema; the reply's text is parsed and checked against the schema again. */
#include "stage.h"
#include "../runner/jsonutil.h"
#include "../runner/schema.h"
#include "../runner/util.h"

#include <string.h>

static int json_build(const struct stage_def *def, const struct stage_input *in,
                      struct stage_request *out, struct gf_err *err)
{
    cJSON *body = stage_body_with_prompt(in->prompt, in->system);
    cJSON *gc = stage_generation_config(body, def);
    cJSON_AddStringToObject(gc, "responseMimeType", "application/json");
    cJSON_AddItemToObject(gc, "responseJsonSchema", cJSON_Duplicate(def->schema, 1));
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
    if (schema_check(def->schema, v, &serr) < 0) {
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

const struct stage_ops stage_json_ops = {"json", json_build, json_accept};
