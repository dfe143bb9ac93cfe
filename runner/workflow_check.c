/* workflow_check: the checks that need every stage: foreach sources, template names against
 * inputs, stages and schemas, dependencies, cycles, the topological order and output paths. */
#include "schema.h"
#include "util.h"
#include "workflow_int.h"
#include "../stages/stage.h"

#include <string.h>

/* The element list a stage's one item goes over (a kind's own, like video's scenes), or NULL. */
static struct stage_elements *elements_of(const struct stage_def *s)
{
    return s->kind && s->kind->elements ? s->kind->elements((struct stage_def *)s) : NULL;
}

static void add_dep(struct stage_def *s, size_t j)
{
    for (size_t k = 0; k < s->n_deps; k++)
        if (s->deps[k] == j)
            return;
    s->deps = xrealloc(s->deps, (s->n_deps + 1) * sizeof *s->deps);
    s->deps[s->n_deps++] = j;
}

/* Is stage j turned off (enabled: false) while stage i, which uses it, is not? Then that use is an
 * error (a reference to its files is dropped instead, link_file_inputs). */
static bool uses_disabled(const struct wf_loader *L, size_t i, size_t j)
{
    return L->info[j].disabled && !L->info[i].disabled;
}

/* "stage 'portraits' is disabled (enabled: false at line 30)" when that is in file `here`, else
 * at FILE:LINE:COL, or "(--set portraits.enabled=false)" from the command line. */
static void add_disabled(const struct wf_loader *L, size_t j, const char *here, struct buf *b)
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
    } else if (uses_disabled(L, i, (size_t)j)) {
        add_disabled(L, (size_t)j, n->file, &b);
        wfl_error(L, n, "%s over '%s': %s; disable stage '%s' too, or enable '%s'", what, text,
                  b.data, s->name, name);
    } else {
        const struct stage_def *src = &wf->stages[j];
        *stage_out = (size_t)j;
        add_dep(s, (size_t)j);
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
    if (uses_disabled(L, i, j)) {
        struct buf b = BUF_INIT;
        add_disabled(L, j, file, &b);
        diag_add(L->dl, file, r->line, r->col,
                 "'{{%s}}' names stage '%s', and %s; disable stage '%s' too, or enable '%s'",
                 r->expr, src->name, b.data, s->name, src->name);
        buf_release(&b);
        return;
    }
    if (!L->info[j].kind_ok) {
        add_dep(s, j);
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
    add_dep(s, j);
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
    const struct stage_elements *el = elements_of(s);
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
        } else if (uses_disabled(L, i, (size_t)j)) {
            add_disabled(L, (size_t)j, info->needs[k].node->file, &b);
            wfl_error(L, info->needs[k].node,
                      "stage '%s' needs '%s', and %s; disable stage '%s' too, or enable '%s'",
                      s->name, name, b.data, s->name, name);
        } else {
            add_dep(s, (size_t)j);
        }
        buf_release(&b);
    }
}

/* Depth-first search for a path of dependencies from `from` back to `target`. */
static bool find_cycle(const struct workflow *wf, size_t from, size_t target, bool *seen,
                       size_t *path, size_t *len)
{
    const struct stage_def *s = &wf->stages[from];
    for (size_t k = 0; k < s->n_deps; k++) {
        size_t d = s->deps[k];
        if (d == target) {
            path[(*len)++] = d;
            return true;
        }
        if (seen[d])
            continue;
        seen[d] = true;
        path[(*len)++] = d;
        if (find_cycle(wf, d, target, seen, path, len))
            return true;
        (*len)--;
    }
    return false;
}

