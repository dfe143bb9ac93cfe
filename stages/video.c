/* video: the spec (the item's canonical request), the default size, the timeline and the
 * subtitles of the video stage (see video.h). The segments are in video_segment.c, FFmpeg's
 * argument vectors in video_ffmpeg.c, ffprobe's answers in video_probe.c. */
#include "video.h"
#include "srttext.h"
#include "../runner/jsonutil.h"
#include "../runner/util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SHORT_SIDE    1080
#define LONG_SIDE_MAX 3840
#define RATIO_SNAP    0.03

void video_spec_release(struct video_spec *v)
{
    for (size_t i = 0; i < v->n_scenes; i++) {
        struct video_scene *s = &v->scenes[i];
        free(s->id);
        free(s->image);
        free(s->audio);
        free(s->caption);
        free(s->clip.path);
    }
    free(v->scenes);
    free(v->ffmpeg);
    free(v->output);
    free(v->subtitles);
    free(v->preset);
    memset(v, 0, sizeof *v);
}

static const char *motion_name(enum video_motion m)
{
    return m == VIDEO_MOTION_KENBURNS ? "kenburns" : "none";
}

static const char *const clip_sound_names[] = {"mute", "under", "keep"}; /* video_clip_sound */

bool video_scene_shows_clip(const struct video_scene *s)
{
    return s->clip.path && !s->clip.missing;
}

static bool any_clip(const struct video_spec *v)
{
    for (size_t i = 0; i < v->n_scenes; i++)
        if (video_scene_shows_clip(&v->scenes[i]))
            return true;
    return false;
}

/* Only for a scene whose stage names a clip: the requests of jobs without clips stay as they
 * were (and so do their keys). */
static void add_clip_json(cJSON *o, const struct video_clip *c)
{
    if (!c->path)
        return;
    cJSON *j = cJSON_AddObjectToObject(o, "clip");
    cJSON_AddStringToObject(j, "path", c->path);
    if (c->missing) {
        cJSON_AddBoolToObject(j, "missing", true);
        return;
    }
    cJSON_AddStringToObject(j, "sha256", c->sha256);
    cJSON_AddStringToObject(j, "format", c->format);
    json_add_i64(j, "duration_ms", c->duration_ms);
    cJSON_AddNumberToObject(j, "width", c->width);
    cJSON_AddNumberToObject(j, "height", c->height);
    cJSON_AddBoolToObject(j, "has_audio", c->has_audio);
}

cJSON *video_spec_json(const struct video_spec *v)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "kind", "video");
    cJSON_AddStringToObject(j, "ffmpeg", v->ffmpeg);
    cJSON_AddStringToObject(j, "output", v->output);
    json_add_str_or_null(j, "subtitles", v->subtitles);
    cJSON *st = cJSON_AddObjectToObject(j, "settings");
    cJSON_AddNumberToObject(st, "graph", VIDEO_GRAPH_VERSION);
    cJSON_AddNumberToObject(st, "fps", v->fps);
    cJSON_AddNumberToObject(st, "width", v->width);
    cJSON_AddNumberToObject(st, "height", v->height);
    cJSON_AddStringToObject(st, "motion", motion_name(v->motion));
    json_add_i64(st, "transition_ms", v->transition_ms);
    cJSON_AddBoolToObject(st, "burn_subtitles", v->burn_subtitles);
    cJSON_AddStringToObject(st, "video_codec", "libx264");
    cJSON_AddStringToObject(st, "preset", v->preset);
    cJSON_AddNumberToObject(st, "crf", v->crf);
    cJSON_AddStringToObject(st, "pix_fmt", "yuv420p");
    cJSON_AddStringToObject(st, "audio_codec", "aac");
    cJSON_AddStringToObject(st, "audio_bitrate", "128k");
    cJSON_AddNumberToObject(st, "audio_rate", 48000);
    cJSON_AddNumberToObject(st, "audio_channels", 1); /* narration: mono */
    if (any_clip(v))
        cJSON_AddStringToObject(st, "clip_sound", clip_sound_names[v->clip_sound]);
    cJSON *arr = cJSON_AddArrayToObject(j, "scenes");
    for (size_t i = 0; i < v->n_scenes; i++) {
        const struct video_scene *s = &v->scenes[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", s->id);
        cJSON *img = cJSON_AddObjectToObject(o, "image");
        cJSON_AddStringToObject(img, "path", s->image);
        cJSON_AddStringToObject(img, "sha256", s->image_sha256);
        cJSON_AddNumberToObject(img, "width", s->width);
        cJSON_AddNumberToObject(img, "height", s->height);
        /* only when not PNG: a job made before other formats keeps its request, and its key */
        if (s->image_format[0] && strcmp(s->image_format, "png") != 0)
            cJSON_AddStringToObject(img, "format", s->image_format);
        cJSON *au = cJSON_AddObjectToObject(o, "audio");
        cJSON_AddStringToObject(au, "path", s->audio);
        cJSON_AddStringToObject(au, "sha256", s->audio_sha256);
        cJSON_AddNumberToObject(au, "sample_rate", s->sample_rate);
        json_add_i64(au, "frames", s->frames);
        json_add_str_or_null(o, "caption", s->caption);
        add_clip_json(o, &s->clip);
        cJSON_AddItemToArray(arr, o);
    }
    return j;
}

