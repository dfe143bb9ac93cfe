/* stage_prompt: the prompt and system keys of the json, text and image kinds. */
#include "stage_prompt.h"
#include "../runner/expand_int.h"
#include "../runner/util.h"
#include "../runner/workflow_int.h"

#include <string.h>

static bool kind_takes(const struct stage_def *s, const char *key)
{
    for (const char *const *k = s->kind->keys; *k; k++)
        if (strcmp(*k, key) == 0)
            return true;
    return false;
}

void stage_prompt_parse(struct wf_loader *L, const struct stage_def *s, struct prompt_settings *p,
                        const struct ydoc_node *st, const struct ydoc_node *key)
{
    const struct ydoc_node *v;
    if ((v = ydoc_get(st, "prompt")))
        p->prompt = wfl_template_field(L, v, "prompt", true);
    else
        wfl_error(L, key, "stage '%s' has no 'prompt' (required for kind %s)", s->name,
                  s->kind->name);
    if (kind_takes(s, "system") && (v = ydoc_get(st, "system")))
        p->system = wfl_template_field(L, v, "system", true);
}

void stage_prompt_release(struct prompt_settings *p)
{
    tmpl_free(p->prompt);
    tmpl_free(p->system);
}

size_t stage_prompt_templates(const struct prompt_settings *p, struct stage_tmpl *out, size_t max)
{
    size_t n = 0;
    if (n < max)
        out[n++] = (struct stage_tmpl){"prompt", p->prompt, true, false};
    if (n < max)
        out[n++] = (struct stage_tmpl){"system", p->system, true, false};
    return n;
}

int stage_prompt_render(const struct prompt_settings *p, struct render_ctx *rc,
                        struct stage_input *in, char **why)
{
    struct gf_err err = GF_ERR_INIT;
    if (expand_render(p->prompt, rc, 0, &in->prompt, &err) < 0 ||
        expand_render(p->system, rc, 0, &in->system, &err) < 0) {
        *why = xstrdup(err.msg);
        return -1;
    }
    return 0;
}
