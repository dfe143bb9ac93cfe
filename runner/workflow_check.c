/* workflow_check: the checks that need every stage, and their order: foreach sources, template
 * names against inputs, stages and schemas, and needs (here); output paths and the files stages
 * read from each other (workflow_outputs.c); disabled stages, cycles and the topological order
 * (workflow_order.c). */
#include "schema.h"
#include "util.h"
#include "workflow_check_int.h"
#include "../stages/stage.h"

#include <string.h>

/* The element list a stage's one item goes over (a kind's own, like video's scenes), or NULL. */
struct stage_elements *wfl_elements_of(const struct stage_def *s)
{
    return s->kind && s->kind->elements ? s->kind->elements((struct stage_def *)s) : NULL;
}

void wfl_add_dep(struct stage_def *s, size_t j)
{
    for (size_t k = 0; k < s->n_deps; k++)
        if (s->deps[k] == j)
            return;
    s->deps = xrealloc(s->deps, (s->n_deps + 1) * sizeof *s->deps);
    s->deps[s->n_deps++] = j;
}

/* Is stage j turned off (enabled: false) while stage i, which uses it, is not? Then that use is an
 * error (a reference to its files is dropped instead, wfl_link_file_inputs). */
bool wfl_uses_disabled(const struct wf_loader *L, size_t i, size_t j)
{
    return L->info[j].disabled && !L->info[i].disabled;
}

/* "stage 'portraits' is disabled (enabled: false at line 30)" when that is in file `here`, else
 * at FILE:LINE:COL, or "(--set portraits.enabled=false)" from the command line. */
void wfl_add_disabled(const struct wf_loader *L, size_t j, const char *here, struct buf *b)
{
    const struct ydoc_node *n = L->info[j].enabled;
    buf_addf(b, "stage '%s' is disabled (", L->wf->stages[j].name);
    if (!n->line)
        buf_addf(b, "%s)", n->file);
    else if (here && strcmp(here, n->file) == 0)
        buf_addf(b, "enabled: false at line %d)", n->line);
    else
        buf_addf(b, "enabled: false at %s:%d:%d)", n->file, n->line, n->col);
}

/* " (inputs: script; stages: analysis, prompts)" naming what a template may use. */
static void add_names(const struct workflow *wf, size_t self, bool foreach, struct buf *b)
{
    size_t start = b->len, n = 0;
    buf_adds(b, " (");
    for (size_t i = 0; i < wf->n_inputs; i++)
        buf_addf(b, "%s%s", i ? ", " : "inputs: ", wf->inputs[i].name);
    for (size_t i = 0; i < wf->n_stages; i++) {
        if (i == self)
            continue;
        const char *sep = n++ ? ", " : wf->n_inputs ? "; stages: " : "stages: ";
        buf_addf(b, "%s%s", sep, wf->stages[i].name);
    }
    if (foreach)
        buf_adds(b, wf->n_inputs || n ? "; item, item_index" : "item, item_index");
    if (b->len == start + 2)
        buf_setlen(b, start);
    else
        buf_addc(b, ')');
}

/* A schema's "type" for messages: string as is, a list as JSON (caller frees). */
static char *type_text(const cJSON *type)
{
    if (cJSON_IsString(type))
        return xstrdup(type->valuestring);
    char *j = type ? cJSON_PrintUnformatted(type) : NULL;
    char *r = xstrdup(j ? j : "not an object");
    cJSON_free(j);
    return r;
}

static void add_stage_names(const struct workflow *wf, const char *name, struct buf *b)
{
    const char **names = xcalloc(wf->n_stages, sizeof *names);
    for (size_t i = 0; i < wf->n_stages; i++)
        names[i] = wf->stages[i].name;
    const char *s = wfl_suggest(name, names, wf->n_stages);
    if (s) {
        buf_addf(b, " (did you mean '%s'?)", s);
    } else {
        buf_adds(b, " (stages: ");
        wfl_add_list(b, names, wf->n_stages);
        buf_addc(b, ')');
    }
    free(names);
}

/* Walk `schema` along segs; on a step the schema rules out, report it at `file:line:col` and
 * return NULL. `root` is the reference's root, `desc` describes what it names. */
