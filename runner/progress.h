/* progress: how far a running job is, from what really happened in this run: per stage items
 * done/failed/total, calls in flight, retries, percent, and an ETA from the latencies of the
 * calls that succeeded in this run. The `progress` event of progress.jsonl and the live bars
 * are both computed here, so they show the same figures.
 *
 * Calling sequence:
 *   struct progress p = PROGRESS_INIT;
 *   progress_compute(job, now_ms(), &p);   // as often as needed; reuses p's storage
 *   ... read p.percent, p.eta_s, p.stages[s] ...
 *   progress_release(&p);
 *
 * Rules (see docs/design-notes.md, "Progress"):
 * - percent is items settled (done, cached or failed) over items expected, floored to 0.1, so
 *   100 means every expected item is settled. A stage not expanded yet counts with an estimate
 *   (the widest foreach expanded so far, or its item count in the checkpoint), and the figures
 *   say so (`estimated`). Stages that cannot run (a dependency failed) do not count.
 * - eta_s is < 0 (unknown, JSON null) until a call has succeeded in this run. A stage shows its
 *   own ETA only once its model has answered in this run; the job's ETA uses the job-wide mean
 *   latency for models that have not answered yet. Both come from one simulation of the calls
 *   left: in the engine's dispatch order (priority, then topological), over the job's
 *   concurrency slots (calls in flight hold theirs for the rest of the mean latency), with each
 *   model's rpm pacing, pending retry delays, and stages starting when their dependencies
 *   end.
 * - While a stage waits for the reset of a per-day quota (engine_quota.c), neither it nor the
 *   job has an ETA: the wait, until quota_until_ms, is not a latency the simulation knows. */
#ifndef GF_PROGRESS_H
#define GF_PROGRESS_H

#include "job.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct progress_stage {
    const char *name; /* borrowed from the workflow */
    enum stage_state state;
    bool estimated; /* not expanded yet: total is an estimate */
    size_t total;   /* items (all of them, cached included) */
    size_t done;    /* done items, cached and edited included */
    size_t failed;
    size_t cached;
    int inflight;    /* calls under way */
    int retries;     /* retries scheduled in this run */
    int rendering;   /* items whose long-running work the API is doing (operation.h) */
    double render_s; /* the longest of them so far, in seconds (wall clock) */
    int64_t calls;   /* successful calls in this run */
    double mean_ms;  /* their mean latency; 0 when calls == 0 */
    double percent;  /* (done + failed) / total, floored to 0.1 */
    double eta_s;    /* running: seconds until every item is settled, rounded to 0.1; < 0 unknown
                        (and for a stage not expanded yet, or waiting for the quota) */
    int64_t quota_until_ms; /* waiting for the per-day quota's reset at this wall-clock time (ms
                               since the epoch, engine_quota.c); 0 when not waiting */
};

struct progress {
    struct progress_stage *stages; /* per workflow stage, same index; owned */
    size_t n_stages, cap_stages;
    size_t total, finished; /* items expected and settled, over the stages that can run */
    bool estimated;         /* total includes estimates */
    int inflight, retries;
    double percent; /* floored to 0.1 */
    double eta_s;   /* rounded to 0.1; < 0 unknown (also while a stage waits for the quota) */
    int64_t quota_until_ms; /* the earliest reset a stage waits for (wall clock ms), 0 if none */
};

#define PROGRESS_INIT                                                                              \
    {                                                                                              \
        0                                                                                          \
    }

/* Compute the figures of `job` at monotonic time `now_ms` into `p` (its storage is reused). */
void progress_compute(const struct job *job, int64_t now_ms, struct progress *p);
void progress_release(struct progress *p);

/* The fields of a `progress` event (new object, caller owns): percent, eta_s, finished, total,
 * estimated, inflight, retries, and `stages`: one object per running stage {stage, done,
 * failed, total, inflight, retries, percent, eta_s}. */
cJSON *progress_fields(const struct progress *p);

/* "<1s", "42s", "3m05s", "2h07m" into out (n >= 16). */
void progress_format_duration(double seconds, char *out, size_t n);

#endif
