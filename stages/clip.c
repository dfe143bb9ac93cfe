/* clip stage: a 3-10 s video clip with sound from a scene's image and a motion prompt, made by
 * Gemini Omni Flash through the Interactions API ("Generate and edit videos with Gemini Omni
 * Flash", https://ai.google.dev/gemini-api/docs/omni, copy of 2026-09-14; gemini-api.md's
 * model table; checked 2026-12-04). It runs on the operation executor (runner/operation.h):
 * `POST /v1beta/interactions` with `background: true` answers an id at once, then
 * `GET /v1beta/interactions/{id}` until the interaction is completed (the clip inline, base64)
 * or failed. The create body is the one @google/genai 3.3.0 sends for `interactions.create`
 * (tests/data/sdk/interaction_create.json): snake_case, the image first, then the prompt.
 * The image travels as a reference (runner/refs.h): sniffed, inlined at send time, its SHA-256
 * in the request key. A clip counts once ffprobe finds a video stream of the asked length. */
#include "stage.h"
#include "stage_prompt.h"
#include "../runner/base64.h"
#include "../runner/child.h"
#include "../runner/jsonutil.h"
#include "../runner/operation.h"
#include "../runner/util.h"
#include "../runner/workflow_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* gemini-omni-1.1-flash: GA 2026-08-27 (changelog; Google's developer blog of that day, as
 * reported by WaveSpeedAI, https://wavespeed.ai/blog/ai-models/gemini-omni-1-1-flash-api/,
 * checked 2026-12-04); the preview id was shut down 2026-09-30. Price: workflows/prices.yaml. */
#define CLIP_MODEL            "gemini-omni-1.1-flash"
#define CLIP_SECONDS_MIN      3.0 /* "3-10 second videos" (changelog 2026-06-30) */
#define CLIP_SECONDS_MAX      10.0
#define CLIP_SECONDS_DEFAULT  6.0
#define CLIP_DURATION_SLACK_S 0.5 /* the clip may differ from the asked length by this much */
#define CLIP_RENDER_MAX_MS    (30 * 60 * 1000) /* "runs for minutes": give up in a run after 30 */
#define FFPROBE_BYTES         (64 * 1024)

struct clip_settings {
    struct prompt_settings p; /* prompt: the motion prompt */
    double duration_s;
    const char *resolution;   /* 360p | 720p | 1080p | 4k */
    const char *aspect_ratio; /* 16:9 | 9:16 */
};

static const char *const clip_keys[] = {"prompt",     "image",        "duration",
                                        "resolution", "aspect_ratio", NULL};
static const char *const resolutions[] = {"360p", "720p", "1080p", "4k"};
static const char *const aspect_ratios[] = {"16:9", "9:16"};

/* Video output tokens per second of each resolution: 5,792 at 720p (the pricing page, 2026-09-24);
 * the others as tests/fake/README.md scales them from a third-party probe (2026-08-28). */
static double tokens_per_second(const char *resolution)
{
    static const double rate[] = {1943, 5792, 8686, 17371};
    for (size_t i = 0; i < ARRAY_SIZE(resolutions); i++)
        if (strcmp(resolution, resolutions[i]) == 0)
            return rate[i];
    return rate[1];
}

static const char *pick(const char *s, const char *const *words, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(s, words[i]) == 0)
            return words[i];
    return NULL;
}

static void clip_parse(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                       const struct ydoc_node *st, const struct ydoc_node *key)
{
    (void)info;
    struct clip_settings *cs = xcalloc(1, sizeof *cs);
    s->k = cs;
    cs->duration_s = CLIP_SECONDS_DEFAULT;
    cs->resolution = "720p";
    cs->aspect_ratio = "16:9";
    stage_prompt_parse(L, s, &cs->p, st, key);
    const struct ydoc_node *v;
    char *word;
    if ((v = ydoc_get(st, "image"))) {
        /* the scene's image: sent as the stage's one reference (refs.h), so its bytes are in
         * the key and it is read, sniffed and size-checked like any reference */
        struct tmpl *t = wfl_template_field(L, v, "image", false);
        if (t) {
            s->refs = xcalloc(1, sizeof *s->refs);
            s->refs[0].path = t;
            s->n_refs = 1;
        }
    } else {
        wfl_error(L, key,
                  "stage '%s' has no 'image' (required for kind clip: the scene's image file, "
                  "e.g. images/{{item.id}}.jpg)",
                  s->name);
    }
    if ((v = ydoc_get(st, "duration")))
        wfl_number(L, v, "duration", CLIP_SECONDS_MIN, CLIP_SECONDS_MAX, false, &cs->duration_s);
    if ((v = ydoc_get(st, "resolution")) &&
        (word = wfl_choice_field(L, v, "resolution", "resolution", resolutions,
                                 ARRAY_SIZE(resolutions)))) {
        cs->resolution = pick(word, resolutions, ARRAY_SIZE(resolutions));
        free(word);
    }
    if ((v = ydoc_get(st, "aspect_ratio")) &&
        (word = wfl_choice_field(L, v, "aspect_ratio", "aspect ratio", aspect_ratios,
                                 ARRAY_SIZE(aspect_ratios)))) {
        cs->aspect_ratio = pick(word, aspect_ratios, ARRAY_SIZE(aspect_ratios));
        free(word);
    }
    if (s->output && !str_ends_with(tmpl_source(s->output), ".mp4"))
        wfl_error(L, ydoc_get(st, "output"),
                  "the output of clip stage '%s' must end in .mp4 (the API answers an MP4), got "
                  "'%s'",
                  s->name, tmpl_source(s->output));
}

