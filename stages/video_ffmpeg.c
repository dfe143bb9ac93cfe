/* video_ffmpeg: FFmpeg's side of the video stage: the argument vectors and filter graphs of a
 * segment, the sound track and the join, ffprobe's, FFmpeg's `-progress` lines, its version,
 * and a look at the MP4 the join wrote (see video.h). */
#include "video.h"
#include "../runner/util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZOOM 0.12 /* kenburns: how far a scene zooms in (or out) */

struct argv_vec {
    char **v;
    size_t n, cap;
};

static void arg(struct argv_vec *a, const char *s)
{
    *VEC_PUSH(a->v, a->n, a->cap) = xstrdup(s);
}

static void argf(struct argv_vec *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void argf(struct argv_vec *a, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    *VEC_PUSH(a->v, a->n, a->cap) = buf_detach(&b, NULL);
}

/* A value for a filter option inside a filter graph: escaped for the option parser, then for
 * the graph parser. */
static void add_filter_value(struct buf *g, const char *s)
{
    struct buf opt = BUF_INIT;
    for (const char *p = s; *p; p++) {
        if (strchr("\\':", *p))
            buf_addc(&opt, '\\');
        buf_addc(&opt, *p);
    }
    for (const char *p = opt.data; *p; p++) {
        if (strchr("\\'[],;", *p))
            buf_addc(g, '\\');
        buf_addc(g, *p);
    }
    buf_release(&opt);
}

/* The options every run starts with: no prompt, no banner, progress as key=value lines. */
static void add_head(struct argv_vec *a, const char *ffmpeg, bool progress)
{
    arg(a, ffmpeg);
    const char *head[] = {"-hide_banner", "-nostdin", "-loglevel", "warning", "-nostats"};
    for (size_t i = 0; i < ARRAY_SIZE(head); i++)
        arg(a, head[i]);
    if (progress) {
        arg(a, "-progress");
        arg(a, "pipe:1");
    }
    arg(a, "-y");
}

/* Scene k's picture as input `in`: a still decoded as what its bytes are whatever the name
 * says (no %d patterns), read at the output rate (a crossfade takes two inputs of one rate,
 * and a clip's layer is at the output rate), a clip with the demuxer its bytes were found to
 * need. */
static void add_picture_input(struct argv_vec *a, const struct video_spec *v,
                              const struct video_scene *s)
{
    if (video_scene_shows_clip(s)) {
        arg(a, "-f");
        arg(a, s->clip.format);
        arg(a, "-i");
        argf(a, "file:%s", s->clip.path);
        return;
    }
    const char *fmt = s->image_format;
    const char *codec = !strcmp(fmt, "jpeg") ? "mjpeg" : !strcmp(fmt, "webp") ? "webp" : "png";
    const char *in[] = {"-f", "image2", "-pattern_type", "none", "-c:v", codec, "-framerate"};
    for (size_t i = 0; i < ARRAY_SIZE(in); i++)
        arg(a, in[i]);
    argf(a, "%d", v->fps);
    arg(a, "-i");
    argf(a, "file:%s", s->image);
}

/* Frames from..from+n-1 of scene k's picture, from input `in`, as [label]. Frame i of a
 * picture is at i/fps exactly: a time base of 1/fps, so no rate conversion drops or doubles
 * one. */
static void add_layer(struct buf *g, const struct video_spec *v, const struct video_timeline *t,
                      size_t in, size_t k, int64_t from, int64_t n, const char *label)
{
    int w = v->width, h = v->height, fps = v->fps;
    if (video_scene_shows_clip(&v->scenes[k])) {
        /* at the output rate from its first frame, fitted and padded, its last frame held for
         * as long as the scene outlasts it, the window cut out */
        buf_addf(g,
                 "[%zu:v:0]setpts=PTS-STARTPTS,fps=%d,scale=%d:%d:force_original_aspect_ratio="
                 "decrease:force_divisible_by=2,pad=%d:%d:(ow-iw)/2:(oh-ih)/2,setsar=1,"
                 "tpad=stop=-1:stop_mode=clone,trim=start_frame=%lld:end_frame=%lld,",
                 in, fps, w, h, w, h, (long long)from, (long long)(from + n));
    } else if (v->motion == VIDEO_MOTION_KENBURNS) {
        /* zoompan crops whole pixels: work at twice the size so the motion does not judder;
         * even scenes zoom in from 1 to 1+ZOOM over the scene's frames, odd ones out */
        int64_t last = t->frames[k] > 1 ? t->frames[k] - 1 : 1;
        char zoom[16];
        snprintf(zoom, sizeof zoom, "%g%c", k % 2 ? 1 + ZOOM : 1, k % 2 ? '-' : '+');
        buf_addf(g,
                 "[%zu:v]scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d,setsar=1,"
                 "zoompan=z='%s%g*(on+%lld)/%lld':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=%lld:"
                 "s=%dx%d:fps=%d,",
                 in, 2 * w, 2 * h, 2 * w, 2 * h, zoom, ZOOM, (long long)from, (long long)last,
                 (long long)n, w, h, fps);
    } else {
        buf_addf(g,
                 "[%zu:v]scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d,"
                 "loop=loop=%lld:size=1:start=0,",
                 in, w, h, w, h, (long long)(n - 1));
    }
    buf_addf(g, "setsar=1,format=yuv420p,settb=1/%d,setpts=N[%s];", fps, label);
}

static char *picture_graph(const struct video_spec *v, const struct video_timeline *t,
                           const struct video_segment *seg, const char *srt_file)
{
    struct buf g = BUF_INIT;
    if (seg->kind == VIDEO_SEG_FADE) {
        size_t k = seg->scene;
        add_layer(&g, v, t, 0, k - 1, t->frames[k - 1] - t->fade_frames, seg->frames, "a");
        add_layer(&g, v, t, 1, k, 0, seg->frames, "b");
        buf_addf(&g, "[a][b]xfade=transition=fade:duration=%.6f:offset=0,settb=1/%d,setpts=N[vc];",
                 (double)seg->frames / v->fps, v->fps);
    } else {
        add_layer(&g, v, t, 0, seg->scene, seg->from, seg->frames, "vc");
    }
    buf_adds(&g, "[vc]");
    if (srt_file) {
        buf_adds(&g, "subtitles=filename=");
        add_filter_value(&g, srt_file);
        buf_adds(&g, ",");
    }
    buf_adds(&g, "null[vout]");
    return buf_detach(&g, NULL);
}

static void add_picture_segment(struct argv_vec *a, const struct video_spec *v,
                                const struct video_timeline *t, const struct video_segment *seg,
                                const char *srt_file)
{
    if (seg->kind == VIDEO_SEG_FADE)
        add_picture_input(a, v, &v->scenes[seg->scene - 1]);
    add_picture_input(a, v, &v->scenes[seg->scene]);
    char *graph = picture_graph(v, t, seg, srt_file);
    /* one thread per filter graph and encoder: the segments run side by side */
    arg(a, "-filter_complex_threads");
    arg(a, "1");
    arg(a, "-filter_complex");
    arg(a, graph);
    free(graph);
    const char *out[] = {"-map", "[vout]", "-an", "-c:v", "libx264", "-threads", "1", "-preset"};
    for (size_t i = 0; i < ARRAY_SIZE(out); i++)
        arg(a, out[i]);
    arg(a, v->preset);
    arg(a, "-crf");
    argf(a, "%d", v->crf);
    arg(a, "-pix_fmt");
    arg(a, "yuv420p");
    arg(a, "-r");
    argf(a, "%d", v->fps);
    arg(a, "-frames:v");
    argf(a, "%lld", (long long)seg->frames);
}

/* Scene k's clip sound as [label]: from its start for as long as the scene's picture, faded
 * in and out over the crossfades (or 20 ms at a cut, against clicks), at its level, placed
 * where the scene starts. */
static void add_clip_sound(struct buf *g, const struct video_spec *v,
                           const struct video_timeline *t, size_t in, size_t k, const char *label)
{
    size_t n = v->n_scenes;
    double fade = t->fade_frames > 0 ? (double)t->fade_frames / v->fps : 0.02;
    double len = (double)t->frames[k] / v->fps;
    double fade_in = k > 0 ? fade : 0.02, fade_out = k + 1 < n ? fade : 0.02;
    buf_addf(g,
             "[%zu:a:0]asetpts=PTS-STARTPTS,aresample=48000,aformat=sample_fmts=fltp:"
             "channel_layouts=mono,atrim=end_sample=%lld,",
             in, (long long)(t->frames[k] * 48000 / v->fps));
    if (v->clip_sound == VIDEO_CLIP_UNDER)
        buf_addf(g, "volume=%ddB,", VIDEO_CLIP_UNDER_DB);
    buf_addf(g, "afade=t=in:d=%.6f,afade=t=out:st=%.6f:d=%.6f,adelay=delays=%lldS:all=1[%s];",
             fade_in, len - fade_out > 0 ? len - fade_out : 0, fade_out,
             (long long)(t->start_frame[k] * 48000 / v->fps), label);
}

static bool mixes_clip_sound(const struct video_spec *v, size_t k)
{
    const struct video_scene *s = &v->scenes[k];
    return video_scene_shows_clip(s) && s->clip.has_audio && v->clip_sound != VIDEO_CLIP_MUTE;
}

/* The narrations joined as the timeline says (crossfaded or cut), the clips' sound mixed in. */
static char *sound_graph(const struct video_spec *v, const struct video_timeline *t)
{
    struct buf g = BUF_INIT;
    size_t n = v->n_scenes, clips = 0, in = n;
    for (size_t k = 0; k < n; k++)
        buf_addf(&g, "[%zu:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=mono[a%zu];",
                 k, k);
    if (n == 1) {
        buf_adds(&g, "[a0]anull[narr];");
    } else if (t->fade_frames > 0) {
        double T = (double)v->transition_ms / 1000.0;
        char from[32], to[32];
        for (size_t k = 1; k < n; k++) {
            snprintf(from, sizeof from, "%s%zu", k == 1 ? "a" : "x", k - 1);
            if (k + 1 == n)
                snprintf(to, sizeof to, "narr");
            else
                snprintf(to, sizeof to, "x%zu", k);
            buf_addf(&g, "[%s][a%zu]acrossfade=d=%.6f[%s];", from, k, T, to);
        }
    } else {
        for (size_t k = 0; k < n; k++)
            buf_addf(&g, "[a%zu]", k);
        buf_addf(&g, "concat=n=%zu:v=0:a=1[narr];", n);
    }
    for (size_t k = 0; k < n; k++) {
        if (!mixes_clip_sound(v, k))
            continue;
        char label[32];
        snprintf(label, sizeof label, "c%zu", clips++);
        add_clip_sound(&g, v, t, in++, k, label);
    }
    if (!clips) {
        buf_adds(&g, "[narr]anull[aout]");
    } else {
        /* the narration sets the length; no rescaling: each input keeps its own level */
        buf_adds(&g, "[narr]");
        for (size_t c = 0; c < clips; c++)
            buf_addf(&g, "[c%zu]", c);
        buf_addf(&g, "amix=inputs=%zu:duration=first:normalize=0[aout]", clips + 1);
    }
    return buf_detach(&g, NULL);
}

static void add_sound_segment(struct argv_vec *a, const struct video_spec *v,
                              const struct video_timeline *t)
{
    for (size_t k = 0; k < v->n_scenes; k++) {
        arg(a, "-f");
        arg(a, "wav");
        arg(a, "-i");
        argf(a, "file:%s", v->scenes[k].audio);
    }
    for (size_t k = 0; k < v->n_scenes; k++) {
        if (!mixes_clip_sound(v, k))
            continue;
        arg(a, "-f");
        arg(a, v->scenes[k].clip.format);
        arg(a, "-i");
        argf(a, "file:%s", v->scenes[k].clip.path);
    }
    char *graph = sound_graph(v, t);
    arg(a, "-filter_complex");
    arg(a, graph);
    free(graph);
    const char *out[] = {"-map", "[aout]", "-vn",   "-c:a", "aac", "-b:a",
                         "128k", "-ar",    "48000", "-ac",  "1"};
    for (size_t i = 0; i < ARRAY_SIZE(out); i++)
        arg(a, out[i]);
}

char **video_segment_argv(const char *ffmpeg, const struct video_spec *v,
                          const struct video_timeline *t, const struct video_segment *seg,
                          const char *tmp_out, const char *srt_file)
{
    struct argv_vec a = {0};
    add_head(&a, ffmpeg, true);
    if (seg->kind == VIDEO_SEG_SOUND)
        add_sound_segment(&a, v, t);
    else
        add_picture_segment(&a, v, t, seg, srt_file);
    arg(&a, "-f");
    arg(&a, "mp4");
    argf(&a, "file:%s", tmp_out);
    *VEC_PUSH(a.v, a.n, a.cap) = NULL;
    return a.v;
}

char **video_join_argv(const char *ffmpeg, const char *list, const char *sound, const char *tmp_out)
{
    struct argv_vec a = {0};
    add_head(&a, ffmpeg, false);
    const char *in[] = {"-f", "concat", "-i"};
    for (size_t i = 0; i < ARRAY_SIZE(in); i++)
        arg(&a, in[i]);
    argf(&a, "file:%s", list);
    arg(&a, "-f");
    arg(&a, "mov");
    arg(&a, "-i");
    argf(&a, "file:%s", sound);
    const char *out[] = {"-map", "0:v:0",     "-map",       "1:a:0", "-c",
                         "copy", "-movflags", "+faststart", "-f",    "mp4"};
    for (size_t i = 0; i < ARRAY_SIZE(out); i++)
        arg(&a, out[i]);
    argf(&a, "file:%s", tmp_out);
    *VEC_PUSH(a.v, a.n, a.cap) = NULL;
    return a.v;
}

char *video_concat_list(const struct video_plan *p, int fps)
{
    /* names are hexadecimal keys: nothing to quote, and safe for the demuxer's safe mode */
    struct buf b = BUF_INIT;
    buf_adds(&b, "ffconcat version 1.0\n");
    for (size_t i = 0; i < p->n; i++)
        if (p->segs[i].kind != VIDEO_SEG_SOUND)
            buf_addf(&b, "file %s.%s\nduration %.6f\n", p->segs[i].key,
                     video_segment_ext(&p->segs[i]), (double)p->segs[i].frames / fps);
    return buf_detach(&b, NULL);
}

char **video_probe_argv(const char *ffprobe, const char *format, const char *file)
{
    struct argv_vec a = {0};
    const char *head[] = {"-hide_banner", "-v", "error", "-f"};
    arg(&a, ffprobe);
    for (size_t i = 0; i < ARRAY_SIZE(head); i++)
        arg(&a, head[i]);
    arg(&a, format);
    static const char entries[] = "stream=codec_type,codec_name,width,height,pix_fmt,"
                                  "avg_frame_rate,nb_frames,sample_rate,channels,duration"
                                  ":format=duration:packet=flags";
    const char *show[] = {"-show_entries", entries, "-read_intervals", "%+#1", "-of", "json"};
    for (size_t i = 0; i < ARRAY_SIZE(show); i++)
        arg(&a, show[i]);
    argf(&a, "file:%s", file);
    *VEC_PUSH(a.v, a.n, a.cap) = NULL;
    return a.v;
}

void video_argv_free(char **argv)
{
    for (char **p = argv; p && *p; p++)
        free(*p);
    free(argv);
}

/* --- progress and version ------------------------------------------------------------------ */

bool video_progress_line(struct video_progress *p, const char *line)
{
    const char *eq = strchr(line, '=');
    if (!eq)
        return false;
    size_t klen = (size_t)(eq - line);
    const char *val = eq + 1;
    if (klen == 11 && !strncmp(line, "out_time_us", klen)) {
        char *end;
        long long us = strtoll(val, &end, 10);
        if (end != val && *end == '\0' && us >= 0)
            p->out_time_us = us;
    } else if (klen == 5 && !strncmp(line, "speed", klen)) {
        double s = strtod(val, NULL);
        if (s > 0)
            p->speed = s;
    } else if (klen == 8 && !strncmp(line, "progress", klen)) {
        p->end = strcmp(val, "end") == 0;
        return true;
    }
    return false;
}

char *video_ffmpeg_major(const char *out)
{
    const char *p = strstr(out, "ffmpeg version ");
    if (!p)
        return NULL;
    p += strlen("ffmpeg version ");
    if (*p == 'n' && isdigit((unsigned char)p[1]))
        p++; /* git tags: n6.1 */
    size_t digits = strspn(p, "0123456789");
    if (digits && (p[digits] == '.' || p[digits] == '-' || p[digits] == ' '))
        return xstrndup(p, digits);
    size_t word = strcspn(p, " \n");
    return word ? xstrndup(p, word) : NULL;
}

char *video_ffmpeg_version(const char *out)
{
    const char *p = strstr(out, "ffmpeg version ");
    if (!p)
        return NULL;
    p += strlen("ffmpeg version ");
    size_t word = strcspn(p, " \n");
    return word ? xstrndup(p, word) : NULL;
}

/* --- the MP4 ------------------------------------------------------------------------------ */

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* moov/mvhd: the movie's duration; also counts the tracks. */
static int read_moov(FILE *f, uint64_t start, uint64_t size, struct mp4_facts *facts)
{
    uint64_t pos = start;
    bool have_mvhd = false;
    while (pos + 8 <= start + size) {
        unsigned char h[16];
        if (fseeko(f, (off_t)pos, SEEK_SET) < 0 || fread(h, 1, 8, f) != 8)
            return -1;
        uint64_t len = be(h, 4);
        if (len < 8 || pos + len > start + size)
            return -1;
        if (!memcmp(h + 4, "trak", 4))
            facts->tracks++;
        if (!memcmp(h + 4, "mvhd", 4)) {
            unsigned char m[32];
            if (fread(m, 1, len - 8 < 32 ? len - 8 : 32, f) < 20)
                return -1;
            bool v1 = m[0] == 1;
            uint64_t scale = be(m + (v1 ? 20 : 12), 4);
            uint64_t dur = v1 ? be(m + 24, 8) : be(m + 16, 4);
            if (!scale)
                return -1;
            facts->duration_s = (double)dur / (double)scale;
            have_mvhd = true;
        }
        pos += len;
    }
    return have_mvhd ? 0 : -1;
}

int video_mp4_check(const char *path, struct mp4_facts *facts, struct gf_err *err)
{
    memset(facts, 0, sizeof *facts);
    FILE *f = fopen(path, "rb");
    if (!f)
        return gf_error_errno(err, GF_ERR_IO, "cannot open '%s'", path);
    uint64_t pos = 0, moov_at = 0, mdat_at = 0;
    int rc = -1, n = 0;
    bool ftyp_first = false, moov_ok = false;
    unsigned char h[16];
    while (fseeko(f, (off_t)pos, SEEK_SET) == 0 && fread(h, 1, 8, f) == 8) {
        uint64_t len = be(h, 4), head = 8;
        if (len == 1) {
            if (fread(h + 8, 1, 8, f) != 8)
                break;
            len = be(h + 8, 8);
            head = 16;
        }
        if (len < head)
            break;
        if (n++ == 0)
            ftyp_first = !memcmp(h + 4, "ftyp", 4);
        if (!memcmp(h + 4, "moov", 4)) {
            moov_at = pos + 1;
            moov_ok = read_moov(f, pos + head, len - head, facts) == 0;
        } else if (!memcmp(h + 4, "mdat", 4) && !mdat_at) {
            mdat_at = pos + 1;
        }
        pos += len;
    }
    if (!ftyp_first)
        gf_error(err, GF_ERR_INPUT, "'%s' is not an MP4 file (it does not start with ftyp)", path);
    else if (!moov_ok)
        gf_error(err, GF_ERR_INPUT, "'%s' has no readable moov box (the MP4 is incomplete)", path);
    else if (!mdat_at)
        gf_error(err, GF_ERR_INPUT, "'%s' has no media data (no mdat box)", path);
    else
        rc = 0;
    facts->faststart = moov_at && mdat_at && moov_at < mdat_at;
    fclose(f);
    return rc;
}
