/* video: the local stage kind that assembles scenes (a still image shown for exactly as long as
 * its narration WAV lasts) into an MP4 with FFmpeg, plus an .srt of the captions. No scheduling
 * and no processes here: this module turns the item's facts into its canonical request (the
 * spec, whose SHA-256 is the item's key), the spec into a timeline, the .srt text and FFmpeg's
 * argument vector, and reads FFmpeg's progress lines and the MP4 it wrote.
 *
 * The timeline (all times in seconds; D_k = frames_k / sample_rate_k of scene k's narration,
 * T = the transition, n scenes):
 *   scene k starts at S_k = D_0 + ... + D_(k-1) - k*T and lasts D_k; consecutive scenes overlap
 *   by T (picture: xfade, narration: acrossfade), so the video lasts D_0 + ... + D_(n-1) - (n-1)*T.
 *   Pictures are cut at whole frames (frame of S_k rounded to the nearest), so no scene drifts
 *   by more than half a frame. The caption of scene k is shown from the middle of the
 *   crossfade into it to the middle of the crossfade out of it (from S_k to S_(k+1) without
 *   transitions). */
#ifndef GF_VIDEO_H
#define GF_VIDEO_H

#include "../runner/buf.h"
#include "../runner/err.h"
#include "../runner/sha256.h"
#include "../runner/workflow.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#define VIDEO_GRAPH_VERSION 1 /* bump when the filter graph changes what is encoded */

/* One scene as the request records it. */
struct video_scene {
    char *id;
    char *image; /* path relative to the job directory */
    char image_sha256[SHA256_HEX_LEN + 1];
    int width, height;    /* of the image */
    char image_format[8]; /* "png", "jpeg" or "webp": from its bytes (FFmpeg's decoder) */
    char *audio;
    char audio_sha256[SHA256_HEX_LEN + 1];
    int sample_rate;
    int64_t frames; /* audio frames: the scene lasts frames / sample_rate seconds */
    char *caption;  /* NULL without subtitles */
};

/* Everything an encode depends on; its JSON form is the item's request. */
struct video_spec {
    char *ffmpeg;    /* FFmpeg's major version, e.g. "5" */
    char *output;    /* the .mp4, relative to the job directory */
    char *subtitles; /* the .srt, or NULL */
    int fps, width, height;
    enum video_motion motion;
    int64_t transition_ms;
    bool burn_subtitles;
    int crf;
    char *preset;
    struct video_scene *scenes;
    size_t n_scenes;
};

void video_spec_release(struct video_spec *v);
/* The canonical request (caller deletes). */
cJSON *video_spec_json(const struct video_spec *v);
/* Read a request back (the item's body). */
int video_spec_from_json(const cJSON *j, struct video_spec *v, struct gf_err *err);

/* The output size for images of w x h: the nearest common aspect ratio (1:1, 16:9, 9:16, 4:3,
 * 3:4, 3:2, 2:3, 4:5, 5:4, 21:9, 1:4, 4:1, 1:8, 8:1) when within 3 %, else the image's own;
 * short side 1080 (16:9 -> 1920x1080), long side at most 3840, both even. */
void video_default_size(int w, int h, int *out_w, int *out_h);

struct video_timeline {
    size_t n;
    int64_t *start_frame; /* first frame of scene k in the output */
    int64_t *frames;      /* frames of scene k's picture, crossfades included */
    int64_t fade_frames;  /* frames of each crossfade (0: cuts) */
    double *cue_start, *cue_end;
    double total_s; /* the narration's length: the video's duration */
    int64_t total_frames;
};

/* Lay the scenes out. Fails (GF_ERR_INPUT) when a scene is too short for its transitions. */
int video_timeline(const struct video_spec *v, struct video_timeline *t, struct gf_err *err);
void video_timeline_release(struct video_timeline *t);

/* The .srt of the captions on the timeline; scenes with an empty caption get no cue. A caption
 * is made cue text by srt_cue_text (srttext.h): it can add no cue or timing. Returns the
 * number of cues. */
int video_srt(const struct video_spec *v, const struct video_timeline *t, struct buf *out);

/* FFmpeg's argument vector (NULL-terminated; free with video_argv_free) to run in the job
 * directory: inputs and output as "file:" URLs (a path never reads as an option or protocol),
 * `tmp_out` the file to write, `burn_srt` the .srt to draw (NULL: none). */
char **video_ffmpeg_argv(const char *ffmpeg, const struct video_spec *v,
                         const struct video_timeline *t, const char *tmp_out, const char *burn_srt);
void video_argv_free(char **argv);

/* FFmpeg's `-progress` output, one key=value line at a time. */
struct video_progress {
    int64_t out_time_us; /* -1 until known */
    double speed;        /* 0 until known */
    bool end;            /* progress=end seen */
};
/* Feed one line; true when it closes a block (a "progress=" line). */
bool video_progress_line(struct video_progress *p, const char *line);

/* FFmpeg's version from `ffmpeg -version` output: the major number ("5"), or the whole version
 * word for builds without one (caller frees); NULL when it does not read like FFmpeg. */
char *video_ffmpeg_major(const char *version_output);

/* The facts of an MP4 file, read from its boxes. */
struct mp4_facts {
    double duration_s; /* moov/mvhd */
    int tracks;
    bool faststart; /* moov before mdat */
};
int video_mp4_check(const char *path, struct mp4_facts *f, struct gf_err *err);

#endif
