/* video_ffmpeg: FFmpeg's side of the video stage: the argument vector and filter graph of an
 * encode, its `-progress` lines, its version, and a look at the MP4 it wrote (see video.h). */
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

/* The picture of scene k: the image scaled to cover the frame (cropping the excess), then held
 * (or zoomed) for exactly t->frames[k] frames at the output rate. */
static void add_scene_picture(struct buf *g, const struct video_spec *v,
                              const struct video_timeline *t, size_t k)
{
    int64_t n = t->frames[k];
    int w = v->width, h = v->height, fps = v->fps;
    if (v->motion == VIDEO_MOTION_KENBURNS) {
        /* zoompan crops whole pixels: work at twice the size so the motion does not judder */
        /* even scenes zoom in from 1 to 1+ZOOM, odd ones out from 1+ZOOM to 1 */
        char from[16];
        snprintf(from, sizeof from, "%g%c", k % 2 ? 1 + ZOOM : 1, k % 2 ? '-' : '+');
        buf_addf(g,
                 "[%zu:v]scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d,setsar=1,"
                 "zoompan=z='%s%g*on/%lld':x='iw/2-iw/zoom/2':y='ih/2-ih/zoom/2':d=%lld:"
                 "s=%dx%d:fps=%d,",
                 k, 2 * w, 2 * h, 2 * w, 2 * h, from, ZOOM, (long long)(n > 1 ? n - 1 : 1),
                 (long long)n, w, h, fps);
    } else {
        buf_addf(g,
                 "[%zu:v]scale=%d:%d:force_original_aspect_ratio=increase,crop=%d:%d,"
                 "loop=loop=%lld:size=1:start=0,",
                 k, w, h, w, h, (long long)(n - 1));
    }
    /* frame n at n/fps exactly: a time base of 1/fps, so no rate conversion drops or doubles */
    buf_addf(g, "setsar=1,format=yuv420p,settb=1/%d,setpts=N[v%zu];", fps, k);
}

/* Label of the picture (kind 'v') or sound ('a') of scenes 0..k joined. */
static void joined(char *out, size_t n, char kind, size_t k, size_t last)
{
    if (k == last)
        snprintf(out, n, "%cc", kind);
    else if (k == 0)
        snprintf(out, n, "%c0", kind);
    else
        snprintf(out, n, "x%c%zu", kind, k);
}

static char *filter_graph(const struct video_spec *v, const struct video_timeline *t,
                          const char *burn_srt)
{
    struct buf g = BUF_INIT;
    size_t n = v->n_scenes;
    char in[32], out[32];
    for (size_t k = 0; k < n; k++) {
        add_scene_picture(&g, v, t, k);
        buf_addf(&g, "[%zu:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=mono[a%zu];",
                 n + k, k);
    }
    if (n == 1) {
        buf_adds(&g, "[v0]null[vc];[a0]anull[ac];");
    } else if (t->fade_frames > 0) {
        double fade = (double)t->fade_frames / v->fps, T = (double)v->transition_ms / 1000.0;
        for (size_t k = 1; k < n; k++) {
            joined(in, sizeof in, 'v', k - 1, n);
            joined(out, sizeof out, 'v', k, n - 1);
            buf_addf(&g, "[%s][v%zu]xfade=transition=fade:duration=%.6f:offset=%.6f[%s];", in, k,
                     fade, (double)t->start_frame[k] / v->fps, out);
            joined(in, sizeof in, 'a', k - 1, n);
            joined(out, sizeof out, 'a', k, n - 1);
            buf_addf(&g, "[%s][a%zu]acrossfade=d=%.6f[%s];", in, k, T, out);
        }
    } else {
        for (size_t k = 0; k < n; k++)
            buf_addf(&g, "[v%zu]", k);
        buf_addf(&g, "concat=n=%zu:v=1:a=0[vc];", n);
        for (size_t k = 0; k < n; k++)
            buf_addf(&g, "[a%zu]", k);
        buf_addf(&g, "concat=n=%zu:v=0:a=1[ac];", n);
    }
    buf_adds(&g, "[vc]");
    if (burn_srt) {
        buf_adds(&g, "subtitles=filename=");
        add_filter_value(&g, burn_srt);
        buf_adds(&g, ",");
    }
    buf_adds(&g, "null[vout];[ac]anull[aout]");
    return buf_detach(&g, NULL);
}

char **video_ffmpeg_argv(const char *ffmpeg, const struct video_spec *v,
                         const struct video_timeline *t, const char *tmp_out, const char *burn_srt)
{
    struct argv_vec a = {0};
    arg(&a, ffmpeg);
    const char *head[] = {"-hide_banner", "-nostdin",  "-loglevel", "warning",
                          "-nostats",     "-progress", "pipe:1",    "-y"};
    for (size_t i = 0; i < ARRAY_SIZE(head); i++)
        arg(&a, head[i]);
    for (size_t k = 0; k < v->n_scenes; k++) {
        /* one still frame, decoded as what its bytes are whatever the name says (no %d
         * patterns): the request records the format gemflow found in them */
        const char *fmt = v->scenes[k].image_format;
        const char *codec = !strcmp(fmt, "jpeg") ? "mjpeg" : !strcmp(fmt, "webp") ? "webp" : "png";
        const char *in[] = {"-f", "image2", "-pattern_type", "none", "-c:v", codec};
        for (size_t i = 0; i < ARRAY_SIZE(in); i++)
            arg(&a, in[i]);
        arg(&a, "-i");
        argf(&a, "file:%s", v->scenes[k].image);
    }
    for (size_t k = 0; k < v->n_scenes; k++) {
        arg(&a, "-f");
        arg(&a, "wav");
        arg(&a, "-i");
        argf(&a, "file:%s", v->scenes[k].audio);
    }
    char *graph = filter_graph(v, t, burn_srt);
    arg(&a, "-filter_complex");
    arg(&a, graph);
    free(graph);
    const char *maps[] = {"-map", "[vout]", "-map", "[aout]", "-c:v", "libx264", "-preset"};
    for (size_t i = 0; i < ARRAY_SIZE(maps); i++)
        arg(&a, maps[i]);
    arg(&a, v->preset);
    arg(&a, "-crf");
    argf(&a, "%d", v->crf);
    const char *tail[] = {"-pix_fmt", "yuv420p", "-c:a", "aac",       "-b:a",       "128k", "-ar",
                          "48000",    "-ac",     "1",    "-movflags", "+faststart", "-f",   "mp4"};
    arg(&a, "-r");
    argf(&a, "%d", v->fps);
    for (size_t i = 0; i < ARRAY_SIZE(tail); i++)
        arg(&a, tail[i]);
    argf(&a, "file:%s", tmp_out);
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
