/* engine: runs jobs. One single-threaded event loop drives every call of the process through
 * one HTTP client: it expands stages whose inputs are done, starts calls within the job-wide
 * concurrency limit and the per-model rate limits, retries what is retryable, records every
 * result (artifact, item_done, manifest, call record) and ends each job with run_end.
 *
 * SIGINT/SIGTERM (after engine_install_signals): no new calls; calls in flight finish and are
 * recorded; every job ends `interrupted`. A second signal abandons the calls in flight. */
#ifndef GF_ENGINE_H
#define GF_ENGINE_H

#include "err.h"
#include "job.h"

#include <stdint.h>

struct engine;

struct engine_opts {
    const char *api_key; /* required */
    int max_inflight;    /* cap on calls in flight over all jobs; 0 = only the jobs' limits */
    int verbosity;       /* -1 quiet, 0 normal, 1 verbose */
    uint64_t seed;       /* backoff jitter; 0 = from the clock */
};

struct engine *engine_new(const struct engine_opts *opts, struct gf_err *err);
/* Add a job opened with JOB_RUN; the engine borrows it until engine_free. Writes run_start. */
void engine_add_job(struct engine *e, struct job *job);
/* Run until every job has ended. Returns GF_EXIT_OK, GF_EXIT_FAILED (a stage failed in some
 * job) or GF_EXIT_INTERRUPTED. */
enum gf_exit engine_run(struct engine *e);
void engine_free(struct engine *e);

/* SIGINT/SIGTERM handlers that stop the engine (see above). */
void engine_install_signals(void);

#endif
