/* progress: percent and ETA of a running job from what happened in this run (see progress.h):
 * item counts from the stage state, latencies from the items' attempt records, and a small
 * simulation of the remaining calls over the job's slots, rpm pacing and retry delays. */
#include "progress.h"
#include "jsonutil.h"
#include "util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Latencies of the successful attempts of one stage in this run. */
static void stage_latency(const struct stage_run *sr, int64_t *calls, double *sum_ms)
{
    *calls = 0;
    *sum_ms = 0;
    for (size_t i = 0; i < sr->n_items; i++) {
        const cJSON *a;
        cJSON_ArrayForEach(a, sr->items[i].attempt_log)
        {
            if (json_field(a, "error") || !cJSON_IsNumber(json_field(a, "ms")))
                continue;
            (*calls)++;
            *sum_ms += json_num(a, "ms", 0);
        }
    }
}

/* Items of a stage in the checkpoint (earlier runs), for the estimate of a waiting stage. */
static size_t ckpt_count(const struct ckpt *ck, const char *stage)
{
    size_t n = 0, len = strlen(stage);
    for (size_t i = 0; i < ck->items.cap; i++) {
        const char *k = ck->items.slots[i].key;
        if (k && strncmp(k, stage, len) == 0 && k[len] == '/')
            n++;
    }
    return n;
}

/* Counts of one stage; estimates for a stage not expanded yet. */
static void count_stage(const struct job *job, size_t s, size_t widest, struct progress_stage *ps)
{
    const struct stage_def *def = &job->wf.stages[s];
    const struct stage_run *sr = &job->st[s];
    memset(ps, 0, sizeof *ps);
    ps->name = def->name;
    ps->state = sr->state;
    ps->eta_s = -1;
    if (sr->state == SS_WAITING) {
        size_t n = 1;
        if (def->foreach) {
            size_t seen = ckpt_count(&job->ck, def->name);
            n = widest > seen ? widest : seen;
            n = n ? n : 1;
        }
        ps->total = n;
        ps->estimated = true;
        return;
    }
    ps->total = sr->n_items;
    ps->quota_until_ms = sr->state == SS_RUNNING ? sr->quota_wait_until_ms : 0;
    ps->done = sr->n_done;
    ps->failed = sr->n_failed;
    ps->cached = sr->n_cached;
    for (size_t i = 0; i < sr->n_items; i++) {
        const struct item *it = &sr->items[i];
        if (it->op_id && it->state != IS_DONE && it->state != IS_FAILED) {
            /* rendering: its polls are neither calls in flight nor retries */
            double age = (double)(wall_ms() - it->op_since_ms) / 1000.0;
            ps->rendering++;
            ps->render_s = age > ps->render_s ? age : ps->render_s;
            continue;
        }
        ps->inflight += it->state == IS_INFLIGHT;
        ps->retries +=
            (it->attempts > 1 ? it->attempts - 1 : 0) + (it->state == IS_WAIT && it->attempts > 0);
    }
    double sum;
    stage_latency(sr, &ps->calls, &sum);
    ps->mean_ms = ps->calls ? sum / (double)ps->calls : 0;
    if (ps->total)
        ps->percent = floor(1000.0 * (double)(ps->done + ps->failed) / (double)ps->total) / 10;
}

/* Mean latency of the calls to `model` in this run (all its stages), 0 when none. */
static double model_mean_ms(const struct job *job, const struct progress *p, const char *model)
{
    int64_t calls = 0;
    double sum = 0;
    for (size_t s = 0; s < p->n_stages; s++) {
        if (strcmp(job->wf.stages[s].model, model) == 0) {
            calls += p->stages[s].calls;
            sum += p->stages[s].mean_ms * (double)p->stages[s].calls;
        }
    }
    return calls ? sum / (double)calls : 0;
}

static bool stage_counts(const struct job *job, const bool *excluded, size_t s)
{
    return !excluded[s] && job->st[s].state != SS_BLOCKED;
}

