/* workflow_outputs: the files of a workflow's stages: output paths checked (safe, not reserved,
 * not an input, per item under foreach, no two stages writing one path or one inside the other),
 * the dependencies of stages that read another stage's files, and references to a disabled
 * stage's files dropped. */
#include "util.h"
#include "workflow_check_int.h"
#include "../stages/stage.h"

#include <string.h>

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

static void check_one_output(struct wf_loader *L, const struct wf_out_entry *o)
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

size_t wfl_collect_outputs(struct wf_loader *L, struct wf_out_entry **out)
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
            struct wf_out_entry *o = VEC_PUSH(*out, n, cap);
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

void wfl_check_outputs(struct wf_loader *L, const struct wf_out_entry *outs, size_t n)
{
    const struct workflow *wf = L->wf;
    for (size_t i = 0; i < n; i++) {
        const struct wf_out_entry *oi = &outs[i];
        check_one_output(L, oi);
        for (size_t j = 0; j < i; j++) {
            const struct wf_out_entry *oj = &outs[j];
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

/* A stage depends on the stages whose output template reads like a file it names (a video
 * stage's image or audio, a reference): exactly ("images/{{item.id}}.png"), or with other
 * values in the same places ("portraits/{{each}}.jpg" and "portraits/{{item.id}}.jpg"), as if
 * it had named them in needs. A reference to the files of a disabled stage is dropped (marked in
 * drop[], parallel to refs); any other file of one is an error. */
static void link_one(struct wf_loader *L, size_t i, const struct wf_tmpl_entry *te,
                     const struct wf_out_entry *outs, size_t n, bool *drop, bool *dropped)
{
    struct stage_def *s = &L->wf->stages[i];
    struct buf skel = BUF_INIT, norm = BUF_INIT;
    output_texts(te->st.t, &skel, &norm);
    for (size_t o = 0; o < n; o++) {
        size_t j = outs[o].stage;
        if (j == i || (strcmp(outs[o].norm.data, norm.data) != 0 &&
                       strcmp(outs[o].skel.data, skel.data) != 0))
            continue;
        if (!wfl_uses_disabled(L, i, j)) {
            wfl_add_dep(s, j);
        } else if (te->ref >= 0) {
            drop[te->ref] = true;
            dropped[i * L->wf->n_stages + j] = true;
        } else {
            struct buf b = BUF_INIT;
            wfl_add_disabled(L, j, tmpl_file(te->st.t), &b);
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

void wfl_link_file_inputs(struct wf_loader *L, const struct wf_out_entry *outs, size_t n,
                          bool *dropped)
{
    struct workflow *wf = L->wf;
    for (size_t i = 0; i < wf->n_stages; i++) {
        struct stage_def *s = &wf->stages[i];
        struct wf_tmpl_entry ts[48];
        size_t nt = wfl_stage_templates(L, i, ts, ARRAY_SIZE(ts));
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
void wfl_check_refs_method(struct wf_loader *L)
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
