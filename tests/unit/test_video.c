/* test_video: the video stage's pure parts: the scene timeline (frames, crossfades, caption
 * times), the .srt text, the default size, the request (spec) round trip, the segments (plan,
 * keys, FFmpeg's argument vectors and filter graphs, scene clips), ffprobe's answers, its progress
 * lines and version, and reading an MP4's boxes. Expected values are worked out by hand in the
 * comments. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "buf.h"
#include "srttext.h"
#include "util.h"
#include "video.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ---- */

/* Three scenes at 24 kHz lasting 2.0 s, 3.5 s and 1.25 s. */
static void three_scenes(struct video_spec *v, int fps, int64_t transition_ms)
{
    static const int64_t frames[] = {48000, 84000, 30000};
    static const char *const captions[] = {"First scene.", "Second\r\n\r\nscene.", "  "};
    memset(v, 0, sizeof *v);
    v->ffmpeg = xstrdup("5");
    v->output = xstrdup("video.mp4");
    v->subtitles = xstrdup("subtitles.srt");
    v->fps = fps;
    v->width = 1920;
    v->height = 1080;
    v->transition_ms = transition_ms;
    v->crf = 20;
    v->preset = xstrdup("medium");
    v->n_scenes = 3;
    v->scenes = xcalloc(3, sizeof *v->scenes);
    for (int k = 0; k < 3; k++) {
        struct video_scene *s = &v->scenes[k];
        s->id = xasprintf("s%02d", k + 1);
        s->image = xasprintf("images/s%02d.png", k + 1);
        s->audio = xasprintf("audio/s%02d.wav", k + 1);
        memset(s->image_sha256, 'a' + k, SHA256_HEX_LEN);
        memset(s->audio_sha256, 'd' + k, SHA256_HEX_LEN);
        s->width = 1376;
        s->height = 768;
        s->sample_rate = 24000;
        s->frames = frames[k];
        s->caption = xstrdup(captions[k]);
    }
}

static void assert_near(double a, double b)
{
    if (fabs(a - b) > 1e-9)
        fail_msg("%.9f is not %.9f", a, b);
}

/* ---- timeline ---- */

static void test_timeline_cuts(void **state)
{
    struct video_spec v;
    struct video_timeline t;
    struct gf_err err = GF_ERR_INIT;
    three_scenes(&v, 30, 0);
    assert_int_equal(video_timeline(&v, &t, &err), 0);
    /* 2.0 + 3.5 + 1.25 = 6.75 s = 202.5 frames, rounded to 203 */
    assert_near(t.total_s, 6.75);
    assert_int_equal(t.total_frames, 203);
    assert_int_equal(t.fade_frames, 0);
    /* starts at 0, 2.0 s = 60 and 5.5 s = 165 frames */
    assert_int_equal(t.start_frame[0], 0);
    assert_int_equal(t.start_frame[1], 60);
    assert_int_equal(t.start_frame[2], 165);
    assert_int_equal(t.frames[0], 60);
    assert_int_equal(t.frames[1], 105);
    assert_int_equal(t.frames[2], 38);
    assert_int_equal(t.frames[0] + t.frames[1] + t.frames[2], t.total_frames);
    assert_near(t.cue_start[1], 2.0);
    assert_near(t.cue_end[1], 5.5);
    assert_near(t.cue_end[2], 6.75);
    video_timeline_release(&t);
    video_spec_release(&v);
}

static void test_timeline_crossfades(void **state)
{
    struct video_spec v;
    struct video_timeline t;
    struct gf_err err = GF_ERR_INIT;
    three_scenes(&v, 30, 500);
    assert_int_equal(video_timeline(&v, &t, &err), 0);
    /* scenes start at 0, 2.0 - 0.5 = 1.5 and 5.5 - 1.0 = 4.5 s; total 6.75 - 2 x 0.5 = 5.75 s */
    assert_near(t.total_s, 5.75);
    assert_int_equal(t.total_frames, 173); /* 172.5 rounded */
    assert_int_equal(t.fade_frames, 15);
    assert_int_equal(t.start_frame[1], 45);
    assert_int_equal(t.start_frame[2], 135);
    /* each picture lasts its narration: 2.0 s = 60 frames, 3.5 s = 105, the last to the end */
    assert_int_equal(t.frames[0], 60);
    assert_int_equal(t.frames[1], 105);
    assert_int_equal(t.frames[2], 173 - 135);
    /* captions change in the middle of each crossfade: 1.75 s and 4.75 s */
    assert_near(t.cue_start[0], 0);
    assert_near(t.cue_end[0], 1.75);
    assert_near(t.cue_start[1], 1.75);
    assert_near(t.cue_end[1], 4.75);
    assert_near(t.cue_start[2], 4.75);
    assert_near(t.cue_end[2], 5.75);
    video_timeline_release(&t);
    video_spec_release(&v);
}

