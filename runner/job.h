/* job: one job directory opened for a run or for a look (plan, status): its workflow, lock,
 * progress log, checkpoint state, manifest, inputs, and per stage the items with their
 * rendered requests and keys.
 *
 * Calling sequence (run):
 *   job_open(&job, dir, &opts, JOB_RUN, &err);   // lock, replay, load inputs
 *   for each stage in order whose dependencies are done: job_expand_stage(&job, s, &err);
 *   ... the engine calls items and records results ...
 *   job_close(&job);
 * With JOB_LOOK nothing is locked or written. */
#ifndef GF_JOB_H
#define GF_JOB_H

#include "checkpoint.h"
#include "err.h"
#include "joblog.h"
#include "manifest.h"
#include "workflow.h"
#include "../stages/stage.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

enum item_state {
    IS_TODO,     /* to be called */
    IS_WAIT,     /* waiting for a retry or a rate-limit slot (not_before) */
    IS_INFLIGHT, /* a call is under way */
    IS_DONE,     /* done: called now, or cached from an earlier run */
    IS_FAILED,   /* failed for good in this run */
};

struct item {
    struct job *job;
    size_t stage;
    char *id;       /* safe file-name component; the stage name for a single-item stage */
    int index;      /* 1-based position in the foreach array; 0 for a single-item stage */
    char *out_path; /* relative to the job directory, checked */
    char *prompt;   /* rendered prompt (speech: text), for the manifest and the call record */
    char *system;
    enum gemini_verb verb;
    char *method_path; /* "/v1beta/models/M:generateContent" */
    char *body;        /* request body exactly as sent */
    size_t body_len;
    char key[SHA256_HEX_LEN + 1];
    enum ckpt_verdict verdict;
    char *input_error; /* the item cannot be built (bad template data, bad id), or its output
                          was edited by hand into one the kind's check refuses (verdict
                          CK_EDITED): fails at once, without a call */

    enum item_state state;
    int attempts;          /* calls made in this run */
    int paid_rejects;      /* 200 replies whose content was unusable, in this run */
    char *served_by;       /* the model that answered the last reply when it was not the one
                              asked for (modelcheck.h mc_same_model), else NULL */
    int64_t not_before_ms; /* IS_WAIT: monotonic time before which it must not start */
    int64_t started_ms;    /* monotonic time of the current attempt */
    int64_t replied_ms;    /* monotonic time its reply was in (before it was processed) */
    int64_t first_start_ms;
    char started_ts[40]; /* wall clock of the first attempt */
    cJSON *attempt_log;  /* per-attempt records for the call record */
    /* EXEC_OPERATION (operation.h): the id of the work the API accepted for this item, polled
     * until it ends (NULL before the create is answered), and since when (wall clock, ms). */
    char *op_id;
    int64_t op_since_ms;
    int polls; /* polls of op_id in this run */
};

enum stage_state {
    SS_WAITING, /* its dependencies are not done yet */
    SS_RUNNING, /* expanded; items being called */
    SS_DONE,
    SS_FAILED,
    SS_BLOCKED, /* a dependency failed: it will not start in this run */
};

struct stage_run {
    enum stage_state state;
    struct item *items;
    size_t n_items;
    size_t n_done, n_failed, n_cached, n_edited;
    bool rerun;         /* regenerate every item (gemflow rerun STAGE) */
    char **rerun_items; /* regenerate these items (gemflow rerun STAGE/ITEM) */
    size_t n_rerun_items;
    int priority; /* longest chain of stages depending on it: dispatch those first */
    int64_t started_ms;
    char *error;  /* why the stage failed as a whole (bad upstream output), or NULL */
    cJSON *value; /* json/text stage: its output as templates see it, once done */
    /* the shared quota (engine_quota.c) */
    bool quota_admitted;         /* today's per-day quota was found to cover the job */
    int64_t quota_wait_until_ms; /* waiting for the per-day reset (wall clock), 0 when not */
};

enum job_mode {
    JOB_RUN,  /* lock, append to the log */
    JOB_LOOK, /* read only */
};

struct job_opts {
    struct wf_load_opts wf;
    const char *endpoint;     /* --endpoint; NULL: $GEMINI_BASE_URL, workflow, default */
    bool no_model_check;      /* --no-model-check */
    bool strict_models;       /* --strict-models: every stage strict_model */
    double max_cost;          /* --max-cost USD: the budget when below limits.max_cost; 0 none */
    const char *const *rerun; /* STAGE or STAGE/ITEM to regenerate (gemflow rerun) */
    size_t n_rerun;
};

