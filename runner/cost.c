/* cost: what a job's calls cost so far and what a run would still spend (see cost.h). */
#include "cost.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void cost_add_calls(struct cost_tally *t, const struct cost_ctx *cc, const struct stage_def *def,
                    const struct call_estimate *ce, double n, const char **why)
{
    double usd;
    const struct stage_facts *sf = jobfacts_stage(cc->facts, def->name);
    if (sf->produced > 0 && sf->paid_retries > 0)
        n *= 1.0 + (double)sf->paid_retries / (double)sf->produced;
    t->calls += (size_t)(n + 0.5);
    t->in += ce->in_tokens * n;
    t->out += ce->out_tokens * n;
    if (cc->pr && prices_cost(cc->pr, def->model, ce->in_tokens, ce->out_tokens, ce->images,
                              ce->seconds, &usd, why))
        t->usd += usd * n * prices_tier_factor(def->service_tier);
    else
        t->unpriced += (size_t)(n + 0.5);
}

void cost_tally_add(struct cost_tally *sum, const struct cost_tally *t)
{
    sum->calls += t->calls;
    sum->in += t->in;
    sum->out += t->out;
    sum->usd += t->usd;
    sum->unpriced += t->unpriced;
}

void cost_stage_todo(struct job *job, size_t s, const struct look_stage *ls,
                     const struct cost_ctx *cc, struct cost_tally *t, const char **why)
{
    const struct stage_def *def = &job->wf.stages[s];
    if (def->kind->exec == EXEC_LOCAL)
        return; /* runs a program here: no call, no cost */
    struct call_estimate ce;
    if (ls->state == LOOK_AFTER) {
        planwhy_estimate(job, s, NULL, &ce);
        cost_add_calls(t, cc, def, &ce, (double)(ls->expected ? ls->expected : 1), why);
        return;
    }
    if (ls->state != LOOK_TODO)
        return;
    const struct stage_run *sr = &job->st[s];
    for (size_t i = 0; i < sr->n_items; i++) {
        const struct item *it = &sr->items[i];
        if (it->input_error || it->verdict == CK_DONE || it->verdict == CK_EDITED)
            continue;
        planwhy_estimate(job, s, it, &ce);
        cost_add_calls(t, cc, def, &ce, 1, why);
    }
}

bool cost_stage_spent(const struct cost_ctx *cc, const struct stage_def *def, const char *model,
                      const char *stage_name, double *usd, const char **why)
{
    const struct stage_facts *sf = jobfacts_stage(cc->facts, stage_name);
    *usd = 0;
    if ((def && def->kind->exec == EXEC_LOCAL) || sf->calls == 0)
        return true;
    if (!cc->pr) {
        *why = "no usable price table";
        return false;
    }
    /* every call's tokens, paid retries included, each tier at its own price */
    for (int k = 0; k < 3; k++) {
        double part = 0;
        if (!sf->tier_calls[k])
            continue;
        int images = k == 0 ? (int)(sf->produced + sf->paid_retries) : 0;
        if (!prices_cost(cc->pr, model, (double)sf->tier_prompt[k], (double)sf->tier_output[k],
                         images, 0, &part, why))
            return false;
        *usd += part * prices_tier_factor(prices_tier_names[k]);
    }
    return true;
}

/* What a stage spent so far, added to `spent`; its model named in `unpriced` (the first such)
 * when it has no price. */
static void add_spent(const struct cost_ctx *cc, const struct stage_def *def, double *spent,
                      const char **unpriced, const char **why)
{
    double usd;
    if (cost_stage_spent(cc, def, def->model, def->name, &usd, why))
        *spent += usd;
    else if (!*unpriced)
        *unpriced = def->model;
}

