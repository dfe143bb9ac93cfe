/* engine_int: the engine's state, shared by engine.c (loop, dispatch, stage bookkeeping),
 * call.c (what happens when a call ends) and local.c (items of local stages: FFmpeg). Not for
 * other modules. */
#ifndef GF_ENGINE_INT_H
#define GF_ENGINE_INT_H

#include "engine.h"
#include "gemini.h"
#include "http.h"
#include "loop.h"
#include "modelcheck.h"
#include "ratelimit.h"
#include "strmap.h"
#include "workpool.h"

#include <stdbool.h>
#include <stdint.h>

struct engine {
    struct engine_opts opts;
    struct http_client *http;
    struct loop *loop;
    struct workpool *pool; /* checks media replies off the loop (call.c) */
    struct engine_hooks hooks;
    struct ratelimit rl;
    struct modelcheck *mc;       /* models.get / models.list answers of this process */
    struct strmap reroutes_seen; /* job, stage, model, served_by already reported */
    struct job **jobs;
    size_t n_jobs, cap_jobs;
    size_t **dispatch_order; /* per job: stage indices by priority */
    int inflight;
    uint64_t rng;
    int stop_level;     /* 0 running, 1 stop starting calls, 2 abandon calls in flight */
    int64_t stop_at_ms; /* when stopping began */
    int signals_seen;   /* SIGINT/SIGTERM received so far */
    /* latencies of successful calls in this run, for the ETA */
    int64_t ok_calls, ok_ms;
    /* items of local stages running now (local.c) */
    struct local_run *locals;
    int local_inflight;
    /* the shared quota (engine_quota.c): opened before the first paid call */
    struct quota *quota;
    char *quota_error;      /* why it could not be opened: every job halts with it */
    struct strmap qbuckets; /* "FP/MODEL" -> struct eq_bucket */
    struct strmap qfps;     /* origin -> its key fingerprint */
    bool quota_io_warned;   /* a record could not be used: said once */
};

/* Local items run at most this many at a time per process: a video item keeps every CPU busy
 * with its segments (local_int.h). */
#define ENGINE_LOCAL_MAX 1

/* A call in flight. */
struct call {
    struct engine *e;
    struct item *it;
    bool released; /* its slot was given back before its reply was processed */
    char *sent;    /* the body as sent when it differs from the item's (references inlined) */
};

/* call.c */
void call_start(struct engine *e, struct item *it);
/* Write the item's call record (.gemflow/calls/<stage>/<item>.json); a local item's "url" is
 * "local:<method>". */
void call_write_record(struct item *it, const char *status, const cJSON *error, const char *body,
                       size_t body_len, long http_status, const char *saved_as,
                       const char *model_text, const cJSON *usage);
/* local.c */
void local_start(struct engine *e, struct item *it);
/* Kill every local item's process (a stop signal): they are left for the next run. */
void local_abort_all(struct engine *e);
/* Free what is left (engine_free). */
void local_free_all(struct engine *e);
/* The manifest facts of output k > 0 of a local item, from the item's media (caller deletes;
 * NULL when none). */
cJSON *local_output_media(const struct stage_def *def, const cJSON *media, size_t k);
/* operation.c (operation.h): items of EXEC_OPERATION stages */
/* Send the create of `it` (a paid call). */
void op_create(struct engine *e, struct item *it);
/* Poll the operation of `it` (it->op_id). */
void op_poll(struct engine *e, struct item *it);
/* At stage start, for an item to do: the operation an earlier run left for today's key, if
 * any: polled from now on (it->op_id set, IS_WAIT), or, when its create's answer was lost,
 * the item fails and says so. */
void op_adopt(struct engine *e, struct item *it);
/* engine_models.c */
/* Whether the job's models are known to be served, so its first paid call may start; false
 * while asking (free calls), and for good once the job has a halt_error. */
bool engine_models_ready(struct engine *e, struct job *job);
/* A reply of `it` was served by another model: the model_rerouted event and one warning per
 * job, stage, model and serving model. */
void engine_note_served_by(struct engine *e, struct item *it, const char *served_by);
/* engine_quota.c */
enum eq_answer {
    EQ_GO,     /* counted in the shared quota: start the call */
    EQ_LATER,  /* not yet (pacing, a 429's pause): *at says when to ask again */
    EQ_WAIT,   /* the stage waits for the per-day quota's reset (quota_wait event) */
    EQ_FAILED, /* --no-wait-quota: the item failed for the per-day quota */
};
/* Whether the quota directory is open (opened on the first call); false when it cannot be:
 * the job then halts with the reason (exit 2). */
bool engine_quota_ready(struct engine *e, struct job *job);
/* Before a call of `it` at monotonic `now`: a slot from the shared quota. *at: when to ask
 * again (EQ_LATER, EQ_WAIT). */
enum eq_answer engine_quota_take(struct engine *e, struct item *it, int64_t now, int64_t *at);
/* A 429 of `it`: what its body says is kept in the quota directory for every process. */
void engine_quota_note_429(const struct item *it, const struct gemini_error *ge);
/* A failure of `it` with `error` that is the per-day quota: unless --no-wait-quota, the item
 * goes back to wait for the reset, and true is returned. */
bool engine_quota_defer(struct engine *e, struct item *it, const cJSON *error);
void engine_quota_free(struct engine *e);

/* engine.c, used by call.c */
void engine_item_finished(struct engine *e, struct item *it);
void engine_note(struct engine *e, const struct job *job, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Fail an item for good: item_failed event, call record, counters. `error` is taken. */
void engine_fail_item(struct engine *e, struct item *it, cJSON *error, const char *response_body,
                      size_t response_len, long http_status);

#endif
