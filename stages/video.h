/* video: the local stage kind that assembles scenes (a still image, or a video clip, shown for
 * exactly as long as its narration WAV lasts) into an MP4 with FFmpeg, plus an .srt of the
 * captions. No scheduling and no processes here: this module turns the item's facts into its
 * canonical request (the spec, whose SHA-256 is the item's key), the spec into a timeline, the
 * timeline into segments (each encoded on its own and cached under a key of what makes its
 * bytes), the .srt text and FFmpeg's argument vectors, and reads FFmpeg's progress lines, what
 * ffprobe says about a clip or a segment, and the MP4 the join wrote.
 *
 * The timeline (all times in seconds; D_k = frames_k / sample_rate_k of scene k's narration,
 * T = the transition, n scenes):
 *   scene k starts at S_k = D_0 + ... + D_(k-1) - k*T and lasts D_k; consecutive scenes overlap
 *   by T (picture: xfade, narration: acrossfade), so the video lasts D_0 + ... + D_(n-1) - (n-1)*T.
 *   Pictures are cut at whole frames (frame of S_k rounded to the nearest), so no scene drifts
 *   by more than half a frame. The caption of scene k is shown from the middle of the
 *   crossfade into it to the middle of the crossfade out of it (from S_k to S_(k+1) without
 *   transitions).
 *
 * The segments, in the order of the video: scene 0's picture up to the first crossfade, the
 * crossfade from scene 0 into scene 1, scene 1's picture between its crossfades, ..., the last
 * scene's picture to the end (with cuts: one segment per scene). Each is its own H.264 stream
 * with the same encoder settings, starting on a keyframe, so the concat demuxer joins them
 * without re-encoding. The sound track (narrations crossfaded, clips' sound mixed in) is one
 * more segment over the whole timeline. A segment's picture depends only on its own scenes'
 * pictures and frame counts, never on where it sits in the video: a changed image re-encodes
 * its scene and the crossfades on either side of it, nothing else.
 *
 * A scene clip: its frame i (at the output rate) shows the clip at i / fps seconds; a clip
 * shorter than its scene holds its last frame, a longer one is cut where the scene ends. It is
 * scaled to fit the frame and padded (never cropped: a clip is framed by whoever shot it). */
#ifndef GF_VIDEO_H
#define GF_VIDEO_H

#include "../runner/buf.h"
#include "../runner/err.h"
#include "../runner/sha256.h"
#include "../runner/workflow.h"
#include "video_settings.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#define VIDEO_GRAPH_VERSION   1     /* bump when the filter graph changes what is encoded */
#define VIDEO_SEGMENT_VERSION 1     /* bump when a segment's graph or settings change its bytes */
#define VIDEO_CLIP_UNDER_DB   (-18) /* clip_sound: under: the clip's sound this far down */

/* A scene's video clip as the request records it. */
struct video_clip {
    char *path;   /* relative to the job directory; NULL: the stage names no clip */
    bool missing; /* no file there: the scene shows its image */
    char sha256[SHA256_HEX_LEN + 1];
    char format[12]; /* the FFmpeg demuxer it is read with: "mov" (MP4, MOV) or "matroska" */
    int64_t duration_ms;
    int width, height;
    bool has_audio;
};

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
    struct video_clip clip;
};

/* Whether the scene shows its clip (the stage names one and the file is there). */
bool video_scene_shows_clip(const struct video_scene *s);

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
    enum video_clip_sound clip_sound;
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
/* The cues showing between frames `from` and `from + frames` of the video, cut to that window
 * and timed from its start (for drawing them into one segment). Returns the number of cues. */
int video_srt_window(const struct video_spec *v, const struct video_timeline *t, int64_t from,
                     int64_t frames, struct buf *out);

/* --- segments (video_segment.c) ------------------------------------------------------------ */

enum video_seg_kind {
    VIDEO_SEG_SCENE, /* a scene's picture between its crossfades */
    VIDEO_SEG_FADE,  /* the crossfade from scene k-1 into scene k */
    VIDEO_SEG_SOUND, /* the sound track of the whole video */
};

/* A part of the video encoded on its own. */
struct video_segment {
    enum video_seg_kind kind;
    size_t scene;        /* SCENE: the scene; FADE: the scene faded into; SOUND: 0 */
    int64_t start_frame; /* its first frame in the video */
    int64_t frames;      /* SOUND: the video's */
    int64_t from;        /* SCENE: its first frame within the scene's picture */
    char *name;          /* for people: "s02", "s01>s02", "sound" */
    char *srt;           /* burn_subtitles: the cues over it (video_srt_window); else NULL */
    char key[SHA256_HEX_LEN + 1];
};

