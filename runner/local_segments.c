/* local_segments: the segments of a running video item (see local_int.h): each encoded by its
 * own FFmpeg into a temporary file, checked with ffprobe, fsync'd and renamed into the cache,
 * then a segment_done event. */
#include "fsutil.h"
#include "jsonutil.h"
#include "local_int.h"
#include "util.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SOUND_WORK 0.05 /* an AAC encode of the timeline, against x264 on as many frames */
#define PROBE_MAX  65536

struct seg_task {
    struct local_run *r;
    size_t seg;
    struct child *child;
    bool probing; /* the encode is over; ffprobe is looking at its file */
    char *tmp;    /* the file FFmpeg writes, relative to the job directory */
    char *srt;    /* the cues it draws (burn_subtitles), or NULL */
    cJSON *argv;  /* the encode's */
    struct buf probe;
    struct video_progress prog;
    int64_t started_ms;
    struct seg_task *next;
};

static const struct video_segment *seg_of(const struct seg_task *t)
{
    return &t->r->plan.segs[t->seg];
}

static const char *job_dir(const struct local_run *r)
{
    return r->it->job->dir;
}

double local_segment_work(const struct local_run *r, size_t i)
{
    const struct video_segment *s = &r->plan.segs[i];
    return s->kind == VIDEO_SEG_SOUND ? (double)s->frames * SOUND_WORK : (double)s->frames;
}

double local_segments_in_flight(const struct local_run *r)
{
    double w = 0;
    for (const struct seg_task *t = r->tasks; t; t = t->next) {
        if (t->probing) {
            w += local_segment_work(r, t->seg);
        } else if (t->prog.out_time_us > 0) {
            double frames = (double)t->prog.out_time_us * r->spec.fps / 1e6;
            double all = (double)seg_of(t)->frames;
            w += local_segment_work(r, t->seg) * fmin(1.0, frames / all);
        }
    }
    return w;
}

static char *cache_name(const struct local_run *r, size_t i)
{
    const struct video_segment *s = &r->plan.segs[i];
    return xasprintf("%s/%s.%s", r->seg_dir, s->key, video_segment_ext(s));
}

