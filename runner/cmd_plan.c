/* cmd_plan: `gemflow plan JOB...`: what a run would call, why, and what it would cost, without
 * calling anything. */
#include "cli.h"
#include "cost.h"
#include "jobfacts.h"
#include "look.h"
#include "modelcheck.h"
#include "planwhy.h"
#include "prices.h"
#include "util.h"

#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* --prices FILE */
static int plan_own(void *ctx, int id, const char *arg, char *why, size_t why_len)
{
    (void)why;
    (void)why_len;
    if (id != OPT_PRICES)
        return -1;
    *(const char **)ctx = arg;
    return 0;
}

/* What a plan knows beyond the job: prices, and this job's own history (paid retries). */
struct plan_ctx {
    const struct prices *pr;
    const struct job_facts *facts;
};

static void print_cost(const struct cost_tally *t, const char *why)
{
    if (!t->calls) {
        printf("-");
        return;
    }
    printf("~%.0f in / ~%.0f out tokens, ", t->in, t->out);
    if (t->unpriced == t->calls)
        printf("cost unknown (%s)", why ? why : "no price");
    else if (t->unpriced)
        printf("~$%.4f + %zu calls of unknown price", t->usd, t->unpriced);
    else
        printf("~$%.4f", t->usd);
}

/* The tier and the paid retries behind an estimate. */
static void print_notes(const struct plan_ctx *pc, const struct stage_def *def)
{
    const struct stage_facts *sf = jobfacts_stage(pc->facts, def->name);
    if (def->service_tier && strcmp(def->service_tier, "standard") != 0)
        printf(" (%s tier: %s)", def->service_tier,
               strcmp(def->service_tier, "flex") == 0 ? "half price"
                                                      : "at most twice the standard price");
    if (sf->produced > 0 && sf->paid_retries > 0)
        printf(" (with %lld paid retr%s per %lld artifacts, as seen in this job)",
               (long long)sf->paid_retries, sf->paid_retries == 1 ? "y" : "ies",
               (long long)sf->produced);
}

/* `total` adds each stage at its known or least item count; `most` at the most its list's
 * schema allows (maxItems) where the items are not known yet. */
static void print_stage(struct job *job, size_t s, const struct look_stage *ls,
                        const struct plan_ctx *pc, struct cost_tally *total,
                        struct cost_tally *most)
{
    const struct stage_def *def = &job->wf.stages[s];
    const struct stage_run *sr = &job->st[s];
    struct cost_tally t = {0}, tm = {0}; /* tm: at the most items, where that differs */
    bool ranged = false;
    struct cost_ctx cc = {pc->pr, pc->facts};
    const char *why = NULL;
    bool local = def->kind->exec == EXEC_LOCAL; /* runs a program here: no call, no cost */
    printf("  %-12s %-7s %-30s ", def->name, def->kind->name, def->model);
    switch (ls->state) {
    case LOOK_AFTER: {
        size_t n = ls->expected ? ls->expected : 1;
        size_t max = !ls->expected && def->foreach_max > 1 ? (size_t)def->foreach_max : n;
        if (max > n)
            printf("after %s (%zu to %zu items: the most its schema allows)\n", ls->after, n, max);
        else
            printf("after %s (%s%zu item%s)\n", ls->after, ls->expected ? "about " : "at least ", n,
                   n == 1 ? "" : "s");
        printf("      %-16s estimate: ", "");
        if (local) {
            printf("runs %s here: no API call, no cost\n", def->model);
            break;
        }
        struct call_estimate ce;
        planwhy_estimate(job, s, NULL, &ce);
        cost_add_calls(&t, &cc, def, &ce, (double)n, &why);
        cost_add_calls(&tm, &cc, def, &ce, (double)max, &why);
        print_cost(&t, why);
        if (max > n) {
            printf(" for %zu, ", n);
            print_cost(&tm, why);
            printf(" for %zu", max);
        }
        print_notes(pc, def);
        printf("\n");
        ranged = true;
        break;
    }
    case LOOK_ERROR:
        printf("cannot start: %s\n", ls->error);
        break;
    default:
        printf("%zu item%s: %zu cached", ls->n_items, ls->n_items == 1 ? "" : "s", ls->n_cached);
        if (ls->n_edited)
            printf(" (%zu edited)", ls->n_edited);
        printf(", %zu to %s", ls->n_call, local ? "run" : "call");
        if (ls->n_bad)
            printf(", %zu cannot be %s (below)", ls->n_bad, local ? "run" : "called");
        printf("\n");
        for (size_t i = 0; i < sr->n_items; i++) {
            const struct item *it = &sr->items[i];
            bool cached = !it->input_error && (it->verdict == CK_DONE || it->verdict == CK_EDITED);
            if (it->verdict == CK_EDITED && !it->input_error)
                printf("      %-16s edited by hand: kept (gemflow rerun regenerates it)\n", it->id);
            if (cached)
                continue;
            char *reason = planwhy_reason(job, it);
            printf("      %-16s %s\n", it->id, reason);
            free(reason);
            if (!it->input_error && !local) {
                struct call_estimate ce;
                planwhy_estimate(job, s, it, &ce);
                cost_add_calls(&t, &cc, def, &ce, 1, &why);
            }
        }
        if (t.calls) {
            printf("      %-16s estimate: ", "");
            print_cost(&t, why);
            print_notes(pc, def);
            printf("\n");
        } else if (local && ls->n_call) {
            printf("      %-16s estimate: runs %s here: no API call, no cost\n", "", def->model);
        }
    }
    cost_tally_add(total, &t);
    cost_tally_add(most, ranged ? &tm : &t);
}

