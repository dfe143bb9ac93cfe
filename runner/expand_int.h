/* expand_int: shared by expand.c (API stages) and the stage kinds that make their own items
 * (stages/video_expand.c, the video kind's `expand`); not for other modules. */
#ifndef GF_EXPAND_INT_H
#define GF_EXPAND_INT_H

#include "job.h"

/* What templates of one item see: the job's inputs and stage values, and the current element. */
struct render_ctx {
    struct job *job;
    const cJSON *item; /* {{item}}, NULL outside a foreach or scene */
    cJSON *index;      /* {{item_index}}, NULL outside a foreach or scene */
    const cJSON *each; /* {{each}}: the element of a reference's `each` list (refs.c) */
};

/* Render `t` (NULL renders as NULL) into a new string (*out, caller frees). */
int expand_render(const struct tmpl *t, struct render_ctx *rc, int flags, char **out,
                  struct gf_err *err);
/* The item id of a foreach element: its "id" member made safe, else its 1-based position.
 * NULL with *why (caller frees) when the id cannot be used. */
char *expand_element_id(const cJSON *el, int index, char **why);
/* The array at `segs` in the value of stage `src`; `key` and `text` name it in the error
 * ("foreach", "prompts.scenes"). */
const cJSON *expand_array(struct job *job, size_t src, char *const *segs, size_t n_segs,
                          const char *key, const char *text, struct gf_err *err);

/* The single item of stage `s` (its id the stage's name), as the stage's only item. */
struct item *expand_one_item(struct job *job, size_t s);
/* Why stage `s` cannot write `path` (relative, safe): it is one of the job's inputs, or a file
 * (or a directory of files) another stage writes: the output of a stage not expanded yet whose
 * output is literal, of an expanded item, or of a done item's checkpoint. NULL when it is free;
 * else a message naming both (caller frees). Model output chooses rendered paths, and must
 * never overwrite what the job reads or another stage made (docs/security.md). */
char *expand_output_clash(const struct job *job, size_t s, const char *path);

#endif