int cost_check_budget(const char *dir, const struct job_opts *opts, double budget,
                      struct gf_err *err)
{
    struct job job;
    struct diag_list dl = DIAG_LIST_INIT;
    if (job_open(&job, dir, opts, JOB_LOOK, &dl, err) < 0) {
        diag_list_release(&dl);
        return gf_err_exit_code(err);
    }
    diag_list_release(&dl);
    struct prices pr;
    int rc = 0;
    if (prices_load_for_job(&pr, dir, NULL, &dl) < 0) {
        gf_error(err, GF_ERR_CONFIG,
                 "job '%s': a budget needs the price table, and it has errors ('gemflow plan' "
                 "shows them)",
                 dir);
        rc = GF_EXIT_USAGE;
        diag_list_release(&dl);
        prices_release(&pr);
        job_close(&job);
        return rc;
    }
    diag_list_release(&dl);
    struct job_facts facts;
    if (jobfacts_load(&facts, dir, err) < 0)
        memset(&facts, 0, sizeof facts);
    job_apply_reruns(&job, false); /* as the run will */
    struct look_stage *looks = xcalloc(job.wf.n_stages, sizeof *looks);
    look_job(&job, looks);
    struct cost_ctx cc = {&pr, &facts};
    struct cost_tally todo = {0};
    double spent = 0;
    const char *why = NULL, *unpriced_model = NULL;
    for (size_t s = 0; s < job.wf.n_stages; s++) {
        const struct stage_def *def = &job.wf.stages[s];
        struct cost_tally t = {0};
        cost_stage_todo(&job, s, &looks[s], &cc, &t, &why);
        cost_tally_add(&todo, &t);
        if (t.unpriced && !unpriced_model)
            unpriced_model = def->model;
        add_spent(&cc, def, &spent, &unpriced_model, &why);
    }
    if (todo.calls == 0) {
        rc = 0; /* nothing to call: nothing to refuse */
    } else if (unpriced_model) {
        gf_error(err, GF_ERR_CONFIG,
                 "job '%s': cannot hold it to --max-cost/limits.max_cost $%.2f: no price for "
                 "model '%s' (%s); add it to JOB/prices.yaml, or run without a budget",
                 dir, budget, unpriced_model, why ? why : "not in the price table");
        rc = GF_EXIT_USAGE;
    } else if (spent + todo.usd > budget) {
        gf_error(err, GF_ERR_CONFIG,
                 "job '%s': the estimate is over the budget, nothing was called: %zu call%s "
                 "estimated at ~$%.4f, plus $%.4f already spent, is ~$%.4f, over the budget of "
                 "$%.2f (--max-cost or limits.max_cost; 'gemflow plan %s' shows the estimate "
                 "per stage)",
                 dir, todo.calls, todo.calls == 1 ? "" : "s", todo.usd, spent, spent + todo.usd,
                 budget, dir);
        rc = GF_EXIT_USAGE;
    }
    look_release(&job, looks);
    free(looks);
    jobfacts_release(&facts);
    prices_release(&pr);
    job_close(&job);
    return rc;
}

bool cost_run_over_budget(struct job *job, struct gf_err *err)
{
    struct prices pr;
    struct diag_list dl = DIAG_LIST_INIT;
    bool priced = prices_load_for_job(&pr, job->dir, NULL, &dl) == 0;
    diag_list_release(&dl);
    struct job_facts facts;
    struct gf_err ferr = GF_ERR_INIT;
    if (jobfacts_load(&facts, job->dir, &ferr) < 0)
        memset(&facts, 0, sizeof facts);
    struct cost_ctx cc = {priced ? &pr : NULL, &facts};
    struct cost_tally todo = {0};
    double spent = 0;
    const char *why = NULL, *unpriced_model = NULL;
    size_t widest = 0; /* a foreach stage not expanded yet: as many items as the widest one */
    for (size_t s = 0; s < job->wf.n_stages; s++)
        if (job->wf.stages[s].foreach && job->st[s].n_items > widest)
            widest = job->st[s].n_items;
    for (size_t k = 0; k < job->wf.n_stages; k++) {
        size_t s = job->wf.order[k];
        const struct stage_def *def = &job->wf.stages[s];
        const struct stage_run *sr = &job->st[s];
        struct cost_tally t = {0};
        struct call_estimate ce;
        add_spent(&cc, def, &spent, &unpriced_model, &why);
        if (def->kind->exec == EXEC_LOCAL)
            continue;
        if (sr->state == SS_WAITING) { /* not expanded yet: as plan estimates it */
            planwhy_estimate(job, s, NULL, &ce);
            cost_add_calls(&t, &cc, def, &ce, def->foreach && widest ? (double)widest : 1, &why);
        }
        for (size_t i = 0; sr->state == SS_RUNNING && i < sr->n_items; i++) {
            const struct item *it = &sr->items[i];
            if (it->input_error || it->state == IS_DONE || it->state == IS_FAILED)
                continue;
            planwhy_estimate(job, s, it, &ce);
            cost_add_calls(&t, &cc, def, &ce, 1, &why);
        }
        if (t.unpriced && !unpriced_model)
            unpriced_model = def->model;
        cost_tally_add(&todo, &t);
    }
    bool over = false;
    if (todo.calls && unpriced_model) {
        gf_error(err, GF_ERR_CONFIG,
                 "cannot hold the job to its budget of $%.2f: no price for "
                 "model '%s' (%s)",
                 job->wf.max_cost, unpriced_model, why ? why : "not in the price table");
        over = true;
    } else if (todo.calls && spent + todo.usd > job->wf.max_cost) {
        gf_error(err, GF_ERR_CONFIG,
                 "stopped before going over the budget: $%.4f spent, and the %zu call%s still "
                 "to make estimated at ~$%.4f, is ~$%.4f, over the budget of $%.2f (--max-cost "
                 "or limits.max_cost)",
                 spent, todo.calls, todo.calls == 1 ? "" : "s", todo.usd, spent + todo.usd,
                 job->wf.max_cost);
        over = true;
    }
    jobfacts_release(&facts);
    if (priced)
        prices_release(&pr);
    return over;
}
