/* stage: the request/reply helpers the stage kinds share. */
#include "stage.h"
#include "../runner/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const struct tmpl *stage_template(const struct stage_def *s, const char *key)
{
    struct stage_tmpl ts[16];
    size_t n = s->kind->templates(s, ts, sizeof ts / sizeof ts[0]);
    for (size_t i = 0; i < n; i++)
        if (strcmp(ts[i].key, key) == 0)
            return ts[i].t;
    return NULL;
}

void stage_input_release(struct stage_input *in)
{
    free(in->prompt);
    free(in->system);
    free(in->style);
    cJSON_Delete(in->turns);
    memset(in, 0, sizeof *in);
}

void stage_output_release(struct stage_output *out)
{
    buf_release(&out->data);
    cJSON_Delete(out->media);
    free(out->model_text);
    out->media = NULL;
    out->model_text = NULL;
}

bool stage_fail_is_retryable(enum stage_fail_kind kind)
{
    return kind == FAIL_BAD_OUTPUT;
}

const char *stage_fail_kind_name(enum stage_fail_kind kind)
{
    switch (kind) {
    case FAIL_BLOCKED:
        return "blocked";
    case FAIL_REFUSED:
        return "refused";
    case FAIL_NO_OUTPUT:
        return "no_output";
    case FAIL_BAD_OUTPUT:
        return "bad_output";
    }
    return "?";
}

int stage_failf(struct stage_failure *fail, enum stage_fail_kind kind, const char *fmt, ...)
{
    fail->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fail->message, sizeof fail->message, fmt, ap);
    va_end(ap);
    return -1;
}

cJSON *stage_body_with_prompt(const char *text, const char *system, const struct stage_media *media,
                              size_t n_media)
{
    cJSON *body = cJSON_CreateObject();
    cJSON *contents = cJSON_AddArrayToObject(body, "contents");
    cJSON *msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "role", "user");
    cJSON *parts = cJSON_AddArrayToObject(msg, "parts");
    cJSON *part = cJSON_CreateObject();
    cJSON_AddStringToObject(part, "text", text);
    cJSON_AddItemToArray(parts, part);
    /* the text first, then the images, as the image-generation guide's examples send them */
    for (size_t i = 0; i < n_media; i++) {
        cJSON *mp = cJSON_CreateObject();
        cJSON *inl = cJSON_AddObjectToObject(mp, "inlineData");
        cJSON_AddStringToObject(inl, "mimeType", media[i].mime);
        cJSON_AddStringToObject(inl, "data", media[i].data);
        cJSON_AddItemToArray(parts, mp);
    }
    cJSON_AddItemToArray(contents, msg);
    if (system && system[0]) {
        cJSON *si = cJSON_AddObjectToObject(body, "systemInstruction");
        cJSON_AddStringToObject(si, "role", "user");
        cJSON *sparts = cJSON_AddArrayToObject(si, "parts");
        cJSON *sp = cJSON_CreateObject();
        cJSON_AddStringToObject(sp, "text", system);
        cJSON_AddItemToArray(sparts, sp);
    }
    return body;
}

cJSON *stage_generation_config(cJSON *body, const struct stage_def *def)
{
    cJSON *gc = cJSON_GetObjectItemCaseSensitive(body, "generationConfig");
    if (gc)
        return gc;
    gc = cJSON_AddObjectToObject(body, "generationConfig");
    if (def->has_temperature)
        cJSON_AddNumberToObject(gc, "temperature", def->temperature);
    if (def->has_top_p)
        cJSON_AddNumberToObject(gc, "topP", def->top_p);
    if (def->has_top_k)
        cJSON_AddNumberToObject(gc, "topK", def->top_k);
    if (def->thinking) {
        cJSON *tc = cJSON_AddObjectToObject(gc, "thinkingConfig");
        cJSON_AddStringToObject(tc, "thinkingLevel", def->thinking);
    }
    return gc;
}

bool stage_reply_refused(const struct gemini_reply *reply, struct stage_failure *fail)
{
    fail->finish_reason = reply->finish_reason;
    fail->block_reason = reply->block_reason;
    if (reply->block_reason) {
        stage_failf(fail, FAIL_BLOCKED, "the prompt was blocked (blockReason %s)%s%s",
                    reply->block_reason, reply->block_message ? ": " : "",
                    reply->block_message ? reply->block_message : "");
        return true;
    }
    if (gemini_finish_is_blocked(reply->finish_reason)) {
        char *text = gemini_reply_text(reply);
        const char *words = text ? text : reply->finish_message;
        stage_failf(fail, FAIL_REFUSED, "the model refused (finishReason %s)%s%s",
                    reply->finish_reason, words ? ": " : "", words ? words : "");
        free(text);
        return true;
    }
    if (reply->rai_reason) {
        stage_failf(fail, FAIL_REFUSED, "the image was filtered: %s", reply->rai_reason);
        return true;
    }
    return false;
}

const char *stage_method_generate(const struct stage_def *def)
{
    (void)def;
    return "generateContent";
}

void stage_estimate_text(const struct stage_def *def, double chars, const char *text,
                         struct stage_estimate *out)
{
    (void)def;
    (void)text;
    out->in_tokens = chars / 4;
    out->out_tokens = out->in_tokens;
}