static const cJSON *check_path(struct wf_loader *L, const char *file, int line, int col,
                               const cJSON *schema, char *const *segs, size_t n, const char *root,
                               const char *desc)
{
    const cJSON *cur = schema;
    for (size_t k = 0; k < n; k++) {
        const cJSON *next = schema_at_path(cur, &segs[k], 1);
        if (next) {
            cur = next;
            continue;
        }
        struct buf where = BUF_INIT, m = BUF_INIT;
        if (k == 0) {
            buf_adds(&where, desc);
        } else {
            buf_addf(&where, "'%s", root);
            for (size_t i = 0; i < k; i++)
                buf_addf(&where, ".%s", segs[i]);
            buf_addc(&where, '\'');
        }
        const cJSON *props = cJSON_GetObjectItemCaseSensitive(cur, "properties"), *p;
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(cur, "type");
        if (cJSON_IsObject(props)) {
            buf_addf(&m, "unknown field '%s' in %s (its schema has:", segs[k], where.data);
            int i = 0;
            cJSON_ArrayForEach(p, props) buf_addf(&m, "%s %s", i++ ? "," : "", p->string);
            buf_adds(&m, i ? ")" : " no fields)");
        } else if (schema_is_array(cur)) {
            buf_addf(&m, "%s is a list; '%s' is not an index (use a number)", where.data, segs[k]);
        } else {
            char *t = type_text(type);
            buf_addf(&m, "%s has no field '%s' (its schema type is %s)", where.data, segs[k], t);
            free(t);
        }
        diag_add(L->dl, file, line, col, "%s", m.data);
        buf_release(&where);
        buf_release(&m);
        return NULL;
    }
    return cur;
}

/* Resolve a "STAGE.path.to.list" (`what`: foreach, or a kind's own element list such as
 * video's scenes) into its stage index, a dependency, and the schema of one element
 * (info->item_schema). */
static void resolve_array(struct wf_loader *L, size_t i, const char *what, const char *text,
                          char *const *segs, size_t n_segs, size_t *stage_out)
{
    struct workflow *wf = L->wf;
    struct stage_def *s = &wf->stages[i];
    struct wf_stage_info *info = &L->info[i];
    const struct ydoc_node *n = info->foreach;
    char *name = xstrndup(text, strcspn(text, "."));
    int j = workflow_stage_index(wf, name);
    struct buf b = BUF_INIT;
    if (j < 0) {
        add_stage_names(wf, name, &b);
        wfl_error(L, n, "%s: unknown stage '%s'%s", what, name, b.data);
    } else if ((size_t)j == i) {
        wfl_error(L, n, "stage '%s' cannot loop over its own output", name);
    } else if (wfl_uses_disabled(L, i, (size_t)j)) {
        wfl_add_disabled(L, (size_t)j, n->file, &b);
        wfl_error(L, n, "%s over '%s': %s; disable stage '%s' too, or enable '%s'", what, text,
                  b.data, s->name, name);
    } else {
        const struct stage_def *src = &wf->stages[j];
        *stage_out = (size_t)j;
        wfl_add_dep(s, (size_t)j);
        info->item_schema = schema_any();
        if (L->info[j].kind_ok && src->kind->value != VALUE_JSON) {
            wfl_error(L, n, "%s needs a json stage, and '%s' is a %s stage", what, name,
                      src->kind->name);
        } else if (src->foreach) {
            wfl_error(L, n, "%s over stage '%s', which itself has a foreach, is not supported",
                      what, name);
        } else if (L->info[j].kind_ok && L->info[j].schema_ok) {
            char *desc = xasprintf("output of stage '%s'", name);
            const cJSON *sub = check_path(L, n->file, n->line, n->col, src->kind->schema(src), segs,
                                          n_segs, name, desc);
            free(desc);
            const cJSON *type = cJSON_GetObjectItemCaseSensitive(sub, "type");
            if (sub && type && !schema_is_array(sub)) {
                char *t = type_text(type);
                wfl_error(L, n, "'%s' is not a list (its schema type is %s); %s needs a list", text,
                          t, what);
                free(t);
            } else if (sub) {
                const cJSON *items = cJSON_GetObjectItemCaseSensitive(sub, "items");
                const cJSON *max = cJSON_GetObjectItemCaseSensitive(sub, "maxItems");
                info->item_schema = cJSON_IsObject(items) ? items : schema_any();
                info->foreach_ok = true;
                if (s->foreach && cJSON_IsNumber(max) && max->valuedouble >= 1 &&
                    max->valuedouble <= 1e6)
                    s->foreach_max = (int)max->valuedouble;
            }
        } else {
            info->foreach_ok = true;
        }
    }
    buf_release(&b);
    free(name);
}