static char *dup_str(const cJSON *o, const char *name)
{
    const char *s = json_str(o, name);
    return s ? xstrdup(s) : NULL;
}

static bool copy_sha(const cJSON *o, char out[SHA256_HEX_LEN + 1])
{
    const char *s = json_str(o, "sha256");
    if (!s || strlen(s) != SHA256_HEX_LEN)
        return false;
    memcpy(out, s, SHA256_HEX_LEN + 1);
    return true;
}

static bool clip_from_json(const cJSON *j, struct video_clip *c)
{
    if (!j)
        return true;
    c->path = dup_str(j, "path");
    c->missing = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "missing"));
    if (!c->path)
        return false;
    if (c->missing)
        return true;
    const char *fmt = json_str(j, "format");
    snprintf(c->format, sizeof c->format, "%s", fmt ? fmt : "");
    c->duration_ms = (int64_t)json_num(j, "duration_ms", 0);
    c->width = (int)json_num(j, "width", 0);
    c->height = (int)json_num(j, "height", 0);
    c->has_audio = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "has_audio"));
    return copy_sha(j, c->sha256) &&
           (!strcmp(c->format, "mov") || !strcmp(c->format, "matroska")) && c->duration_ms > 0 &&
           c->width > 0 && c->height > 0;
}

static enum video_clip_sound clip_sound_from(const char *name)
{
    for (size_t i = 0; name && i < ARRAY_SIZE(clip_sound_names); i++)
        if (!strcmp(name, clip_sound_names[i]))
            return (enum video_clip_sound)i;
    return VIDEO_CLIP_UNDER;
}

