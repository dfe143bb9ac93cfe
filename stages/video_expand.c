/* video_expand: the single item of a video stage. Each scene's image and narration are found on
 * disk and identified by their sha256 (the checkpoint's record when the file's size and mtime
 * are as recorded, else hashed now, so a hand-edited input counts with its new bytes) and
 * measured (PNG size, WAV frames); a scene's clip, when the stage names one and the file is
 * there, is hashed and probed with ffprobe. With the settings and FFmpeg's version they make
 * the item's canonical request, whose SHA-256 over origin "local" and method "video" is its
 * key. */
#include "../runner/checkpoint.h"
#include "../runner/child.h"
#include "../runner/expand_int.h"
#include "../runner/fsutil.h"
#include "../runner/jsonutil.h"
#include "../runner/strmap.h"
#include "../runner/util.h"
#include "../runner/videotools.h"
#include "imgcodec.h"
#include "video.h"
#include "video_settings.h"
#include "wav.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define LOCAL_ORIGIN "local"
#define VIDEO_METHOD "video"
#define PROBE_BYTES  65536 /* of ffprobe's answer about a clip */

/* path -> its latest recorded output, over every item of the checkpoint */
struct recorded {
    const struct ckpt_item *ci;
    const struct ckpt_output *out;
};

struct index_ctx {
    struct strmap *map;
    struct recorded *slots;
    size_t n;
};

static void count_outputs(void *val, void *ctx)
{
    *(size_t *)ctx += ((const struct ckpt_item *)val)->n_outs;
}

static void index_outputs(void *val, void *ctx)
{
    const struct ckpt_item *ci = val;
    struct index_ctx *ic = ctx;
    for (size_t i = 0; i < ci->n_outs; i++) {
        struct recorded *r = &ic->slots[ic->n++];
        r->ci = ci;
        r->out = &ci->outs[i];
        strmap_put(ic->map, ci->outs[i].path, r);
    }
}

/* What the request says about one input file. */
struct input {
    char sha256[SHA256_HEX_LEN + 1];
    int width, height; /* image */
    char format[8];    /* image: "png", "jpeg", "webp" */
    int sample_rate;   /* audio */
    int64_t frames;    /* audio */
};

static bool facts_from_record(const struct recorded *r, bool image, struct input *in)
{
    const cJSON *m = r->ci->media;
    const char *type = json_str(m, "type");
    enum img_format f = image ? img_format_for_mime(type) : IMG_UNKNOWN;
    if (image && f != IMG_UNKNOWN) {
        in->width = (int)json_num(m, "width", 0);
        in->height = (int)json_num(m, "height", 0);
        snprintf(in->format, sizeof in->format, "%s", img_format_name(f));
    } else if (!image && type && !strcmp(type, "audio/wav")) {
        in->sample_rate = (int)json_num(m, "sample_rate", 0);
        in->frames = (int64_t)json_num(m, "frames", 0);
    }
    if (image ? in->width <= 0 || in->height <= 0 : in->sample_rate <= 0 || in->frames <= 0)
        return false;
    memcpy(in->sha256, r->out->sha256, sizeof in->sha256);
    return true;
}

