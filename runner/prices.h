/* prices: the per-model price table (workflows/prices.yaml, overridable) and the cost of calls.
 * A model without a price has no cost estimate: callers say so instead of guessing. */
#ifndef GF_PRICES_H
#define GF_PRICES_H

#include "err.h"

#include <stdbool.h>
#include <stddef.h>

struct price {
    char *model;
    double input, output; /* USD per 1M tokens; < 0 when not given */
    double per_image;     /* USD per image (imagen); < 0 when not given */
    double per_second;    /* USD per second of video made (Omni at 720p); < 0 when not given */
};

struct prices {
    char *file; /* where the table came from, NULL when none was found */
    struct price *v;
    size_t n, cap;
};

/* Load the table for a job: `override` (--prices) if given, else JOB/prices.yaml if present,
 * else the bundled workflows/prices.yaml. A missing bundled table is not an error (every cost
 * is then unknown); a malformed one is (diagnostics "file:line:column: message"). */
int prices_load_for_job(struct prices *p, const char *job_dir, const char *override,
                        struct diag_list *dl);
/* `override`, else the bundled table (none found: an empty table). */
int prices_load_default(struct prices *p, const char *override, struct diag_list *dl);
/* Load one file. */
int prices_load(struct prices *p, const char *path, struct diag_list *dl);
void prices_release(struct prices *p);
const struct price *prices_find(const struct prices *p, const char *model);

/* The cost of a call with these token counts (images: output images for per-image prices;
 * seconds: seconds of video for per-second prices, 0 when the call's tokens are known instead:
 * then the token prices apply, as the bill does). Returns false, with *why set to a short
 * reason, when the price is not known. */
bool prices_cost(const struct prices *p, const char *model, double in_tokens, double out_tokens,
                 int images, double seconds, double *usd, const char **why);

/* What a service tier costs against the standard price (optimization guide, checked 2026-12-04:
 * flex "50% discount", priority "75% to 100% more than standard"): flex 0.5, priority 2.0 (the
 * upper bound: an estimate never below the bill), standard or NULL 1.0. */
double prices_tier_factor(const char *tier);
/* The index of a tier for per-tier sums: 0 standard (or NULL), 1 flex, 2 priority. */
int prices_tier_index(const char *tier);
extern const char *const prices_tier_names[3];

#endif