int video_spec_from_json(const cJSON *j, struct video_spec *v, struct gf_err *err)
{
    memset(v, 0, sizeof *v);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "settings");
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "scenes");
    v->ffmpeg = dup_str(j, "ffmpeg");
    v->output = dup_str(j, "output");
    v->subtitles = dup_str(j, "subtitles");
    v->preset = dup_str(st, "preset");
    v->fps = (int)json_num(st, "fps", 0);
    v->width = (int)json_num(st, "width", 0);
    v->height = (int)json_num(st, "height", 0);
    const char *motion = json_str(st, "motion");
    v->motion = motion && !strcmp(motion, "kenburns") ? VIDEO_MOTION_KENBURNS : VIDEO_MOTION_NONE;
    v->transition_ms = (int64_t)json_num(st, "transition_ms", 0);
    v->burn_subtitles = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "burn_subtitles"));
    v->crf = (int)json_num(st, "crf", -1);
    v->clip_sound = clip_sound_from(json_str(st, "clip_sound"));
    int n = cJSON_GetArraySize(arr);
    if (!v->ffmpeg || !v->output || !v->preset || v->fps <= 0 || v->width <= 0 || v->height <= 0 ||
        v->crf < 0 || n <= 0)
        goto bad;
    v->scenes = xcalloc((size_t)n, sizeof *v->scenes);
    const cJSON *o;
    cJSON_ArrayForEach(o, arr)
    {
        struct video_scene *s = &v->scenes[v->n_scenes++];
        const cJSON *img = cJSON_GetObjectItemCaseSensitive(o, "image");
        const cJSON *au = cJSON_GetObjectItemCaseSensitive(o, "audio");
        s->id = dup_str(o, "id");
        s->image = dup_str(img, "path");
        s->audio = dup_str(au, "path");
        s->caption = dup_str(o, "caption");
        s->width = (int)json_num(img, "width", 0);
        s->height = (int)json_num(img, "height", 0);
        const char *fmt = json_str(img, "format");
        snprintf(s->image_format, sizeof s->image_format, "%s", fmt ? fmt : "png");
        s->sample_rate = (int)json_num(au, "sample_rate", 0);
        s->frames = (int64_t)json_num(au, "frames", 0);
        if (!s->id || !s->image || !s->audio || !copy_sha(img, s->image_sha256) ||
            !copy_sha(au, s->audio_sha256) || s->sample_rate <= 0 || s->frames <= 0 ||
            !clip_from_json(cJSON_GetObjectItemCaseSensitive(o, "clip"), &s->clip))
            goto bad;
    }
    return 0;
bad:
    video_spec_release(v);
    return gf_error(err, GF_ERR_INPUT, "the video request is incomplete or damaged");
}

/* --- size --------------------------------------------------------------------------------- */

static int even(double x)
{
    int v = (int)lround(x / 2.0) * 2;
    return v < 2 ? 2 : v;
}

void video_default_size(int w, int h, int *out_w, int *out_h)
{
    static const int ratios[][2] = {{1, 1}, {16, 9}, {9, 16}, {4, 3}, {3, 4}, {3, 2}, {2, 3},
                                    {4, 5}, {5, 4},  {21, 9}, {1, 4}, {4, 1}, {1, 8}, {8, 1}};
    double r = (double)w / (double)h, best = r, best_dist = 1e9;
    for (size_t i = 0; i < ARRAY_SIZE(ratios); i++) {
        double q = (double)ratios[i][0] / ratios[i][1];
        double d = fabs(log(r / q));
        if (d < best_dist) {
            best_dist = d;
            best = q;
        }
    }
    if (best_dist <= log(1.0 + RATIO_SNAP))
        r = best;
    double long_side = SHORT_SIDE * (r >= 1 ? r : 1 / r), short_side = SHORT_SIDE;
    if (long_side > LONG_SIDE_MAX) {
        short_side = SHORT_SIDE * LONG_SIDE_MAX / long_side;
        long_side = LONG_SIDE_MAX;
    }
    *out_w = even(r >= 1 ? long_side : short_side);
    *out_h = even(r >= 1 ? short_side : long_side);
}

/* --- timeline ----------------------------------------------------------------------------- */

static double scene_seconds(const struct video_scene *s)
{
    return (double)s->frames / (double)s->sample_rate;
}

