/* local: the items of local stages (video: FFmpeg) on the engine's loop. An item's request (its
 * body) is read back into a spec; FFmpeg writes the MP4 to a temporary file in the job
 * directory while its progress becomes encode_progress events; on success the MP4 is checked,
 * fsync'd and renamed into place, the .srt is written atomically, and only then is item_done
 * appended (the checkpoint rule). A stop signal kills FFmpeg and removes the temporary file:
 * the item is left for the next run. */
#include "child.h"
#include "engine_int.h"
#include "fsutil.h"
#include "jsonutil.h"
#include "util.h"
#include "../stages/video.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROGRESS_EVERY_MS 1000
#define ERROR_LINES       5    /* stderr lines quoted in the error */
#define DURATION_SLACK_S  0.15 /* the MP4 may differ from the timeline by this much */

struct local_run {
    struct engine *e;
    struct item *it;
    struct child *child;
    struct video_spec spec;
    struct video_timeline tl;
    struct buf srt;
    int cues;
    char *tmp;  /* the MP4 being written, relative to the job directory */
    char *burn; /* the .srt FFmpeg draws, or NULL */
    cJSON *argv;
    struct video_progress prog;
    int64_t started_ms, last_event_ms;
    bool killed;
    struct local_run *next;
};

static const char *stage_name(const struct item *it)
{
    return it->job->wf.stages[it->stage].name;
}

static cJSON *base_fields(const struct item *it)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "stage", stage_name(it));
    cJSON_AddStringToObject(f, "item", it->id);
    return f;
}

/* ".<name>.tmp-<pid>" beside `rel`: the pattern a crash leftover is swept by. */
static char *temp_beside(const char *rel, const char *name)
{
    const char *slash = strrchr(rel, '/');
    return xasprintf("%.*s.%s.tmp-%ld", slash ? (int)(slash - rel + 1) : 0, rel, name,
                     (long)getpid());
}

static void unlink_rel(const char *dir, const char *rel)
{
    if (rel)
        fs_unlink_beneath(dir, rel);
}

static void run_free(struct local_run *r)
{
    child_free(r->child);
    video_spec_release(&r->spec);
    video_timeline_release(&r->tl);
    buf_release(&r->srt);
    free(r->tmp);
    free(r->burn);
    cJSON_Delete(r->argv);
    free(r);
}

static void unlist(struct engine *e, struct local_run *r)
{
    for (struct local_run **p = &e->locals; *p; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            break;
        }
    }
    e->local_inflight--;
    r->it->job->inflight--;
}

/* The response part of the call record: what ran and what it said. */
static char *response_json(const struct local_run *r, int status)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "argv", cJSON_Duplicate(r->argv, 1));
    if (r->child)
        cJSON_AddStringToObject(o, "exit", child_status_text(status));
    else
        cJSON_AddNullToObject(o, "exit");
    cJSON_AddStringToObject(o, "stderr", r->child ? child_stderr(r->child) : "");
    json_add_i64(o, "encode_ms", now_ms() - r->started_ms);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

static void fail(struct local_run *r, const char *kind, const char *msg, int status)
{
    cJSON *error = cJSON_CreateObject();
    cJSON_AddStringToObject(error, "kind", kind);
    cJSON_AddNumberToObject(error, "http_status", 0);
    cJSON_AddStringToObject(error, "message", msg);
    char *resp = response_json(r, status);
    engine_fail_item(r->e, r->it, error, resp, strlen(resp), 0);
    free(resp);
}

/* "ffmpeg failed (exit status 1): <its last lines>" */
static void fail_exit(struct local_run *r, int status)
{
    const char *tail = child_stderr(r->child);
    const char *from = tail + strlen(tail);
    for (int lines = 0; from > tail && lines <= ERROR_LINES;) {
        from--;
        if (*from == '\n' && from[1])
            lines++;
    }
    while (*from == '\n')
        from++;
    struct buf msg = BUF_INIT;
    buf_addf(&msg, "ffmpeg failed (%s)", child_status_text(status));
    if (*from)
        buf_addf(&msg, ": %s", from);
    while (msg.len && msg.data[msg.len - 1] == '\n')
        buf_setlen(&msg, msg.len - 1);
    fail(r, "encode", msg.data, status);
    buf_release(&msg);
}