static void test_timeline_too_short(void **state)
{
    struct video_spec v;
    struct video_timeline t;
    struct gf_err err = GF_ERR_INIT;
    three_scenes(&v, 30, 1500); /* scene 2 (3.5 s) needs 2 x 1.5 s: fine; scene 3 has 1.25 s */
    assert_int_equal(video_timeline(&v, &t, &err), -1);
    assert_non_null(strstr(err.msg, "scene 's03' lasts 1.250 s"));
    assert_non_null(strstr(err.msg, "too short for its 1 transition of 1.500 s"));
    assert_null(t.frames);
    video_spec_release(&v);
}

static void test_timeline_one_scene(void **state)
{
    struct video_spec v;
    struct video_timeline t;
    struct gf_err err = GF_ERR_INIT;
    three_scenes(&v, 25, 5000);
    v.n_scenes = 1; /* the others stay allocated: release frees by n_scenes, so free them */
    for (int k = 1; k < 3; k++) {
        free(v.scenes[k].id);
        free(v.scenes[k].image);
        free(v.scenes[k].audio);
        free(v.scenes[k].caption);
    }
    assert_int_equal(video_timeline(&v, &t, &err), 0); /* no neighbour: no transition */
    assert_near(t.total_s, 2.0);
    assert_int_equal(t.total_frames, 50);
    assert_int_equal(t.fade_frames, 0);
    assert_int_equal(t.frames[0], 50);
    video_timeline_release(&t);
    video_spec_release(&v);
}

/* ---- subtitles ---- */

static void test_srt(void **state)
{
    struct video_spec v;
    struct video_timeline t;
    struct gf_err err = GF_ERR_INIT;
    struct buf out = BUF_INIT;
    three_scenes(&v, 30, 500);
    assert_int_equal(video_timeline(&v, &t, &err), 0);
    /* the third caption is blank: no cue; the blank line inside the second is dropped */
    assert_int_equal(video_srt(&v, &t, &out), 2);
    assert_string_equal(out.data, "1\n00:00:00,000 --> 00:00:01,750\nFirst scene.\n\n"
                                  "2\n00:00:01,750 --> 00:00:04,750\nSecond\nscene.\n\n");
    buf_release(&out);
    video_timeline_release(&t);
    /* hours, minutes and milliseconds */
    t.n = 1;
    double start = 3725.5, end = 3725.5 + 0.0014;
    t.cue_start = &start;
    t.cue_end = &end;
    assert_int_equal(video_srt(&v, &t, &out), 1);
    assert_string_equal(out.data, "1\n01:02:05,500 --> 01:02:05,501\nFirst scene.\n\n");
    buf_release(&out);
    video_spec_release(&v);
}

/* A model's caption cannot end its cue early or add cues and timings of its own. */
static void cue_is(const char *caption, const char *want)
{
    struct buf b = BUF_INIT;
    srt_cue_text(&b, caption);
    if (strcmp(b.data, want) != 0)
        fail_msg("caption \"%s\": got \"%s\", want \"%s\"", caption, b.data, want);
    buf_release(&b);
}

static void test_srt_injection(void **state)
{
    /* whitespace-only lines of every kind: ASCII, tab, NBSP, U+2000..U+200A, U+3000, a
     * zero-width space, a lone joiner; CRLF, CR, VT, FF, NEL, U+2028 and U+2029 end lines */
    cue_is("one\n \ntwo", "one\ntwo");
    cue_is("one\n\t\r\n\xc2\xa0\ntwo", "one\ntwo");
    cue_is("one\n\xe2\x80\x80\xe2\x80\x8a\xe3\x80\x80\n\xe2\x80\x8b\n\xe2\x80\x8d\ntwo",
           "one\ntwo");
    cue_is("one\rtwo\vthree\ffour\xc2\x85"
           "five\xe2\x80\xa8six\xe2\x80\xa9seven",
           "one\ntwo\nthree\nfour\nfive\nsix\nseven");
    /* a whole cue smuggled in: its timing is taken apart, nothing is blank */
    cue_is("Hello.\n\n2\n00:00:00,000 --> 99:00:00,000\nInjected cue\n \n",
           "Hello.\n2\n00:00:00,000 -> 99:00:00,000\nInjected cue");
    cue_is("a ---> b -- > c <-- d", "a -> b -- > c <-- d");
    cue_is("--->-->", "->->");
    /* controls and bytes that are not UTF-8: ESC, DEL, C1 CSI, a stray byte */
    cue_is("x\x1b[2Jy\x7fz\xc2\x9b"
           "31m\xffw",
           "x [2Jy z 31m?w");
    /* spaces trimmed, text kept (accents, CJK, an emoji with a joiner) */
    cue_is("  caf\xc3\xa9 \xe6\x97\xa5  \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb  ",
           "caf\xc3\xa9 \xe6\x97\xa5  \xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb");
    cue_is(" \n\xe2\x80\x8b\n\t", "");

    /* the whole .srt: exactly one cue per scene however hostile the caption */
    struct video_spec v;
    struct video_timeline t;
    struct gf_err err = GF_ERR_INIT;
    struct buf out = BUF_INIT;
    three_scenes(&v, 30, 500);
    free(v.scenes[0].caption);
    v.scenes[0].caption = xstrdup("A.\n\xe2\x80\x83\n9\n00:00:00,000 --> 00:10:00,000\nEvil");
    assert_int_equal(video_timeline(&v, &t, &err), 0);
    assert_int_equal(video_srt(&v, &t, &out), 2);
    size_t blank = 0, timings = 0;
    for (const char *p = out.data; (p = strstr(p, "\n\n")); p += 2)
        blank++;
    for (const char *p = out.data; (p = strstr(p, "-->")); p += 3)
        timings++;
    assert_int_equal(blank, 2);   /* one blank line after each cue */
    assert_int_equal(timings, 2); /* one timing per cue, ours */
    buf_release(&out);
    video_timeline_release(&t);
    video_spec_release(&v);
}