/* A reference to another stage's output. */
static void check_stage_ref(struct wf_loader *L, size_t i, size_t j, const struct tmpl *t,
                            const struct tmpl_ref *r)
{
    struct stage_def *s = &L->wf->stages[i], *src = &L->wf->stages[j];
    const char *file = tmpl_file(t);
    if (i == j) {
        diag_add(L->dl, file, r->line, r->col, "stage '%s' cannot use its own output ('{{%s}}')",
                 s->name, r->expr);
        return;
    }
    if (wfl_uses_disabled(L, i, j)) {
        struct buf b = BUF_INIT;
        wfl_add_disabled(L, j, file, &b);
        diag_add(L->dl, file, r->line, r->col,
                 "'{{%s}}' names stage '%s', and %s; disable stage '%s' too, or enable '%s'",
                 r->expr, src->name, b.data, s->name, src->name);
        buf_release(&b);
        return;
    }
    if (!L->info[j].kind_ok) {
        wfl_add_dep(s, j);
        return;
    }
    enum stage_value value = src->kind->value;
    if (src->foreach && value != VALUE_NONE) {
        /* one output per item: there is no single value to put in a template */
        diag_add(L->dl, file, r->line, r->col,
                 "'{{%s}}' names stage '%s', which writes one output per item (foreach): "
                 "templates cannot use it (to wait for it, use needs: [%s])",
                 r->expr, src->name, src->name);
        return;
    }
    if (value == VALUE_NONE) { /* media: nothing to put in a template */
        diag_add(L->dl, file, r->line, r->col,
                 "'{{%s}}' names stage '%s' of kind %s: its output is media, not text (to wait "
                 "for it, use needs: [%s])",
                 r->expr, src->name, src->kind->name, src->name);
        return;
    }
    if (value == VALUE_TEXT && r->n_segs)
        diag_add(L->dl, file, r->line, r->col,
                 "stage '%s' is a %s stage; its output has no field '%s'", src->name,
                 src->kind->name, r->segs[0]);
    if (value == VALUE_JSON && L->info[j].schema_ok) {
        char *desc = xasprintf("output of stage '%s'", src->name);
        check_path(L, file, r->line, r->col, src->kind->schema(src), r->segs, r->n_segs, r->root,
                   desc);
        free(desc);
    }
    wfl_add_dep(s, j);
}

/* `per_item`: the template is rendered once per foreach element (or video scene), where
 * {{item}} and {{item_index}} are defined; `each_ok`: the path of a reference with `each`,
 * where {{each}} is the element. */
static void check_ref(struct wf_loader *L, size_t i, const struct tmpl *t, const struct tmpl_ref *r,
                      bool per_item, bool each_ok)
{
    const struct workflow *wf = L->wf;
    const struct stage_def *s = &wf->stages[i];
    const struct wf_stage_info *info = &L->info[i];
    const char *file = tmpl_file(t);
    for (size_t k = 0; k < wf->n_inputs; k++) {
        if (strcmp(wf->inputs[k].name, r->root) == 0) {
            if (r->n_segs)
                diag_add(L->dl, file, r->line, r->col, "input '%s' is text and has no field '%s'",
                         r->root, r->segs[0]);
            return;
        }
    }
    int j = workflow_stage_index(wf, r->root);
    if (j >= 0) {
        check_stage_ref(L, i, (size_t)j, t, r);
        return;
    }
    if (strcmp(r->root, "each") == 0) {
        if (!each_ok)
            diag_add(L->dl, file, r->line, r->col,
                     "'each' is only defined in the path of a reference with 'each' "
                     "(references: [{each: item.characters, path: portraits/{{each}}.jpg}])");
        return;
    }
    bool item = strcmp(r->root, "item") == 0, index = strcmp(r->root, "item_index") == 0;
    const struct stage_elements *el = wfl_elements_of(s);
    if ((item || index) && el && !per_item) {
        diag_add(L->dl, file, r->line, r->col, "'%s' is only defined in %s", r->root,
                 s->kind->elements_fields);
    } else if ((item || index) && !per_item) {
        diag_add(L->dl, file, r->line, r->col,
                 "'%s' is only defined in a stage with 'foreach' (stage '%s' has none)", r->root,
                 s->name);
    } else if (index && r->n_segs) {
        diag_add(L->dl, file, r->line, r->col, "'item_index' is a number and has no field '%s'",
                 r->segs[0]);
    } else if (item && info->foreach_ok) {
        char *desc = xasprintf("'item', an element of '%s'", s->foreach ? s->foreach
                                                             : el       ? el->text
                                                                        : "?");
        check_path(L, file, r->line, r->col, info->item_schema, r->segs, r->n_segs, "item", desc);
        free(desc);
    } else if (!item && !index) {
        struct buf b = BUF_INIT;
        add_names(wf, i, per_item, &b);
        diag_add(L->dl, file, r->line, r->col, "unknown name '%s' in template%s", r->root, b.data);
        buf_release(&b);
    }
}

