/* image stage: Gemini image models through generateContent (responseModalities TEXT+IMAGE and
 * imageConfig), imagen-* models through :predict. The PNG is fully decoded before it counts. */
#include "stage.h"
#include "imgcodec.h"
#include "../runner/base64.h"
#include "../runner/util.h"

#include <string.h>

static bool is_imagen(const char *model)
{
    return str_starts_with(model, "imagen-");
}

static int image_build(const struct stage_def *def, const struct stage_input *in,
                       struct stage_request *out, struct gf_err *err)
{
    if (is_imagen(def->model)) {
        cJSON *body = cJSON_CreateObject();
        cJSON *inst = cJSON_AddArrayToObject(body, "instances");
        cJSON *one = cJSON_CreateObject();
        cJSON_AddStringToObject(one, "prompt", in->prompt);
        cJSON_AddItemToArray(inst, one);
        cJSON *params = cJSON_AddObjectToObject(body, "parameters");
        cJSON_AddNumberToObject(params, "sampleCount", 1);
        if (def->aspect_ratio)
            cJSON_AddStringToObject(params, "aspectRatio", def->aspect_ratio);
        if (def->image_size)
            cJSON_AddStringToObject(params, "sampleImageSize", def->image_size);
        out->verb = GEMINI_PREDICT;
        out->body = body;
        return 0;
    }
    cJSON *body = stage_body_with_prompt(in->prompt, NULL);
    cJSON *gc = stage_generation_config(body, def);
    cJSON *mods = cJSON_AddArrayToObject(gc, "responseModalities");
    /* TEXT too, so that a refusal comes with the model's own explanation. */
    cJSON_AddItemToArray(mods, cJSON_CreateString("TEXT"));
    cJSON_AddItemToArray(mods, cJSON_CreateString("IMAGE"));
    if (def->aspect_ratio || def->image_size) {
        cJSON *ic = cJSON_AddObjectToObject(gc, "imageConfig");
        if (def->aspect_ratio)
            cJSON_AddStringToObject(ic, "aspectRatio", def->aspect_ratio);
        if (def->image_size)
            cJSON_AddStringToObject(ic, "imageSize", def->image_size);
    }
    out->verb = GEMINI_GENERATE;
    out->body = body;
    return 0;
}

static int image_accept(const struct stage_def *def, const struct gemini_reply *reply,
                        struct stage_output *out, struct stage_failure *fail)
{
    if (stage_reply_refused(reply, fail))
        return -1;
    char *text = gemini_reply_text(reply);
    const struct gemini_part *img = gemini_reply_media(reply, "image/");
    if (!img) {
        stage_failf(fail, FAIL_NO_OUTPUT, "the reply has no image (finishReason %s)%s%s",
                    reply->finish_reason ? reply->finish_reason : "none",
                    text ? "; the model said: " : "", text ? text : "");
        free(text);
        return -1;
    }
    if (strcmp(img->mime, "image/png") != 0) {
        stage_failf(fail, FAIL_NO_OUTPUT, "the model returned %s, but this stage writes PNG",
                    img->mime);
        free(text);
        return -1;
    }
    /* Decoded in place: megabytes of base64 are not kept beside megabytes of PNG. */
    size_t bad_at = 0, n = 0;
    out->consumed_b64 = img->data;
    out->consumed_len = img->data_len;
    if (base64_decode_inplace(img->data, img->data_len, &n, &bad_at) < 0) {
        stage_failf(fail, FAIL_BAD_OUTPUT, "the image data is not valid base64 (byte %zu of %zu)",
                    bad_at, img->data_len);
        free(text);
        return -1;
    }
    out->consumed_ok = true;
    out->bytes = (const unsigned char *)img->data;
    out->n_bytes = n;
    struct img_facts facts;
    struct gf_err perr = GF_ERR_INIT;
    if (img_check_as(out->bytes, out->n_bytes, IMG_PNG, &facts, &perr) < 0) {
        stage_failf(fail, FAIL_BAD_OUTPUT, "the image is not a valid PNG: %s", perr.msg);
        free(text);
        return -1;
    }
    out->media = cJSON_CreateObject();
    cJSON_AddStringToObject(out->media, "type", "image/png");
    cJSON_AddNumberToObject(out->media, "width", facts.width);
    cJSON_AddNumberToObject(out->media, "height", facts.height);
    out->model_text = text;
    out->verbatim_b64 = img->data;
    return 0;
}

const struct stage_ops stage_image_ops = {"image", image_build, image_accept};