struct job {
    char *dir;
    char *name; /* basename of dir */
    enum job_mode mode;
    struct workflow wf;
    int lock_fd;
    struct joblog log;
    struct ckpt ck;
    struct manifest man;
    struct stage_run *st; /* per workflow stage, same index */
    cJSON **inputs;       /* per workflow input: its text as a JSON string */
    char *endpoint;       /* base URL as chosen */
    char *origin;         /* scheme://host[:port] */
    char *api_root;       /* path prefix, e.g. "/v1beta" */
    bool log_was_torn;
    int swept_temporaries; /* leftovers of a crash, removed at open */

    /* run state */
    struct engine *engine; /* the engine running it, NULL otherwise */
    int models_state;      /* the free model check before the first paid call (engine_models.c) */
    char *halt_error;      /* why the run stopped before a paid call (a model not served), or
                              NULL; the job ends failed with halt_exit */
    int halt_exit;
    int inflight;  /* calls holding a slot */
    int checking;  /* replies in, being checked on a worker thread (slot given back) */
    int rendering; /* items whose operation the API accepted and is doing (operation.c) */
    int creating;  /* creates of operations sent and not answered yet (at most one) */
    int64_t started_ms;
    int64_t manifest_ms; /* monotonic time manifest.json was last written */
    int64_t calls, tokens;
    bool ended, failed, interrupted;
};

/* Open a job directory. Errors: GF_ERR_CONFIG for a bad workflow (diagnostics printed into
 * err as one message per line), GF_ERR_INPUT for a missing/invalid input file, GF_ERR_LOCKED. */
int job_open(struct job *job, const char *dir, const struct job_opts *opts, enum job_mode mode,
             struct diag_list *dl, struct gf_err *err);
void job_close(struct job *job);
/* What `gemflow rerun` names, applied to the checkpoint in memory: stage_reset for a stage,
 * item_reset for STAGE/ITEM (each also appended to the log when `log`). */
void job_apply_reruns(struct job *job, bool log);

/* Whether every dependency of stage s is done (then it can be expanded). */
bool job_stage_ready(const struct job *job, size_t s);
/* Whether some dependency of stage s failed or is blocked. */
bool job_stage_blocked(const struct job *job, size_t s);
/* Build the items of stage s: render templates, build requests, compute keys, judge them
 * against the checkpoint, and check an output edited by hand with the kind's check_artifact. A
 * problem with upstream data fails the stage (st->error) or single items (item->input_error);
 * the return is -1 only for a stage-level problem. */
int job_expand_stage(struct job *job, size_t s, struct gf_err *err);
/* Load the output of a done json/text stage for templates (st->value); a bad edited file
 * fails with a message naming it. */
int job_load_stage_value(struct job *job, size_t s, struct gf_err *err);

/* Append an event to the job's log (JOB_RUN only); `fields` is taken. */
int job_event(struct job *job, const char *event, cJSON *fields, bool durable);

/* What an item made, for job_record_done. */
struct item_done_facts {
    const struct ckpt_output *outs; /* the artifacts, durable on disk already */
    size_t n_outs;
    const cJSON *media;        /* facts of outs[0] (the checkpoint and item_done keep them) */
    const cJSON *const *extra; /* facts of outs[1..] in the manifest; NULL = none */
    const cJSON *usage;        /* tokens, or NULL */
    bool accepted;             /* adopted by `gemflow accept`, not made by a run */
};

/* The one way an item becomes done, for every executor and for `gemflow accept` (item_done.c):
 * item_done appended and fsync'd, then the checkpoint, then the manifest entries (the
 * checkpoint rule). -1 with err when the progress log cannot be written: then nothing is
 * recorded and the item is not done. */
int job_record_done(struct job *job, const struct item *it, const struct item_done_facts *f,
                    struct gf_err *err);

/* Split an endpoint URL into its origin ("https://host[:port]") and API root path ("/v1beta",
 * added when the URL has no version); `from` names where the URL came from in errors.
 * Returns 0 with *origin and *api_root (caller frees), or -1 with err (GF_ERR_CONFIG). */
int job_endpoint_parse(const char *url, const char *from, char **origin, char **api_root,
                       struct gf_err *err);
/* The request key: SHA-256 of origin "\n" method path "\n" body. */
void job_request_key(const char *origin, const char *method_path, const char *body, size_t len,
                     char out[SHA256_HEX_LEN + 1]);

#endif