static void check_needs(struct wf_loader *L, size_t i)
{
    struct stage_def *s = &L->wf->stages[i];
    const struct wf_stage_info *info = &L->info[i];
    for (size_t k = 0; k < info->n_needs; k++) {
        const char *name = info->needs[k].name;
        int j = workflow_stage_index(L->wf, name);
        struct buf b = BUF_INIT;
        if (j < 0) {
            add_stage_names(L->wf, name, &b);
            wfl_error(L, info->needs[k].node, "unknown stage '%s' in needs%s", name, b.data);
        } else if ((size_t)j == i) {
            wfl_error(L, info->needs[k].node, "stage '%s' needs itself", name);
        } else if (wfl_uses_disabled(L, i, (size_t)j)) {
            wfl_add_disabled(L, (size_t)j, info->needs[k].node->file, &b);
            wfl_error(L, info->needs[k].node,
                      "stage '%s' needs '%s', and %s; disable stage '%s' too, or enable '%s'",
                      s->name, name, b.data, s->name, name);
        } else {
            wfl_add_dep(s, (size_t)j);
        }
        buf_release(&b);
    }
}

/* The templates of stage i that the checks see: the kind's, its references (and their `each`),
 * its output. */
size_t wfl_stage_templates(const struct wf_loader *L, size_t i, struct wf_tmpl_entry *out,
                           size_t max)
{
    const struct stage_def *s = &L->wf->stages[i];
    struct stage_tmpl ts[16];
    size_t n = 0, nk = L->info[i].kind_ok ? s->kind->templates(s, ts, ARRAY_SIZE(ts)) : 0;
    for (size_t k = 0; k < nk && n < max; k++)
        out[n++] = (struct wf_tmpl_entry){ts[k], false, -1};
    for (size_t k = 0; k < s->n_refs && n + 2 <= max; k++) {
        out[n++] = (struct wf_tmpl_entry){
            {"references", s->refs[k].path, true, true}, s->refs[k].each != NULL, (int)k};
        out[n++] = (struct wf_tmpl_entry){{"each", s->refs[k].each, true, false}, false, -1};
    }
    if (n < max)
        out[n++] =
            (struct wf_tmpl_entry){{"output", s->output, s->foreach != NULL, false}, false, -1};
    return n;
}

void wfl_check(struct wf_loader *L)
{
    struct workflow *wf = L->wf;
    for (size_t i = 0; i < wf->n_stages; i++) {
        struct stage_def *s = &wf->stages[i];
        struct stage_elements *el;
        if (s->foreach)
            resolve_array(L, i, "foreach", s->foreach, s->foreach_segs, s->n_foreach_segs,
                          &s->foreach_stage);
        else if ((el = wfl_elements_of(s)) && L->info[i].foreach)
            resolve_array(L, i, s->kind->elements_key, el->text, el->segs, el->n_segs, &el->stage);
    }
    for (size_t i = 0; i < wf->n_stages; i++) {
        const struct stage_def *s = &wf->stages[i];
        bool elements = s->foreach || wfl_elements_of(s); /* templates rendered per element */
        struct wf_tmpl_entry ts[48];
        size_t nt = wfl_stage_templates(L, i, ts, ARRAY_SIZE(ts));
        for (size_t k = 0; k < nt; k++)
            for (size_t r = 0; ts[k].st.t && r < tmpl_ref_count(ts[k].st.t); r++)
                check_ref(L, i, ts[k].st.t, tmpl_ref_at(ts[k].st.t, r),
                          ts[k].st.per_item && elements, ts[k].each_ok);
        check_needs(L, i);
    }
    struct wf_out_entry *outs;
    size_t n = wfl_collect_outputs(L, &outs);
    bool *dropped = xcalloc(wf->n_stages * wf->n_stages, sizeof *dropped);
    wfl_link_file_inputs(L, outs, n, dropped);
    wfl_check_outputs(L, outs, n);
    for (size_t i = 0; i < n; i++) {
        buf_release(&outs[i].skel);
        buf_release(&outs[i].norm);
    }
    free(outs);
    wfl_remove_disabled(L, dropped);
    free(dropped);
    wfl_check_refs_method(L);
    wfl_check_cycles_and_order(L);
}