static void clip_release(void *k)
{
    struct clip_settings *cs = k;
    if (!cs)
        return;
    stage_prompt_release(&cs->p); /* the image template is the stage's reference: freed there */
    free(cs);
}

static size_t clip_templates(const struct stage_def *s, struct stage_tmpl *out, size_t max)
{
    const struct clip_settings *cs = s->k;
    return stage_prompt_templates(&cs->p, out, max);
}

static cJSON *clip_settings_json(const struct stage_def *s)
{
    const struct clip_settings *cs = s->k;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "duration", cs->duration_s);
    cJSON_AddStringToObject(o, "resolution", cs->resolution);
    cJSON_AddStringToObject(o, "aspect_ratio", cs->aspect_ratio);
    return o;
}

static int clip_render(const struct stage_def *def, struct render_ctx *rc, struct stage_input *in,
                       char **why)
{
    const struct clip_settings *cs = def->k;
    return stage_prompt_render(&cs->p, rc, in, why);
}

/* "6s", "4.5s": a protobuf Duration string (a bare number is refused). */
static void duration_text(double s, char *out, size_t n)
{
    snprintf(out, n, "%gs", s);
}

static int clip_build(const struct stage_def *def, const struct stage_input *in,
                      struct stage_request *out, struct gf_err *err)
{
    const struct clip_settings *cs = def->k;
    if (in->n_media != 1)
        return gf_error(err, GF_ERR_INPUT, "a clip is made from exactly one image, got %zu",
                        in->n_media);
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "model", def->model);
    cJSON *input = cJSON_AddArrayToObject(body, "input");
    cJSON *img = cJSON_CreateObject();
    cJSON_AddStringToObject(img, "type", "image");
    cJSON_AddStringToObject(img, "data", in->media[0].data);
    cJSON_AddStringToObject(img, "mime_type", in->media[0].mime);
    cJSON_AddItemToArray(input, img);
    cJSON *text = cJSON_CreateObject();
    cJSON_AddStringToObject(text, "type", "text");
    cJSON_AddStringToObject(text, "text", in->prompt);
    cJSON_AddItemToArray(input, text);
    cJSON *gc = cJSON_AddObjectToObject(body, "generation_config");
    cJSON *vc = cJSON_AddObjectToObject(gc, "video_config");
    cJSON_AddStringToObject(vc, "task", "image_to_video");
    cJSON *rf = cJSON_AddObjectToObject(body, "response_format");
    char dur[32];
    duration_text(cs->duration_s, dur, sizeof dur);
    cJSON_AddStringToObject(rf, "type", "video");
    cJSON_AddStringToObject(rf, "aspect_ratio", cs->aspect_ratio);
    cJSON_AddStringToObject(rf, "resolution", cs->resolution);
    cJSON_AddStringToObject(rf, "duration", dur);
    cJSON_AddStringToObject(rf, "delivery", "inline");
    cJSON_AddTrueToObject(body, "background");
    out->verb = GEMINI_GENERATE; /* not used: the operation's create_path says where */
    out->body = body;
    return 0;
}

/* Seconds of video, counted at the 720p rate the price table's per_second is (a 1080p second
 * costs 8686/5792 of one); input: the prompt and 258 tokens for the image. */
static void clip_estimate(const struct stage_def *def, double chars, const char *text,
                          struct stage_estimate *out)
{
    (void)text;
    const struct clip_settings *cs = def->k;
    double rate = tokens_per_second(cs->resolution);
    out->in_tokens = chars / 4 + 258;
    out->out_tokens = cs->duration_s * rate;
    out->seconds = cs->duration_s * rate / tokens_per_second("720p");
}

/* --- the clip on disk: ffprobe ---------------------------------------------------------- */