/* ---- size ---- */

static void test_default_size(void **state)
{
    static const struct {
        int w, h, want_w, want_h;
    } cases[] = {
        {1376, 768, 1920, 1080}, /* Gemini's "16:9" (1.79) is 16:9 */
        {1344, 768, 1920, 1080}, /* 1.75: within 3 % of 16:9 */
        {768, 1376, 1080, 1920},  {1024, 1024, 1080, 1080}, {1200, 896, 1440, 1080}, /* 4:3 */
        {1584, 672, 2520, 1080},                                                     /* 21:9 */
        {2000, 1000, 2160, 1080}, /* 2:1 is no common ratio: kept */
        {384, 3072, 480, 3840},   /* 1:8: the long side is capped at 3840 */
        {101, 99, 1080, 1080},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int w, h;
        video_default_size(cases[i].w, cases[i].h, &w, &h);
        if (w != cases[i].want_w || h != cases[i].want_h)
            fail_msg("%dx%d -> %dx%d, expected %dx%d", cases[i].w, cases[i].h, w, h,
                     cases[i].want_w, cases[i].want_h);
        assert_int_equal(w % 2, 0);
        assert_int_equal(h % 2, 0);
    }
}

/* ---- the request ---- */

static char *spec_text(const struct video_spec *v)
{
    cJSON *j = video_spec_json(v);
    char *s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

static void test_spec_round_trip(void **state)
{
    struct video_spec v, back;
    struct gf_err err = GF_ERR_INIT;
    three_scenes(&v, 30, 500);
    v.motion = VIDEO_MOTION_KENBURNS;
    v.burn_subtitles = true;
    char *text = spec_text(&v);
    cJSON *j = cJSON_Parse(text);
    assert_int_equal(video_spec_from_json(j, &back, &err), 0);
    cJSON_Delete(j);
    char *again = spec_text(&back);
    assert_string_equal(text, again);
    assert_int_equal(back.n_scenes, 3);
    assert_int_equal(back.scenes[1].frames, 84000);
    assert_int_equal(back.motion, VIDEO_MOTION_KENBURNS);
    assert_true(back.burn_subtitles);
    assert_string_equal(back.scenes[0].caption, "First scene.");
    free(again);

    /* every setting and every input's sha256 is part of it */
    back.fps = 24;
    again = spec_text(&back);
    assert_string_not_equal(text, again);
    free(again);
    back.fps = 30;
    back.scenes[2].image_sha256[0] = 'z';
    again = spec_text(&back);
    assert_string_not_equal(text, again);
    free(again);
    free(text);
    video_spec_release(&back);
    video_spec_release(&v);
}

static void test_spec_damaged(void **state)
{
    struct video_spec v;
    struct gf_err err = GF_ERR_INIT;
    const char *bad[] = {
        "{}",
        "{\"ffmpeg\":\"5\",\"output\":\"v.mp4\",\"settings\":{\"fps\":30,\"width\":2,\"height\":2,"
        "\"crf\":20,\"preset\":\"fast\"},\"scenes\":[]}",
        "{\"ffmpeg\":\"5\",\"output\":\"v.mp4\",\"settings\":{\"fps\":30,\"width\":2,\"height\":2,"
        "\"crf\":20,\"preset\":\"fast\"},\"scenes\":[{\"id\":\"a\",\"image\":{\"path\":\"a.png\","
        "\"sha256\":\"short\"},\"audio\":{\"path\":\"a.wav\"}}]}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        cJSON *j = cJSON_Parse(bad[i]);
        assert_int_equal(video_spec_from_json(j, &v, &err), -1);
        assert_non_null(strstr(err.msg, "incomplete or damaged"));
        assert_null(v.scenes);
        cJSON_Delete(j);
    }
}

/* ---- FFmpeg's arguments ---- */

static int find_arg(char **argv, const char *s)
{
    for (int i = 0; argv[i]; i++)
        if (strcmp(argv[i], s) == 0)
            return i;
    return -1;
}

static const char *graph_of(char **argv)
{
    int i = find_arg(argv, "-filter_complex");
    assert_true(i > 0);
    return argv[i + 1];
}

/* ---- segments: the plan, their keys, FFmpeg's argument vectors ---- */

static void plan_of(struct video_spec *v, struct video_timeline *t, struct video_plan *p)
{
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(video_timeline(v, t, &err), 0);
    assert_int_equal(video_plan(v, t, "5.1.9", p, &err), 0);
}

static const struct video_segment *seg_named(const struct video_plan *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->segs[i].name, name))
            return &p->segs[i];
    fail_msg("no segment '%s'", name);
    return NULL;
}

