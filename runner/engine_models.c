/* engine_models: the free model check a job makes before its first paid call (models.get for
 * each model the run may call, and models.list for the alternatives when one is not served),
 * and what the engine says about the model that answered a reply (reroutes). */
#include "engine_int.h"
#include "jsonutil.h"
#include "modelcheck.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

enum { JMC_TODO, JMC_ASKING, JMC_LISTING, JMC_OK };

/* Whether stage s may still make a call in this run: expanded with an item to call, or not
 * expanded yet. Stages that ended or are blocked call nothing. */
static bool stage_may_call(const struct job *job, size_t s)
{
    const struct stage_run *sr = &job->st[s];
    if (job->wf.stages[s].kind->exec == EXEC_LOCAL)
        return false;
    if (sr->state == SS_WAITING)
        return true;
    if (sr->state != SS_RUNNING)
        return false;
    for (size_t i = 0; i < sr->n_items; i++)
        if (sr->items[i].state == IS_TODO || sr->items[i].state == IS_WAIT)
            return true;
    return false;
}

static char *api_root(const struct job *job)
{
    return xasprintf("%s%s", job->origin, job->api_root);
}

/* The job cannot go on: every model problem named, as one message and one event each. */
static void halt(struct engine *e, struct job *job, const char *root)
{
    const struct mc_list *l = mc_get_list(e->mc, root);
    struct buf msg = BUF_INIT;
    bool config = false; /* a model not served or refused: fix the workflow or the key */
    for (size_t s = 0; s < job->wf.n_stages; s++) {
        const struct stage_def *def = &job->wf.stages[s];
        if (!stage_may_call(job, s))
            continue;
        const struct mc_entry *me = mc_get(e->mc, root, def->model);
        if (!me || !mc_entry_is_bad(me, mc_stage_method(def)))
            continue;
        const char *method = mc_stage_method(def);
        struct buf one = BUF_INIT;
        cJSON *alts = cJSON_CreateArray();
        buf_addf(&one, "stage '%s': ", def->name);
        mc_describe_problem(&one, me, def->model, method);
        if (me->state == MC_NOT_SERVED || me->state == MC_SERVED)
            mc_add_alternatives(&one, l, mc_stage_kind(def), method, alts);
        config |= me->state != MC_ERROR;
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "stage", def->name);
        cJSON_AddStringToObject(f, "model", def->model);
        cJSON_AddStringToObject(f, "method", method);
        cJSON_AddNumberToObject(f, "http_status", (double)me->http_status);
        json_add_str_or_null(f, "status", me->api_status);
        json_add_str_or_null(f, "message", me->message);
        cJSON_AddItemToObject(f, "alternatives", alts);
        job_event(job, "model_unavailable", f, true);
        engine_note(e, job, -1, "%s", one.data);
        buf_addf(&msg, "%s%s", msg.len ? "\n" : "", one.data);
        buf_release(&one);
    }
    job->halt_error = buf_detach(&msg, NULL);
    job->halt_exit = config ? GF_EXIT_USAGE : GF_EXIT_FAILED;
}

bool engine_models_ready(struct engine *e, struct job *job)
{
    if (job->models_state == JMC_OK)
        return true;
    if (!job->wf.model_check || job->halt_error) {
        job->models_state = job->halt_error ? job->models_state : JMC_OK;
        return !job->halt_error;
    }
    char *root = api_root(job);
    bool ready = false, pending = false, bad = false;
    for (size_t s = 0; s < job->wf.n_stages; s++) {
        const struct stage_def *def = &job->wf.stages[s];
        if (!stage_may_call(job, s))
            continue;
        mc_want(e->mc, root, def->model); /* a no-op once wanted */
        const struct mc_entry *me = mc_get(e->mc, root, def->model);
        pending |= me->state == MC_PENDING;
        bad |= mc_entry_is_bad(me, mc_stage_method(def));
    }
    if (job->models_state == JMC_TODO)
        job->models_state = JMC_ASKING;
    if (pending)
        goto out;
    if (!bad) {
        job->models_state = JMC_OK;
        cJSON *f = cJSON_CreateObject();
        cJSON *models = cJSON_AddArrayToObject(f, "models");
        for (size_t s = 0; s < job->wf.n_stages; s++) {
            const struct stage_def *def = &job->wf.stages[s];
            bool listed = false;
            const cJSON *m;
            cJSON_ArrayForEach(m, models) listed =
                listed || strcmp(m->valuestring, def->model) == 0;
            if (stage_may_call(job, s) && !listed)
                cJSON_AddItemToArray(models, cJSON_CreateString(def->model));
        }
        job_event(job, "models_checked", f, false);
        ready = true;
        goto out;
    }
    /* Something is wrong: list the models the key can use before saying so. */
    if (job->models_state != JMC_LISTING) {
        mc_want_list(e->mc, root);
        job->models_state = JMC_LISTING;
    }
    const struct mc_list *l = mc_get_list(e->mc, root);
    if (l->state == MC_PENDING)
        goto out;
    halt(e, job, root);
out:
    free(root);
    return ready;
}

void engine_note_served_by(struct engine *e, struct item *it, const char *served_by)
{
    struct job *job = it->job;
    const struct stage_def *def = &job->wf.stages[it->stage];
    char *key = xasprintf("%s\n%s\n%s\n%s", job->dir, def->name, def->model, served_by);
    bool seen = strmap_get(&e->reroutes_seen, key) != NULL;
    if (!seen) {
        strmap_put(&e->reroutes_seen, key, e);
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "stage", def->name);
        cJSON_AddStringToObject(f, "model", def->model);
        cJSON_AddStringToObject(f, "served_by", served_by);
        job_event(job, "model_rerouted", f, true);
        engine_note(e, job, -1,
                    "stage %s: asked for model '%s', served by '%s'%s (the API rerouted it; "
                    "set the model you want, or strict_model: true to refuse this)",
                    def->name, def->model, served_by, def->strict_model ? ": refused" : "");
    }
    free(key);
}
