/* workflow_check_int: shared by the checks that need every stage (workflow_check.c: names and
 * needs, and wfl_check that runs them all; workflow_outputs.c: output paths and the files stages
 * read; workflow_order.c: disabled stages, cycles and order); not for other modules. */
#ifndef GF_WORKFLOW_CHECK_INT_H
#define GF_WORKFLOW_CHECK_INT_H

#include "buf.h"
#include "workflow_int.h"
#include "../stages/stage.h"

#include <stdbool.h>
#include <stddef.h>

/* One output path template of a stage (its output, or a video stage's subtitles). */
struct wf_out_entry {
    size_t stage;
    const struct tmpl *t;
    const struct ydoc_node *node;
    struct buf skel, norm;
};

/* One template of a stage that the checks see: the kind's, a reference's path or `each`, or the
 * output (wfl_stage_templates). */
struct wf_tmpl_entry {
    struct stage_tmpl st;
    bool each_ok; /* a reference's path with `each` */
    int ref;      /* the path of references[ref], else -1 */
};

/* ---- workflow_check.c ---- */
/* The element list a stage's one item goes over (a kind's own, like video's scenes), or NULL. */
struct stage_elements *wfl_elements_of(const struct stage_def *s);
/* Make stage `s` depend on stage j (once). */
void wfl_add_dep(struct stage_def *s, size_t j);
/* Is stage j disabled while stage i, which uses it, is not? */
bool wfl_uses_disabled(const struct wf_loader *L, size_t i, size_t j);
/* "stage 'portraits' is disabled (...)" for messages about a use of disabled stage j. */
void wfl_add_disabled(const struct wf_loader *L, size_t j, const char *here, struct buf *b);
/* The templates of stage i into out[] (at most max); returns how many. */
size_t wfl_stage_templates(const struct wf_loader *L, size_t i, struct wf_tmpl_entry *out,
                           size_t max);

/* ---- workflow_outputs.c ---- */
/* The output path templates of every stage into *out (caller releases each skel and norm, then
 * frees *out); returns how many. */
size_t wfl_collect_outputs(struct wf_loader *L, struct wf_out_entry **out);
/* Each stage depends on the stages whose files it reads; references to a disabled stage's files
 * are dropped and marked in dropped[i * n_stages + j]. */
void wfl_link_file_inputs(struct wf_loader *L, const struct wf_out_entry *outs, size_t n,
                          bool *dropped);
/* Each output path on its own, then against every other. */
void wfl_check_outputs(struct wf_loader *L, const struct wf_out_entry *outs, size_t n);
/* References on a model not called by generateContent (after disabled stages are removed). */
void wfl_check_refs_method(struct wf_loader *L);

/* ---- workflow_order.c ---- */
/* Take the disabled stages out of wf->stages into wf->off (`dropped` as wfl_link_file_inputs
 * filled it) and renumber what points at stages. */
void wfl_remove_disabled(struct wf_loader *L, const bool *dropped);
/* Report every dependency cycle, then fill wf->order. */
void wfl_check_cycles_and_order(struct wf_loader *L);

#endif
