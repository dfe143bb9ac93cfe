/* local: the items of local stages (video: FFmpeg) on the engine's loop (see local_int.h for
 * the steps). An item's request (its body) is read back into a spec, cut into segments
 * (local_segments.c encodes the ones not cached), the segments are joined into a temporary MP4
 * in the job directory; on success the MP4 is checked, fsync'd and renamed into place, the .srt
 * is written atomically, and only then is item_done appended (the checkpoint rule); then the
 * segments the plan no longer names are pruned. */
#include "fsutil.h"
#include "jsonutil.h"
#include "local_int.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROGRESS_EVERY_MS 1000
#define ERROR_LINES       5    /* stderr lines quoted in the error */
#define DURATION_SLACK_S  0.15 /* the MP4 may differ from the timeline by this much */
#define JOBS_MAX          64   /* segments encoded at a time, at most */

const char *local_stage_name(const struct local_run *r)
{
    return r->it->job->wf.stages[r->it->stage].name;
}

cJSON *local_event_fields(const struct local_run *r)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "stage", local_stage_name(r));
    cJSON_AddStringToObject(f, "item", r->it->id);
    return f;
}

char *local_temp_beside(const char *rel)
{
    const char *slash = strrchr(rel, '/');
    const char *name = slash ? slash + 1 : rel;
    return xasprintf("%.*s.%s.tmp-%ld", slash ? (int)(slash - rel + 1) : 0, rel, name,
                     (long)getpid());
}

