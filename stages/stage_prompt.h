/* stage_prompt: the `prompt` and `system` keys that the json, text and image kinds share:
 * parsed (inline text or a prompt file beside the workflow), listed for the checks, rendered. */
#ifndef GF_STAGE_PROMPT_H
#define GF_STAGE_PROMPT_H

#include "stage.h"

struct prompt_settings {
    struct tmpl *prompt; /* required */
    struct tmpl *system; /* optional system instruction; NULL if absent or not taken */
};

/* prompt (required) and, when the kind lists it among its keys, system. */
void stage_prompt_parse(struct wf_loader *L, const struct stage_def *s, struct prompt_settings *p,
                        const struct ydoc_node *st, const struct ydoc_node *key);
void stage_prompt_release(struct prompt_settings *p);
size_t stage_prompt_templates(const struct prompt_settings *p, struct stage_tmpl *out, size_t max);
int stage_prompt_render(const struct prompt_settings *p, struct render_ctx *rc,
                        struct stage_input *in, char **why);

#endif
