/* image stage: Gemini image models through generateContent (responseModalities TEXT+IMAGE and
 * imageConfig), imagen-* models through :predict. The image is decoded whole, whatever format
 * its bytes are in (PNG, JPEG, WebP; the mimeType label may lie), before it counts, and written
 * in the format of the stage's output path (converted when it differs). */
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

/* The decoded image into the artifact: written as it came when it is already in the stage's
 * output format, else converted (JPEG at quality 95). The media facts say what came, under
 * which label, and what was written. */
static int image_output(const struct stage_def *def, const struct gemini_part *img,
                        const struct img_facts *facts, struct stage_output *out,
                        struct stage_failure *fail)
{
    enum img_format want = (enum img_format)def->image_format;
    enum img_format label = img_format_for_mime(img->mime);
    struct img_facts written = *facts;
    if (want == IMG_UNKNOWN || want == facts->format) {
        out->bytes = out->consumed;
        out->n_bytes = out->n_consumed;
        out->verbatim_b64 = img->data;
    } else {
        struct gf_err cerr = GF_ERR_INIT;
        out->data = (struct buf)BUF_INIT;
        if (img_convert(out->consumed, out->n_consumed, want, IMG_QUALITY_DEFAULT, &out->data,
                        &written, &cerr) < 0) {
            buf_release(&out->data);
            return stage_failf(fail, FAIL_BAD_OUTPUT, "the %s image cannot be converted to %s: %s",
                               img_format_name(facts->format), img_format_name(want), cerr.msg);
        }
    }
    out->media = cJSON_CreateObject();
    cJSON_AddStringToObject(out->media, "type", img_format_mime(written.format));
    cJSON_AddNumberToObject(out->media, "width", written.width);
    cJSON_AddNumberToObject(out->media, "height", written.height);
    cJSON_AddStringToObject(out->media, "format", img_format_name(written.format));
    cJSON_AddStringToObject(out->media, "source_format", img_format_name(facts->format));
    cJSON_AddStringToObject(out->media, "source_label", img->mime);
    if (label != facts->format)
        cJSON_AddBoolToObject(out->media, "label_mismatch", true);
    if (written.format != facts->format)
        cJSON_AddBoolToObject(out->media, "converted", true);
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
    /* Decoded in place: megabytes of base64 are not kept beside megabytes of image. The label
     * (mimeType) is not trusted: image models send JPEG labelled image/png; the bytes decide. */
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
    out->consumed = (const unsigned char *)img->data;
    out->n_consumed = n;
    struct img_facts facts;
    struct gf_err perr = GF_ERR_INIT;
    if (img_check(out->consumed, out->n_consumed, &facts, &perr) < 0 ||
        img_check_video_limits(&facts, &perr) < 0) {
        stage_failf(fail, FAIL_BAD_OUTPUT, "the image (labelled %s) is not usable: %s", img->mime,
                    perr.msg);
        free(text);
        return -1;
    }
    if (image_output(def, img, &facts, out, fail) < 0) {
        free(text);
        return -1;
    }
    out->model_text = text;
    return 0;
}

const struct stage_ops stage_image_ops = {"image", image_build, image_accept};
