/* cost: money, from the per-model price table (prices.h): what a job's calls cost so far, per
 * stage (the tokens the calls reported, every run), and what the calls a run would still make
 * are estimated to cost (plan, --max-cost). A model without a price is "unknown", never 0.
 *
 * Calling sequence for an estimate:
 *   look_job(&job, looks);                 // what would be called (look.h)
 *   struct cost_ctx cc = {&prices, &facts};
 *   struct cost_tally t = {0};
 *   cost_stage_todo(&job, s, &looks[s], &cc, &t, &why);   // per stage, summed into t */
#ifndef GF_COST_H
#define GF_COST_H

#include "jobfacts.h"
#include "look.h"
#include "planwhy.h"
#include "prices.h"

#include <stdbool.h>
#include <stddef.h>

/* Sums for one stage or a whole job. */
struct cost_tally {
    size_t calls;
    double in, out, usd;
    size_t unpriced; /* calls whose cost is unknown */
};

struct cost_ctx {
    const struct prices *pr;
    const struct job_facts *facts; /* this job's history: paid retries so far, spending */
};

/* Add `n` calls of stage `def`, each estimated as `ce`, at the stage's service tier, plus the
 * paid retries the stage needed so far in this job (per artifact produced). *why is set to the
 * reason when the price is unknown. */
void cost_add_calls(struct cost_tally *t, const struct cost_ctx *cc, const struct stage_def *def,
                    const struct call_estimate *ce, double n, const char **why);
void cost_tally_add(struct cost_tally *sum, const struct cost_tally *t);

/* The calls stage s of a looked-at job would still make, estimated (nothing for a local stage;
 * a stage that waits for upstream output counts its expected items). */
void cost_stage_todo(struct job *job, size_t s, const struct look_stage *ls,
                     const struct cost_ctx *cc, struct cost_tally *t, const char **why);

/* What stage `def` (model `model`; NULL def: a stage no longer in the workflow) spent over every
 * run of the job: *usd; false with *why when a call of it has no price. */
bool cost_stage_spent(const struct cost_ctx *cc, const struct stage_def *def, const char *model,
                      const char *stage_name, double *usd, const char **why);

/* --max-cost / limits.max_cost: would the calls `gemflow run` is about to make take the job in
 * `dir` past `budget` USD (spent so far + the estimate)? 0 when not, else GF_EXIT_USAGE with the
 * figures in err (nothing has been called). `opts` opens the job as the run will. */
struct job_opts;
int cost_check_budget(const char *dir, const struct job_opts *opts, double budget,
                      struct gf_err *err);

/* The same check inside a run, as a stage's items become known (engine.c): the money the job's
 * log says was spent, plus the estimate of every call not yet answered in the stages expanded
 * (in flight included), plus plan's estimate of the stages not expanded yet. Returns true with
 * the figures in err when that is over the job's budget (job->wf.max_cost). */
bool cost_run_over_budget(struct job *job, struct gf_err *err);

#endif
