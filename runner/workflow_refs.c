/* workflow_refs: the `references:` key of a stage: job files sent with each request as inline
 * media parts (refs.c reads them when an item is made).
 *
 *   references: portraits/hero.jpg                 one file (a path template)
 *   references:                                    or a list of entries, each a path or
 *     - each: item.characters                      {each: LIST, path: TEMPLATE}: one file per
 *       path: portraits/{{each}}.jpg               element of LIST ({{each}} is the element)
 */
#include "util.h"
#include "workflow_int.h"

#include <string.h>

#define WF_MAX_REFS 16 /* entries; an `each` list may name more files (refs.c limits them) */

static const char *const entry_keys[] = {"each", "path"};

static void one_entry(struct wf_loader *L, struct stage_def *s, const struct ydoc_node *n,
                      size_t *cap)
{
    struct wf_ref ref = {0};
    if (n->kind == YDOC_MAP) {
        wfl_check_keys(L, n, entry_keys, ARRAY_SIZE(entry_keys), "in a reference");
        const struct ydoc_node *each = ydoc_get(n, "each"), *path = ydoc_get(n, "path");
        if (!path) {
            wfl_error(L, n, "a reference needs 'path' (the file, e.g. portraits/{{each}}.jpg)");
            return;
        }
        ref.path = wfl_template_field(L, path, "path", false);
        if (each) {
            const char *list = wfl_string(L, each, "each");
            if (list && (!list[0] || strstr(list, "{{") || strpbrk(list, " \n"))) {
                wfl_error(L, each, "'each' names a list, like item.characters, got '%s'", list);
            } else if (list) {
                char *text = xasprintf("{{%s}}", list);
                struct tmpl_origin o = {each->file, each->line, each->col, 0, false};
                if (tmpl_compile(text, &o, &ref.each, L->dl) == 0 && tmpl_ref_count(ref.each))
                    tmpl_move_ref(ref.each, 0, each->line, each->col);
                free(text);
            }
        }
    } else {
        ref.path = wfl_template_field(L, n, "references", false);
    }
    if (!ref.path) {
        tmpl_free(ref.each);
        return;
    }
    *VEC_PUSH(s->refs, s->n_refs, *cap) = ref;
}

void wfl_references_field(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                          const struct ydoc_node *n)
{
    size_t cap = 0;
    info->references = n;
    if (n->kind != YDOC_SEQ) {
        one_entry(L, s, n, &cap);
        return;
    }
    if (n->n_items > WF_MAX_REFS) {
        wfl_error(L, n, "too many references (%zu; at most %d entries)", n->n_items, WF_MAX_REFS);
        return;
    }
    for (size_t i = 0; i < n->n_items; i++)
        one_entry(L, s, n->items[i], &cap);
}