static void unlist(struct seg_task *t)
{
    for (struct seg_task **p = &t->r->tasks; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    t->r->running--;
}

static void task_free(struct seg_task *t)
{
    child_free(t->child);
    if (t->tmp)
        fs_unlink_beneath(job_dir(t->r), t->tmp);
    if (t->srt)
        fs_unlink_beneath(job_dir(t->r), t->srt);
    free(t->tmp);
    free(t->srt);
    cJSON_Delete(t->argv);
    buf_release(&t->probe);
    free(t);
}

static cJSON *argv_json(char **argv)
{
    cJSON *a = cJSON_CreateArray();
    for (char **p = argv; *p; p++)
        cJSON_AddItemToArray(a, cJSON_CreateString(*p));
    return a;
}

/* The task's end, whatever it was: free it and let the item go on. */
static void task_end(struct seg_task *t)
{
    struct local_run *r = t->r;
    unlist(t);
    task_free(t);
    local_task_ended(r);
}

static void task_fail(struct seg_task *t, const char *what, int status)
{
    struct local_run *r = t->r;
    const struct video_segment *s = seg_of(t);
    char *msg = xasprintf("segment '%s' (%s): %s", s->name, s->key, what);
    local_note_failure(r, msg, t->argv, t->child ? child_stderr(t->child) : NULL, status);
    free(msg);
}

/* The file checked out: make it durable, put it in the cache, say so. */
static void task_commit(struct seg_task *t)
{
    struct local_run *r = t->r;
    const struct video_segment *s = seg_of(t);
    struct gf_err err = GF_ERR_INIT;
    char *name = cache_name(r, t->seg);
    int fd = fs_open_beneath(job_dir(r), t->tmp, O_RDONLY, 0, &err);
    if (fd >= 0 && fsync(fd) < 0)
        gf_error_errno(&err, GF_ERR_IO, "cannot fsync '%s'", t->tmp);
    if (fd >= 0)
        close(fd);
    if (!err.msg[0] && fs_rename_beneath(job_dir(r), t->tmp, name, &err) == 0) {
        free(t->tmp);
        t->tmp = NULL;
        r->ready[t->seg] = true;
        int64_t ms = now_ms() - t->started_ms;
        r->work_done += local_segment_work(r, t->seg);
        cJSON *f = local_event_fields(r);
        cJSON_AddStringToObject(f, "segment", s->name);
        cJSON_AddStringToObject(f, "kind",
                                s->kind == VIDEO_SEG_SOUND  ? "sound"
                                : s->kind == VIDEO_SEG_FADE ? "fade"
                                                            : "scene");
        cJSON_AddStringToObject(f, "key", s->key);
        json_add_i64(f, "frames", s->frames);
        json_add_i64(f, "ms", ms);
        job_event(r->it->job, "segment_done", f, false);
        cJSON *rec = cJSON_CreateObject();
        cJSON_AddStringToObject(rec, "segment", s->name);
        cJSON_AddStringToObject(rec, "key", s->key);
        json_add_i64(rec, "ms", ms);
        cJSON_AddItemToObject(rec, "argv", cJSON_Duplicate(t->argv, 1));
        cJSON_AddItemToArray(r->encoded, rec);
        local_progress(r, false);
    } else {
        task_fail(t, err.msg, 0);
    }
    free(name);
}

static void on_probe_line(void *ctx, const char *line)
{
    struct seg_task *t = ctx;
    if (t->probe.len + strlen(line) < PROBE_MAX) {
        buf_adds(&t->probe, line);
        buf_addc(&t->probe, '\n');
    }
}

static void on_probe_exited(void *ctx, struct child *c, int status)
{
    struct seg_task *t = ctx;
    struct local_run *r = t->r;
    struct gf_err why = GF_ERR_INIT;
    if (r->killed) {
        /* stopped: the segment is left for the next run */
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char *what = xasprintf("ffprobe cannot read what ffmpeg wrote (%s): %s",
                               child_status_text(status), child_stderr(c));
        task_fail(t, what, status);
        free(what);
    } else if (video_segment_check(t->probe.data, &r->spec, &r->tl, seg_of(t), &why) < 0) {
        char *what = xasprintf("ffmpeg wrote an unexpected file: %s", why.msg);
        task_fail(t, what, status);
        free(what);
    } else {
        task_commit(t);
    }
    task_end(t);
}

/* The encode is over and succeeded: ffprobe looks at the file before it counts. */
static void start_probe(struct seg_task *t)
{
    struct local_run *r = t->r;
    struct gf_err err = GF_ERR_INIT;
    char **argv = video_probe_argv(r->tools->ffprobe, "mov", t->tmp);
    struct child_hooks hooks = {t, on_probe_line, on_probe_exited};
    child_free(t->child);
    t->probing = true;
    t->child = child_spawn(engine_loop(r->e), (const char *const *)argv, job_dir(r), &hooks, &err);
    video_argv_free(argv);
    if (!t->child) {
        task_fail(t, err.msg, 0);
        task_end(t);
    }
}

static void on_encode_line(void *ctx, const char *line)
{
    struct seg_task *t = ctx;
    if (video_progress_line(&t->prog, line))
        local_progress(t->r, false);
}

static void on_encode_exited(void *ctx, struct child *c, int status)
{
    struct seg_task *t = ctx;
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (t->r->killed || (!ok && t->r->e->stop_level > 0)) {
        task_end(t); /* stopped: not an outcome */
    } else if (!ok) {
        task_fail(t, "ffmpeg failed", status);
        task_end(t);
    } else {
        start_probe(t);
    }
    (void)c;
}

/* Spawn the encode of segment i; -1 with err. */
static int task_start(struct seg_task *t, struct gf_err *err)
{
    struct local_run *r = t->r;
    const struct video_segment *s = seg_of(t);
    char *name = cache_name(r, t->seg);
    t->tmp = local_temp_beside(name);
    free(name);
    if (local_create_empty(job_dir(r), t->tmp, err) < 0)
        return -1;
    if (s->srt) {
        char *rel = xasprintf("%s/%s.srt", r->seg_dir, s->key);
        t->srt = local_temp_beside(rel);
        free(rel);
        if (fs_write_atomic(job_dir(r), t->srt, s->srt, strlen(s->srt), FS_ATOMIC, NULL, err) < 0)
            return -1;
    }
    char **argv = video_segment_argv(r->tools->ffmpeg, &r->spec, &r->tl, s, t->tmp, t->srt);
    t->argv = argv_json(argv);
    struct child_hooks hooks = {t, on_encode_line, on_encode_exited};
    t->started_ms = now_ms();
    t->child = child_spawn(engine_loop(r->e), (const char *const *)argv, job_dir(r), &hooks, err);
    video_argv_free(argv);
    return t->child ? 0 : -1;
}

static bool is_taken(const struct local_run *r, size_t i)
{
    if (r->ready[i])
        return true;
    for (const struct seg_task *t = r->tasks; t; t = t->next)
        if (t->seg == i)
            return true;
    return false;
}

/* The segment left with the most work, or r->plan.n when none is left: the longest first, so
 * the encode does not end on one long segment while the other CPUs idle. */
static size_t next_segment(const struct local_run *r)
{
    size_t best = r->plan.n;
    for (size_t i = 0; i < r->plan.n; i++)
        if (!is_taken(r, i) &&
            (best == r->plan.n || local_segment_work(r, i) > local_segment_work(r, best)))
            best = i;
    return best;
}

bool local_segments_start(struct local_run *r)
{
    for (size_t i; r->running < r->jobs && (i = next_segment(r)) < r->plan.n;) {
        struct seg_task *t = xcalloc(1, sizeof *t);
        struct gf_err err = GF_ERR_INIT;
        t->r = r;
        t->seg = i;
        t->probe = (struct buf)BUF_INIT;
        t->prog.out_time_us = -1;
        t->next = r->tasks;
        r->tasks = t;
        r->running++;
        if (task_start(t, &err) < 0) {
            task_fail(t, err.msg, 0);
            unlist(t);
            task_free(t);
            return false;
        }
    }
    return true;
}

void local_segments_kill(struct local_run *r)
{
    for (struct seg_task *t = r->tasks; t; t = t->next)
        child_kill(t->child);
}

void local_segments_free(struct local_run *r)
{
    while (r->tasks) {
        struct seg_task *t = r->tasks;
        unlist(t);
        task_free(t);
    }
}
