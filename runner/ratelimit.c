/* ratelimit: per-model call pacing and 429 pauses (see ratelimit.h). */
#include "ratelimit.h"
#include "quota.h"
#include "util.h"

struct rl_model {
    double rpm;         /* the lowest limit set, 0 = unlimited */
    double interval_ms; /* 0 = unlimited */
    int64_t next_ms;    /* next start allowed by pacing */
    int64_t paused_until;
};

static struct rl_model *get(struct ratelimit *rl, const char *model)
{
    struct rl_model *m = strmap_get(&rl->models, model);
    if (!m) {
        m = xcalloc(1, sizeof *m);
        strmap_put(&rl->models, model, m);
    }
    return m;
}

void rl_set(struct ratelimit *rl, const char *model, double rpm)
{
    if (rpm <= 0)
        return;
    struct rl_model *m = get(rl, model);
    double interval = (double)quota_minute_ms() / rpm * 1.01;
    if (interval > m->interval_ms) {
        m->interval_ms = interval;
        m->rpm = rpm;
    }
}

double rl_rpm(const struct ratelimit *rl, const char *model)
{
    const struct rl_model *m = strmap_get(&rl->models, model);
    return m ? m->rpm : 0;
}

int64_t rl_ready_at(const struct ratelimit *rl, const char *model, int64_t now)
{
    const struct rl_model *m = strmap_get(&rl->models, model);
    if (!m)
        return now;
    int64_t at = m->next_ms > m->paused_until ? m->next_ms : m->paused_until;
    return at > now ? at : now;
}

void rl_take(struct ratelimit *rl, const char *model, int64_t now)
{
    struct rl_model *m = strmap_get(&rl->models, model);
    if (!m || m->interval_ms <= 0)
        return;
    int64_t base = m->next_ms > now ? m->next_ms : now;
    m->next_ms = base + (int64_t)(m->interval_ms + 0.5);
}

void rl_pause(struct ratelimit *rl, const char *model, int64_t until)
{
    struct rl_model *m = get(rl, model);
    if (until > m->paused_until)
        m->paused_until = until;
}

static void free_one(void *val, void *ctx)
{
    free(val);
}

void rl_release(struct ratelimit *rl)
{
    strmap_each(&rl->models, free_one, NULL);
    strmap_release(&rl->models);
}