static void test_plan_crossfades(void **state)
{
    struct video_spec v;
    struct video_timeline t;
    struct video_plan p;
    three_scenes(&v, 30, 500);
    plan_of(&v, &t, &p);
    /* timeline (test_timeline_crossfades): scenes at 0, 45, 135; fades of 15; 173 frames */
    static const char *const names[] = {"s01", "s01>s02", "s02", "s02>s03", "s03", "sound"};
    static const int64_t starts[] = {0, 45, 60, 135, 150, 0};
    static const int64_t frames[] = {45, 15, 75, 15, 23, 173};
    static const int64_t from[] = {0, 0, 15, 0, 15, 0};
    assert_int_equal(p.n, 6);
    int64_t pictures = 0;
    for (size_t i = 0; i < p.n; i++) {
        assert_string_equal(p.segs[i].name, names[i]);
        assert_int_equal(p.segs[i].start_frame, starts[i]);
        assert_int_equal(p.segs[i].frames, frames[i]);
        assert_int_equal(p.segs[i].from, from[i]);
        assert_int_equal(strlen(p.segs[i].key), SHA256_HEX_LEN);
        if (p.segs[i].kind != VIDEO_SEG_SOUND)
            pictures += p.segs[i].frames;
        for (size_t j = 0; j < i; j++) /* no two segments share a file */
            assert_string_not_equal(p.segs[i].key, p.segs[j].key);
    }
    assert_int_equal(pictures, t.total_frames); /* the pictures tile the video */
    assert_int_equal(p.segs[1].kind, VIDEO_SEG_FADE);
    assert_int_equal(p.segs[1].scene, 1);
    assert_string_equal(video_segment_ext(&p.segs[5]), "m4a");
    assert_string_equal(video_segment_ext(&p.segs[0]), "mp4");
    /* the concat list names the pictures in order, never the sound */
    char *list = video_concat_list(&p, 30);
    char want[512];
    snprintf(want, sizeof want,
             "ffconcat version 1.0\nfile %s.mp4\nduration 1.500000\nfile %s.mp4\nduration "
             "0.500000\nfile %s.mp4\nduration 2.500000\n",
             p.segs[0].key, p.segs[1].key, p.segs[2].key);
    assert_memory_equal(list, want, strlen(want));
    assert_null(strstr(list, p.segs[5].key));
    free(list);
    video_plan_release(&p);
    video_timeline_release(&t);
    video_spec_release(&v);
}

static void test_plan_cuts(void **state)
{
    struct video_spec v;
    struct video_timeline t;
    struct video_plan p;
    three_scenes(&v, 10, 0);
    plan_of(&v, &t, &p);
    assert_int_equal(p.n, 4); /* one segment per scene, then the sound */
    assert_string_equal(p.segs[0].name, "s01");
    assert_string_equal(p.segs[1].name, "s02");
    assert_int_equal(p.segs[1].frames, 35);
    assert_string_equal(p.segs[3].name, "sound");
    video_plan_release(&p);
    video_timeline_release(&t);
    video_spec_release(&v);
}

/* keys[i] of the plan of v */
static void keys_of(struct video_spec *v, char keys[][SHA256_HEX_LEN + 1], size_t n)
{
    struct video_timeline t;
    struct video_plan p;
    plan_of(v, &t, &p);
    assert_int_equal(p.n, n);
    for (size_t i = 0; i < n; i++)
        memcpy(keys[i], p.segs[i].key, SHA256_HEX_LEN + 1);
    video_plan_release(&p);
    video_timeline_release(&t);
}

/* which of the six segments changed key, as "s01 s01>s02 ..." */
static void assert_changed(char a[][SHA256_HEX_LEN + 1], char b[][SHA256_HEX_LEN + 1],
                           const char *want)
{
    static const char *const names[] = {"s01", "s01>s02", "s02", "s02>s03", "s03", "sound"};
    char got[128] = "";
    for (size_t i = 0; i < 6; i++)
        if (strcmp(a[i], b[i]) != 0)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", got[0] ? " " : "",
                     names[i]);
    assert_string_equal(got, want);
}

static void test_plan_keys_follow_inputs(void **state)
{
    struct video_spec v;
    char base[6][SHA256_HEX_LEN + 1], now[6][SHA256_HEX_LEN + 1];
    three_scenes(&v, 30, 500);
    keys_of(&v, base, 6);
    keys_of(&v, now, 6);
    assert_changed(base, now, ""); /* the same inputs, the same keys */

    /* one image: its scene and the crossfades on either side of it, nothing else */
    memset(v.scenes[1].image_sha256, 'z', SHA256_HEX_LEN);
    keys_of(&v, now, 6);
    assert_changed(base, now, "s01>s02 s02 s02>s03");
    memset(v.scenes[1].image_sha256, 'b', SHA256_HEX_LEN);

    /* the first or last image: one crossfade only */
    memset(v.scenes[0].image_sha256, 'z', SHA256_HEX_LEN);
    keys_of(&v, now, 6);
    assert_changed(base, now, "s01 s01>s02");
    memset(v.scenes[0].image_sha256, 'a', SHA256_HEX_LEN);

    /* a narration with other bytes but the same length: the sound only */
    memset(v.scenes[2].audio_sha256, 'z', SHA256_HEX_LEN);
    keys_of(&v, now, 6);
    assert_changed(base, now, "sound");
    memset(v.scenes[2].audio_sha256, 'f', SHA256_HEX_LEN);
    keys_of(&v, now, 6);
    assert_changed(base, now, "");

    /* an encoder setting: every picture (the sound is AAC whatever libx264 does) */
    v.crf = 23;
    keys_of(&v, now, 6);
    assert_changed(base, now, "s01 s01>s02 s02 s02>s03 s03");
    v.crf = 20;

    /* Ken Burns: a scene's picture moves over its whole length, so its segments know where in it
     * they are; still the other scenes keep theirs */
    v.motion = VIDEO_MOTION_KENBURNS;
    keys_of(&v, base, 6);
    memset(v.scenes[2].image_sha256, 'z', SHA256_HEX_LEN);
    keys_of(&v, now, 6);
    assert_changed(base, now, "s02>s03 s03");
    video_spec_release(&v);
}