/* ffprobe's JSON about `path`; NULL with err. */
static cJSON *ffprobe(const char *path, struct gf_err *err)
{
    char *prog = child_find_program("ffprobe");
    if (!prog) {
        gf_error(err, GF_ERR_CONFIG,
                 "'ffprobe' is not installed (not found on PATH); install the Debian package "
                 "'ffmpeg'");
        return NULL;
    }
    const char *argv[] = {prog,
                          "-v",
                          "error",
                          "-show_entries",
                          "stream=codec_type,codec_name,width,height,duration:format=duration,"
                          "format_name",
                          "-of",
                          "json",
                          path,
                          NULL};
    struct buf outb = BUF_INIT;
    int status = 0;
    cJSON *o = NULL;
    if (child_run(argv, &outb, FFPROBE_BYTES, &status, err) == 0) {
        o = status == 0 ? cJSON_Parse(outb.data) : NULL;
        if (!o) {
            const char *nl = strchr(outb.data, '\n');
            gf_error(err, GF_ERR_INPUT, "ffprobe cannot read it (%s): %.*s",
                     child_status_text(status), nl ? (int)(nl - outb.data) : 200, outb.data);
        }
    }
    buf_release(&outb);
    free(prog);
    return o;
}

/* A video stream, the asked duration (within CLIP_DURATION_SLACK_S): the clip counts. */
static int clip_check_artifact(const struct stage_def *def, const void *data, size_t len,
                               cJSON **media, struct gf_err *err)
{
    const struct clip_settings *cs = def->k;
    const char *tmpdir = getenv("TMPDIR");
    char *path = xasprintf("%s/gemflow-clip-XXXXXX", tmpdir && tmpdir[0] ? tmpdir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        gf_error_errno(err, GF_ERR_IO, "cannot make a temporary file to check the clip");
        free(path);
        return -1;
    }
    bool written = write(fd, data, len) == (ssize_t)len;
    close(fd);
    cJSON *probe = written ? ffprobe(path, err) : NULL;
    if (!written)
        gf_error_errno(err, GF_ERR_IO, "cannot write a temporary copy of the clip");
    unlink(path);
    free(path);
    if (!probe)
        return -1;
    const cJSON *st, *video = NULL, *audio = NULL;
    cJSON_ArrayForEach(st, json_field(probe, "streams"))
    {
        const char *type = json_str(st, "codec_type");
        if (type && strcmp(type, "video") == 0 && !video)
            video = st;
        if (type && strcmp(type, "audio") == 0 && !audio)
            audio = st;
    }
    const char *fmt = json_str(json_field(probe, "format"), "format_name");
    const char *dtext = video ? json_str(video, "duration") : NULL;
    if (!dtext)
        dtext = json_str(json_field(probe, "format"), "duration");
    double secs = dtext ? strtod(dtext, NULL) : -1;
    int rc = -1;
    if (!video)
        gf_error(err, GF_ERR_INPUT, "the clip (%zu bytes, %s) has no video stream", len,
                 fmt ? fmt : "unknown format");
    else if (!fmt || !strstr(fmt, "mp4"))
        gf_error(err, GF_ERR_INPUT, "the clip is not an MP4 (ffprobe says %s)",
                 fmt ? fmt : "nothing");
    else if (secs < 0 || fabs(secs - cs->duration_s) > CLIP_DURATION_SLACK_S)
        gf_error(err, GF_ERR_INPUT, "the clip lasts %.2f s, but %g s were asked for (±%g s)", secs,
                 cs->duration_s, CLIP_DURATION_SLACK_S);
    else
        rc = 0;
    if (rc == 0) {
        *media = cJSON_CreateObject();
        cJSON_AddStringToObject(*media, "type", "video/mp4");
        cJSON_AddNumberToObject(*media, "width", json_num(video, "width", 0));
        cJSON_AddNumberToObject(*media, "height", json_num(video, "height", 0));
        cJSON_AddNumberToObject(*media, "duration_s", round(secs * 1000) / 1000);
        json_add_str_or_null(*media, "video_codec", json_str(video, "codec_name"));
        json_add_str_or_null(*media, "audio_codec", audio ? json_str(audio, "codec_name") : NULL);
    }
    cJSON_Delete(probe);
    return rc;
}

/* --- the Interactions API: create, poll ----------------------------------------------------- */

/* The id of a created interaction ("v1_" + base64url in the real API): it goes into a URL path,
 * so only [A-Za-z0-9_-] are taken. */
static char *clip_created(const cJSON *reply, char **why)
{
    const char *id = json_str(reply, "id");
    if (!id || !id[0]) {
        *why = xstrdup("no 'id' in the answer");
        return NULL;
    }
    size_t n = strlen(id);
    if (n > 512 ||
        strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n) {
        *why = xasprintf("the id '%.60s' is not an interaction id", id);
        return NULL;
    }
    return xstrdup(id);
}