int video_timeline(const struct video_spec *v, struct video_timeline *t, struct gf_err *err)
{
    size_t n = v->n_scenes;
    double T = n > 1 ? (double)v->transition_ms / 1000.0 : 0;
    memset(t, 0, sizeof *t);
    for (size_t k = 0; k < n; k++) {
        double d = scene_seconds(&v->scenes[k]);
        int sides = (k > 0) + (k + 1 < n);
        if (T > 0 && d < sides * T + 1.0 / v->fps)
            return gf_error(err, GF_ERR_INPUT,
                            "scene '%s' lasts %.3f s ('%s'), too short for its %d transition%s "
                            "of %.3f s",
                            v->scenes[k].id, d, v->scenes[k].audio, sides, sides == 1 ? "" : "s",
                            T);
    }
    t->n = n;
    t->start_frame = xcalloc(n, sizeof *t->start_frame);
    t->frames = xcalloc(n, sizeof *t->frames);
    t->cue_start = xcalloc(n, sizeof *t->cue_start);
    t->cue_end = xcalloc(n, sizeof *t->cue_end);
    t->fade_frames = T > 0 ? llround(T * v->fps) : 0;
    if (T > 0 && t->fade_frames < 1)
        t->fade_frames = 1;
    double cum = 0, *start = xcalloc(n, sizeof *start);
    for (size_t k = 0; k < n; k++) {
        start[k] = cum - (double)k * T;
        cum += scene_seconds(&v->scenes[k]);
    }
    t->total_s = cum - (n ? (double)(n - 1) * T : 0);
    t->total_frames = llround(t->total_s * v->fps);
    for (size_t k = 0; k < n; k++)
        t->start_frame[k] = k ? llround(start[k] * v->fps) : 0;
    for (size_t k = 0; k < n; k++) {
        int64_t end = k + 1 < n ? t->start_frame[k + 1] + t->fade_frames : t->total_frames;
        t->frames[k] = end - t->start_frame[k];
        /* captions change in the middle of each crossfade */
        t->cue_start[k] = k ? start[k] + T / 2 : 0;
        t->cue_end[k] = k + 1 < n ? start[k + 1] + T / 2 : t->total_s;
    }
    free(start);
    return 0;
}

void video_timeline_release(struct video_timeline *t)
{
    free(t->start_frame);
    free(t->frames);
    free(t->cue_start);
    free(t->cue_end);
    memset(t, 0, sizeof *t);
}

/* --- subtitles ---------------------------------------------------------------------------- */

static void add_srt_time(struct buf *b, double s)
{
    long long ms = llround(s * 1000.0);
    buf_addf(b, "%02lld:%02lld:%02lld,%03lld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
             ms % 1000);
}

int video_srt(const struct video_spec *v, const struct video_timeline *t, struct buf *out)
{
    int cues = 0;
    struct buf text = BUF_INIT;
    for (size_t k = 0; k < t->n; k++) {
        buf_reset(&text);
        /* a model's caption: never a blank line or a timing of its own (srttext.h) */
        srt_cue_text(&text, v->scenes[k].caption ? v->scenes[k].caption : "");
        if (!text.len)
            continue;
        buf_addf(out, "%d\n", ++cues);
        add_srt_time(out, t->cue_start[k]);
        buf_adds(out, " --> ");
        add_srt_time(out, t->cue_end[k]);
        buf_addf(out, "\n%s\n\n", text.data);
    }
    buf_release(&text);
    return cues;
}

int video_srt_window(const struct video_spec *v, const struct video_timeline *t, int64_t from,
                     int64_t frames, struct buf *out)
{
    double start = (double)from / v->fps, end = (double)(from + frames) / v->fps;
    int cues = 0;
    struct buf text = BUF_INIT;
    for (size_t k = 0; k < t->n; k++) {
        double a = fmax(t->cue_start[k], start), b = fmin(t->cue_end[k], end);
        if (b <= a)
            continue;
        buf_reset(&text);
        srt_cue_text(&text, v->scenes[k].caption ? v->scenes[k].caption : "");
        if (!text.len)
            continue;
        buf_addf(out, "%d\n", ++cues);
        add_srt_time(out, a - start);
        buf_adds(out, " --> ");
        add_srt_time(out, b - start);
        buf_addf(out, "\n%s\n\n", text.data);
    }
    buf_release(&text);
    return cues;
}