static void test_segment_argv(void **state)
{
    struct video_spec v;
    struct video_timeline t;
    struct video_plan p;
    three_scenes(&v, 30, 500);
    free(v.scenes[1].image);
    v.scenes[1].image = xstrdup("-x:y.png"); /* reads like an option and a protocol */
    plan_of(&v, &t, &p);

    /* scene 2 between its crossfades: frames 15..89 of its still */
    char **argv =
        video_segment_argv("/usr/bin/ffmpeg", &v, &t, seg_named(&p, "s02"), ".seg.mp4.tmp-7", NULL);
    int n = 0;
    while (argv[n])
        n++;
    assert_string_equal(argv[0], "/usr/bin/ffmpeg");
    assert_string_equal(argv[n - 1], "file:.seg.mp4.tmp-7");
    assert_string_equal(argv[n - 2], "mp4");
    assert_string_equal(argv[find_arg(argv, "-progress") + 1], "pipe:1");
    assert_true(find_arg(argv, "-nostdin") > 0);
    assert_string_equal(argv[find_arg(argv, "-r") + 1], "30");
    assert_string_equal(argv[find_arg(argv, "-crf") + 1], "20");
    assert_string_equal(argv[find_arg(argv, "-preset") + 1], "medium");
    assert_string_equal(argv[find_arg(argv, "-threads") + 1], "1");
    assert_string_equal(argv[find_arg(argv, "-frames:v") + 1], "75");
    assert_string_equal(argv[find_arg(argv, "libx264") - 1], "-c:v");
    assert_true(find_arg(argv, "-an") > 0);
    assert_int_equal(find_arg(argv, "aac"), -1);
    assert_string_equal(argv[find_arg(argv, "file:-x:y.png") - 1], "-i");
    assert_int_equal(find_arg(argv, "-x:y.png"), -1);
    const char *g = graph_of(argv);
    assert_non_null(strstr(g, "loop=loop=74:size=1"));
    assert_non_null(strstr(g, "settb=1/30,setpts=N[vc]"));
    assert_null(strstr(g, "xfade"));
    video_argv_free(argv);

    /* the crossfade into scene 3: the last 15 frames of scene 2 under the first 15 of scene 3 */
    argv = video_segment_argv("ffmpeg", &v, &t, seg_named(&p, "s02>s03"), "o", NULL);
    g = graph_of(argv);
    assert_true(find_arg(argv, "file:-x:y.png") > 0);
    assert_true(find_arg(argv, "file:images/s03.png") > 0);
    assert_int_equal(find_arg(argv, "file:images/s01.png"), -1);
    assert_non_null(strstr(g, "xfade=transition=fade:duration=0.500000:offset=0,"));
    assert_string_equal(argv[find_arg(argv, "-frames:v") + 1], "15");
    video_argv_free(argv);

    /* the sound: every narration, crossfaded, AAC alone */
    argv = video_segment_argv("ffmpeg", &v, &t, seg_named(&p, "sound"), "o", NULL);
    g = graph_of(argv);
    assert_true(find_arg(argv, "file:audio/s01.wav") > 0);
    assert_true(find_arg(argv, "file:audio/s03.wav") > 0);
    assert_int_equal(find_arg(argv, "libx264"), -1);
    assert_true(find_arg(argv, "-vn") > 0);
    assert_string_equal(argv[find_arg(argv, "aac") - 1], "-c:a");
    assert_string_equal(argv[find_arg(argv, "-ar") + 1], "48000");
    assert_non_null(strstr(g, "acrossfade=d=0.500000"));
    assert_null(strstr(g, "amix")); /* no clips */
    video_argv_free(argv);

    /* the join copies: concat demuxer, no encoder, faststart */
    argv = video_join_argv("ffmpeg", ".gemflow/segments/video/.join.ffconcat.tmp-1",
                           ".gemflow/segments/video/k.m4a", ".video.mp4.tmp-1");
    assert_string_equal(argv[find_arg(argv, "-f") + 1], "concat");
    assert_string_equal(argv[find_arg(argv, "-c") + 1], "copy");
    assert_string_equal(argv[find_arg(argv, "-movflags") + 1], "+faststart");
    assert_int_equal(find_arg(argv, "libx264"), -1);
    assert_true(find_arg(argv, "file:.gemflow/segments/video/k.m4a") > 0);
    video_argv_free(argv);
    video_plan_release(&p);
    video_timeline_release(&t);
    video_spec_release(&v);
}