static char *clip_poll_path(const char *id)
{
    return xasprintf("interactions/%s", id);
}

/* The video of the last model_output step: {"type": "video", "mime_type", "data"}. */
static cJSON *find_video(cJSON *reply)
{
    cJSON *found = NULL, *step;
    cJSON_ArrayForEach(step, json_field(reply, "steps"))
    {
        const char *type = json_str(step, "type");
        if (!type || strcmp(type, "model_output") != 0)
            continue;
        cJSON *c;
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(step, "content"))
        {
            const char *ct = json_str(c, "type");
            if (ct && strcmp(ct, "video") == 0)
                found = c;
        }
    }
    return found;
}

static cJSON *usage_of(const cJSON *reply)
{
    const cJSON *u = json_field(reply, "usage");
    if (!cJSON_IsObject(u))
        return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "prompt", json_num(u, "total_input_tokens", 0));
    cJSON_AddNumberToObject(o, "output", json_num(u, "total_output_tokens", 0));
    cJSON_AddNumberToObject(o, "total", json_num(u, "total_tokens", 0));
    return o;
}

/* Interaction.status (@google/genai 3.3.0): in_progress, queued, requires_action, completed,
 * failed, cancelled, incomplete, budget_exceeded, requires_continuation. */
static int clip_interpret(const struct stage_def *def, cJSON *reply, struct op_poll_result *res)
{
    (void)def;
    const char *status = json_str(reply, "status");
    if (!status) {
        snprintf(res->message, sizeof res->message, "the answer has no status");
        return -1;
    }
    snprintf(res->status, sizeof res->status, "%s", status);
    if (strcmp(status, "in_progress") == 0 || strcmp(status, "queued") == 0) {
        res->state = OP_RUNNING;
        return 0;
    }
    res->state = OP_FAILED;
    if (strcmp(status, "completed") != 0) {
        /* the API's own words: errors[{code, message}] */
        struct buf m = BUF_INIT;
        const cJSON *e;
        cJSON_ArrayForEach(e, json_field(reply, "errors"))
        {
            buf_addf(&m, "%s%s%s%s", m.len ? "; " : "",
                     json_str(e, "code") ? json_str(e, "code") : "",
                     json_str(e, "code") ? ": " : "",
                     json_str(e, "message") ? json_str(e, "message") : "");
        }
        snprintf(res->message, sizeof res->message, "%s",
                 m.len ? m.data : "the API gave no reason");
        buf_release(&m);
        return 0;
    }
    cJSON *video = find_video(reply);
    cJSON *data = video ? cJSON_GetObjectItemCaseSensitive(video, "data") : NULL;
    if (!cJSON_IsString(data)) {
        snprintf(res->message, sizeof res->message, "the interaction completed without %s",
                 video ? "the video's data (a uri was not asked for)" : "a video");
        return 0;
    }
    size_t bad = 0;
    if (base64_decode(data->valuestring, strlen(data->valuestring), &res->out.data, &bad) < 0) {
        buf_release(&res->out.data);
        snprintf(res->message, sizeof res->message,
                 "the video's data is not valid base64 (byte %zu)", bad);
        return 0;
    }
    res->state = OP_DONE;
    res->usage = usage_of(reply);
    res->out.media = cJSON_CreateObject();
    cJSON_AddStringToObject(res->out.media, "type", "video/mp4");
    return 0;
}

static const struct stage_operation clip_operation = {
    .create_path = "interactions",
    .created = clip_created,
    .poll_path = clip_poll_path,
    .interpret = clip_interpret,
    .render_max_ms = CLIP_RENDER_MAX_MS,
};

const struct stage_kind stage_kind_clip = {
    .name = "clip",
    .exec = EXEC_OPERATION,
    .media = MEDIA_VIDEO,
    .value = VALUE_NONE,
    .common_keys = KIND_KEYS_MODEL | KIND_KEYS_FOREACH,
    .keys = clip_keys,
    .input_label = "prompt",
    .check_on_worker = true,
    .parse = clip_parse,
    .release = clip_release,
    .templates = clip_templates,
    .settings = clip_settings_json,
    .render = clip_render,
    .build = clip_build,
    .check_artifact = clip_check_artifact,
    .estimate = clip_estimate,
    /* models.get of Omni lists generateContent and countTokens, what the live API advertises
     * while it serves Omni through the Interactions API only (TanStack/ai#871): the free model
     * check asks for generateContent (mc_stage_method's default) */
    .method = NULL,
    .model_kind = "video",
    .default_model = CLIP_MODEL,
    .op = &clip_operation,
};