/* Report every cycle once (at its first stage in file order), then fill wf->order. */
static void check_cycles_and_order(struct wf_loader *L)
{
    struct workflow *wf = L->wf;
    size_t n = wf->n_stages, len;
    bool *in_cycle = xcalloc(n, sizeof *in_cycle), *seen = xcalloc(n, sizeof *seen);
    size_t *path = xcalloc(n + 1, sizeof *path);
    for (size_t i = 0; i < n; i++) {
        if (in_cycle[i])
            continue;
        memset(seen, 0, n * sizeof *seen);
        path[0] = i;
        len = 1;
        if (!find_cycle(wf, i, i, seen, path, &len))
            continue;
        struct buf b = BUF_INIT;
        for (size_t k = 0; k < len; k++) {
            buf_addf(&b, "%s%s", k ? " -> " : "", wf->stages[path[k]].name);
            in_cycle[path[k]] = true;
        }
        const struct stage_def *s = &wf->stages[i];
        diag_add(L->dl, s->pos.file, s->pos.line, s->pos.col,
                 "dependency cycle: %s (each stage needs the next)", b.data);
        buf_release(&b);
    }
    /* Stable topological order: always the first stage in file order whose deps are placed. */
    wf->order = xcalloc(n ? n : 1, sizeof *wf->order);
    bool *placed = in_cycle;
    memset(placed, 0, n * sizeof *placed);
    for (size_t count = 0; count < n;) {
        size_t i;
        for (i = 0; i < n; i++) {
            bool ready = !placed[i];
            for (size_t k = 0; ready && k < wf->stages[i].n_deps; k++)
                ready = placed[wf->stages[i].deps[k]];
            if (ready)
                break;
        }
        if (i == n)
            break; /* a cycle, reported above */
        placed[i] = true;
        wf->order[count++] = i;
    }
    free(in_cycle);
    free(seen);
    free(path);
}

/* The output template with every reference as "\x01" (skel) and as "{{expr}}" (norm). */
static void output_texts(const struct tmpl *t, struct buf *skel, struct buf *norm)
{
    const char *src = tmpl_source(t), *p;
    size_t i = 0, k = 0;
    while ((p = strstr(src + i, "{{"))) {
        size_t open = (size_t)(p - src), close = open + 2;
        while (src[close] && src[close] != '\n' && !(src[close] == '}' && src[close + 1] == '}'))
            close++;
        buf_add(skel, src + i, open - i);
        buf_add(norm, src + i, open - i);
        if (src[close] != '}' || k >= tmpl_ref_count(t)) { /* not a reference: keep as text */
            buf_adds(skel, "{{");
            buf_adds(norm, "{{");
            i = open + 2;
            continue;
        }
        buf_addc(skel, '\x01');
        buf_addf(norm, "{{%s}}", tmpl_ref_at(t, k++)->expr);
        i = close + 2;
    }
    buf_adds(skel, src + i);
    buf_adds(norm, src + i);
}

static void pos_text(const struct ydoc_node *n, struct buf *b)
{
    if (n->line > 0)
        buf_addf(b, "%s:%d:%d", n->file, n->line, n->col);
    else
        buf_adds(b, n->file);
}

/* One output path template of a stage (its output, or a video stage's subtitles). */
struct out_entry {
    size_t stage;
    const struct tmpl *t;
    const struct ydoc_node *node;
    struct buf skel, norm;
};

static void check_one_output(struct wf_loader *L, const struct out_entry *o)
{
    const struct workflow *wf = L->wf;
    const struct stage_def *s = &wf->stages[o->stage];
    const struct ydoc_node *n = o->node;
    const char *skel = o->skel.data, *norm = o->norm.data;
    const char *why = wfl_path_problem(skel);
    if (why) {
        wfl_error(L, n, "output path '%s' %s", norm, why);
        return;
    }
    const char *reserved = wfl_reserved_name(skel);
    if (reserved)
        wfl_error(L, n, "output path '%s' is reserved (gemflow writes '%s' itself)", norm,
                  reserved);
    for (size_t k = 0; k < wf->n_inputs; k++)
        if (strcmp(skel, wf->inputs[k].path) == 0)
            wfl_error(L, n, "output path '%s' is the input '%s'", norm, wf->inputs[k].name);
    if (s->foreach) {
        bool per_item = false;
        for (size_t k = 0; k < tmpl_ref_count(o->t); k++) {
            const char *root = tmpl_ref_at(o->t, k)->root;
            per_item = per_item || !strcmp(root, "item") || !strcmp(root, "item_index");
        }
        if (!per_item)
            wfl_error(L, n,
                      "output path '%s' is the same for every item of the foreach (put "
                      "{{item_index}} or a field of {{item}} in it)",
                      norm);
    }
}