static void print_plan(struct job *job, struct look_stage *looks, const struct plan_ctx *pc)
{
    const struct prices *pr = pc->pr;
    const struct workflow *wf = &job->wf;
    printf("job %s (workflow %s, endpoint %s)\n", job->dir, wf->name ? wf->name : wf->path,
           job->endpoint);
    struct cost_tally total = {0}, most = {0};
    size_t now = 0;
    for (size_t k = 0; k < wf->n_stages; k++) {
        size_t s = wf->order[k];
        print_stage(job, s, &looks[s], pc, &total, &most);
        if (looks[s].state == LOOK_TODO && wf->stages[s].kind->exec != EXEC_LOCAL)
            now += looks[s].n_call;
    }
    for (size_t k = 0; k < wf->n_off; k++)
        printf("  %-12s disabled (enabled: false): not run%s%s\n", wf->off[k].name,
               wf->off[k].note ? "; " : "", wf->off[k].note ? wf->off[k].note : "");
    printf("calls: %zu now", now);
    if (total.calls > now)
        printf(", about %zu more once upstream stages are done", total.calls - now);
    printf("\nestimate: ");
    if (!total.calls)
        printf("nothing to call");
    else
        print_cost(&total, "no price known for the models used");
    if (most.calls > total.calls) {
        printf("\n          up to ");
        print_cost(&most, "no price known for the models used");
        printf(" (%zu calls) if the lists not made yet are as long as their schemas allow",
               most.calls);
    }
    printf("\n  (tokens: this job's recorded usage per stage when there is some, else request "
           "size / 4 in\n   plus 1120 per reference image, json/text out = in, 1290 per image, 25 "
           "per second of speech; prices: %s)\n",
           pr->file ? pr->file : "none found");
}

/* The free model check of the stages that would call (models.get, and models.list for the
 * alternatives): one line per model. Returns false when one cannot be used. */
static bool stage_would_call(const struct job *job, const struct look_stage *looks, size_t s)
{
    const struct look_stage *ls = &looks[s];
    return job->wf.stages[s].kind->exec != EXEC_LOCAL &&
           ((ls->state == LOOK_TODO && ls->n_call) || ls->state == LOOK_AFTER);
}

