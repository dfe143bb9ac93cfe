/* video_segment: the video cut into segments, each keyed by what determines its bytes (see
 * video.h): the scenes' pictures between crossfades, the crossfades, and the sound track. */
#include "video.h"
#include "../runner/jsonutil.h"
#include "../runner/util.h"

#include <string.h>

static const char *const kind_names[] = {"scene", "fade", "sound"}; /* video_seg_kind */

static const char *clip_sound_name(enum video_clip_sound s)
{
    return s == VIDEO_CLIP_MUTE ? "mute" : s == VIDEO_CLIP_KEEP ? "keep" : "under";
}

const char *video_segment_ext(const struct video_segment *seg)
{
    return seg->kind == VIDEO_SEG_SOUND ? "m4a" : "mp4";
}

/* One scene's picture from its frame `from` on, as far as its bytes go: a still without motion
 * is the same in every frame (so neither its window nor its scene's length matters), Ken Burns
 * depends on both, a clip on where in it the window starts. */
static cJSON *layer_json(const struct video_spec *v, const struct video_timeline *t, size_t k,
                         int64_t from)
{
    const struct video_scene *s = &v->scenes[k];
    cJSON *o = cJSON_CreateObject();
    if (video_scene_shows_clip(s)) {
        cJSON_AddStringToObject(o, "clip", s->clip.sha256);
        cJSON_AddStringToObject(o, "format", s->clip.format);
        json_add_i64(o, "from", from);
        return o;
    }
    cJSON_AddStringToObject(o, "image", s->image_sha256);
    cJSON_AddStringToObject(o, "format", s->image_format[0] ? s->image_format : "png");
    if (v->motion == VIDEO_MOTION_KENBURNS) {
        cJSON_AddStringToObject(o, "motion", k % 2 ? "zoom_out" : "zoom_in");
        json_add_i64(o, "scene_frames", t->frames[k]);
        json_add_i64(o, "from", from);
    } else {
        cJSON_AddStringToObject(o, "motion", "none");
    }
    return o;
}

static void add_picture_key(cJSON *j, const struct video_spec *v, const struct video_timeline *t,
                            const struct video_segment *seg)
{
    cJSON *st = cJSON_AddObjectToObject(j, "video");
    cJSON_AddNumberToObject(st, "width", v->width);
    cJSON_AddNumberToObject(st, "height", v->height);
    cJSON_AddNumberToObject(st, "fps", v->fps);
    cJSON_AddStringToObject(st, "codec", "libx264");
    cJSON_AddStringToObject(st, "preset", v->preset);
    cJSON_AddNumberToObject(st, "crf", v->crf);
    cJSON_AddStringToObject(st, "pix_fmt", "yuv420p");
    cJSON_AddNumberToObject(st, "threads", 1);
    json_add_i64(j, "frames", seg->frames);
    cJSON *layers = cJSON_AddArrayToObject(j, "layers");
    if (seg->kind == VIDEO_SEG_FADE) {
        size_t k = seg->scene;
        cJSON_AddItemToArray(layers, layer_json(v, t, k - 1, t->frames[k - 1] - t->fade_frames));
        cJSON_AddItemToArray(layers, layer_json(v, t, k, 0));
        cJSON_AddStringToObject(j, "transition", "fade");
    } else {
        cJSON_AddItemToArray(layers, layer_json(v, t, seg->scene, seg->from));
    }
    if (seg->srt)
        cJSON_AddStringToObject(j, "subtitles", seg->srt);
}

/* Whether scene k's clip sound goes into the sound track. */
static bool mixes_clip_sound(const struct video_spec *v, size_t k)
{
    const struct video_scene *s = &v->scenes[k];
    return video_scene_shows_clip(s) && s->clip.has_audio && v->clip_sound != VIDEO_CLIP_MUTE;
}

