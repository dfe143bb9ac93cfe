/* video_settings: the settings of a `kind: video` stage (scenes, per-scene templates,
 * subtitles, scene clips and the encoding settings). The video kind owns them: its parse
 * (video_settings_parse) makes them into stage_def.k, its release frees them; everything else
 * reads them through video_settings(). */
#ifndef GF_VIDEO_SETTINGS_H
#define GF_VIDEO_SETTINGS_H

#include "../runner/template.h"
#include "../runner/workflow.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct stage_def;
struct wf_loader;
struct wf_stage_info;
struct ydoc_node;

/* How each scene's still image moves. */
enum video_motion {
    VIDEO_MOTION_NONE,     /* the image stands still */
    VIDEO_MOTION_KENBURNS, /* a slow zoom, in and out on alternate scenes */
};

/* What becomes of a scene clip's own sound (applied at assembly, never in the clip). */
enum video_clip_sound {
    VIDEO_CLIP_MUTE,  /* dropped */
    VIDEO_CLIP_UNDER, /* mixed under the narration, 18 dB down (the default) */
    VIDEO_CLIP_KEEP,  /* mixed at its own level */
};

struct video_settings {
    /* `scenes` ("STAGE.path.to.array", like foreach) gives the scenes in order; the per-scene
     * templates (image, audio, caption, clip) see each element as {{item}} (resolved by the
     * workflow checks through the kind's `elements`). */
    struct stage_elements scenes;
    struct tmpl *image;     /* per scene: path of its image (PNG); required */
    struct tmpl *audio;     /* per scene: path of its narration (WAV); required */
    struct tmpl *caption;   /* per scene: its subtitle text; required with subtitles */
    struct tmpl *subtitles; /* path of the .srt written beside the video; NULL = none */
    int fps;                /* frames per second; default 30 */
    int width, height;      /* output size; 0 = from the first image's aspect ratio */
    enum video_motion motion;
    int64_t transition_ms; /* crossfade between scenes; 0 = cut */
    bool burn_subtitles;   /* also draw the subtitles into the picture */
    int crf;               /* libx264 constant rate factor; default 20 */
    char *preset;          /* libx264 preset; default "medium" */
    /* scene clips: a scene whose clip file exists shows it instead of its image */
    struct tmpl *clip;                /* per scene: path of its video clip; NULL = none */
    enum video_clip_sound clip_sound; /* default VIDEO_CLIP_UNDER */
};

/* The settings of a video stage; NULL for a stage of another kind (or one whose kind failed
 * to parse). Borrowed: the stage owns them. */
const struct video_settings *video_settings(const struct stage_def *s);
/* The same, to change: only the workflow loader does (it resolves scenes_stage). */
struct video_settings *video_settings_edit(struct stage_def *s);

/* The video kind's parse: the keys of stage mapping `st` into a new struct video_settings in
 * s->k, with their defaults, the missing required keys (at `key`) and the check that FFmpeg is
 * installed; every problem a diagnostic (wfl_error). */
void video_settings_parse(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                          const struct ydoc_node *st, const struct ydoc_node *key);
/* The video kind's release: frees what video_settings_parse made (NULL is a no-op). */
void video_settings_free(void *k);

/* The video kind's `expand` (video_expand.c): the stage's single item over the scenes. */
struct job;
struct gf_err;
int expand_video_stage(struct job *job, size_t s, struct gf_err *err);

#endif
