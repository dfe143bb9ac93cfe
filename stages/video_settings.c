/* video_settings: the keys of a `kind: video` stage (scenes, per-scene templates, subtitles,
 * scene clips and the encoding settings) into the kind's own settings, their defaults, and the
 * check that FFmpeg (ffmpeg and ffprobe) is installed. */
#include "video_settings.h"
#include "../runner/child.h"
#include "../runner/util.h"
#include "../runner/workflow_int.h"

#include <stdlib.h>
#include <string.h>

#define VIDEO_DEFAULT_FPS    30
#define VIDEO_DEFAULT_CRF    20
#define VIDEO_SIDE_MIN       16
#define VIDEO_SIDE_MAX       8192
#define VIDEO_TRANSITION_MAX 10000 /* ms */

static const char *const motions[] = {"none", "kenburns"};
static const char *const clip_sounds[] = {"mute", "under", "keep"}; /* enum video_clip_sound */
static const char *const presets[] = {"ultrafast", "superfast", "veryfast", "faster",  "fast",
                                      "medium",    "slow",      "slower",   "veryslow"};

/* "WIDTHxHEIGHT", both even (4:2:0 video) and within limits. */
static void resolution_field(struct wf_loader *L, struct video_settings *s,
                             const struct ydoc_node *n)
{
    const char *str = wfl_string(L, n, "resolution");
    if (!str)
        return;
    size_t dw = strspn(str, "0123456789");
    size_t dh = dw && str[dw] == 'x' ? strspn(str + dw + 1, "0123456789") : 0;
    int w = dw && dw <= 5 ? atoi(str) : 0, h = dh && dh <= 5 ? atoi(str + dw + 1) : 0;
    if (dh && str[dw + 1 + dh] == '\0' && w >= VIDEO_SIDE_MIN && h >= VIDEO_SIDE_MIN &&
        w <= VIDEO_SIDE_MAX && h <= VIDEO_SIDE_MAX && w % 2 == 0 && h % 2 == 0) {
        s->width = w;
        s->height = h;
        return;
    }
    wfl_error(L, n,
              "bad resolution '%s' (use WIDTHxHEIGHT with even numbers from %d to %d, e.g. "
              "1920x1080)",
              str, VIDEO_SIDE_MIN, VIDEO_SIDE_MAX);
}

/* A duration from 0 (cuts) to VIDEO_TRANSITION_MAX. */
static void transition_field(struct wf_loader *L, struct video_settings *s,
                             const struct ydoc_node *n)
{
    const char *str = wfl_string(L, n, "transition");
    int64_t ms;
    if (!str)
        return;
    if (parse_duration_ms(str, &ms) < 0)
        wfl_error(L, n, "bad duration '%s' (use e.g. 0.5s, 500ms, or 0s for cuts)", str);
    else if (ms > VIDEO_TRANSITION_MAX)
        wfl_error(L, n, "'transition' of '%s' is too long (at most %d s)", str,
                  VIDEO_TRANSITION_MAX / 1000);
    else
        s->transition_ms = ms;
}

static void video_fields(struct wf_loader *L, struct video_settings *s, struct wf_stage_info *info,
                         const struct ydoc_node *st)
{
    const struct ydoc_node *v;
    long long x;
    s->fps = VIDEO_DEFAULT_FPS;
    s->crf = VIDEO_DEFAULT_CRF;
    s->motion = VIDEO_MOTION_NONE;
    s->clip_sound = VIDEO_CLIP_UNDER;
    if ((v = ydoc_get(st, "scenes")) &&
        wfl_array_path(L, v, "scenes", &s->scenes.text, &s->scenes.segs, &s->scenes.n_segs))
        info->foreach = v;
    if ((v = ydoc_get(st, "image")))
        s->image = wfl_template_field(L, v, "image", false);
    if ((v = ydoc_get(st, "audio")))
        s->audio = wfl_template_field(L, v, "audio", false);
    if ((v = ydoc_get(st, "caption")))
        s->caption = wfl_template_field(L, v, "caption", false);
    if ((v = ydoc_get(st, "clip")))
        s->clip = wfl_template_field(L, v, "clip", false);
    if ((v = ydoc_get(st, "clip_sound"))) {
        char *m = wfl_choice_field(L, v, "clip_sound", "clip_sound", clip_sounds,
                                   ARRAY_SIZE(clip_sounds));
        for (size_t i = 0; m && i < ARRAY_SIZE(clip_sounds); i++)
            if (strcmp(m, clip_sounds[i]) == 0)
                s->clip_sound = (enum video_clip_sound)i;
        free(m);
    }
    if ((v = ydoc_get(st, "subtitles"))) {
        s->subtitles = wfl_template_field(L, v, "subtitles", false);
        info->second_output = v;
    }
    if ((v = ydoc_get(st, "fps")) && wfl_int(L, v, "fps", 1, 120, &x))
        s->fps = (int)x;
    if ((v = ydoc_get(st, "resolution")))
        resolution_field(L, s, v);
    if ((v = ydoc_get(st, "motion"))) {
        char *m = wfl_choice_field(L, v, "motion", "motion", motions, ARRAY_SIZE(motions));
        if (m)
            s->motion = strcmp(m, "kenburns") == 0 ? VIDEO_MOTION_KENBURNS : VIDEO_MOTION_NONE;
        free(m);
    }
    if ((v = ydoc_get(st, "transition")))
        transition_field(L, s, v);
    if ((v = ydoc_get(st, "burn_subtitles")))
        wfl_bool(L, v, "burn_subtitles", &s->burn_subtitles);
    if ((v = ydoc_get(st, "crf")) && wfl_int(L, v, "crf", 0, 51, &x))
        s->crf = (int)x;
    if ((v = ydoc_get(st, "preset")))
        s->preset = wfl_choice_field(L, v, "preset", "preset", presets, ARRAY_SIZE(presets));
    if (!s->preset)
        s->preset = xstrdup("medium");
}