static size_t collect_outputs(struct wf_loader *L, struct out_entry **out)
{
    const struct workflow *wf = L->wf;
    size_t n = 0, cap = 0;
    *out = NULL;
    for (size_t i = 0; i < wf->n_stages; i++) {
        const struct stage_def *s = &wf->stages[i];
        const struct tmpl *ts[] = {
            s->output, s->kind && s->kind->second_output ? s->kind->second_output(s) : NULL};
        const struct ydoc_node *nodes[] = {L->info[i].output, L->info[i].second_output};
        for (size_t k = 0; k < ARRAY_SIZE(ts); k++) {
            if (!ts[k] || !nodes[k])
                continue;
            struct out_entry *o = VEC_PUSH(*out, n, cap);
            o->stage = i;
            o->t = ts[k];
            o->node = nodes[k];
            buf_init(&o->skel, 0);
            buf_init(&o->norm, 0);
            output_texts(ts[k], &o->skel, &o->norm);
        }
    }
    return n;
}

static void check_outputs(struct wf_loader *L, const struct out_entry *outs, size_t n)
{
    const struct workflow *wf = L->wf;
    for (size_t i = 0; i < n; i++) {
        const struct out_entry *oi = &outs[i];
        check_one_output(L, oi);
        for (size_t j = 0; j < i; j++) {
            const struct out_entry *oj = &outs[j];
            const char *a = oi->norm.data, *b = oj->norm.data;
            size_t la = oi->norm.len, lb = oj->norm.len;
            struct buf at = BUF_INIT;
            pos_text(oj->node, &at);
            if (strcmp(a, b) == 0)
                wfl_error(L, oi->node,
                          "duplicate output path '%s' (also the output of stage '%s' at %s)", a,
                          wf->stages[oj->stage].name, at.data);
            else if ((la > lb && !strncmp(a, b, lb) && a[lb] == '/' && !strchr(oj->skel.data, 1)) ||
                     (lb > la && !strncmp(a, b, la) && b[la] == '/' && !strchr(oi->skel.data, 1)))
                wfl_error(L, oi->node,
                          "output path '%s' conflicts with '%s', the output of stage '%s' at %s "
                          "(one would be a directory of the other)",
                          a, b, wf->stages[oj->stage].name, at.data);
            buf_release(&at);
        }
    }
}

/* The templates of stage i that the checks see: the kind's, its references (and their `each`),
 * its output. */
struct tmpl_entry {
    struct stage_tmpl st;
    bool each_ok; /* a reference's path with `each` */
    int ref;      /* the path of references[ref], else -1 */
};

static size_t stage_templates(const struct wf_loader *L, size_t i, struct tmpl_entry *out,
                              size_t max)
{
    const struct stage_def *s = &L->wf->stages[i];
    struct stage_tmpl ts[16];
    size_t n = 0, nk = L->info[i].kind_ok ? s->kind->templates(s, ts, ARRAY_SIZE(ts)) : 0;
    for (size_t k = 0; k < nk && n < max; k++)
        out[n++] = (struct tmpl_entry){ts[k], false, -1};
    for (size_t k = 0; k < s->n_refs && n + 2 <= max; k++) {
        out[n++] = (struct tmpl_entry){
            {"references", s->refs[k].path, true, true}, s->refs[k].each != NULL, (int)k};
        out[n++] = (struct tmpl_entry){{"each", s->refs[k].each, true, false}, false, -1};
    }
    if (n < max)
        out[n++] = (struct tmpl_entry){{"output", s->output, s->foreach != NULL, false}, false, -1};
    return n;
}

