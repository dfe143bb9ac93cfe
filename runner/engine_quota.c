/* engine_quota: the engine's side of the shared quota (quota.h). Before each call, a slot from
 * the model's record in the quota directory, shared by every gemflow process on the key; after
 * a 429, what it stated is kept there; a stage that today's per-day quota cannot carry waits for
 * the reset at midnight Pacific (or, with --no-wait-quota, its items fail with the reason). */
#include "engine_int.h"
#include "jsonutil.h"
#include "quota.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A stage waiting for the day's reset looks at the record again this often (an operator may
 * have raised the quota and removed the record). */
#define RECHECK_MS 30000

/* What this process knows of one (fingerprint, model) record between its visits. */
struct eq_bucket {
    struct quota_bucket *b;
    int64_t not_before; /* monotonic: nothing to ask the record before this */
    bool day_used;      /* the record said the day is used up (until reset) */
    int64_t reset_ms;   /* wall clock of the next Pacific midnight */
    int64_t day_count;
    double day_limit;
    char quota_id[96]; /* of the per-day limit, when learned */
    int64_t needed;    /* the calls the job needed when the day was found short: what every
                          item refused until the next look says (not a count that drops as
                          those items fail) */
};

static int64_t wall_to_mono(int64_t wall, int64_t mono_now)
{
    return wall - quota_wall_ms() + mono_now;
}

bool engine_quota_ready(struct engine *e, struct job *job)
{
    if (!e->quota && !e->quota_error) {
        struct gf_err err = GF_ERR_INIT;
        char *dir = e->opts.quota_dir ? xstrdup(e->opts.quota_dir) : quota_dir_default(&err);
        e->quota = dir ? quota_open(dir, &err) : NULL;
        free(dir);
        if (!e->quota)
            e->quota_error = xstrdup(err.msg);
        else if (quota_warning(e->quota))
            fprintf(stderr, "gemflow: warning: %s\n", quota_warning(e->quota));
    }
    if (e->quota)
        return true;
    if (!job->halt_error) {
        engine_note(e, job, -1, "%s", e->quota_error);
        job->halt_error = xstrdup(e->quota_error);
        job->halt_exit = GF_EXIT_USAGE;
    }
    return false;
}

static const char *fingerprint(struct engine *e, const char *origin)
{
    char *fp = strmap_get(&e->qfps, origin);
    if (!fp) {
        fp = xcalloc(1, QUOTA_FP_LEN + 1);
        quota_fingerprint(e->opts.api_key, origin, fp);
        strmap_put(&e->qfps, origin, fp);
    }
    return fp;
}

/* The cache of the record of it's model, opened on first use; NULL when it cannot be (said
 * once: the process then paces alone). */
static struct eq_bucket *bucket_of(struct engine *e, const struct item *it)
{
    const struct job *job = it->job;
    const char *model = job->wf.stages[it->stage].model;
    const char *fp = fingerprint(e, job->origin);
    char *name = xasprintf("%s/%s", fp, model);
    struct eq_bucket *qb = strmap_get(&e->qbuckets, name);
    if (!qb) {
        struct gf_err err = GF_ERR_INIT;
        struct quota_bucket *b = quota_bucket(e->quota, fp, job->origin, model, &err);
        if (!b) {
            if (!e->quota_io_warned)
                fprintf(stderr, "gemflow: warning: %s; this process paces model '%s' alone\n",
                        err.msg, model);
            e->quota_io_warned = true;
            free(name);
            return NULL;
        }
        qb = xcalloc(1, sizeof *qb);
        qb->b = b;
        strmap_put(&e->qbuckets, name, qb);
    }
    free(name);
    return qb;
}

/* Calls the job may still make to `model`: items to call of its expanded stages, and one for
 * each stage of the model not expanded yet (its count is not known before it is). */
static int64_t job_calls_left(const struct job *job, const char *model)
{
    int64_t n = 0;
    for (size_t s = 0; s < job->wf.n_stages; s++) {
        const struct stage_run *sr = &job->st[s];
        if (job->wf.stages[s].kind->exec == EXEC_LOCAL || strcmp(job->wf.stages[s].model, model))
            continue;
        if (sr->state == SS_WAITING)
            n++;
        for (size_t i = 0; sr->state == SS_RUNNING && i < sr->n_items; i++)
            n += sr->items[i].state == IS_TODO || sr->items[i].state == IS_WAIT;
    }
    return n;
}

static void reset_text(int64_t reset_ms, char *out, size_t n)
{
    char utc[32];
    quota_rfc3339(reset_ms, utc, sizeof utc);
    snprintf(out, n, "%.16sZ (midnight Pacific)", utc);
}