static void test_segment_argv_motion_burn(void **state)
{
    struct video_spec v;
    struct video_timeline t;
    struct video_plan p;
    three_scenes(&v, 10, 0);
    v.motion = VIDEO_MOTION_KENBURNS;
    v.burn_subtitles = true;
    plan_of(&v, &t, &p);
    /* scene 2 (3.5 s at 10 fps): 35 frames zooming out from 1.12 over frames 0..34 */
    char **argv =
        video_segment_argv("ffmpeg", &v, &t, seg_named(&p, "s02"), "o.tmp-1", "subs/a:b,c'd.srt");
    const char *g = graph_of(argv);
    assert_non_null(strstr(g, "zoompan=z='1.12-0.12*(on+0)/34'"));
    assert_non_null(strstr(g, ":d=35:s=1920x1080:fps=10"));
    /* the file name escaped for the option (\: \') and then for the graph (\\ \, \') */
    assert_non_null(strstr(g, "subtitles=filename=subs/a\\\\:b\\,c\\\\\\'d.srt,null[vout]"));
    video_argv_free(argv);
    /* each segment draws only its own cue, timed from its own start */
    const struct video_segment *s2 = seg_named(&p, "s02");
    assert_non_null(s2->srt);
    assert_non_null(strstr(s2->srt, "00:00:00,000 --> 00:00:03,500"));
    assert_null(strstr(s2->srt, "First"));
    assert_null(seg_named(&p, "s03")->srt); /* its caption is blank: nothing to draw */
    video_plan_release(&p);
    video_timeline_release(&t);
    video_spec_release(&v);
}

/* A scene clip: shown instead of the still, held or cut to the scene, its sound mixed as the
 * setting says. */
static void test_segment_clip(void **state)
{
    struct video_spec v;
    struct video_timeline t;
    struct video_plan p;
    three_scenes(&v, 10, 0);
    struct video_clip *c = &v.scenes[1].clip;
    c->path = xstrdup("clips/s02.mp4");
    memset(c->sha256, 'c', SHA256_HEX_LEN);
    snprintf(c->format, sizeof c->format, "mov");
    c->duration_ms = 2000; /* shorter than the scene's 3.5 s: its last frame is held */
    c->width = 640;
    c->height = 480;
    c->has_audio = true;
    v.clip_sound = VIDEO_CLIP_UNDER;
    plan_of(&v, &t, &p);
    char **argv = video_segment_argv("ffmpeg", &v, &t, seg_named(&p, "s02"), "o", NULL);
    const char *g = graph_of(argv);
    assert_string_equal(argv[find_arg(argv, "file:clips/s02.mp4") - 2], "mov");
    assert_string_equal(argv[find_arg(argv, "file:clips/s02.mp4") - 3], "-f");
    assert_int_equal(find_arg(argv, "file:images/s02.png"), -1);
    assert_non_null(strstr(g, "tpad=stop=-1:stop_mode=clone,trim=start_frame=0:end_frame=35"));
    assert_non_null(strstr(g, "pad=1920:1080"));
    video_argv_free(argv);
    argv = video_segment_argv("ffmpeg", &v, &t, seg_named(&p, "sound"), "o", NULL);
    g = graph_of(argv);
    assert_true(find_arg(argv, "file:clips/s02.mp4") > 0);
    assert_non_null(strstr(g, "volume=-18dB"));
    assert_non_null(strstr(g, "amix=inputs=2:duration=first:normalize=0"));
    /* placed where scene 2 starts (2.0 s = 96000 samples at 48 kHz) */
    assert_non_null(strstr(g, "adelay=delays=96000S"));
    video_argv_free(argv);
    char keys[4][SHA256_HEX_LEN + 1];
    for (size_t i = 0; i < 4; i++)
        memcpy(keys[i], p.segs[i].key, sizeof keys[i]);
    video_plan_release(&p);
    video_timeline_release(&t); /* planned again below */

    /* keep: at its own level; the sound's key changes, no picture's does */
    v.clip_sound = VIDEO_CLIP_KEEP;
    plan_of(&v, &t, &p);
    argv = video_segment_argv("ffmpeg", &v, &t, seg_named(&p, "sound"), "o", NULL);
    assert_null(strstr(graph_of(argv), "volume="));
    assert_non_null(strstr(graph_of(argv), "amix=inputs=2"));
    video_argv_free(argv);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(p.segs[i].key, keys[i]);
    assert_string_not_equal(p.segs[3].key, keys[3]);
    video_plan_release(&p);
    video_timeline_release(&t); /* planned again below */

    /* mute: the clip is not an input of the sound at all */
    v.clip_sound = VIDEO_CLIP_MUTE;
    plan_of(&v, &t, &p);
    argv = video_segment_argv("ffmpeg", &v, &t, seg_named(&p, "sound"), "o", NULL);
    assert_int_equal(find_arg(argv, "file:clips/s02.mp4"), -1);
    assert_null(strstr(graph_of(argv), "amix"));
    video_argv_free(argv);
    video_plan_release(&p);
    video_timeline_release(&t); /* planned again below */

    /* a clip named but missing: the scene shows its still */
    c->missing = true;
    plan_of(&v, &t, &p);
    argv = video_segment_argv("ffmpeg", &v, &t, seg_named(&p, "s02"), "o", NULL);
    assert_true(find_arg(argv, "file:images/s02.png") > 0);
    assert_int_equal(find_arg(argv, "file:clips/s02.mp4"), -1);
    video_argv_free(argv);
    video_plan_release(&p);
    video_timeline_release(&t);
    video_spec_release(&v);
}