static int read_input(struct job *job, const struct strmap *recorded, const char *rel, bool image,
                      struct input *in, struct gf_err *err)
{
    const char *what = image ? "image" : "narration";
    memset(in, 0, sizeof *in);
    struct fs_facts ff;
    if (fs_stat(job->dir, rel, &ff) < 0)
        return errno == ENOENT
                   ? gf_error(err, GF_ERR_INPUT, "%s '%s' is missing", what, rel)
                   : gf_error_errno(err, GF_ERR_INPUT, "cannot read %s '%s'", what, rel);
    const struct recorded *r = strmap_get(recorded, rel);
    if (r && r->out->bytes == ff.bytes && r->out->mtime_ns == ff.mtime_ns &&
        facts_from_record(r, image, in))
        return 0; /* as recorded: no need to read it */
    char *path = fs_join(job->dir, rel);
    struct buf data = BUF_INIT;
    int rc = -1;
    struct gf_err why = GF_ERR_INIT;
    if (buf_read_file(&data, path) < 0) {
        gf_error_errno(err, GF_ERR_INPUT, "cannot read %s '%s'", what, rel);
        goto out;
    }
    sha256_hex(data.data, data.len, in->sha256);
    if (image) {
        struct img_facts pf;
        if (img_check(data.data, data.len, &pf, &why) < 0 ||
            img_check_video_limits(&pf, &why) < 0) {
            gf_error(err, GF_ERR_INPUT, "image '%s' is not usable: %s", rel, why.msg);
            goto out;
        }
        in->width = (int)pf.width;
        in->height = (int)pf.height;
        snprintf(in->format, sizeof in->format, "%s", img_format_name(pf.format));
    } else {
        struct wav_facts wf;
        if (wav_check(data.data, data.len, &wf, &why) < 0) {
            gf_error(err, GF_ERR_INPUT, "narration '%s' is not a usable WAV: %s", rel, why.msg);
            goto out;
        }
        in->sample_rate = wf.sample_rate;
        in->frames = wf.frames;
    }
    rc = 0;
out:
    buf_release(&data);
    free(path);
    return rc;
}