/* A stage depends on the stages whose output template reads like a file it names (a video
 * stage's image or audio, a reference): exactly ("images/{{item.id}}.png"), or with other
 * values in the same places ("portraits/{{each}}.jpg" and "portraits/{{item.id}}.jpg"), as if
 * it had named them in needs. A reference to the files of a disabled stage is dropped (marked in
 * drop[], parallel to refs); any other file of one is an error. */
static void link_one(struct wf_loader *L, size_t i, const struct tmpl_entry *te,
                     const struct out_entry *outs, size_t n, bool *drop, bool *dropped)
{
    struct stage_def *s = &L->wf->stages[i];
    struct buf skel = BUF_INIT, norm = BUF_INIT;
    output_texts(te->st.t, &skel, &norm);
    for (size_t o = 0; o < n; o++) {
        size_t j = outs[o].stage;
        if (j == i || (strcmp(outs[o].norm.data, norm.data) != 0 &&
                       strcmp(outs[o].skel.data, skel.data) != 0))
            continue;
        if (!uses_disabled(L, i, j)) {
            add_dep(s, j);
        } else if (te->ref >= 0) {
            drop[te->ref] = true;
            dropped[i * L->wf->n_stages + j] = true;
        } else {
            struct buf b = BUF_INIT;
            add_disabled(L, j, tmpl_file(te->st.t), &b);
            const struct tmpl_ref *r = tmpl_ref_count(te->st.t) ? tmpl_ref_at(te->st.t, 0) : NULL;
            diag_add(L->dl, tmpl_file(te->st.t), r ? r->line : s->pos.line, r ? r->col : s->pos.col,
                     "'%s' of stage '%s' reads '%s', the files of stage '%s', and %s; disable "
                     "stage '%s' too, or enable '%s'",
                     te->st.key, s->name, norm.data, L->wf->stages[j].name, b.data, s->name,
                     L->wf->stages[j].name);
            buf_release(&b);
        }
    }
    buf_release(&skel);
    buf_release(&norm);
}

/* Drop the references marked in drop[] from stage i. */
static void drop_refs(struct wf_loader *L, size_t i, const bool *drop)
{
    struct stage_def *s = &L->wf->stages[i];
    size_t kept = 0;
    for (size_t k = 0; k < s->n_refs; k++) {
        if (!drop[k]) {
            s->refs[kept++] = s->refs[k];
            continue;
        }
        tmpl_free(s->refs[k].path);
        tmpl_free(s->refs[k].each);
    }
    s->n_refs = kept;
}

static void link_file_inputs(struct wf_loader *L, const struct out_entry *outs, size_t n,
                             bool *dropped)
{
    struct workflow *wf = L->wf;
    for (size_t i = 0; i < wf->n_stages; i++) {
        struct stage_def *s = &wf->stages[i];
        struct tmpl_entry ts[48];
        size_t nt = stage_templates(L, i, ts, ARRAY_SIZE(ts));
        bool *drop = xcalloc(s->n_refs + 1, sizeof *drop), any = false;
        for (size_t k = 0; k < nt; k++)
            if (ts[k].st.t && ts[k].st.names_file)
                link_one(L, i, &ts[k], outs, n, drop, dropped);
        for (size_t k = 0; k < s->n_refs; k++)
            any = any || drop[k];
        if (any)
            drop_refs(L, i, drop);
        free(drop);
    }
}

/* References travel as inline parts of generateContent; a model called another way (imagen's
 * :predict) takes none. Checked once the references to disabled stages are dropped, so turning
 * the portraits off lets an imagen model draw the scenes. */
static void check_refs_method(struct wf_loader *L)
{
    for (size_t i = 0; i < L->wf->n_stages; i++) {
        const struct stage_def *s = &L->wf->stages[i];
        const char *method =
            L->info[i].kind_ok && s->model && s->kind->method ? s->kind->method(s) : NULL;
        if (s->n_refs && method && strcmp(method, "generateContent") != 0)
            wfl_error(L, L->info[i].references,
                      "stage '%s': model '%s' (:%s) takes no reference images; use a Gemini "
                      "image model such as gemini-nano-banana-2.1",
                      s->name, s->model, method);
    }
}