/* Why the stage of `it` cannot call today, in words. */
static void day_reason(const struct eq_bucket *qb, const char *model, int64_t needed,
                       struct buf *out)
{
    char reset[64];
    reset_text(qb->reset_ms, reset, sizeof reset);
    if (qb->day_limit > 0 && qb->day_count < (int64_t)qb->day_limit)
        buf_addf(out,
                 "model '%s' has %lld of its %.0f requests per day left (quota %s) and the job "
                 "needs %lld; the quota resets at %s",
                 model, (long long)((int64_t)qb->day_limit - qb->day_count), qb->day_limit,
                 qb->quota_id[0] ? qb->quota_id : "per day", (long long)needed, reset);
    else if (qb->day_limit > 0)
        buf_addf(out,
                 "model '%s' has used its %.0f requests per day (quota %s); the quota resets "
                 "at %s",
                 model, qb->day_limit, qb->quota_id[0] ? qb->quota_id : "per day", reset);
    else
        buf_addf(out,
                 "model '%s' got a per-day 429 today: its daily quota is used up; it resets at %s",
                 model, reset);
}

/* The stage of `it` cannot call today: it waits (quota_wait event once per wait), or with
 * --no-wait-quota the item fails with the reason. */
static enum eq_answer day_wait(struct engine *e, struct item *it, struct eq_bucket *qb, int64_t now,
                               int64_t needed, int64_t *at)
{
    struct job *job = it->job;
    struct stage_run *sr = &job->st[it->stage];
    const char *model = job->wf.stages[it->stage].model;
    struct buf why = BUF_INIT;
    day_reason(qb, model, needed, &why);
    if (e->opts.no_wait_quota) {
        buf_adds(&why, "; not waiting (--no-wait-quota)");
        cJSON *error = cJSON_CreateObject();
        cJSON_AddStringToObject(error, "kind", "quota_daily");
        cJSON_AddStringToObject(error, "message", why.data);
        buf_release(&why);
        engine_fail_item(e, it, error, NULL, 0, 0);
        return EQ_FAILED;
    }
    if (sr->quota_wait_until_ms != qb->reset_ms) {
        sr->quota_wait_until_ms = qb->reset_ms;
        char until[32];
        quota_rfc3339(qb->reset_ms, until, sizeof until);
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "stage", job->wf.stages[it->stage].name);
        cJSON_AddStringToObject(f, "model", model);
        cJSON_AddStringToObject(f, "until", until);
        json_add_i64(f, "day_count", qb->day_count);
        if (qb->day_limit > 0)
            cJSON_AddNumberToObject(f, "day_limit", qb->day_limit);
        else
            cJSON_AddNullToObject(f, "day_limit");
        json_add_i64(f, "needed", needed);
        cJSON_AddStringToObject(f, "reason", why.data);
        job_event(job, "quota_wait", f, true);
        engine_note(e, job, 0, "stage %s waiting for quota: %s", job->wf.stages[it->stage].name,
                    why.data);
    }
    buf_release(&why);
    *at = qb->not_before > now ? qb->not_before : now + RECHECK_MS;
    return EQ_WAIT;
}

/* The per-day admission of a stage, once: today's requests left must cover what the job still
 * calls of the model (or the whole day's quota, when the job needs more than that). 1 admitted,
 * 0 not (qb filled for day_wait). */
static int admit(struct engine *e, struct item *it, struct eq_bucket *qb, int64_t now,
                 int64_t *needed)
{
    const struct job *job = it->job;
    struct quota_rec r;
    struct gf_err err = GF_ERR_INIT;
    if (quota_peek(qb->b, quota_wall_ms(), &r, &err) < 0)
        return 1; /* quota_take says what is wrong */
    double limit = r.limits[QK_RPD].value;
    *needed = job_calls_left(job, job->wf.stages[it->stage].model);
    int64_t want = limit > 0 && *needed > (int64_t)limit ? (int64_t)limit : *needed;
    if (limit <= 0 || (int64_t)limit - r.day_count >= want)
        return 1;
    qb->day_limit = limit;
    qb->day_count = r.day_count;
    snprintf(qb->quota_id, sizeof qb->quota_id, "%s", r.limits[QK_RPD].quota_id);
    quota_pacific_day(quota_wall_ms(), r.day, &qb->reset_ms);
    qb->day_used = true; /* for this process: the other items of the model wait alike */
    qb->needed = *needed;
    qb->not_before = now + RECHECK_MS;
    (void)e;
    return 0;
}

