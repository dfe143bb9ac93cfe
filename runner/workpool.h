/* workpool: a few threads that run pure, CPU-heavy work (decoding and checking a media reply)
 * off the event loop, so that replies landing together are checked in parallel and the loop
 * keeps sending calls meanwhile. A job's `done` runs back on the loop's thread, from the loop,
 * in the order the jobs finished. `work` must touch nothing but its own ctx and read-only data.
 *
 *   workpool_submit(pool, check, finish, ctx);   // check(ctx) on a worker, finish(ctx) in loop
 */
#ifndef GF_WORKPOOL_H
#define GF_WORKPOOL_H

#include "loop.h"

#include <stdbool.h>
#include <stddef.h>

struct workpool;

/* Start `threads` workers (at least 1) whose completions are delivered through loop `l`. NULL
 * with err when a thread or the wake-up descriptor cannot be made. */
struct workpool *workpool_new(struct loop *l, int threads, struct gf_err *err);
/* Wait for every submitted job, run the completions still due, stop the workers. */
void workpool_free(struct workpool *p);
void workpool_submit(struct workpool *p, void (*work)(void *ctx), void (*done)(void *ctx),
                     void *ctx);
/* Jobs submitted whose `done` has not run yet. */
size_t workpool_pending(const struct workpool *p);
/* True when every worker has a job (more would only wait in the queue). */
bool workpool_busy(const struct workpool *p);
/* The number of workers to use: GEMFLOW_CHECK_THREADS when it is set to 0..16 (0: no workers,
 * replies are checked on the loop's thread), else the machine's online CPUs, 1 to 4. */
int workpool_threads_wanted(void);

#endif