/* What became of disabled stage j's files: "images sends none of them as references" (or NULL
 * when no stage referred to them). */
static char *off_note(const struct wf_loader *L, size_t j, const bool *dropped)
{
    size_t n = L->wf->n_stages, count = 0;
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < n; i++)
        if (dropped[i * n + j])
            buf_addf(&b, "%s%s", count++ ? ", " : "", L->wf->stages[i].name);
    char *note = count ? xasprintf("%s send%s none of its files as references", b.data,
                                   count == 1 ? "s" : "")
                       : NULL;
    buf_release(&b);
    return note;
}

/* Take the disabled stages out of wf->stages (and L->info), keeping their names and notes in
 * wf->off, and renumber what points at stages. Every use of one was an error or a dropped
 * reference, so no remaining stage depends on one. */
static void remove_disabled(struct wf_loader *L, const bool *dropped)
{
    struct workflow *wf = L->wf;
    size_t n = wf->n_stages, kept = 0, cap = 0;
    size_t *map = xcalloc(n, sizeof *map);
    for (size_t i = 0; i < n; i++) {
        map[i] = L->info[i].disabled ? SIZE_MAX : kept++;
        if (!L->info[i].disabled)
            continue;
        struct wf_off *off = VEC_PUSH(wf->off, wf->n_off, cap);
        off->name = xstrdup(wf->stages[i].name);
        off->note = off_note(L, i, dropped);
    }
    if (kept == n) {
        free(map);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (map[i] == SIZE_MAX) {
            wfl_stage_release(&wf->stages[i]);
            free(L->info[i].needs);
            continue;
        }
        struct stage_def *s = &wf->stages[i];
        size_t nd = 0;
        for (size_t k = 0; k < s->n_deps; k++)
            if (map[s->deps[k]] != SIZE_MAX)
                s->deps[nd++] = map[s->deps[k]];
        s->n_deps = nd;
        if (s->foreach && s->foreach_stage < n && map[s->foreach_stage] != SIZE_MAX)
            s->foreach_stage = map[s->foreach_stage];
        struct stage_elements *el = elements_of(s);
        if (el && el->stage < n && map[el->stage] != SIZE_MAX)
            el->stage = map[el->stage];
        wf->stages[map[i]] = *s;
        L->info[map[i]] = L->info[i];
    }
    wf->n_stages = kept;
    free(map);
    if (!kept)
        wfl_error(L, L->doc, "every stage is disabled (enabled: false): nothing to run");
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
        else if ((el = elements_of(s)) && L->info[i].foreach)
            resolve_array(L, i, s->kind->elements_key, el->text, el->segs, el->n_segs, &el->stage);
    }
    for (size_t i = 0; i < wf->n_stages; i++) {
        const struct stage_def *s = &wf->stages[i];
        bool elements = s->foreach || elements_of(s); /* templates rendered per element */
        struct tmpl_entry ts[48];
        size_t nt = stage_templates(L, i, ts, ARRAY_SIZE(ts));
        for (size_t k = 0; k < nt; k++)
            for (size_t r = 0; ts[k].st.t && r < tmpl_ref_count(ts[k].st.t); r++)
                check_ref(L, i, ts[k].st.t, tmpl_ref_at(ts[k].st.t, r),
                          ts[k].st.per_item && elements, ts[k].each_ok);
        check_needs(L, i);
    }
    struct out_entry *outs;
    size_t n = collect_outputs(L, &outs);
    bool *dropped = xcalloc(wf->n_stages * wf->n_stages, sizeof *dropped);
    link_file_inputs(L, outs, n, dropped);
    check_outputs(L, outs, n);
    for (size_t i = 0; i < n; i++) {
        buf_release(&outs[i].skel);
        buf_release(&outs[i].norm);
    }
    free(outs);
    remove_disabled(L, dropped);
    free(dropped);
    check_refs_method(L);
    check_cycles_and_order(L);
}
