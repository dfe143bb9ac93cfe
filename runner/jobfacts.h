/* jobfacts: what a job's progress log says happened, for status and report: the last run (and
 * whether it ended), per stage the calls and tokens spent over every run, its latest time, what
 * is in flight or waiting for a retry in the last run, and each item's latest failure.
 *
 * Calling sequence:
 *   struct job_facts f;
 *   jobfacts_load(&f, job_dir, &err);      // replays JOB/progress.jsonl, never writes
 *   ... jobfacts_stage(&f, "images") ... jobfacts_failure(&f, "images", "s03") ...
 *   jobfacts_release(&f);
 * A missing log is a job that never ran (every count 0). */
#ifndef GF_JOBFACTS_H
#define GF_JOBFACTS_H

#include "err.h"
#include "strmap.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

struct stage_facts {
    /* over every run */
    int64_t calls;    /* call_end events */
    int64_t produced; /* item_done events written after a call (not by `gemflow accept`) */
    int64_t tok_prompt, tok_output, tok_total;
    int64_t paid_retries; /* retry events of a paid reply whose content was unusable */
    /* per service tier (prices_tier_index: standard, flex, priority): calls, tokens in, out */
    int64_t tier_calls[3], tier_prompt[3], tier_output[3];
    /* the latest stage_done / stage_failed, whichever run wrote it */
    int64_t ms; /* -1 when the stage never ended */
    char ended[40];
    char end_event[16]; /* "stage_done" | "stage_failed" | "" */
    char started[40];   /* the latest stage_start */
    /* the last run only */
    bool started_last_run, ended_last_run;
    int inflight; /* call_start without its call_end */
    int retries;  /* retry events */
};

struct job_facts {
    cJSON *last_start;      /* the last run_start (owned), NULL when the job never ran */
    cJSON *last_end;        /* its run_end (owned), NULL when that run did not end (killed) */
    char first_ts[40];      /* the first event's time, "" when none */
    char last_ts[40];       /* the latest event's time, "" when none */
    int64_t runs;           /* run_start events */
    int64_t calls, tokens;  /* over every run, from call_end events */
    size_t events;          /* complete lines read */
    struct strmap stages;   /* stage name -> struct stage_facts (owned) */
    struct strmap failures; /* "stage/item" -> its latest item_failed event (owned cJSON) */
    cJSON *quota_wait;      /* the last run's latest quota_wait event while no call of its stage
                               has started since (owned), else NULL: the run waits for the
                               per-day quota's reset */
};

/* Replay JOB/progress.jsonl. Returns 0, or -1 with err on an I/O error (f is then empty). */
int jobfacts_load(struct job_facts *f, const char *job_dir, struct gf_err *err);
void jobfacts_release(struct job_facts *f);

/* Borrowed facts of a stage; a stage the log never mentions gets zeroes (ms -1). */
const struct stage_facts *jobfacts_stage(const struct job_facts *f, const char *stage);
/* The latest item_failed event of an item (borrowed), or NULL. */
const cJSON *jobfacts_failure(const struct job_facts *f, const char *stage, const char *item);
/* "done" | "failed" | "interrupted" (the last run_end's state), "killed" (a run_start without
 * run_end), or NULL when the job never ran. */
const char *jobfacts_last_run_state(const struct job_facts *f);
/* Whether the job in DIR is unfinished: it never ran, its last run was killed (no run_end) or
 * interrupted. A job whose last run ended done or failed waits for `gemflow run`/`rerun`.
 * Cheap for long logs: only the tail is read unless no run boundary is in it. */
bool jobfacts_unfinished(const char *dir);
/* The last run_end of DIR's progress log when the log ends a run with it (caller deletes), else
 * NULL (never ran, or the last run did not end). Cheap like jobfacts_unfinished. */
cJSON *jobfacts_last_run_end(const char *dir);

#endif