static bool check_models(struct job *job, const struct look_stage *looks, const char *key)
{
    size_t n_used = 0;
    for (size_t s = 0; s < job->wf.n_stages; s++)
        n_used += stage_would_call(job, looks, s);
    if (!n_used)
        return true;
    if (!job->wf.model_check) {
        printf("models: not checked (model_check is off)\n");
        return true;
    }
    if (!key) {
        printf("models: not checked (no API key: with one, plan asks models.get, which is "
               "free)\n");
        return true;
    }
    struct gf_err err = GF_ERR_INIT;
    struct http_client *http = http_client_new(&err);
    if (!http) {
        printf("models: not checked (%s)\n", err.msg);
        return true;
    }
    struct modelcheck *mc = mc_new(http, key);
    char *root = xasprintf("%s%s", job->origin, job->api_root);
    bool *used = xcalloc(job->wf.n_stages, sizeof *used);
    for (size_t s = 0; s < job->wf.n_stages; s++) {
        used[s] = stage_would_call(job, looks, s);
        if (used[s])
            mc_want(mc, root, job->wf.stages[s].model);
    }
    bool ok = true, listed = false;
    if (mc_wait_all(mc, &err) < 0)
        printf("models: not checked (%s)\n", err.msg);
    for (size_t s = 0; s < job->wf.n_stages && !listed; s++) {
        const struct mc_entry *me = used[s] ? mc_get(mc, root, job->wf.stages[s].model) : NULL;
        if (me && mc_entry_is_bad(me, mc_stage_method(&job->wf.stages[s]))) {
            mc_want_list(mc, root);
            mc_wait_all(mc, &err);
            listed = true;
        }
    }
    printf("models (models.get, free):\n");
    for (size_t s = 0; s < job->wf.n_stages; s++) {
        const struct stage_def *def = &job->wf.stages[s];
        const struct mc_entry *me = used[s] ? mc_get(mc, root, def->model) : NULL;
        if (!me)
            continue;
        const char *method = mc_stage_method(def);
        struct buf line = BUF_INIT;
        if (!mc_entry_is_bad(me, method)) {
            buf_addf(&line, "served, supports %s", method);
        } else {
            ok = false;
            mc_describe_problem(&line, me, def->model, method);
            if (me->state == MC_NOT_SERVED || me->state == MC_SERVED)
                mc_add_alternatives(&line, mc_get_list(mc, root), mc_stage_kind(def), method, NULL);
        }
        printf("  %-12s %-30s %s\n", def->name, def->model, line.data);
        buf_release(&line);
    }
    free(used);
    free(root);
    mc_free(mc);
    http_client_free(http);
    return ok;
}

int cmd_plan(int argc, char **argv)
{
    struct job_cli jc = {0};
    const char *prices_file = NULL;
    char *key = NULL;
    int rc = cli_parse("plan", argc, argv, &jc, plan_own, &prices_file);
    if (rc)
        goto out;
    if (optind >= argc) {
        rc = cli_usage_error("plan", "no job given: gemflow plan JOB...");
        goto out;
    }
    /* A key is optional: with one, the models are checked (free calls). */
    struct gf_err kerr = GF_ERR_INIT;
    key = cli_api_key(jc.api_key_file, &kerr);
    if (!key && jc.api_key_file) {
        fprintf(stderr, "gemflow: %s\n", kerr.msg);
        rc = GF_EXIT_USAGE;
        goto out;
    }
    for (int i = optind; i < argc; i++) {
        struct job job;
        struct gf_err err = GF_ERR_INIT;
        int orc = cli_open_job(&job, argv[i], &jc.job, JOB_LOOK, &err);
        if (orc) {
            rc = orc;
            continue;
        }
        struct diag_list dl = DIAG_LIST_INIT;
        struct prices pr;
        if (prices_load_for_job(&pr, argv[i], prices_file, &dl) < 0) {
            gf_error(&err, GF_ERR_CONFIG, "the price table has errors");
            rc = cli_report_open_error(&dl, &err);
            diag_list_release(&dl);
            prices_release(&pr);
            job_close(&job);
            continue;
        }
        diag_list_release(&dl);
        struct look_stage *looks = xcalloc(job.wf.n_stages, sizeof *looks);
        look_job(&job, looks);
        struct job_facts facts;
        if (jobfacts_load(&facts, argv[i], &err) < 0)
            memset(&facts, 0, sizeof facts);
        struct plan_ctx pc = {&pr, &facts};
        print_plan(&job, looks, &pc);
        if (!check_models(&job, looks, key))
            rc = GF_EXIT_USAGE;
        jobfacts_release(&facts);
        look_release(&job, looks);
        free(looks);
        prices_release(&pr);
        job_close(&job);
    }
out:
    cli_api_key_free(key);
    job_cli_release(&jc);
    return rc;
}
