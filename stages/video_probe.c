/* video_probe: what a clip's first bytes say it is, and what ffprobe says about a clip or a
 * segment FFmpeg wrote (see video.h). */
#include "video.h"
#include "../runner/jsonutil.h"
#include "../runner/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AAC_FRAME_S (1024.0 / 48000.0)

const char *video_clip_container(const unsigned char *head, size_t n)
{
    /* ISO BMFF (MP4, MOV, M4V, 3GP) opens with a box whose type is one of these */
    static const char *const boxes[] = {"ftyp", "moov", "mdat", "free", "skip", "wide", "pnot"};
    static const unsigned char ebml[] = {0x1a, 0x45, 0xdf, 0xa3}; /* Matroska, WebM */
    if (n >= sizeof ebml && memcmp(head, ebml, sizeof ebml) == 0)
        return "matroska";
    for (size_t i = 0; n >= 8 && i < ARRAY_SIZE(boxes); i++)
        if (memcmp(head + 4, boxes[i], 4) == 0)
            return "mov";
    return NULL;
}

/* A number ffprobe prints as a string ("3.000000", "90"); `def` when absent or "N/A". */
static double num_field(const cJSON *o, const char *name, double def)
{
    const char *s = json_str(o, name);
    if (!s)
        return json_num(o, name, def);
    char *end;
    double d = strtod(s, &end);
    return end != s && *end == '\0' && isfinite(d) ? d : def;
}

static const cJSON *streams_of(const cJSON *j)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "streams");
    return cJSON_IsArray(s) ? s : NULL;
}

int video_clip_facts(const char *probe_json, struct video_clip *c, struct gf_err *err)
{
    cJSON *j = cJSON_Parse(probe_json);
    const cJSON *streams = streams_of(j), *s, *video = NULL;
    int rc = -1;
    c->has_audio = false;
    if (!streams) {
        gf_error(err, GF_ERR_INPUT, "ffprobe did not describe it");
        goto out;
    }
    cJSON_ArrayForEach(s, streams)
    {
        const char *type = json_str(s, "codec_type");
        if (type && !strcmp(type, "video") && !video)
            video = s;
        else if (type && !strcmp(type, "audio"))
            c->has_audio = true;
    }
    if (!video) {
        gf_error(err, GF_ERR_INPUT, "it has no video stream");
        goto out;
    }
    c->width = (int)json_num(video, "width", 0);
    c->height = (int)json_num(video, "height", 0);
    double d = num_field(video, "duration", -1);
    if (d <= 0)
        d = num_field(json_field(j, "format"), "duration", -1);
    if (c->width <= 0 || c->height <= 0) {
        gf_error(err, GF_ERR_INPUT, "its video stream has no picture size");
        goto out;
    }
    if (d <= 0 || llround(d * 1000) <= 0) {
        gf_error(err, GF_ERR_INPUT, "it has no duration");
        goto out;
    }
    c->duration_ms = llround(d * 1000);
    rc = 0;
out:
    cJSON_Delete(j);
    return rc;
}

static int check_picture(const cJSON *j, const cJSON *s, const struct video_spec *v,
                         const struct video_segment *seg, struct gf_err *err)
{
    const char *codec = json_str(s, "codec_name"), *pix = json_str(s, "pix_fmt");
    const char *rate = json_str(s, "avg_frame_rate");
    const cJSON *pkts = cJSON_GetObjectItemCaseSensitive(j, "packets");
    const char *flags = json_str(cJSON_GetArrayItem(pkts, 0), "flags");
    char want_rate[32];
    snprintf(want_rate, sizeof want_rate, "%d/1", v->fps);
    int64_t frames = (int64_t)num_field(s, "nb_frames", -1);
    int w = (int)json_num(s, "width", 0), h = (int)json_num(s, "height", 0);
    if (!codec || strcmp(codec, "h264") != 0 || !pix || strcmp(pix, "yuv420p") != 0 ||
        w != v->width || h != v->height)
        return gf_error(err, GF_ERR_INPUT, "it holds %s %s at %dx%d, not h264 yuv420p at %dx%d",
                        codec ? codec : "?", pix ? pix : "?", w, h, v->width, v->height);
    if (!rate || strcmp(rate, want_rate) != 0)
        return gf_error(err, GF_ERR_INPUT, "its frame rate is %s, not %s", rate ? rate : "?",
                        want_rate);
    if (frames != seg->frames)
        return gf_error(err, GF_ERR_INPUT, "it holds %lld frames, not %lld", (long long)frames,
                        (long long)seg->frames);
    if (!flags || flags[0] != 'K')
        return gf_error(err, GF_ERR_INPUT, "it does not start on a keyframe");
    return 0;
}

static int check_sound(const cJSON *j, const cJSON *s, const struct video_spec *v,
                       const struct video_timeline *t, struct gf_err *err)
{
    const char *codec = json_str(s, "codec_name");
    int rate = (int)num_field(s, "sample_rate", 0), channels = (int)json_num(s, "channels", 0);
    double d = num_field(s, "duration", -1);
    if (d <= 0)
        d = num_field(json_field(j, "format"), "duration", -1);
    if (!codec || strcmp(codec, "aac") != 0 || rate != 48000 || channels != 1)
        return gf_error(err, GF_ERR_INPUT,
                        "it holds %s at %d Hz, %d channels, not aac mono at "
                        "48000 Hz",
                        codec ? codec : "?", rate, channels);
    /* the narrations' length, which the frames round to within half a frame */
    if (fabs(d - t->total_s) > 1.0 / v->fps + 2 * AAC_FRAME_S)
        return gf_error(err, GF_ERR_INPUT, "it lasts %.3f s, not %.3f s", d, t->total_s);
    return 0;
}

int video_segment_check(const char *probe_json, const struct video_spec *v,
                        const struct video_timeline *t, const struct video_segment *seg,
                        struct gf_err *err)
{
    cJSON *j = cJSON_Parse(probe_json);
    const cJSON *streams = streams_of(j);
    const char *want = seg->kind == VIDEO_SEG_SOUND ? "audio" : "video";
    int rc = -1;
    if (!streams) {
        gf_error(err, GF_ERR_INPUT, "ffprobe did not describe it");
    } else if (cJSON_GetArraySize(streams) != 1) {
        gf_error(err, GF_ERR_INPUT, "it holds %d streams, not one", cJSON_GetArraySize(streams));
    } else {
        const cJSON *s = cJSON_GetArrayItem(streams, 0);
        const char *type = json_str(s, "codec_type");
        if (!type || strcmp(type, want) != 0)
            gf_error(err, GF_ERR_INPUT, "its stream is %s, not %s", type ? type : "?", want);
        else if (seg->kind == VIDEO_SEG_SOUND)
            rc = check_sound(j, s, v, t, err);
        else
            rc = check_picture(j, s, v, seg, err);
    }
    cJSON_Delete(j);
    return rc;
}
