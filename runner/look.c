/* look: dry expansion of a job for plan and status. */
#include "look.h"
#include "util.h"

#include <string.h>

const char *look_failed_last(const struct job *job, const struct item *it)
{
    if (!it->input_error && (it->verdict == CK_DONE || it->verdict == CK_EDITED))
        return NULL; /* done since: an output edited into an unusable one, then fixed */
    const struct ckpt_item *ci = ckpt_get(&job->ck, job->wf.stages[it->stage].name, it->id);
    if (ci && ci->fail_message && strcmp(ci->failed_key, it->key) == 0)
        return ci->fail_message;
    return NULL;
}

void look_job(struct job *job, struct look_stage *looks)
{
    const struct workflow *wf = &job->wf;
    memset(looks, 0, wf->n_stages * sizeof *looks);
    size_t widest = 0;
    for (size_t k = 0; k < wf->n_stages; k++) {
        size_t s = wf->order[k];
        const struct stage_def *def = &wf->stages[s];
        struct look_stage *ls = &looks[s];
        for (size_t d = 0; d < def->n_deps; d++) {
            if (looks[def->deps[d]].state != LOOK_DONE) {
                ls->state = LOOK_AFTER;
                const struct look_stage *up = &looks[def->deps[d]];
                ls->after = up->state == LOOK_AFTER ? up->after : wf->stages[def->deps[d]].name;
                ls->expected = def->foreach ? widest : 1;
                break;
            }
        }
        if (ls->state == LOOK_AFTER)
            continue;
        struct gf_err err = GF_ERR_INIT;
        int rc = 0;
        for (size_t d = 0; d < def->n_deps && rc == 0; d++)
            rc = job_load_stage_value(job, def->deps[d], &err);
        if (rc == 0)
            rc = job_expand_stage(job, s, &err);
        if (rc < 0) {
            ls->state = LOOK_ERROR;
            ls->error = xstrdup(err.msg);
            continue;
        }
        struct stage_run *sr = &job->st[s];
        ls->n_items = sr->n_items;
        if (def->foreach && sr->n_items > widest)
            widest = sr->n_items;
        for (size_t i = 0; i < sr->n_items; i++) {
            struct item *it = &sr->items[i];
            if (!it->input_error && (it->verdict == CK_DONE || it->verdict == CK_EDITED)) {
                ls->n_cached++;
                ls->n_edited += it->verdict == CK_EDITED;
            } else {
                if (it->input_error)
                    ls->n_bad++;
                else
                    ls->n_call++;
                ls->n_failed_last += it->input_error || look_failed_last(job, it);
            }
        }
        ls->state = ls->n_call + ls->n_bad == 0 ? LOOK_DONE : LOOK_TODO;
        if (ls->state == LOOK_DONE)
            sr->state = SS_DONE;
    }
}

void look_release(struct job *job, struct look_stage *looks)
{
    for (size_t s = 0; s < job->wf.n_stages; s++)
        free(looks[s].error);
}
