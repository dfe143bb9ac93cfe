/* image stage: Gemini image models through generateContent (responseModalities TEXT+IMAGE and
 * imageConfig), imagen-* models through :predict. The image is decoded whole, whatever format
 * its bytes are in (PNG, JPEG, WebP; the mimeType label may lie), before it counts, and written
 * in the format of the stage's output path (converted when it differs). */
#include "stage.h"
#include "imgcodec.h"
#include "stage_prompt.h"
#include "../runner/base64.h"
#include "../runner/jsonutil.h"
#include "../runner/util.h"
#include "../runner/workflow_int.h"

#include <string.h>

struct image_settings {
    struct prompt_settings p;
    char *aspect_ratio;     /* e.g. "16:9"; NULL = not sent */
    char *image_size;       /* "1K" | "2K" | "4K"; NULL = not sent */
    enum img_format format; /* written: from the output path's extension */
};

static const char *const image_keys[] = {"prompt", "aspect_ratio", "image_size", NULL};
static const char *const aspect_ratios[] = {"1:1",  "2:3",  "3:2",  "3:4", "4:3", "4:5", "5:4",
                                            "9:16", "16:9", "21:9", "1:4", "4:1", "1:8", "8:1"};
static const char *const image_sizes[] = {"1K", "2K", "4K"};

static bool is_imagen(const char *model)
{
    return str_starts_with(model, "imagen-");
}

static void image_parse(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                        const struct ydoc_node *st, const struct ydoc_node *key)
{
    (void)info;
    struct image_settings *is = xcalloc(1, sizeof *is);
    s->k = is;
    stage_prompt_parse(L, s, &is->p, st, key);
    const struct ydoc_node *v;
    if ((v = ydoc_get(st, "aspect_ratio")))
        is->aspect_ratio = wfl_choice_field(L, v, "aspect_ratio", "aspect ratio", aspect_ratios,
                                            ARRAY_SIZE(aspect_ratios));
    if ((v = ydoc_get(st, "image_size")))
        is->image_size = wfl_choice_field(L, v, "image_size", "image size", image_sizes,
                                          ARRAY_SIZE(image_sizes));
    if (s->output) {
        is->format = img_format_for_path(tmpl_source(s->output));
        if (is->format == IMG_UNKNOWN)
            wfl_error(L, ydoc_get(st, "output"),
                      "the output of image stage '%s' must end in .png, .jpg, .jpeg or .webp "
                      "(the format written: a reply in another format is converted), got '%s'",
                      s->name, tmpl_source(s->output));
    }
    /* references on a :predict model are refused by workflow_outputs.c, once the references to
     * disabled stages are dropped */
}

static void image_release(void *k)
{
    struct image_settings *is = k;
    if (!is)
        return;
    stage_prompt_release(&is->p);
    free(is->aspect_ratio);
    free(is->image_size);
    free(is);
}

static size_t image_templates(const struct stage_def *s, struct stage_tmpl *out, size_t max)
{
    const struct image_settings *is = s->k;
    return stage_prompt_templates(&is->p, out, max);
}

static cJSON *image_settings_json(const struct stage_def *s)
{
    const struct image_settings *is = s->k;
    cJSON *o = cJSON_CreateObject();
    json_add_str_or_null(o, "aspect_ratio", is->aspect_ratio);
    json_add_str_or_null(o, "image_size", is->image_size);
    json_add_str_or_null(o, "format",
                         is->format == IMG_UNKNOWN ? NULL : img_format_name(is->format));
    return o;
}

static int image_render(const struct stage_def *def, struct render_ctx *rc, struct stage_input *in,
                        char **why)
{
    const struct image_settings *is = def->k;
    return stage_prompt_render(&is->p, rc, in, why);
}

static const char *image_method(const struct stage_def *def)
{
    return is_imagen(def->model) ? "predict" : "generateContent";
}

/* Output: about 1290 tokens per image at 1K (image-generation guide); priced per image when
 * the price table says so. */
static void image_estimate(const struct stage_def *def, double chars, const char *text,
                           struct stage_estimate *out)
{
    (void)def;
    (void)text;
    out->in_tokens = chars / 4;
    out->out_tokens = 1290;
    out->images = 1;
}

/* A run decodes every image whole, in the format its path names. */
static int image_check_artifact(const struct stage_def *def, const void *data, size_t len,
                                cJSON **media, struct gf_err *err)
{
    const struct image_settings *is = def->k;
    struct img_facts pf;
    if (img_check_as(data, len, is->format, &pf, err) < 0 || img_check_video_limits(&pf, err) < 0)
        return -1;
    *media = cJSON_CreateObject();
    cJSON_AddStringToObject(*media, "type", img_format_mime(pf.format));
    cJSON_AddNumberToObject(*media, "width", pf.width);
    cJSON_AddNumberToObject(*media, "height", pf.height);
    cJSON_AddStringToObject(*media, "format", img_format_name(pf.format));
    return 0;
}

static int image_build(const struct stage_def *def, const struct stage_input *in,
                       struct stage_request *out, struct gf_err *err)
{
    (void)err;
    const struct image_settings *is = def->k;
    if (is_imagen(def->model)) {
        cJSON *body = cJSON_CreateObject();
        cJSON *inst = cJSON_AddArrayToObject(body, "instances");
        cJSON *one = cJSON_CreateObject();
        cJSON_AddStringToObject(one, "prompt", in->prompt);
        cJSON_AddItemToArray(inst, one);
        cJSON *params = cJSON_AddObjectToObject(body, "parameters");
        cJSON_AddNumberToObject(params, "sampleCount", 1);
        if (is->aspect_ratio)
            cJSON_AddStringToObject(params, "aspectRatio", is->aspect_ratio);
        if (is->image_size)
            cJSON_AddStringToObject(params, "sampleImageSize", is->image_size);
        out->verb = GEMINI_PREDICT;
        out->body = body;
        return 0;
    }
    cJSON *body = stage_body_with_prompt(in->prompt, NULL, in->media, in->n_media);
    cJSON *gc = stage_generation_config(body, def);
    cJSON *mods = cJSON_AddArrayToObject(gc, "responseModalities");
    /* TEXT too, so that a refusal comes with the model's own explanation. */
    cJSON_AddItemToArray(mods, cJSON_CreateString("TEXT"));
    cJSON_AddItemToArray(mods, cJSON_CreateString("IMAGE"));
    if (is->aspect_ratio || is->image_size) {
        cJSON *ic = cJSON_AddObjectToObject(gc, "imageConfig");
        if (is->aspect_ratio)
            cJSON_AddStringToObject(ic, "aspectRatio", is->aspect_ratio);
        if (is->image_size)
            cJSON_AddStringToObject(ic, "imageSize", is->image_size);
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
    const struct image_settings *is = def->k;
    enum img_format want = is->format;
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

const struct stage_kind stage_kind_image = {
    .name = "image",
    .exec = EXEC_CALL,
    .media = MEDIA_IMAGE,
    .value = VALUE_NONE,
    .common_keys = KIND_KEYS_MODEL | KIND_KEYS_FOREACH | KIND_KEYS_REFS,
    .keys = image_keys,
    .input_label = "prompt",
    .check_on_worker = true,
    .parse = image_parse,
    .release = image_release,
    .templates = image_templates,
    .settings = image_settings_json,
    .render = image_render,
    .build = image_build,
    .accept = image_accept,
    .check_artifact = image_check_artifact,
    .estimate = image_estimate,
    .method = image_method,
    .model_kind = "image",
};