int local_create_empty(const char *dir, const char *rel, struct gf_err *err)
{
    fs_unlink_beneath(dir, rel);
    int fd = fs_open_beneath(dir, rel, O_WRONLY | O_CREAT | O_EXCL, 0666, err);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* The CPUs this process may run on: as many segments are encoded at a time. */
static int cpu_count(void)
{
    cpu_set_t set;
    int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
    if (n < 1)
        n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > JOBS_MAX ? JOBS_MAX : n;
}

static void unlink_rel(const char *dir, const char *rel)
{
    if (rel)
        fs_unlink_beneath(dir, rel);
}

static void run_free(struct local_run *r)
{
    local_segments_free(r);
    child_free(r->join);
    unlink_rel(r->it->job->dir, r->tmp);
    unlink_rel(r->it->job->dir, r->list);
    video_spec_release(&r->spec);
    video_timeline_release(&r->tl);
    video_plan_release(&r->plan);
    buf_release(&r->srt);
    free(r->seg_dir);
    free(r->ready);
    cJSON_Delete(r->encoded);
    free(r->fail_msg);
    cJSON_Delete(r->fail_argv);
    free(r->fail_stderr);
    cJSON_Delete(r->join_argv);
    free(r->tmp);
    free(r->list);
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
static char *response_json(const struct local_run *r)
{
    cJSON *o = cJSON_CreateObject();
    bool failed = r->fail_msg != NULL;
    const cJSON *argv = failed ? r->fail_argv : r->join_argv;
    cJSON_AddItemToObject(o, "argv", argv ? cJSON_Duplicate(argv, 1) : cJSON_CreateArray());
    if (failed && r->fail_stderr)
        cJSON_AddStringToObject(o, "exit", child_status_text(r->fail_status));
    else if (!failed && r->join)
        cJSON_AddStringToObject(o, "exit", "exit status 0");
    else
        cJSON_AddNullToObject(o, "exit");
    const char *err = failed ? r->fail_stderr : r->join ? child_stderr(r->join) : NULL;
    cJSON_AddStringToObject(o, "stderr", err ? err : "");
    json_add_i64(o, "encode_ms", now_ms() - r->started_ms);
    json_add_i64(o, "segments", (int64_t)r->plan.n);
    json_add_i64(o, "cached", (int64_t)r->n_cached);
    cJSON_AddItemToObject(o, "encoded", cJSON_Duplicate(r->encoded, 1));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}

/* "<what> (exit status 1): <its last lines>" */
static char *failure_text(const char *what, const char *child_stderr, int status)
{
    struct buf msg = BUF_INIT;
    buf_adds(&msg, what);
    if (child_stderr) {
        const char *from = child_stderr + strlen(child_stderr);
        for (int lines = 0; from > child_stderr && lines <= ERROR_LINES;) {
            from--;
            if (*from == '\n' && from[1])
                lines++;
        }
        while (*from == '\n')
            from++;
        buf_addf(&msg, " (%s)", child_status_text(status));
        if (*from)
            buf_addf(&msg, ": %s", from);
    }
    while (msg.len && msg.data[msg.len - 1] == '\n')
        buf_setlen(&msg, msg.len - 1);
    return buf_detach(&msg, NULL);
}

void local_note_failure(struct local_run *r, const char *msg, const cJSON *argv,
                        const char *child_stderr, int status)
{
    if (r->fail_msg)
        return; /* the first one says why */
    r->fail_msg = failure_text(msg, child_stderr, status);
    r->fail_argv = argv ? cJSON_Duplicate(argv, 1) : NULL;
    r->fail_stderr = child_stderr ? xstrdup(child_stderr) : NULL;
    r->fail_status = status;
}

/* The item ends now: failed with r->fail_msg, abandoned (stopping), or done. */
static void finish_failed(struct local_run *r)
{
    cJSON *error = cJSON_CreateObject();
    cJSON_AddStringToObject(error, "kind", "encode");
    cJSON_AddNumberToObject(error, "http_status", 0);
    cJSON_AddStringToObject(error, "message", r->fail_msg);
    char *resp = response_json(r);
    unlist(r->e, r);
    engine_fail_item(r->e, r->it, error, resp, strlen(resp), 0);
    free(resp);
    run_free(r);
}

static void finish_abandoned(struct local_run *r)
{
    struct item *it = r->it;
    unlist(r->e, r);
    /* stopped: not an outcome; the next run goes on from the segments in the cache */
    it->state = IS_TODO;
    engine_note(r->e, it->job, 0,
                "%s/%s: encode abandoned (stopping); %zu of %zu segments are cached, the next run "
                "makes the rest",
                local_stage_name(r), it->id, r->n_cached + (size_t)cJSON_GetArraySize(r->encoded),
                r->plan.n);
    run_free(r);
}

void local_progress(struct local_run *r, bool force)
{
    int64_t now = now_ms();
    if (!force && now - r->last_event_ms < PROGRESS_EVERY_MS)
        return;
    r->last_event_ms = now;
    bool end = force;
    double done = r->work_done + local_segments_in_flight(r);
    double pct = end ? 100 : r->work_total > 0 ? fmin(99.9, 100.0 * done / r->work_total) : 0;
    pct = fmax(pct, r->last_percent); /* an estimate in flight never takes it back */
    r->last_percent = pct;
    cJSON *f = local_event_fields(r);
    cJSON_AddNumberToObject(f, "percent", floor(pct * 10) / 10);
    double elapsed = (double)(now - r->started_ms) / 1000.0;
    if (end)
        cJSON_AddNumberToObject(f, "eta_s", 0);
    else if (pct > 0)
        cJSON_AddNumberToObject(f, "eta_s", round(elapsed * (100 - pct) / pct * 10) / 10);
    else
        cJSON_AddNullToObject(f, "eta_s");
    json_add_i64(f, "segments_done", (int64_t)r->n_cached + cJSON_GetArraySize(r->encoded));
    json_add_i64(f, "segments", (int64_t)r->plan.n);
    job_event(r->it->job, "encode_progress", f, false);
}

cJSON *local_output_media(const struct stage_def *def, const cJSON *media, size_t k)
{
    const struct video_settings *vs = video_settings(def);
    if (!vs || !vs->subtitles || k != 1)
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

/* Remove what the segment directory holds beyond the plan's segments: segments of earlier
 * requests, and temporary files of killed runs. Only after a successful join, under the job
 * lock. Returns how many were removed, -1 when the directory cannot be read. */
static int prune(struct local_run *r)
{
    struct gf_err err = GF_ERR_INIT;
    int fd = fs_mkdirs_open(r->it->job->dir, r->seg_dir, &err);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    int removed = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        bool keep = false;
        for (size_t i = 0; i < r->plan.n && !keep; i++) {
            const struct video_segment *s = &r->plan.segs[i];
            size_t k = strlen(s->key);
            keep = !strncmp(de->d_name, s->key, k) && de->d_name[k] == '.' &&
                   !strcmp(de->d_name + k + 1, video_segment_ext(s));
        }
        struct stat st;
        if (!keep && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) && unlinkat(dirfd(d), de->d_name, 0) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

static void on_join_exited(void *ctx, struct child *c, int status)
{
    struct local_run *r = ctx;
    struct engine *e = r->e;
    struct item *it = r->it;
    struct job *job = it->job;
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (r->killed || (!ok && e->stop_level > 0)) {
        finish_abandoned(r);
        return;
    }
    if (!ok) {
        local_note_failure(r, "ffmpeg failed joining the segments", r->join_argv, child_stderr(c),
                           status);
        finish_failed(r);
        return;
    }
    struct gf_err err = GF_ERR_INIT;
    cJSON *media = NULL;
    if (commit(r, &media, &err) < 0) {
        local_note_failure(r, err.msg, r->join_argv, NULL, status);
        finish_failed(r);
        return;
    }
    local_progress(r, true);
    char *resp = response_json(r);
    call_write_record(it, "done", NULL, resp, strlen(resp), 0, it->out_path, NULL, NULL);
    free(resp);
    int encoded = cJSON_GetArraySize(r->encoded), pruned = prune(r);
    engine_note(e, job, 0,
                "%s/%s: '%s' (%.1f s of video) in %.1f s: %d of %zu segments encoded, %zu cached%s",
                local_stage_name(r), it->id, it->out_path, json_num(media, "duration_s", 0),
                (double)(now_ms() - r->started_ms) / 1000.0, encoded, r->plan.n, r->n_cached,
                pruned > 0 ? ", stale ones pruned" : "");
    cJSON_Delete(media);
    unlist(e, r);
    it->state = IS_DONE;
    job->st[it->stage].n_done++;
    engine_item_finished(e, it);
    run_free(r);
}

/* Every segment is in the cache: the concat list, then FFmpeg copies them into one MP4. */
static int start_join(struct local_run *r, struct gf_err *err)
{
    struct job *job = r->it->job;
    char *list = video_concat_list(&r->plan, r->spec.fps),
         *rel = xasprintf("%s/join.ffconcat", r->seg_dir);
    r->list = local_temp_beside(rel);
    free(rel);
    int rc = fs_write_atomic(job->dir, r->list, list, strlen(list), FS_ATOMIC, NULL, err);
    free(list);
    if (rc < 0)
        return -1;
    if (local_create_empty(job->dir, r->tmp, err) < 0)
        return -1;
    const struct video_segment *sound = &r->plan.segs[r->plan.n - 1];
    char *sound_rel = xasprintf("%s/%s.%s", r->seg_dir, sound->key, video_segment_ext(sound));
    char **argv = video_join_argv(r->tools->ffmpeg, r->list, sound_rel, r->tmp);
    free(sound_rel);
    r->join_argv = cJSON_CreateArray();
    for (char **a = argv; *a; a++)
        cJSON_AddItemToArray(r->join_argv, cJSON_CreateString(*a));
    struct child_hooks hooks = {r, NULL, on_join_exited};
    r->join = child_spawn(engine_loop(r->e), (const char *const *)argv, job->dir, &hooks, err);
    video_argv_free(argv);
    return r->join ? 0 : -1;
}

static bool all_ready(const struct local_run *r)
{
    for (size_t i = 0; i < r->plan.n; i++)
        if (!r->ready[i])
            return false;
    return true;
}

void local_task_ended(struct local_run *r)
{
    if (!r->killed && !r->fail_msg && local_segments_start(r) && r->running > 0)
        return;
    if (r->running > 0)
        return; /* the others end first: what they make is kept */
    if (r->killed) {
        finish_abandoned(r);
    } else if (r->fail_msg) {
        finish_failed(r);
    } else if (all_ready(r)) {
        struct gf_err err = GF_ERR_INIT;
        if (start_join(r, &err) < 0) {
            local_note_failure(r, err.msg, r->join_argv, NULL, 0);
            finish_failed(r);
        }
    }
}

/* Everything before the first FFmpeg starts; -1 with err (the item fails). */
static int prepare(struct local_run *r, struct gf_err *err)
{
    struct item *it = r->it;
    struct job *job = it->job;
    cJSON *body = cJSON_ParseWithLength(it->body, it->body_len);
    int rc = video_spec_from_json(body, &r->spec, err);
    cJSON_Delete(body);
    if (rc < 0 || video_timeline(&r->spec, &r->tl, err) < 0)
        return -1;
    if (!(r->tools = video_tools_get(err)))
        return -1;
    if (video_plan(&r->spec, &r->tl, r->tools->version, &r->plan, err) < 0)
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
    r->tmp = local_temp_beside(it->out_path);
    r->seg_dir = xasprintf(".gemflow/segments/%s", local_stage_name(r));
    if (fs_mkdirs(job->dir, r->seg_dir, err) < 0)
        return -1;
    /* what is in the cache now is whole: it got there by a rename after its check */
    r->ready = xcalloc(r->plan.n, sizeof *r->ready);
    for (size_t i = 0; i < r->plan.n; i++) {
        const struct video_segment *s = &r->plan.segs[i];
        char *name = xasprintf("%s/%s.%s", r->seg_dir, s->key, video_segment_ext(s));
        struct fs_facts ff;
        r->ready[i] = fs_stat(job->dir, name, &ff) == 0 && ff.bytes > 0;
        free(name);
        if (r->ready[i])
            r->n_cached++;
        else
            r->work_total += local_segment_work(r, i);
    }
    return 0;
}

/* encode_start, and a note per scene whose clip is missing (it shows its image). */
static void announce(struct local_run *r)
{
    struct item *it = r->it;
    cJSON *f = local_event_fields(r);
    cJSON_AddNumberToObject(f, "attempt", it->attempts);
    cJSON_AddStringToObject(f, "program", "ffmpeg");
    cJSON_AddStringToObject(f, "version", r->tools->version);
    cJSON_AddNumberToObject(f, "scenes", (double)r->spec.n_scenes);
    cJSON_AddNumberToObject(f, "duration_s", round(r->tl.total_s * 1000) / 1000);
    json_add_i64(f, "frames", r->tl.total_frames);
    json_add_i64(f, "segments", (int64_t)r->plan.n);
    json_add_i64(f, "cached", (int64_t)r->n_cached);
    cJSON_AddNumberToObject(f, "jobs", r->jobs);
    cJSON *missing = cJSON_AddArrayToObject(f, "clips_missing");
    for (size_t k = 0; k < r->spec.n_scenes; k++) {
        const struct video_scene *s = &r->spec.scenes[k];
        if (!s->clip.path || !s->clip.missing)
            continue;
        cJSON_AddItemToArray(missing, cJSON_CreateString(s->id));
        engine_note(r->e, it->job, 0, "%s/%s: scene '%s' has no clip '%s': it shows its image '%s'",
                    local_stage_name(r), it->id, s->id, s->clip.path, s->image);
    }
    job_event(it->job, "encode_start", f, false);
    engine_note(r->e, it->job, 0,
                "%s/%s: %zu scenes, %.1f s at %dx%d %d fps (ffmpeg %s): %zu of %zu segments to "
                "encode, %d at a time",
                local_stage_name(r), it->id, r->spec.n_scenes, r->tl.total_s, r->spec.width,
                r->spec.height, r->spec.fps, r->tools->version, r->plan.n - r->n_cached, r->plan.n,
                r->jobs);
}

void local_start(struct engine *e, struct item *it)
{
    struct job *job = it->job;
    struct local_run *r = xcalloc(1, sizeof *r);
    r->e = e;
    r->it = it;
    r->srt = (struct buf)BUF_INIT;
    r->encoded = cJSON_CreateArray();
    r->jobs = cpu_count();
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
    if (prepare(r, &err) < 0) {
        local_note_failure(r, err.msg, NULL, NULL, 0);
        finish_failed(r);
        return;
    }
    announce(r);
    local_task_ended(r); /* starts the segments, or the join when all are cached */
}

void local_abort_all(struct engine *e)
{
    for (struct local_run *r = e->locals; r; r = r->next) {
        if (r->killed)
            continue;
        r->killed = true;
        local_segments_kill(r);
        child_kill(r->join);
    }
}

void local_free_all(struct engine *e)
{
    while (e->locals) {
        struct local_run *r = e->locals;
        unlist(e, r);
        run_free(r);
    }
}
