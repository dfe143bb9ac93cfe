/* ratelimit: per-model pacing shared by every job of the process. A model with an rpm limit R
 * gets one call every 60/R seconds (plus 1 % margin, so a server counting a sliding minute never
 * sees more than R); a 429 pauses the model until the server's advised time, so every item of
 * that model waits instead of hammering. The processes on one key share their budget through
 * the quota directory as well (quota.h, engine_quota.c); this is the process's own view. */
#ifndef GF_RATELIMIT_H
#define GF_RATELIMIT_H

#include "strmap.h"

#include <stdint.h>

struct ratelimit {
    struct strmap models; /* model -> struct rl_model */
};

/* Limit `model` to `rpm` calls per minute (the lowest limit set wins; 0 = none). A minute is
 * quota_minute_ms() long (quota.h). */
void rl_set(struct ratelimit *rl, const char *model, double rpm);
/* The limit set for model (0 = none). */
double rl_rpm(const struct ratelimit *rl, const char *model);
/* Earliest monotonic ms at which a call to model may start (<= now: at once). */
int64_t rl_ready_at(const struct ratelimit *rl, const char *model, int64_t now);
/* A call to model starts now. */
void rl_take(struct ratelimit *rl, const char *model, int64_t now);
/* Hold every call to model until `until` (monotonic ms). */
void rl_pause(struct ratelimit *rl, const char *model, int64_t until);
void rl_release(struct ratelimit *rl);

#endif