cJSON *local_output_media(const struct stage_def *def, const cJSON *media, size_t k)
{
    if (!def->subtitles || k != 1)
        return NULL;
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "type", "application/x-subrip");
    cJSON_AddNumberToObject(m, "cues", json_num(media, "subtitle_cues", 0));
    return m;
}

static int fsync_rel(const char *dir, const char *rel, struct gf_err *err)
{
    int fd = fs_open_beneath(dir, rel, O_RDONLY, 0, err);
    if (fd < 0)
        return -1;
    if (fsync(fd) < 0) {
        gf_error_errno(err, GF_ERR_IO, "cannot fsync '%s'", rel);
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* Check the MP4, put both files in place, then item_done, checkpoint and manifest. */
static int commit(struct local_run *r, cJSON **media_out, struct gf_err *err)
{
    struct item *it = r->it;
    struct job *job = it->job;
    const struct stage_def *def = &job->wf.stages[it->stage];
    char *tmp = fs_join(job->dir, r->tmp), *target = fs_join(job->dir, it->out_path);
    struct ckpt_output outs[2];
    size_t n_outs = 0;
    int rc = -1;
    struct mp4_facts mp4;
    if (video_mp4_check(tmp, &mp4, err) < 0)
        goto out;
    if (mp4.tracks != 2 || !mp4.faststart ||
        fabs(mp4.duration_s - r->tl.total_s) > DURATION_SLACK_S + 1.0 / r->spec.fps) {
        gf_error(err, GF_ERR_INPUT,
                 "ffmpeg wrote an unexpected MP4: %.3f s (the narration lasts %.3f s), %d "
                 "tracks (expected 2), moov %s mdat",
                 mp4.duration_s, r->tl.total_s, mp4.tracks, mp4.faststart ? "before" : "after");
        goto out;
    }
    if (fsync_rel(job->dir, r->tmp, err) < 0)
        goto out;
    struct fs_facts ff;
    if (r->spec.subtitles) {
        if (fs_write_atomic(job->dir, r->spec.subtitles, r->srt.data, r->srt.len, FS_DURABLE, &ff,
                            err) < 0)
            goto out;
        outs[1] = (struct ckpt_output){r->spec.subtitles, ff.bytes, ff.mtime_ns, {0}};
        sha256_hex(r->srt.data, r->srt.len, outs[1].sha256);
    }
    if (fs_rename_beneath(job->dir, r->tmp, it->out_path, err) < 0) /* fsyncs the directory */
        goto out;
    free(r->tmp);
    r->tmp = NULL;
    size_t size;
    if (fs_stat(job->dir, it->out_path, &ff) < 0 ||
        sha256_file(target, outs[0].sha256, &size) < 0) {
        if (!err->msg[0])
            gf_error_errno(err, GF_ERR_IO, "cannot read back '%s'", it->out_path);
        goto out;
    }
    outs[0].path = it->out_path;
    outs[0].bytes = ff.bytes;
    outs[0].mtime_ns = ff.mtime_ns;
    n_outs = r->spec.subtitles ? 2 : 1;
    cJSON *media = cJSON_CreateObject();
    cJSON_AddStringToObject(media, "type", "video/mp4");
    cJSON_AddNumberToObject(media, "width", r->spec.width);
    cJSON_AddNumberToObject(media, "height", r->spec.height);
    cJSON_AddNumberToObject(media, "fps", r->spec.fps);
    cJSON_AddNumberToObject(media, "duration_s", round(mp4.duration_s * 1000) / 1000);
    cJSON_AddNumberToObject(media, "scenes", (double)r->spec.n_scenes);
    cJSON_AddStringToObject(media, "video_codec", "h264");
    cJSON_AddStringToObject(media, "audio_codec", "aac");
    cJSON_AddStringToObject(media, "ffmpeg", r->spec.ffmpeg);
    if (r->spec.subtitles)
        cJSON_AddNumberToObject(media, "subtitle_cues", r->cues);
    *media_out = media;
    cJSON *srt_media = local_output_media(def, media, 1);
    const cJSON *extra[] = {srt_media};
    struct item_done_facts facts = {outs, n_outs, media, extra, NULL, false};
    int recorded = job_record_done(job, it, &facts, err);
    cJSON_Delete(srt_media);
    if (recorded < 0)
        goto out;
    rc = 0;
out:
    free(tmp);
    free(target);
    return rc;
}

static void on_line(void *ctx, const char *line)
{
    struct local_run *r = ctx;
    if (!video_progress_line(&r->prog, line))
        return;
    int64_t now = now_ms();
    if (!r->prog.end && now - r->last_event_ms < PROGRESS_EVERY_MS)
        return;
    r->last_event_ms = now;
    double total_us = r->tl.total_s * 1e6;
    double pct = r->prog.end ? 100
                 : r->prog.out_time_us > 0 && total_us > 0
                     ? fmin(99.9, 100.0 * (double)r->prog.out_time_us / total_us)
                     : 0;
    cJSON *f = base_fields(r->it);
    cJSON_AddNumberToObject(f, "percent", floor(pct * 10) / 10);
    double elapsed = (double)(now - r->started_ms) / 1000.0;
    if (pct > 0 && !r->prog.end)
        cJSON_AddNumberToObject(f, "eta_s", round(elapsed * (100 - pct) / pct * 10) / 10);
    else if (r->prog.end)
        cJSON_AddNumberToObject(f, "eta_s", 0);
    else
        cJSON_AddNullToObject(f, "eta_s");
    if (r->prog.out_time_us >= 0)
        cJSON_AddNumberToObject(f, "out_time_s", round((double)r->prog.out_time_us / 1e5) / 10);
    if (r->prog.speed > 0)
        cJSON_AddNumberToObject(f, "speed", r->prog.speed);
    job_event(r->it->job, "encode_progress", f, false);
}

static void on_exited(void *ctx, struct child *c, int status)
{
    struct local_run *r = ctx;
    struct engine *e = r->e;
    struct item *it = r->it;
    struct job *job = it->job;
    unlist(e, r);
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (r->killed || (!ok && e->stop_level > 0)) {
        /* stopped: not an outcome; the next run encodes it again */
        it->state = IS_TODO;
        engine_note(e, job, 0, "%s/%s: encode abandoned (stopping); the next run redoes it",
                    stage_name(it), it->id);
    } else if (!ok) {
        fail_exit(r, status);
    } else {
        struct gf_err err = GF_ERR_INIT;
        cJSON *media = NULL;
        if (commit(r, &media, &err) < 0) {
            fail(r, "encode", err.msg, status);
        } else {
            char *resp = response_json(r, status);
            call_write_record(it, "done", NULL, resp, strlen(resp), 0, it->out_path, NULL, NULL);
            free(resp);
            engine_note(e, job, 0, "%s/%s: encoded '%s' (%.1f s of video) in %.1f s",
                        stage_name(it), it->id, it->out_path, json_num(media, "duration_s", 0),
                        (double)(now_ms() - r->started_ms) / 1000.0);
            it->state = IS_DONE;
            job->st[it->stage].n_done++;
            engine_item_finished(e, it);
        }
        cJSON_Delete(media);
    }
    unlink_rel(job->dir, r->tmp);
    unlink_rel(job->dir, r->burn);
    (void)c;
    run_free(r);
}

/* Everything before FFmpeg starts; -1 with err (the item fails). */
static int prepare(struct local_run *r, struct gf_err *err)
{
    struct item *it = r->it;
    struct job *job = it->job;
    cJSON *body = cJSON_ParseWithLength(it->body, it->body_len);
    int rc = video_spec_from_json(body, &r->spec, err);
    cJSON_Delete(body);
    if (rc < 0 || video_timeline(&r->spec, &r->tl, err) < 0)
        return -1;
    if (r->spec.subtitles)
        r->cues = video_srt(&r->spec, &r->tl, &r->srt);
    const char *slash = strrchr(it->out_path, '/');
    if (slash) {
        char *dir = xstrndup(it->out_path, (size_t)(slash - it->out_path));
        rc = fs_mkdirs(job->dir, dir, err);
        free(dir);
        if (rc < 0)
            return -1;
    }
    r->tmp = temp_beside(it->out_path, slash ? slash + 1 : it->out_path);
    /* Created here, beneath the job directory, so that what FFmpeg opens by name is a file of
     * ours and not a symbolic link planted in the job (FFmpeg itself would follow one). */
    fs_unlink_beneath(job->dir, r->tmp);
    int fd = fs_open_beneath(job->dir, r->tmp, O_WRONLY | O_CREAT | O_EXCL, 0666, err);
    if (fd < 0)
        return -1;
    close(fd);
    if (r->spec.burn_subtitles && r->spec.subtitles) {
        char *name = xasprintf("%s.srt", stage_name(it));
        char *rel = xasprintf(".gemflow/video/%s", name);
        r->burn = temp_beside(rel, name);
        free(rel);
        free(name);
        if (fs_write_atomic(job->dir, r->burn, r->srt.data, r->srt.len, FS_ATOMIC, NULL, err) < 0)
            return -1;
    }
    return 0;
}

void local_start(struct engine *e, struct item *it)
{
    struct job *job = it->job;
    struct local_run *r = xcalloc(1, sizeof *r);
    r->e = e;
    r->it = it;
    r->srt = (struct buf)BUF_INIT;
    r->prog.out_time_us = -1;
    r->started_ms = r->last_event_ms = now_ms();
    it->attempts++;
    it->state = IS_INFLIGHT;
    it->started_ms = r->started_ms;
    if (it->attempts == 1) {
        it->first_start_ms = it->started_ms;
        now_rfc3339(it->started_ts, sizeof it->started_ts);
    }
    r->next = e->locals;
    e->locals = r;
    e->local_inflight++;
    job->inflight++;
    struct gf_err err = GF_ERR_INIT;
    char *ffmpeg = NULL;
    char **argv = NULL;
    if (prepare(r, &err) < 0)
        goto fail;
    ffmpeg = child_find_program("ffmpeg");
    if (!ffmpeg) {
        gf_error(&err, GF_ERR_CONFIG,
                 "'ffmpeg' is not installed (not found on PATH); install the Debian package "
                 "'ffmpeg'");
        goto fail;
    }
    argv = video_ffmpeg_argv(ffmpeg, &r->spec, &r->tl, r->tmp, r->burn);
    r->argv = cJSON_CreateArray();
    for (char **a = argv; *a; a++)
        cJSON_AddItemToArray(r->argv, cJSON_CreateString(*a));
    cJSON *f = base_fields(it);
    cJSON_AddNumberToObject(f, "attempt", it->attempts);
    cJSON_AddStringToObject(f, "program", "ffmpeg");
    cJSON_AddStringToObject(f, "version", r->spec.ffmpeg);
    cJSON_AddNumberToObject(f, "scenes", (double)r->spec.n_scenes);
    cJSON_AddNumberToObject(f, "duration_s", round(r->tl.total_s * 1000) / 1000);
    json_add_i64(f, "frames", r->tl.total_frames);
    struct child_hooks hooks = {r, on_line, on_exited};
    r->child = child_spawn(engine_loop(e), (const char *const *)argv, job->dir, &hooks, &err);
    if (!r->child) {
        cJSON_Delete(f);
        goto fail;
    }
    cJSON_AddNumberToObject(f, "pid", (double)child_pid(r->child));
    job_event(job, "encode_start", f, false);
    engine_note(e, job, 0, "%s/%s: encoding %zu scenes, %.1f s at %dx%d %d fps (ffmpeg %s)",
                stage_name(it), it->id, r->spec.n_scenes, r->tl.total_s, r->spec.width,
                r->spec.height, r->spec.fps, r->spec.ffmpeg);
    video_argv_free(argv);
    free(ffmpeg);
    return;
fail:
    video_argv_free(argv);
    free(ffmpeg);
    unlist(e, r);
    fail(r, "encode", err.msg, 0);
    unlink_rel(job->dir, r->tmp);
    unlink_rel(job->dir, r->burn);
    run_free(r);
}

void local_abort_all(struct engine *e)
{
    for (struct local_run *r = e->locals; r; r = r->next) {
        if (!r->killed && r->child) {
            r->killed = true;
            child_kill(r->child);
        }
    }
}

void local_free_all(struct engine *e)
{
    while (e->locals) {
        struct local_run *r = e->locals;
        unlist(e, r);
        unlink_rel(r->it->job->dir, r->tmp);
        unlink_rel(r->it->job->dir, r->burn);
        run_free(r);
    }
}