/* ---- ffprobe's answers ---- */

static void test_clip_container(void **state)
{
    const unsigned char mp4[] = {0, 0, 0, 0x20, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm'};
    const unsigned char mkv[] = {0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81};
    const unsigned char m3u[] = "#EXTM3U\nfile:///etc/passwd\n";
    assert_string_equal(video_clip_container(mp4, sizeof mp4), "mov");
    assert_string_equal(video_clip_container(mkv, sizeof mkv), "matroska");
    assert_null(video_clip_container(m3u, sizeof m3u - 1));
    assert_null(video_clip_container(mp4, 4));
}

static void test_clip_facts(void **state)
{
    struct video_clip c = {0};
    struct gf_err err = GF_ERR_INIT;
    assert_int_equal(video_clip_facts("{\"streams\":[{\"codec_type\":\"video\",\"width\":640,"
                                      "\"height\":360,\"duration\":\"3.000000\"},"
                                      "{\"codec_type\":\"audio\"}],\"format\":{}}",
                                      &c, &err),
                     0);
    assert_int_equal(c.width, 640);
    assert_int_equal(c.duration_ms, 3000);
    assert_true(c.has_audio);
    assert_int_equal(video_clip_facts("{\"streams\":[{\"codec_type\":\"video\",\"width\":64,"
                                      "\"height\":36}],\"format\":{\"duration\":\"1.5\"}}",
                                      &c, &err),
                     0);
    assert_int_equal(c.duration_ms, 1500);
    assert_false(c.has_audio);
    assert_int_equal(
        video_clip_facts("{\"streams\":[{\"codec_type\":\"audio\"}],\"format\":{}}", &c, &err), -1);
    assert_string_equal(err.msg, "it has no video stream");
    assert_int_equal(video_clip_facts("not json", &c, &err), -1);
}

static void test_segment_check(void **state)
{
    struct video_spec v;
    struct video_timeline t;
    struct video_plan p;
    struct gf_err err = GF_ERR_INIT;
    three_scenes(&v, 10, 0);
    plan_of(&v, &t, &p);
    const char *ok = "{\"packets\":[{\"flags\":\"K__\"}],\"streams\":[{\"codec_type\":\"video\","
                     "\"codec_name\":\"h264\",\"width\":1920,\"height\":1080,\"pix_fmt\":"
                     "\"yuv420p\",\"avg_frame_rate\":\"10/1\",\"nb_frames\":\"35\"}]}";
    assert_int_equal(video_segment_check(ok, &v, &t, &p.segs[1], &err), 0);
    assert_int_equal(video_segment_check(ok, &v, &t, &p.segs[0], &err), -1);
    assert_string_equal(err.msg, "it holds 35 frames, not 20");
    const char *sound = "{\"streams\":[{\"codec_type\":\"audio\",\"codec_name\":\"aac\","
                        "\"sample_rate\":\"48000\",\"channels\":1,\"duration\":\"6.750000\"}]}";
    assert_int_equal(video_segment_check(sound, &v, &t, &p.segs[3], &err), 0);
    assert_int_equal(video_segment_check(sound, &v, &t, &p.segs[1], &err), -1);
    assert_string_equal(err.msg, "its stream is audio, not video");
    const char *short_sound = "{\"streams\":[{\"codec_type\":\"audio\",\"codec_name\":\"aac\","
                              "\"sample_rate\":\"48000\",\"channels\":1,\"duration\":\"6.0\"}]}";
    assert_int_equal(video_segment_check(short_sound, &v, &t, &p.segs[3], &err), -1);
    video_plan_release(&p);
    video_timeline_release(&t);
    video_spec_release(&v);
}

/* ---- progress and version ---- */

static void test_progress_lines(void **state)
{
    struct video_progress p = {-1, 0, false};
    assert_false(video_progress_line(&p, "frame=10"));
    assert_false(video_progress_line(&p, "out_time_us=N/A"));
    assert_int_equal(p.out_time_us, -1);
    assert_false(video_progress_line(&p, "out_time_us=1500000"));
    assert_false(video_progress_line(&p, "speed=2.5x"));
    assert_false(video_progress_line(&p, "speed=N/A"));
    assert_true(video_progress_line(&p, "progress=continue"));
    assert_int_equal(p.out_time_us, 1500000);
    assert_true(p.speed == 2.5);
    assert_false(p.end);
    assert_false(video_progress_line(&p, "garbage"));
    assert_true(video_progress_line(&p, "progress=end"));
    assert_true(p.end);
}

static void test_ffmpeg_major(void **state)
{
    char *v = video_ffmpeg_major("ffmpeg version 5.1.9-0+deb12u1 Copyright (c) 2000-2026\n");
    assert_string_equal(v, "5");
    free(v);
    v = video_ffmpeg_major("ffmpeg version n6.1.1 Copyright");
    assert_string_equal(v, "6");
    free(v);
    v = video_ffmpeg_major("ffmpeg version 7 Copyright");
    assert_string_equal(v, "7");
    free(v);
    v = video_ffmpeg_major("ffmpeg version N-113000-gabcdef Copyright");
    assert_string_equal(v, "N-113000-gabcdef");
    free(v);
    assert_null(video_ffmpeg_major("sh: ffmpeg: not found"));
}

/* ---- the MP4 ---- */

static void put32(struct buf *b, uint32_t v)
{
    unsigned char c[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    buf_add(b, c, 4);
}

static void box(struct buf *b, const char *type, const struct buf *body)
{
    put32(b, (uint32_t)(8 + body->len));
    buf_add(b, type, 4);
    buf_add(b, body->data, body->len);
}

/* ftyp, then moov (mvhd: timescale 1000, duration 12345; two empty traks) and mdat, in `order`. */
static char *write_mp4(bool moov_first)
{
    struct buf ftyp = BUF_INIT, mvhd = BUF_INIT, trak = BUF_INIT, moovb = BUF_INIT;
    struct buf moov = BUF_INIT, mdatb = BUF_INIT, mdat = BUF_INIT, file = BUF_INIT;
    buf_adds(&ftyp, "isom");
    put32(&ftyp, 512);
    buf_adds(&ftyp, "isomiso2");
    put32(&mvhd, 0); /* version 0, flags */
    put32(&mvhd, 0); /* created */
    put32(&mvhd, 0); /* modified */
    put32(&mvhd, 1000);
    put32(&mvhd, 12345);
    for (int i = 0; i < 80; i++)
        buf_addc(&mvhd, 0);
    box(&moovb, "mvhd", &mvhd);
    box(&moovb, "trak", &trak);
    box(&moovb, "trak", &trak);
    box(&moov, "moov", &moovb);
    buf_adds(&mdatb, "media bytes");
    box(&mdat, "mdat", &mdatb);
    box(&file, "ftyp", &ftyp);
    buf_add(&file, moov_first ? moov.data : mdat.data, moov_first ? moov.len : mdat.len);
    buf_add(&file, moov_first ? mdat.data : moov.data, moov_first ? mdat.len : moov.len);
    char *path = xstrdup("/tmp/test_video_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, file.data, file.len), (ssize_t)file.len);
    close(fd);
    struct buf *all[] = {&ftyp, &mvhd, &trak, &moovb, &moov, &mdatb, &mdat, &file};
    for (size_t i = 0; i < ARRAY_SIZE(all); i++)
        buf_release(all[i]);
    return path;
}

static void test_mp4_check(void **state)
{
    struct mp4_facts f;
    struct gf_err err = GF_ERR_INIT;
    char *path = write_mp4(true);
    assert_int_equal(video_mp4_check(path, &f, &err), 0);
    assert_near(f.duration_s, 12.345);
    assert_int_equal(f.tracks, 2);
    assert_true(f.faststart);
    unlink(path);
    free(path);

    path = write_mp4(false);
    assert_int_equal(video_mp4_check(path, &f, &err), 0);
    assert_false(f.faststart);
    unlink(path);
    free(path);

    path = xstrdup("/tmp/test_video_XXXXXX");
    int fd = mkstemp(path);
    assert_int_equal(write(fd, "not a video\n", 12), 12);
    close(fd);
    assert_int_equal(video_mp4_check(path, &f, &err), -1);
    assert_non_null(strstr(err.msg, "is not an MP4 file"));
    unlink(path);
    assert_int_equal(video_mp4_check(path, &f, &err), -1);
    assert_non_null(strstr(err.msg, "cannot open"));
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timeline_cuts),
        cmocka_unit_test(test_timeline_crossfades),
        cmocka_unit_test(test_timeline_too_short),
        cmocka_unit_test(test_timeline_one_scene),
        cmocka_unit_test(test_srt),
        cmocka_unit_test(test_srt_injection),
        cmocka_unit_test(test_default_size),
        cmocka_unit_test(test_spec_round_trip),
        cmocka_unit_test(test_spec_damaged),
        cmocka_unit_test(test_plan_crossfades),
        cmocka_unit_test(test_plan_cuts),
        cmocka_unit_test(test_plan_keys_follow_inputs),
        cmocka_unit_test(test_segment_argv),
        cmocka_unit_test(test_segment_argv_motion_burn),
        cmocka_unit_test(test_segment_clip),
        cmocka_unit_test(test_clip_container),
        cmocka_unit_test(test_clip_facts),
        cmocka_unit_test(test_segment_check),
        cmocka_unit_test(test_progress_lines),
        cmocka_unit_test(test_ffmpeg_major),
        cmocka_unit_test(test_mp4_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
