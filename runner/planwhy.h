/* planwhy: what `gemflow plan` says about an item it would call — why (new, request changed and
 * which part, output missing, failed last time) — and the token estimate behind its cost. */
#ifndef GF_PLANWHY_H
#define GF_PLANWHY_H

#include "job.h"

/* Why the item would be called; a new string (caller frees). Reads the item's call record to
 * name the parts of the request that changed: model, endpoint, references, prompt text, system
 * instruction, schema, voice, aspect ratio or image size, other generation settings; and any
 * other field of any kind's request by its JSON path with both values (reqdiff.h: at most
 * three, then "and N more"). */
char *planwhy_reason(const struct job *job, const struct item *it);

/* Token estimate of one call. Observed: from this job's manifest (the mean of the stage's done
 * items), else from the request: input = request characters / 4, and the output the stage
 * kind expects (its estimate: json/text = input, image = 1290 tokens, speech = 25 tokens per
 * second at 15 characters per second, a clip its seconds). */
struct call_estimate {
    double in_tokens, out_tokens;
    int images;
    double seconds; /* of video made (priced per second) */
    bool observed;  /* from this job's own recorded usage */
};

void planwhy_estimate(const struct job *job, size_t stage, const struct item *it,
                      struct call_estimate *out);

#endif
