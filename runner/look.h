/* look: what a job would do now, without calling or writing anything (plan and status): stages
 * are expanded as far as their inputs exist on disk, and every item is judged against the
 * checkpoint. */
#ifndef GF_LOOK_H
#define GF_LOOK_H

#include "job.h"

enum look_state {
    LOOK_DONE,  /* every item is done (cached or edited) */
    LOOK_TODO,  /* expanded; some items would be called (or fail without a call) */
    LOOK_AFTER, /* waits for an upstream stage that is not done */
    LOOK_ERROR, /* cannot be expanded: bad upstream output */
};

struct look_stage {
    enum look_state state;
    const char *after; /* LOOK_AFTER: the upstream stage it waits for */
    /* n_call: items whose request is built and not done; n_bad: items whose request cannot be
     * built (a missing or refused input: they fail without a call) */
    size_t n_items, n_cached, n_edited, n_call, n_bad, n_failed_last;
    size_t expected; /* LOOK_AFTER: best estimate of its item count, 0 if unknown */
    char *error;     /* LOOK_ERROR */
};

/* Fill looks[n_stages] (caller frees with look_release). */
void look_job(struct job *job, struct look_stage *looks);
void look_release(struct job *job, struct look_stage *looks);
/* The checkpoint failure message of an item if its current request failed last time. */
const char *look_failed_last(const struct job *job, const struct item *it);

#endif