/* Stages that will not run in this run: blocked, or after a failed or excluded stage. */
static void find_excluded(const struct job *job, bool *excluded)
{
    for (size_t k = 0; k < job->wf.n_stages; k++) {
        size_t s = job->wf.order[k];
        const struct stage_def *def = &job->wf.stages[s];
        excluded[s] = job->st[s].state == SS_BLOCKED;
        if (job->st[s].state != SS_WAITING)
            continue;
        for (size_t d = 0; d < def->n_deps; d++) {
            size_t u = def->deps[d];
            if (excluded[u] || job->st[u].state == SS_FAILED)
                excluded[s] = true;
        }
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One stage in the simulation of what is left. */
struct sim_stage {
    bool active;       /* it has calls left (or in flight) in this run */
    bool released;     /* its calls may start: expanded, or every dependency is scheduled */
    double release_ms; /* when its dependencies end */
    double lat_ms, interval_ms;
    size_t model;  /* the first stage with the same model: rpm pacing is per model */
    double *ready; /* when each call not started yet may start (sorted), from release */
    size_t n_ready, next;
    double end_ms; /* when its last call scheduled so far ends */
};

/* The engine's dispatch order: stages by descending priority, topological order on ties. */
static void dispatch_order(const struct job *job, size_t *o)
{
    size_t n = job->wf.n_stages;
    for (size_t k = 0; k < n; k++)
        o[k] = job->wf.order[k];
    for (size_t i = 1; i < n; i++) {
        size_t v = o[i], j = i;
        while (j > 0 && job->st[o[j - 1]].priority < job->st[v].priority) {
            o[j] = o[j - 1];
            j--;
        }
        o[j] = v;
    }
}

static void sim_init_stage(const struct job *job, const struct progress *p, const bool *counted,
                           size_t s, double lat_ms, int64_t now, struct sim_stage *ss, double *slot,
                           size_t *used)
{
    const struct stage_run *sr = &job->st[s];
    const struct progress_stage *ps = &p->stages[s];
    double rpm = workflow_rpm(&job->wf, job->wf.stages[s].model);
    ss->lat_ms = lat_ms;
    ss->interval_ms = rpm > 0 ? 60000.0 / rpm * 1.01 : 0; /* the pacing of ratelimit.c */
    ss->model = s;
    for (size_t u = 0; u < s; u++) {
        if (strcmp(job->wf.stages[u].model, job->wf.stages[s].model) == 0) {
            ss->model = u;
            break;
        }
    }
    ss->released = true;
    if (!counted[s] || ps->total == ps->done + ps->failed)
        return;
    ss->active = true;
    ss->ready = xcalloc(ps->total, sizeof *ss->ready);
    if (ps->state == SS_WAITING) {
        ss->released = false;
        ss->n_ready = ps->total;
        return;
    }
    for (size_t i = 0; i < sr->n_items; i++) {
        const struct item *it = &sr->items[i];
        if (it->state == IS_INFLIGHT) {
            /* never "any moment now" for a call past the mean: at least a tenth of it */
            double rem = fmax(lat_ms - (double)(now - it->started_ms), lat_ms / 10);
            slot[(*used)++] = rem;
            ss->end_ms = fmax(ss->end_ms, rem);
        } else if (it->state == IS_WAIT) {
            ss->ready[ss->n_ready++] = fmax((double)(it->not_before_ms - now), 0);
        } else if (it->state == IS_TODO) {
            ss->ready[ss->n_ready++] = 0;
        }
    }
    qsort(ss->ready, ss->n_ready, sizeof *ss->ready, cmp_double);
}

/* Release the stages whose dependencies are all scheduled. */
static void sim_release(const struct job *job, struct sim_stage *ss)
{
    for (size_t s = 0; s < job->wf.n_stages; s++) {
        if (ss[s].released)
            continue;
        const struct stage_def *def = &job->wf.stages[s];
        bool ok = true;
        double at = 0;
        for (size_t d = 0; d < def->n_deps && ok; d++) {
            const struct sim_stage *u = &ss[def->deps[d]];
            ok = u->released && u->next == u->n_ready;
            at = fmax(at, u->end_ms);
        }
        if (ok) {
            ss[s].released = true;
            ss[s].release_ms = at;
        }
    }
}

/* Schedule every call left, in the engine's order, over the job's slots, each model's pacing
 * and the pending retry delays; end_ms[s] is when stage s would be settled (ms from now). */
static void simulate(const struct job *job, const struct progress *p, const bool *counted,
                     const double *lat_ms, int64_t now, double *end_ms)
{
    size_t n = job->wf.n_stages;
    size_t conc = job->wf.concurrency > 0 ? (size_t)job->wf.concurrency : 1;
    size_t n_slots = conc > (size_t)p->inflight ? conc : (size_t)p->inflight;
    double *slot = xcalloc(n_slots, sizeof *slot);
    struct sim_stage *ss = xcalloc(n, sizeof *ss);
    double *next_start = xcalloc(n, sizeof *next_start); /* per model (its first stage) */
    size_t *order = xcalloc(n, sizeof *order), used = 0;
    dispatch_order(job, order);
    for (size_t s = 0; s < n; s++)
        sim_init_stage(job, p, counted, s, lat_ms[s], now, &ss[s], slot, &used);
    for (;;) {
        sim_release(job, ss);
        size_t k = 0;
        for (size_t j = 1; j < n_slots; j++)
            k = slot[j] < slot[k] ? j : k;
        double t = slot[k], best_start = INFINITY;
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            struct sim_stage *c = &ss[order[i]];
            if (!c->released || c->next == c->n_ready)
                continue;
            double start = fmax(fmax(t, c->release_ms + c->ready[c->next]), next_start[c->model]);
            if (start < best_start) {
                best_start = start;
                best = order[i];
            }
            if (start <= t)
                break; /* the first stage in dispatch order that can start now takes the slot */
        }
        if (best == n)
            break;
        struct sim_stage *c = &ss[best];
        c->next++;
        slot[k] = best_start + c->lat_ms;
        c->end_ms = fmax(c->end_ms, slot[k]);
        next_start[c->model] = best_start + c->interval_ms;
    }
    for (size_t s = 0; s < n; s++) {
        end_ms[s] = ss[s].active ? ss[s].end_ms : 0;
        free(ss[s].ready);
    }
    free(ss);
    free(slot);
    free(next_start);
    free(order);
}

/* Stage and job ETAs. A stage shows one only once its model answered in this run; the job's
 * uses the job-wide mean latency for models that have not answered yet. A stage waiting for
 * the per-day quota's reset has none and takes no slot in the simulation; the job then has
 * none either (it cannot end before the reset). */
static void compute_eta(const struct job *job, const bool *excluded, int64_t now,
                        struct progress *p)
{
    size_t n = p->n_stages;
    int64_t all_calls = 0;
    double all_sum = 0;
    for (size_t s = 0; s < n; s++) {
        all_calls += p->stages[s].calls;
        all_sum += p->stages[s].mean_ms * (double)p->stages[s].calls;
    }
    double job_mean = all_calls ? all_sum / (double)all_calls : 0;
    bool *counted = xcalloc(n ? n : 1, sizeof *counted);
    double *lat = xcalloc(n ? n : 1, sizeof *lat), *own = xcalloc(n ? n : 1, sizeof *own);
    double *end = xcalloc(n ? n : 1, sizeof *end);
    for (size_t s = 0; s < n; s++) {
        counted[s] = stage_counts(job, excluded, s) && !p->stages[s].quota_until_ms;
        own[s] = model_mean_ms(job, p, job->wf.stages[s].model);
        lat[s] = own[s] > 0 ? own[s] : job_mean;
    }
    p->eta_s = p->finished == p->total ? 0 : -1;
    if (job_mean > 0) {
        simulate(job, p, counted, lat, now, end);
        double eta = 0;
        for (size_t s = 0; s < n; s++)
            eta = counted[s] ? fmax(eta, end[s]) : eta;
        if (!p->quota_until_ms)
            p->eta_s = round(eta / 100) / 10;
    }
    for (size_t s = 0; s < n; s++) {
        struct progress_stage *ps = &p->stages[s];
        if (ps->state == SS_WAITING || !counted[s])
            continue;
        if (ps->total == ps->done + ps->failed)
            ps->eta_s = 0;
        else if (own[s] > 0)
            ps->eta_s = round(end[s] / 100) / 10;
    }
    free(counted);
    free(lat);
    free(own);
    free(end);
}

void progress_compute(const struct job *job, int64_t now_ms, struct progress *p)
{
    size_t n = job->wf.n_stages;
    xgrow(&p->stages, &p->cap_stages, n ? n : 1, sizeof *p->stages);
    p->n_stages = n;
    size_t widest = 0;
    for (size_t s = 0; s < n; s++) {
        if (job->wf.stages[s].foreach && job->st[s].state != SS_WAITING &&
            job->st[s].n_items > widest)
            widest = job->st[s].n_items;
    }
    bool *excluded = xcalloc(n ? n : 1, sizeof *excluded);
    find_excluded(job, excluded);
    p->total = p->finished = 0;
    p->estimated = false;
    p->inflight = p->retries = 0;
    p->quota_until_ms = 0;
    for (size_t s = 0; s < n; s++) {
        struct progress_stage *ps = &p->stages[s];
        count_stage(job, s, widest, ps);
        p->inflight += ps->inflight;
        p->retries += ps->retries;
        if (!stage_counts(job, excluded, s))
            continue;
        if (ps->quota_until_ms && (!p->quota_until_ms || ps->quota_until_ms < p->quota_until_ms))
            p->quota_until_ms = ps->quota_until_ms;
        p->total += ps->total;
        p->finished += ps->done + ps->failed;
        p->estimated |= ps->estimated;
    }
    p->percent = p->total ? floor(1000.0 * (double)p->finished / (double)p->total) / 10 : 100;
    compute_eta(job, excluded, now_ms, p);
    free(excluded);
}

void progress_release(struct progress *p)
{
    free(p->stages);
    memset(p, 0, sizeof *p);
}

static void add_eta(cJSON *obj, double eta_s)
{
    if (eta_s < 0)
        cJSON_AddNullToObject(obj, "eta_s");
    else
        cJSON_AddNumberToObject(obj, "eta_s", eta_s);
}

cJSON *progress_fields(const struct progress *p)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "percent", p->percent);
    add_eta(f, p->eta_s);
    cJSON_AddNumberToObject(f, "finished", (double)p->finished);
    cJSON_AddNumberToObject(f, "total", (double)p->total);
    cJSON_AddBoolToObject(f, "estimated", p->estimated);
    cJSON_AddNumberToObject(f, "inflight", p->inflight);
    cJSON_AddNumberToObject(f, "retries", p->retries);
    cJSON *stages = cJSON_AddArrayToObject(f, "stages");
    for (size_t s = 0; s < p->n_stages; s++) {
        const struct progress_stage *ps = &p->stages[s];
        if (ps->state != SS_RUNNING)
            continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "stage", ps->name);
        cJSON_AddNumberToObject(o, "done", (double)ps->done);
        cJSON_AddNumberToObject(o, "failed", (double)ps->failed);
        cJSON_AddNumberToObject(o, "total", (double)ps->total);
        cJSON_AddNumberToObject(o, "inflight", ps->inflight);
        cJSON_AddNumberToObject(o, "retries", ps->retries);
        cJSON_AddNumberToObject(o, "percent", ps->percent);
        add_eta(o, ps->eta_s);
        cJSON_AddItemToArray(stages, o);
    }
    return f;
}

void progress_format_duration(double seconds, char *out, size_t n)
{
    if (seconds < 1) {
        snprintf(out, n, "<1s");
        return;
    }
    long long t = (long long)ceil(seconds);
    if (t < 60)
        snprintf(out, n, "%llds", t);
    else if (t < 3600)
        snprintf(out, n, "%lldm%02llds", t / 60, t % 60);
    else
        snprintf(out, n, "%lldh%02lldm", t / 3600, t % 3600 / 60);
}