static void add_sound_key(cJSON *j, const struct video_spec *v, const struct video_timeline *t)
{
    cJSON *st = cJSON_AddObjectToObject(j, "audio");
    cJSON_AddStringToObject(st, "codec", "aac");
    cJSON_AddStringToObject(st, "bitrate", "128k");
    cJSON_AddNumberToObject(st, "rate", 48000);
    cJSON_AddNumberToObject(st, "channels", 1);
    json_add_i64(j, "transition_ms", v->n_scenes > 1 ? v->transition_ms : 0);
    bool clips = false;
    cJSON *arr = cJSON_AddArrayToObject(j, "scenes");
    for (size_t k = 0; k < v->n_scenes; k++) {
        const struct video_scene *s = &v->scenes[k];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "narration", s->audio_sha256);
        cJSON_AddNumberToObject(o, "sample_rate", s->sample_rate);
        json_add_i64(o, "frames", s->frames);
        if (mixes_clip_sound(v, k)) {
            cJSON *c = cJSON_AddObjectToObject(o, "clip");
            cJSON_AddStringToObject(c, "sha256", s->clip.sha256);
            cJSON_AddStringToObject(c, "format", s->clip.format);
            json_add_i64(c, "start_frame", t->start_frame[k]);
            json_add_i64(c, "frames", t->frames[k]);
            clips = true;
        }
        cJSON_AddItemToArray(arr, o);
    }
    if (clips) { /* where a clip's sound starts and ends is counted in frames */
        cJSON_AddNumberToObject(j, "fps", v->fps);
        cJSON_AddStringToObject(j, "clip_sound", clip_sound_name(v->clip_sound));
        cJSON_AddNumberToObject(j, "clip_under_db", VIDEO_CLIP_UNDER_DB);
    }
}

char *video_segment_key_text(const struct video_spec *v, const struct video_timeline *t,
                             const char *encoder, const struct video_segment *seg)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "segment", VIDEO_SEGMENT_VERSION);
    cJSON_AddStringToObject(j, "kind", kind_names[seg->kind]);
    cJSON_AddStringToObject(j, "encoder", encoder);
    if (seg->kind == VIDEO_SEG_SOUND)
        add_sound_key(j, v, t);
    else
        add_picture_key(j, v, t, seg);
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return text;
}

static struct video_segment *add(struct video_plan *p, size_t *cap, enum video_seg_kind kind,
                                 size_t scene, int64_t start, int64_t frames)
{
    struct video_segment *seg = VEC_PUSH(p->segs, p->n, *cap);
    memset(seg, 0, sizeof *seg);
    seg->kind = kind;
    seg->scene = scene;
    seg->start_frame = start;
    seg->frames = frames;
    return seg;
}

int video_plan(const struct video_spec *v, const struct video_timeline *t, const char *encoder,
               struct video_plan *p, struct gf_err *err)
{
    size_t n = v->n_scenes, cap = 0;
    int64_t fade = t->fade_frames;
    memset(p, 0, sizeof *p);
    for (size_t k = 0; k < n; k++) {
        const char *id = v->scenes[k].id;
        if (k > 0 && fade > 0) {
            struct video_segment *f = add(p, &cap, VIDEO_SEG_FADE, k, t->start_frame[k], fade);
            f->name = xasprintf("%s>%s", v->scenes[k - 1].id, id);
        }
        int64_t start = t->start_frame[k] + (k > 0 ? fade : 0);
        int64_t end = k + 1 < n ? t->start_frame[k + 1] : t->total_frames;
        if (end < start) { /* its crossfades overlap once rounded to frames */
            video_plan_release(p);
            return gf_error(err, GF_ERR_INPUT,
                            "scene '%s' lasts %.3f s ('%s'), too short for its crossfades of "
                            "%lld frames at %d fps",
                            id, (double)v->scenes[k].frames / v->scenes[k].sample_rate,
                            v->scenes[k].audio, (long long)fade, v->fps);
        }
        if (end == start)
            continue; /* all crossfade: nothing of its own to show */
        struct video_segment *s = add(p, &cap, VIDEO_SEG_SCENE, k, start, end - start);
        s->from = start - t->start_frame[k];
        s->name = xstrdup(id);
    }
    struct video_segment *snd = add(p, &cap, VIDEO_SEG_SOUND, 0, 0, t->total_frames);
    snd->name = xstrdup("sound");
    for (size_t i = 0; i < p->n; i++) {
        struct video_segment *seg = &p->segs[i];
        if (v->burn_subtitles && v->subtitles && seg->kind != VIDEO_SEG_SOUND) {
            struct buf srt = BUF_INIT;
            if (video_srt_window(v, t, seg->start_frame, seg->frames, &srt) > 0)
                seg->srt = buf_detach(&srt, NULL); /* else no cue shows in it: nothing to draw */
            buf_release(&srt);
        }
        char *text = video_segment_key_text(v, t, encoder, seg);
        sha256_hex(text, strlen(text), seg->key);
        free(text);
    }
    return 0;
}

void video_plan_release(struct video_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->segs[i].name);
        free(p->segs[i].srt);
    }
    free(p->segs);
    memset(p, 0, sizeof *p);
}