struct video_plan {
    struct video_segment *segs; /* the pictures in the order of the video, then the sound */
    size_t n;
};

/* Cut the timeline into segments and key each one: SHA-256 of a JSON document of everything
 * that determines its bytes (segment version, `encoder` = FFmpeg's full version, the encoder
 * settings, its frames, and per picture layer the image's or clip's sha256, its motion and
 * frame window; for the sound every narration, the crossfade, clip_sound and the clips whose
 * sound is mixed). Fails (GF_ERR_INPUT) when a scene is too short for its crossfades. */
int video_plan(const struct video_spec *v, const struct video_timeline *t, const char *encoder,
               struct video_plan *p, struct gf_err *err);
void video_plan_release(struct video_plan *p);
/* The canonical JSON a segment's key is the SHA-256 of (caller frees). */
char *video_segment_key_text(const struct video_spec *v, const struct video_timeline *t,
                             const char *encoder, const struct video_segment *seg);
/* "mp4" for a picture, "m4a" for the sound. */
const char *video_segment_ext(const struct video_segment *seg);

/* FFmpeg's argument vectors (NULL-terminated; free with video_argv_free), run in the job
 * directory, every input and output a "file:" URL (a path never reads as an option or a
 * protocol), images and clips read with a forced demuxer (their bytes choose nothing else).
 *
 * One segment into `tmp_out`: a picture is H.264 alone (libx264 single-threaded, so its bytes
 * follow from its key; the segments run side by side instead), the sound AAC alone. `srt_file`
 * holds seg->srt for the subtitles filter (NULL: none). */
char **video_segment_argv(const char *ffmpeg, const struct video_spec *v,
                          const struct video_timeline *t, const struct video_segment *seg,
                          const char *tmp_out, const char *srt_file);
/* The join: the concat demuxer over `list` (see video_concat_list) and the sound `sound`,
 * copied into one MP4 with +faststart, nothing re-encoded. */
char **video_join_argv(const char *ffmpeg, const char *list, const char *sound,
                       const char *tmp_out);
/* The concat demuxer's list of the picture segments, named "<key>.mp4" (relative to the
 * directory the list is in), each with its exact duration (frames / fps): the demuxer would
 * otherwise take the MP4's, rounded to milliseconds, and the joined frames would drift off the
 * 1/fps grid (an average frame rate of 29.997). */
char *video_concat_list(const struct video_plan *p, int fps);
/* ffprobe of a file written by a segment encode, read as `format`: streams, first packet and
 * duration as JSON on stdout. */
char **video_probe_argv(const char *ffprobe, const char *format, const char *file);
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

/* FFmpeg's whole version word ("5.1.9-0+deb12u1", caller frees), or NULL. */
char *video_ffmpeg_version(const char *version_output);

/* --- ffprobe (video_probe.c) --------------------------------------------------------------- */

/* The demuxer for a clip from its first bytes: "mov" (ISO BMFF: MP4, MOV, M4V), "matroska"
 * (Matroska, WebM), or NULL for anything else (playlists and other formats that can open
 * further files are never read). */
const char *video_clip_container(const unsigned char *head, size_t n);
/* A clip's facts from `ffprobe -of json` output: it needs a video stream with a size and a
 * duration (the video stream's, else the file's). -1 with err (the reason, without the
 * file's name) when it has none. */
int video_clip_facts(const char *probe_json, struct video_clip *c, struct gf_err *err);
/* Whether what ffprobe saw in a segment's file (video_probe_argv) is that segment: a picture
 * is one H.264 stream of the output size, yuv420p, the output rate and exactly its frames,
 * starting on a keyframe; the sound one AAC stream, 48 kHz mono, as long as the video within
 * a frame and an AAC frame. -1 with err saying what differs. */
int video_segment_check(const char *probe_json, const struct video_spec *v,
                        const struct video_timeline *t, const struct video_segment *seg,
                        struct gf_err *err);

/* The facts of an MP4 file, read from its boxes. */
struct mp4_facts {
    double duration_s; /* moov/mvhd */
    int tracks;
    bool faststart; /* moov before mdat */
};
int video_mp4_check(const char *path, struct mp4_facts *f, struct gf_err *err);

#endif