/* The last line of a program's output, for an error. */
static const char *last_line(struct buf *out)
{
    while (out->len && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\r'))
        buf_setlen(out, out->len - 1);
    const char *nl = strrchr(out->data, '\n');
    return nl ? nl + 1 : out->data;
}

/* What ffprobe says about the clip at `path`, read as `format`, into c. */
static int probe_clip(const char *path, const char *format, struct video_clip *c,
                      struct gf_err *err)
{
    const struct video_tools *tools = video_tools_get(err);
    if (!tools)
        return -1;
    char **argv = video_probe_argv(tools->ffprobe, format, path);
    struct buf out = BUF_INIT;
    int status = 0, rc = -1;
    struct gf_err why = GF_ERR_INIT;
    if (child_run((const char *const *)argv, &out, PROBE_BYTES, &status, err) < 0)
        goto out;
    /* stdout and stderr come together: the JSON is what starts with a '{' line */
    const char *json = out.data[0] == '{' ? out.data : strstr(out.data, "\n{");
    if (status != 0 || !json) {
        gf_error(err, GF_ERR_INPUT, "ffprobe cannot read it (%s): %s", child_status_text(status),
                 out.len ? last_line(&out) : "no output");
        goto out;
    }
    if (video_clip_facts(json, c, &why) < 0) {
        gf_error(err, GF_ERR_INPUT, "%s", why.msg);
        goto out;
    }
    rc = 0;
out:
    buf_release(&out);
    video_argv_free(argv);
    return rc;
}

/* Scene clip `c->path`: missing (the scene shows its image), or a file whose first bytes name
 * a container we read (MP4/MOV, Matroska/WebM), hashed and probed. Like images, it is read
 * where the job's path leads. */
static int read_clip(struct job *job, struct video_clip *c, struct gf_err *err)
{
    const char *rel = c->path;
    char *path = fs_join(job->dir, rel);
    unsigned char head[16];
    size_t n = 0, size;
    struct stat st;
    struct gf_err why = GF_ERR_INIT;
    int rc = -1;
    if (stat(path, &st) < 0) {
        if (errno == ENOENT) {
            c->missing = true;
            rc = 0;
        } else {
            gf_error_errno(err, GF_ERR_INPUT, "cannot read clip '%s'", rel);
        }
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        gf_error(err, GF_ERR_INPUT, "clip '%s' is not a regular file", rel);
        goto out;
    }
    FILE *f = fopen(path, "rb");
    bool opened = f != NULL;
    if (opened) {
        n = fread(head, 1, sizeof head, f);
        fclose(f);
    }
    if (!opened || sha256_file(path, c->sha256, &size) < 0) {
        gf_error_errno(err, GF_ERR_INPUT, "cannot read clip '%s'", rel);
        goto out;
    }
    const char *format = video_clip_container(head, n);
    if (!format) {
        gf_error(err, GF_ERR_INPUT,
                 "clip '%s' is not an MP4, MOV, Matroska or WebM file (by its first bytes)", rel);
        goto out;
    }
    snprintf(c->format, sizeof c->format, "%s", format);
    if (probe_clip(path, format, c, &why) < 0) {
        gf_error(err, why.kind == GF_ERR_CONFIG ? GF_ERR_CONFIG : GF_ERR_INPUT,
                 "clip '%s' is not usable: %s", rel, why.msg);
        goto out;
    }
    rc = 0;
out:
    free(path);
    return rc;
}

/* One scene: its id, rendered paths and caption, and its inputs' facts. */
static int build_scene(struct job *job, const struct stage_def *def, const struct strmap *recorded,
                       const cJSON *el, int index, struct video_scene *sc, struct gf_err *err)
{
    const struct video_settings *vs = video_settings(def);
    struct render_ctx rc = {job, el, cJSON_CreateNumber(index), NULL};
    char *why = NULL;
    struct input img, au;
    int ret = -1;
    sc->id = expand_element_id(el, index, &why);
    if (!sc->id) {
        gf_error(err, GF_ERR_INPUT, "scene %d of %s: %s", index, vs->scenes.text, why);
        goto out;
    }
    if (expand_render(vs->image, &rc, TMPL_PATH, &sc->image, err) < 0 ||
        expand_render(vs->audio, &rc, TMPL_PATH, &sc->audio, err) < 0 ||
        (vs->subtitles && expand_render(vs->caption, &rc, 0, &sc->caption, err) < 0) ||
        expand_render(vs->clip, &rc, TMPL_PATH, &sc->clip.path, err) < 0)
        goto out;
    if (!fs_rel_is_safe(sc->image) || !fs_rel_is_safe(sc->audio) ||
        (sc->clip.path && !fs_rel_is_safe(sc->clip.path))) {
        gf_error(err, GF_ERR_INPUT, "scene '%s': a path is not inside the job directory", sc->id);
        goto out;
    }
    if (read_input(job, recorded, sc->image, true, &img, err) < 0 ||
        read_input(job, recorded, sc->audio, false, &au, err) < 0 ||
        (sc->clip.path && read_clip(job, &sc->clip, err) < 0))
        goto out;
    memcpy(sc->image_sha256, img.sha256, sizeof img.sha256);
    memcpy(sc->audio_sha256, au.sha256, sizeof au.sha256);
    sc->width = img.width;
    sc->height = img.height;
    memcpy(sc->image_format, img.format, sizeof sc->image_format);
    sc->sample_rate = au.sample_rate;
    sc->frames = au.frames;
    ret = 0;
out:
    if (ret < 0 && sc->id) {
        char *msg = xasprintf("scene '%s': %s", sc->id, err->msg);
        gf_error(err, GF_ERR_INPUT, "%s", msg);
        free(msg);
    }
    free(why);
    cJSON_Delete(rc.index);
    return ret;
}

/* Build the spec from the scenes array; -1 with err for an item-level problem. */
static int build_spec(struct job *job, const struct stage_def *def, const cJSON *arr,
                      const char *out_path, const char *srt_path, struct video_spec *v,
                      struct gf_err *err)
{
    size_t n_recorded = 0;
    strmap_each(&job->ck.items, count_outputs, &n_recorded);
    struct strmap recorded = STRMAP_INIT, ids = STRMAP_INIT;
    struct index_ctx ic = {&recorded, xcalloc(n_recorded + 1, sizeof *ic.slots), 0};
    strmap_each(&job->ck.items, index_outputs, &ic);
    int n = cJSON_GetArraySize(arr), rc = -1;
    memset(v, 0, sizeof *v);
    v->output = xstrdup(out_path);
    v->subtitles = srt_path ? xstrdup(srt_path) : NULL;
    const struct video_settings *vs = video_settings(def);
    v->fps = vs->fps;
    v->motion = vs->motion;
    v->transition_ms = vs->transition_ms;
    v->burn_subtitles = vs->burn_subtitles;
    v->crf = vs->crf;
    v->preset = xstrdup(vs->preset);
    v->clip_sound = vs->clip_sound;
    v->scenes = xcalloc((size_t)n + 1, sizeof *v->scenes);
    if (n == 0) {
        gf_error(err, GF_ERR_INPUT, "scenes '%s' is empty: a video needs at least one scene",
                 vs->scenes.text);
        goto out;
    }
    const cJSON *el;
    int index = 0;
    cJSON_ArrayForEach(el, arr)
    {
        struct video_scene *sc = &v->scenes[v->n_scenes++];
        if (build_scene(job, def, &recorded, el, ++index, sc, err) < 0)
            goto out;
        if (strmap_get(&ids, sc->id)) {
            gf_error(err, GF_ERR_INPUT, "scene %d of %s has the same id '%s' as an earlier one",
                     index, vs->scenes.text, sc->id);
            goto out;
        }
        strmap_put(&ids, sc->id, sc);
    }
    v->width = vs->width;
    v->height = vs->height;
    if (!v->width)
        video_default_size(v->scenes[0].width, v->scenes[0].height, &v->width, &v->height);
    const struct video_tools *tools = video_tools_get(err);
    if (!tools)
        goto out;
    v->ffmpeg = xstrdup(tools->major);
    rc = 0;
out:
    strmap_release(&recorded);
    strmap_release(&ids);
    free(ic.slots);
    return rc;
}

/* Done for this key, and the outputs recorded are the ones the workflow names today. */
static enum ckpt_verdict judge(struct job *job, const struct stage_def *def, const struct item *it,
                               const char *srt_path)
{
    enum ckpt_verdict v = ckpt_judge(&job->ck, job->dir, def->name, it->id, it->key, NULL);
    if (v != CK_DONE && v != CK_EDITED)
        return v;
    const struct ckpt_item *ci = ckpt_get(&job->ck, def->name, it->id);
    size_t want = srt_path ? 2 : 1;
    if (ci->n_outs != want || strcmp(ci->outs[0].path, it->out_path) != 0 ||
        (srt_path && strcmp(ci->outs[1].path, srt_path) != 0))
        return CK_MISSING;
    return v;
}

int expand_video_stage(struct job *job, size_t s, struct gf_err *err)
{
    const struct stage_def *def = &job->wf.stages[s];
    const struct video_settings *vs = video_settings(def);
    struct render_ctx rc = {job, NULL, NULL, NULL};
    const cJSON *arr = expand_array(job, vs->scenes.stage, vs->scenes.segs, vs->scenes.n_segs,
                                    "scenes", vs->scenes.text, err);
    if (!arr)
        return -1;
    struct item *it = expand_one_item(job, s);
    it->method_path = xstrdup(VIDEO_METHOD);
    struct gf_err ierr = GF_ERR_INIT;
    char *srt = NULL;
    struct video_spec v = {0};
    struct video_timeline t = {0};
    if (expand_render(def->output, &rc, TMPL_PATH, &it->out_path, &ierr) < 0 ||
        expand_render(vs->subtitles, &rc, TMPL_PATH, &srt, &ierr) < 0 ||
        build_spec(job, def, arr, it->out_path, srt, &v, &ierr) < 0 ||
        video_timeline(&v, &t, &ierr) < 0) {
        it->input_error = xstrdup(ierr.msg);
        if (!it->out_path)
            it->out_path = xstrdup("?");
        goto out;
    }
    it->input_error = expand_output_clash(job, s, it->out_path);
    if (!it->input_error && srt)
        it->input_error = expand_output_clash(job, s, srt);
    if (it->input_error)
        goto out;
    cJSON *body = video_spec_json(&v);
    it->body = cJSON_PrintUnformatted(body);
    it->body_len = strlen(it->body);
    cJSON_Delete(body);
    job_request_key(LOCAL_ORIGIN, it->method_path, it->body, it->body_len, it->key);
    it->verdict = judge(job, def, it, srt);
out:
    video_timeline_release(&t);
    video_spec_release(&v);
    free(srt);
    return 0;
}