enum eq_answer engine_quota_take(struct engine *e, struct item *it, int64_t now, int64_t *at)
{
    struct job *job = it->job;
    struct stage_run *sr = &job->st[it->stage];
    const char *model = job->wf.stages[it->stage].model;
    struct eq_bucket *qb = bucket_of(e, it);
    if (!qb)
        return EQ_GO;
    int64_t needed = job_calls_left(job, model);
    if (now < qb->not_before) {
        *at = qb->not_before;
        return qb->day_used ? day_wait(e, it, qb, now, qb->needed ? qb->needed : needed, at)
                            : EQ_LATER;
    }
    if (!sr->quota_admitted && !admit(e, it, qb, now, &needed))
        return day_wait(e, it, qb, now, needed, at);
    struct quota_verdict v;
    struct gf_err err = GF_ERR_INIT;
    int64_t wall = quota_wall_ms();
    int a = quota_take(qb->b, wall, rl_rpm(&e->rl, model), &v, &err);
    if (a < 0) {
        if (!e->quota_io_warned)
            fprintf(stderr, "gemflow: warning: %s; this process paces alone meanwhile\n", err.msg);
        e->quota_io_warned = true;
        return EQ_GO;
    }
    qb->day_count = v.day_count;
    qb->day_limit = v.day_limit;
    qb->reset_ms = v.reset_ms;
    if (a == QUOTA_GO) {
        qb->day_used = false;
        qb->needed = 0;
        sr->quota_admitted = true;
        if (sr->quota_wait_until_ms) {
            sr->quota_wait_until_ms = 0;
            engine_note(e, job, 0, "stage %s: quota available again",
                        job->wf.stages[it->stage].name);
        }
        return EQ_GO;
    }
    if (a == QUOTA_LATER) {
        qb->not_before = wall_to_mono(v.at_ms, now);
        *at = qb->not_before;
        return EQ_LATER;
    }
    qb->day_used = true;
    int64_t reset = wall_to_mono(v.reset_ms, now);
    qb->not_before = reset < now + RECHECK_MS ? reset : now + RECHECK_MS;
    struct quota_rec r;
    if (quota_peek(qb->b, wall, &r, &err) == 0)
        snprintf(qb->quota_id, sizeof qb->quota_id, "%s", r.limits[QK_RPD].quota_id);
    return day_wait(e, it, qb, now, needed, at);
}

void engine_quota_note_429(const struct item *it, const struct gemini_error *ge)
{
    struct job *job = it->job;
    struct engine *e = job->engine;
    if (!e || !e->quota)
        return;
    struct eq_bucket *qb = bucket_of(e, it);
    if (!qb)
        return;
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char *source = xasprintf("%s %s/%s (host %s, pid %ld)", job->dir,
                             job->wf.stages[it->stage].name, it->id, host, (long)getpid());
    struct quota_learned l;
    struct gf_err err = GF_ERR_INIT;
    if (quota_learn(qb->b, quota_wall_ms(), ge, source, &l, &err) < 0) {
        engine_note(e, job, -1, "%s", err.msg);
    } else {
        for (int k = 0; k < QK_N; k++)
            if (l.kinds & (1u << k))
                engine_note(e, job, 0, "model '%s': the server states a limit of %.0f %s (%s)",
                            job->wf.stages[it->stage].model, l.value[k],
                            quota_kind_name((enum quota_kind)k), "kept in the quota directory");
        int64_t now = now_ms();
        if (l.day_used_up) {
            qb->day_used = true;
            qb->not_before = now; /* the next take reads the day's end */
        } else if (l.paused_until_ms > 0) {
            int64_t until = wall_to_mono(l.paused_until_ms, now);
            if (until > qb->not_before)
                qb->not_before = until;
        }
    }
    free(source);
}

bool engine_quota_defer(struct engine *e, struct item *it, const cJSON *error)
{
    const char *kind = json_str(error, "kind");
    if (e->opts.no_wait_quota || !e->quota || !kind || strcmp(kind, "quota_daily") != 0)
        return false;
    it->state = IS_TODO; /* dispatch finds the day used up and the stage waits */
    return true;
}

static void free_one(void *val, void *ctx)
{
    (void)ctx;
    free(val);
}

void engine_quota_free(struct engine *e)
{
    strmap_each(&e->qbuckets, free_one, NULL);
    strmap_release(&e->qbuckets);
    strmap_each(&e->qfps, free_one, NULL);
    strmap_release(&e->qfps);
    quota_close(e->quota);
    free(e->quota_error);
}
