/* report: the pieces of `gemflow report` (cmd_report.c): one self-contained HTML page about a
 * job. No script, no network, no CDN: styles are inline and media are referenced by their path
 * relative to the job directory, so the page keeps working when the directory is copied.
 * Every string that comes from a model, a workflow or a file is escaped (report_html.c). */
#ifndef GF_REPORT_H
#define GF_REPORT_H

#include "buf.h"
#include "jobfacts.h"
#include "look.h"
#include "prices.h"

#include <cjson/cJSON.h>

/* What every section reads; borrowed. */
struct report_ctx {
    struct job *job;
    const struct look_stage *looks; /* per stage, same index as job->wf.stages */
    const struct job_facts *facts;
    const cJSON *status; /* the job's status as `gemflow status --json` gives it */
    const struct prices *prices;
    const char *prices_problem; /* why there is no usable price table, or NULL */
};

/* cmd_report.c: stages that wait for an upstream stage that is not done for today's request
 * may still have artifacts on disk from an earlier one: expand them from what is on disk (after
 * look_job), so the page shows what exists instead of nothing. Also used by the completion. */
void report_expand_from_disk(struct job *job, const struct look_stage *looks);

/* report_html.c: escaping and the page frame */
/* Append `s` with & < > " ' escaped (text and attribute values alike); NULL appends nothing. */
void html_esc(struct buf *b, const char *s);
/* Append a path relative to the job directory as an escaped, percent-encoded URL that stays
 * relative (each segment encoded; "/" kept). */
void html_rel_url(struct buf *b, const char *rel);
/* `<!doctype html>` ... `<body>` with the inline style sheet, and the closing tags. */
void html_page_start(struct buf *b, const char *title);
void html_page_end(struct buf *b);
/* A state badge: <span class="badge STATE">STATE</span>. */
void html_badge(struct buf *b, const char *state);

/* report_sections.c: summary, stage table, failures, inputs, single-item outputs, video */
void report_summary(struct buf *b, const struct report_ctx *rc);
void report_stages(struct buf *b, const struct report_ctx *rc);
void report_failures(struct buf *b, const struct report_ctx *rc);
void report_inputs(struct buf *b, const struct report_ctx *rc);
void report_documents(struct buf *b, const struct report_ctx *rc);
void report_video(struct buf *b, const struct report_ctx *rc);

/* report_cost.c: costs from the tokens recorded and the price table (never guessed) */
/* Append a stage's cost ("$0.0123", "none" for a stage that calls no API, or "unknown"); when
 * unknown and `why` is not NULL, *why says why. Returns true when known. */
bool report_stage_cost(struct buf *b, const struct report_ctx *rc, const cJSON *stage, double *usd,
                       const char **why);
/* Append the job's cost: the sum when every stage's is known, else what is known and why the
 * rest is not. */
void report_job_cost(struct buf *b, const struct report_ctx *rc);

/* report_scenes.c: per foreach element ("scene"): each stage's prompt beside its image, the
 * narration text with an audio player, edited/accepted/failed marks. */
void report_scenes(struct buf *b, const struct report_ctx *rc);

#endif
