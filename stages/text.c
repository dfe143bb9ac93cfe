/* text stage: generateContent; the reply's text (thought parts skipped) is the artifact. */
#include "stage.h"
#include "../runner/util.h"

#include <string.h>

static int text_build(const struct stage_def *def, const struct stage_input *in,
                      struct stage_request *out, struct gf_err *err)
{
    out->body = stage_body_with_prompt(in->prompt, in->system);
    if (def->has_temperature || def->has_top_p || def->has_top_k || def->thinking)
        stage_generation_config(out->body, def);
    out->verb = GEMINI_GENERATE;
    return 0;
}

static int text_accept(const struct stage_def *def, const struct gemini_reply *reply,
                       struct stage_output *out, struct stage_failure *fail)
{
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

const struct stage_ops stage_text_ops = {"text", text_build, text_accept};
