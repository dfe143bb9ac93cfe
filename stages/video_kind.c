/* video stage kind: local, no API call: FFmpeg assembles the scenes (a still image shown for
 * as long as its narration lasts) into an MP4 plus an .srt of the captions. Its keys are read
 * into its own settings by video_settings.c, its one item made by video_expand.c, and it
 * runs on the local executor (runner/local.c); see video.h for the timeline. */
#include "stage.h"
#include "video_settings.h"
#include "../runner/expand_int.h"
#include "../runner/jsonutil.h"
#include "../runner/util.h"
#include "../runner/workflow_int.h"

static const char *const video_keys[] = {
    "scenes", "image",      "audio",  "caption",    "subtitles",
    "fps",    "resolution", "motion", "transition", "burn_subtitles",
    "crf",    "preset",     "clip",   "clip_sound", NULL};

extern const struct stage_kind stage_kind_video;

static void video_parse(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                        const struct ydoc_node *st, const struct ydoc_node *key)
{
    s->model = xstrdup("ffmpeg"); /* no model: FFmpeg does the work */
    video_settings_parse(L, s, info, st, key);
}

const struct video_settings *video_settings(const struct stage_def *s)
{
    return s->kind == &stage_kind_video ? s->k : NULL;
}

struct video_settings *video_settings_edit(struct stage_def *s)
{
    return s->kind == &stage_kind_video ? s->k : NULL;
}

static size_t video_templates(const struct stage_def *def, struct stage_tmpl *out, size_t max)
{
    const struct video_settings *s = video_settings(def);
    if (!s)
        return 0;
    const struct stage_tmpl all[] = {{"image", s->image, true, true},
                                     {"audio", s->audio, true, true},
                                     {"caption", s->caption, true, false},
                                     {"subtitles", s->subtitles, false, false},
                                     {"clip", s->clip, true, true}};
    size_t n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0] && n < max; i++)
        out[n++] = all[i];
    return n;
}

static struct stage_elements *video_elements(struct stage_def *def)
{
    struct video_settings *s = video_settings_edit(def);
    return s && s->scenes.text ? &s->scenes : NULL;
}

static const struct tmpl *video_second_output(const struct stage_def *def)
{
    const struct video_settings *s = video_settings(def);
    return s ? s->subtitles : NULL;
}

static cJSON *video_settings_json(const struct stage_def *def)
{
    const struct video_settings *s = video_settings(def);
    cJSON *o = cJSON_CreateObject();
    if (!s)
        return o;
    cJSON_AddNumberToObject(o, "fps", s->fps);
    cJSON_AddNumberToObject(o, "crf", s->crf);
    cJSON_AddStringToObject(o, "preset", s->preset ? s->preset : "medium");
    json_add_i64(o, "transition_ms", s->transition_ms);
    return o;
}

const struct stage_kind stage_kind_video = {
    .name = "video",
    .exec = EXEC_LOCAL,
    .media = MEDIA_VIDEO,
    .value = VALUE_NONE,
    .common_keys = 0,
    .keys = video_keys,
    .input_label = "scenes",
    .parse = video_parse,
    .release = video_settings_free,
    .templates = video_templates,
    .settings = video_settings_json,
    .elements = video_elements,
    .elements_key = "scenes",
    .elements_fields = "the per-scene fields of a video stage (image, audio, caption, clip)",
    .second_output = video_second_output,
    .expand = expand_video_stage,
};
