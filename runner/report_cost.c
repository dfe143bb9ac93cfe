/* report_cost: what a job cost, from the tokens its calls reported and the per-model price table
 * (workflows/prices.yaml, or JOB/prices.yaml); a model without a price is "unknown", never 0. */
#include "jsonutil.h"
#include "report.h"
#include "strmap.h"
#include "util.h"

#include <string.h>

bool report_stage_cost(struct buf *b, const struct report_ctx *rc, const cJSON *stage, double *usd,
                       const char **why)
{
    const char *name = json_str(stage, "name");
    int s = workflow_stage_index(&rc->job->wf, name);
    const struct stage_facts *sf = jobfacts_stage(rc->facts, name);
    const char *reason = NULL;
    *usd = 0;
    bool known;
    if (s >= 0 && rc->job->wf.stages[s].kind->exec == EXEC_LOCAL) {
        buf_adds(b, "none"); /* runs locally, calls no API */
        return true;
    }
    if (sf->calls == 0) {
        known = true;
    } else if (rc->prices_problem) {
        known = false;
        reason = rc->prices_problem;
    } else {
        /* every call's tokens, paid retries included, each tier at its own price */
        known = true;
        for (int k = 0; k < 3 && known; k++) {
            double part = 0;
            if (!sf->tier_calls[k])
                continue;
            int images = k == 0 ? (int)(sf->produced + sf->paid_retries) : 0;
            known = prices_cost(rc->prices, json_str(stage, "model"), (double)sf->tier_prompt[k],
                                (double)sf->tier_output[k], images, &part, &reason);
            *usd += part * prices_tier_factor(prices_tier_names[k]);
        }
    }
    if (known)
        buf_addf(b, "$%.4f", *usd);
    else
        buf_adds(b, "unknown");
    if (why)
        *why = reason;
    return known;
}

void report_job_cost(struct buf *b, const struct report_ctx *rc)
{
    double total = 0;
    struct buf models = BUF_INIT, scratch = BUF_INIT;
    struct strmap seen = STRMAP_INIT;
    const cJSON *s;
    cJSON_ArrayForEach(s, json_field(rc->status, "stages"))
    {
        double usd;
        if (report_stage_cost(&scratch, rc, s, &usd, NULL)) {
            total += usd;
            continue;
        }
        const char *model = json_str(s, "model");
        if (!strmap_get(&seen, model)) { /* each model once */
            strmap_put(&seen, model, (void *)model);
            buf_addf(&models, "%s%s", models.len ? ", " : "", model);
        }
    }
    if (!models.len) {
        buf_addf(b, "$%.4f", total);
    } else {
        buf_addf(b, "unknown: at least $%.4f, and no estimate for ", total);
        html_esc(b, models.data);
        buf_adds(b, " (see the stage table)");
    }
    strmap_release(&seen);
    buf_release(&models);
    buf_release(&scratch);
}
