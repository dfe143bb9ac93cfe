/* local_int: one running item of a local stage (video), shared by local.c (the item: plan,
 * join, commit, events) and local_segments.c (its segments: encode, check, cache). Not for
 * other modules.
 *
 * An item runs in three steps. Its segments (stages/video.h) that are not in the cache
 * (`.gemflow/segments/<stage>/<key>.<ext>`) are encoded, up to `jobs` at a time, each by its
 * own FFmpeg into a temporary file beside its cache name, checked with ffprobe, fsync'd and
 * renamed into the cache: a segment is there whole or not at all. Then one FFmpeg joins the
 * cached segments without re-encoding into a temporary MP4 beside the output, which is checked
 * and renamed into place before item_done (the checkpoint rule). Then segments no longer named
 * by the plan are pruned. A stop kills every FFmpeg and removes their temporary files: the
 * segments finished so far stay for the next run. */
#ifndef GF_LOCAL_INT_H
#define GF_LOCAL_INT_H

#include "buf.h"
#include "child.h"
#include "engine_int.h"
#include "videotools.h"
#include "../stages/video.h"

#include <stdbool.h>
#include <stdint.h>

struct seg_task;

struct local_run {
    struct engine *e;
    struct item *it;
    const struct video_tools *tools;
    struct video_spec spec;
    struct video_timeline tl;
    struct video_plan plan;
    struct buf srt; /* the subtitles file's text */
    int cues;
    char *seg_dir; /* ".gemflow/segments/<stage>", relative to the job directory */
    bool *ready;   /* per segment: in the cache */
    size_t n_cached;
    int jobs; /* segments encoded at a time */
    struct seg_task *tasks;
    int running;
    /* work, in frames of picture (the sound counts as a fraction of its frames): to do in this
     * run, and done; for encode_progress */
    double work_total, work_done, last_percent;
    cJSON *encoded; /* one object per segment encoded in this run, for the call record */
    /* the first failure: the item fails with it once the tasks in flight have ended */
    char *fail_msg;
    cJSON *fail_argv;
    char *fail_stderr;
    int fail_status;
    /* the join */
    struct child *join;
    cJSON *join_argv;
    char *list; /* the concat list, relative to the job directory */
    char *tmp;  /* the MP4 being written, relative to the job directory */
    int64_t started_ms, last_event_ms;
    bool killed;
    struct local_run *next;
};

/* local_segments.c */
/* Start segment tasks while fewer than r->jobs run and segments are left; false when one could
 * not start (r->fail_msg is set). */
bool local_segments_start(struct local_run *r);
/* SIGKILL every task's process; their exits still come through the loop. */
void local_segments_kill(struct local_run *r);
/* Free every task at once (engine_free), removing its temporary files. */
void local_segments_free(struct local_run *r);
/* Work units of a segment (for progress). */
double local_segment_work(const struct local_run *r, size_t i);
/* The frames a running task has encoded, in work units. */
double local_segments_in_flight(const struct local_run *r);

/* local.c, called by local_segments.c */
/* Record the first failure of the run (msg copied; argv and stderr of the process, or NULL). */
void local_note_failure(struct local_run *r, const char *msg, const cJSON *argv,
                        const char *child_stderr, int status);
/* A task has ended (done, failed or killed): start more, join, or end the item. */
void local_task_ended(struct local_run *r);
/* An encode_progress event when one is due (at most one a second) or `force`. */
void local_progress(struct local_run *r, bool force);
/* The stage/item fields every event of the item starts with (caller deletes). */
cJSON *local_event_fields(const struct local_run *r);
/* "<stage>/<item>" for notes. */
const char *local_stage_name(const struct local_run *r);
/* ".<name>.tmp-<pid>" beside `rel` (caller frees): the pattern the crash sweep removes. */
char *local_temp_beside(const char *rel);
/* The MP4 or M4A FFmpeg writes must be a file of ours, created here beneath the job directory
 * (FFmpeg would follow a symbolic link planted in its place). */
int local_create_empty(const char *dir, const char *rel, struct gf_err *err);

#endif
