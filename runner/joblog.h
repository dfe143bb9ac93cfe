/* joblog: the progress log `progress.jsonl`, one JSON event per line.
 *
 * Every line starts with "ts" (RFC 3339, ms, UTC) and "event". Lines are appended with one
 * write(2) each. Durable events (item_done, item_failed, stage and run boundaries) are fsync'd
 * before joblog_append returns, which also makes every earlier line durable; chatty events
 * (call_start, call_end, retry, progress) are not fsync'd on their own.
 *
 * Replay reads the log back; a torn last line (a crash mid-write: no final newline, or not
 * JSON) is ignored, and joblog_open cuts it off so the next append starts on a fresh line. */
#ifndef GF_JOBLOG_H
#define GF_JOBLOG_H

#include "err.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

struct joblog {
    int fd;
    char *path;
    /* Called after every append with the event line (no newline), e.g. to echo it. */
    void (*observer)(void *ctx, const char *event, const cJSON *ev);
    void *observer_ctx;
};

/* Open JOB/progress.jsonl for appending, creating it; a torn last line is cut off (and
 * reported in *torn when not NULL). */
int joblog_open(struct joblog *log, const char *job_dir, bool *torn, struct gf_err *err);
/* Append an event. Takes ownership of `fields` (an object, or NULL). */
int joblog_append(struct joblog *log, const char *event, cJSON *fields, bool durable,
                  struct gf_err *err);
void joblog_close(struct joblog *log);

struct joblog_stats {
    size_t lines;     /* complete lines read */
    size_t bad_lines; /* lines that were not a JSON object with "event" (skipped) */
    bool torn;        /* the last line was torn and ignored */
};

/* Called for each event in file order; return non-zero to stop. */
typedef int (*joblog_fn)(void *ctx, const cJSON *ev, size_t lineno);

/* Replay `path` (a missing file is an empty log). Returns 0, or -1 with err on an I/O error. */
int joblog_replay(const char *path, joblog_fn fn, void *ctx, struct joblog_stats *stats,
                  struct gf_err *err);
/* Replay only the events named in the NULL-terminated list `events` (NULL: all). A line in the
 * shape joblog_append writes ({"ts":...,"event":"NAME",...}) whose NAME is not listed is skipped
 * without being parsed, so bad_lines counts only the lines that were parsed; a line of any other
 * shape is parsed and passed on only if its event is listed. */
int joblog_replay_events(const char *path, const char *const *events, joblog_fn fn, void *ctx,
                         struct joblog_stats *stats, struct gf_err *err);
/* Replay a log held in memory (used by the fuzzer and the tests). */
int joblog_replay_mem(const char *data, size_t len, joblog_fn fn, void *ctx,
                      struct joblog_stats *stats);

#endif