static void video_required(struct wf_loader *L, const struct stage_def *s,
                           const struct video_settings *vs, const struct ydoc_node *st,
                           const struct ydoc_node *key)
{
    if (!ydoc_get(st, "scenes"))
        wfl_error(L, key,
                  "stage '%s' has no 'scenes' (required for kind video: the list of scenes in "
                  "order, e.g. analysis.scenes)",
                  s->name);
    if (!ydoc_get(st, "image"))
        wfl_error(L, key,
                  "stage '%s' has no 'image' (required for kind video: each scene's image, e.g. "
                  "images/{{item.id}}.png)",
                  s->name);
    if (!ydoc_get(st, "audio"))
        wfl_error(L, key,
                  "stage '%s' has no 'audio' (required for kind video: each scene's narration, "
                  "e.g. audio/{{item.id}}.wav)",
                  s->name);
    const struct ydoc_node *subs = ydoc_get(st, "subtitles");
    if (subs && !ydoc_get(st, "caption"))
        wfl_error(L, subs,
                  "'subtitles' needs 'caption' (each scene's subtitle text, e.g. "
                  "\"{{item.narration}}\")");
    const struct ydoc_node *sound = ydoc_get(st, "clip_sound");
    if (sound && !ydoc_get(st, "clip"))
        wfl_error(L, sound,
                  "'clip_sound' needs 'clip' (each scene's video clip, e.g. "
                  "clips/{{item.id}}.mp4)");
    const struct ydoc_node *burn = ydoc_get(st, "burn_subtitles");
    if (burn && vs->burn_subtitles && !subs)
        wfl_error(L, burn, "'burn_subtitles' needs 'subtitles' (the .srt file to draw)");
}

/* A video stage needs the ffmpeg program: a diagnostic at `at` when it is not on PATH. */
static void video_needs_ffmpeg(struct wf_loader *L, const struct stage_def *s,
                               const struct ydoc_node *at)
{
    /* ffmpeg encodes; ffprobe checks each segment and clip before it counts (same package) */
    static const char *const programs[] = {"ffmpeg", "ffprobe"};
    for (size_t i = 0; i < ARRAY_SIZE(programs); i++) {
        char *path = child_find_program(programs[i]);
        if (!path) {
            wfl_error(L, at,
                      "stage '%s' runs FFmpeg, and '%s' is not installed (not found on PATH); "
                      "install the Debian package 'ffmpeg' (apt-get install ffmpeg)",
                      s->name, programs[i]);
            return;
        }
        free(path);
    }
}

void video_settings_parse(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                          const struct ydoc_node *st, const struct ydoc_node *key)
{
    struct video_settings *vs = xcalloc(1, sizeof *vs);
    s->k = vs;
    video_fields(L, vs, info, st);
    video_required(L, s, vs, st, key);
    video_needs_ffmpeg(L, s, ydoc_get(st, "kind"));
}

void video_settings_free(void *k)
{
    struct video_settings *vs = k;
    if (!vs)
        return;
    free(vs->scenes.text);
    for (size_t j = 0; j < vs->scenes.n_segs; j++)
        free(vs->scenes.segs[j]);
    free(vs->scenes.segs);
    tmpl_free(vs->image);
    tmpl_free(vs->audio);
    tmpl_free(vs->caption);
    tmpl_free(vs->subtitles);
    tmpl_free(vs->clip);
    free(vs->preset);
    free(vs);
}
