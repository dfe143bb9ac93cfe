/* item_done: the one function that records an item done (job.h, job_record_done). */
#include "job.h"
#include "util.h"

int job_record_done(struct job *job, const struct item *it, const struct item_done_facts *f,
                    struct gf_err *err)
{
    const struct stage_def *def = &job->wf.stages[it->stage];
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "stage", def->name);
    cJSON_AddStringToObject(ev, "item", it->id);
    cJSON_AddStringToObject(ev, "key", it->key);
    cJSON_AddItemToObject(ev, "outputs", ckpt_outputs_json(f->outs, f->n_outs));
    cJSON_AddStringToObject(ev, "model", def->model);
    if (it->served_by)
        cJSON_AddStringToObject(ev, "served_by", it->served_by);
    if (f->accepted)
        cJSON_AddTrueToObject(ev, "accepted");
    else
        cJSON_AddNumberToObject(ev, "attempts", it->attempts);
    if (it->paid_rejects)
        cJSON_AddNumberToObject(ev, "paid_retries", it->paid_rejects);
    if (f->media)
        cJSON_AddItemToObject(ev, "media", cJSON_Duplicate(f->media, 1));
    if (joblog_append(&job->log, "item_done", ev, true, err) < 0)
        return -1;
    ckpt_set_done(&job->ck, def->name, it->id, it->key, f->outs, f->n_outs, def->model, f->media);
    ckpt_set_served_by(&job->ck, def->name, it->id, it->served_by);
    const struct ckpt_item *ci = ckpt_get(&job->ck, def->name, it->id);
    for (size_t k = 0; k < f->n_outs; k++) {
        const cJSON *media = k == 0 ? f->media : f->extra ? f->extra[k - 1] : NULL;
        cJSON *entry = manifest_entry_new(f->outs[k].path, f->outs[k].sha256, f->outs[k].bytes,
                                          def->name, it->id, it->key, def->model, it->prompt,
                                          ci->done_ts, media, k == 0 ? f->usage : NULL);
        if (f->accepted)
            cJSON_AddTrueToObject(entry, "accepted");
        manifest_put(&job->man, entry);
    }
    return 0;
}
