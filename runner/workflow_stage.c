/* workflow_stage: one stage's keys: its kind, which keys apply to it, the keys every kind shares
 * (output, needs, the model and its settings, foreach), templates (inline or prompt files); the
 * kind's own keys are parsed by its module (stages/, struct stage_kind's parse). */
#include "models.h"
#include "util.h"
#include "workflow_int.h"
#include "../stages/stage.h"

#include <errno.h>
#include <string.h>

/* The keys of every stage, and of every kind with an API model (stage.h, KIND_KEYS_*); the
 * kinds' own keys are in their modules. */
static const char *const base_keys[] = {"kind", "output", "needs"};
static const char *const model_keys[] = {"model",        "temperature",  "top_p",
                                         "top_k",        "timeout",      "retries",
                                         "paid_retries", "strict_model", "service_tier"};

static const char *const workflow_words[] = {"defaults", "limits", "inputs", "endpoint", "name",
                                             "version",  "use",    "set",    "stages"};

/* Is `s` one of the first `n` words (SIZE_MAX: a NULL-terminated list)? */
static bool one_of(const char *s, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n && words[i]; i++)
        if (strcmp(s, words[i]) == 0)
            return true;
    return false;
}

static void check_name(struct wf_loader *L, const struct ydoc_node *k)
{
    const char *name = k->str;
    if (!wfl_is_name(name, true))
        wfl_error(L, k,
                  "bad stage name '%s' (use lowercase letters, digits, '_' and '-', starting with "
                  "a letter)",
                  name);
    else if (!strcmp(name, "item") || !strcmp(name, "item_index"))
        wfl_error(L, k, "stage name '%s' is reserved (it names the foreach element)", name);
    else if (one_of(name, workflow_words, ARRAY_SIZE(workflow_words)))
        wfl_error(L, k, "stage name '%s' is reserved (set paths like '%s.x' would be ambiguous)",
                  name, name);
    for (size_t i = 0; i < L->wf->n_inputs; i++)
        if (strcmp(L->wf->inputs[i].name, name) == 0)
            wfl_error(L, k,
                      "stage '%s' has the same name as an input (templates could not tell "
                      "them apart)",
                      name);
}

static bool is_prompt_file(const char *s)
{
    return !strchr(s, '\n') &&
           (str_ends_with(s, ".md") || str_ends_with(s, ".txt") || str_ends_with(s, ".prompt"));
}

/* Compile the template of `key`: inline text, or (may_be_file) a prompt file next to the file
 * that holds the value. NULL after diagnostics. */
struct tmpl *wfl_template_field(struct wf_loader *L, const struct ydoc_node *n, const char *key,
                                bool may_be_file)
{
    const char *s = wfl_string(L, n, key);
    struct tmpl *t = NULL;
    if (!s)
        return NULL;
    if (!*s) {
        wfl_error(L, n, "'%s' is empty", key);
        return NULL;
    }
    if (!may_be_file || !is_prompt_file(s)) {
        bool block = n->style == YDOC_LITERAL || n->style == YDOC_FOLDED;
        struct tmpl_origin o = {n->file, n->line, n->col, block ? n->block_indent : 0,
                                n->style == YDOC_SINGLE_QUOTED || n->style == YDOC_DOUBLE_QUOTED};
        if (tmpl_compile(s, &o, &t, L->dl) == 0 && n->n_marks == tmpl_ref_count(t))
            for (size_t i = 0; i < n->n_marks; i++) /* folded over lines: use the real places */
                tmpl_move_ref(t, i, n->marks[i].line, n->marks[i].col);
        return t;
    }
    char *path;
    struct buf text = BUF_INIT;
    if (wfl_read_beside(L, n, key, s, &text, &path) < 0)
        return NULL;
    if (strlen(text.data) != text.len)
        wfl_error(L, n, "%s file '%s' contains a NUL byte (it must be text)", key, path);
    else if (text.len == 0)
        wfl_error(L, n, "%s file '%s' is empty", key, path);
    else {
        struct tmpl_origin o = {wfl_intern(L->wf, path), 1, 1, 0, false};
        tmpl_compile(text.data, &o, &t, L->dl);
    }
    buf_release(&text);
    free(path);
    return t;
}

bool wfl_array_path(struct wf_loader *L, const struct ydoc_node *n, const char *key, char **text,
                    char ***segs, size_t *n_segs)
{
    const char *str = wfl_string(L, n, key);
    if (!str)
        return false;
    for (const char *p = str;; p++) {
        size_t len = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
        p += len;
        if (!len || (*p && *p != '.')) {
            wfl_error(L, n, "bad %s '%s' (use STAGE.path.to.list, e.g. %s)", key, str,
                      strcmp(key, "scenes") == 0 ? "analysis.scenes" : "prompts.scenes");
            return false;
        }
        if (!*p)
            break;
    }
    size_t cap = 0;
    *text = xstrdup(str);
    for (const char *p = strchr(str, '.'); p; p = strchr(p + 1, '.')) {
        size_t len = strcspn(p + 1, ".");
        *VEC_PUSH(*segs, *n_segs, cap) = xstrndup(p + 1, len);
    }
    return true;
}

static void foreach_field(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                          const struct ydoc_node *n)
{
    if (!wfl_array_path(L, n, "foreach", &s->foreach, &s->foreach_segs, &s->n_foreach_segs))
        return;
    s->foreach_pos = (struct wf_pos){n->file, n->line, n->col};
    info->foreach = n;
}

static void needs_field(struct wf_loader *L, struct wf_stage_info *info, const struct ydoc_node *n)
{
    const struct ydoc_node *const *items = (const struct ydoc_node *const *)n->items;
    size_t count = n->n_items;
    if (n->kind == YDOC_SCALAR) {
        items = &n;
        count = 1;
    } else if (n->kind != YDOC_SEQ) {
        wfl_error(L, n, "'needs' must be a list of stage names, not %s", ydoc_describe(n));
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const char *name = wfl_string(L, items[i], "needs");
        if (!name)
            continue;
        struct wf_need *need = VEC_PUSH(info->needs, info->n_needs, info->cap_needs);
        need->name = name;
        need->node = items[i];
    }
}

char *wfl_choice_field(struct wf_loader *L, const struct ydoc_node *n, const char *key,
                       const char *what, const char *const *words, size_t count)
{
    const char *s = wfl_string(L, n, key);
    if (!s)
        return NULL;
    if (one_of(s, words, count))
        return xstrdup(s);
    struct buf b = BUF_INIT;
    wfl_add_list(&b, words, count);
    wfl_error(L, n, "bad %s '%s' (one of %s)", what, s, b.data);
    buf_release(&b);
    return NULL;
}

/* The settings of every kind with an API model: model, temperature, timeout, retries, ... */
static void model_fields(struct wf_loader *L, struct stage_def *s, const struct ydoc_node *st,
                         const struct ydoc_node *key, unsigned common)
{
    const struct ydoc_node *v;
    const char *str;
    long long r;
    if ((v = ydoc_get(st, "model"))) {
        if ((str = wfl_string(L, v, "model")) && wfl_model_id(L, v, str))
            s->model = xstrdup(str);
    } else if (L->model) {
        s->model = xstrdup(L->model);
    } else if (!ydoc_get(ydoc_get(L->doc, "defaults"), "model")) {
        wfl_error(L, key, "stage '%s' has no model (set 'model' here or in defaults.model)",
                  s->name);
    }
    if ((v = ydoc_get(st, "temperature")))
        s->has_temperature = wfl_number(L, v, "temperature", 0, 2, false, &s->temperature);
    if ((v = ydoc_get(st, "top_p")))
        s->has_top_p = wfl_number(L, v, "top_p", 0, 1, false, &s->top_p);
    if ((v = ydoc_get(st, "top_k")) && wfl_int(L, v, "top_k", 1, 1000, &r)) {
        s->has_top_k = true;
        s->top_k = (int)r;
    }
    if ((v = ydoc_get(st, "timeout")))
        s->timeout_set = wfl_duration(L, v, "timeout", &s->timeout_ms);
    if ((v = ydoc_get(st, "retries")) && wfl_int(L, v, "retries", 0, 20, &r))
        s->retries = (int)r;
    if ((v = ydoc_get(st, "paid_retries")) && wfl_int(L, v, "paid_retries", 0, 5, &r))
        s->paid_retries = (int)r;
    if ((v = ydoc_get(st, "strict_model")))
        wfl_bool(L, v, "strict_model", &s->strict_model);
    if ((v = ydoc_get(st, "service_tier"))) {
        free(s->service_tier);
        s->service_tier = wfl_service_tier(L, v);
    }
    if ((common & KIND_KEYS_THINKING) && (v = ydoc_get(st, "thinking"))) {
        free(s->thinking);
        s->thinking = wfl_thinking(L, v);
    } else if ((common & KIND_KEYS_THINKING) && L->thinking) {
        s->thinking = xstrdup(L->thinking);
    }
}

/* temperature, top_p and top_k are ignored by gemini 3.6 and later (changelog 2026-07-21): a
 * warning where each is set, in the stage or in defaults. */
static void warn_sampling(struct wf_loader *L, const struct stage_def *s,
                          const struct ydoc_node *st)
{
    static const char *const keys[] = {"temperature", "top_p", "top_k"};
    const bool set[] = {s->has_temperature, s->has_top_p, s->has_top_k};
    if (s->model && s->thinking && strcmp(s->thinking, "MINIMAL") == 0 &&
        (str_starts_with(s->model, "gemini-3.7-flash") ||
         str_starts_with(s->model, "gemini-3.8-flash"))) {
        const struct ydoc_node *at = ydoc_get(st, "thinking");
        if (!at)
            at = ydoc_get(ydoc_get(L->doc, "defaults"), "thinking");
        if (at)
            diag_add(&L->wf->warnings, at->file, at->line, at->col,
                     "warning: stage '%s': model '%s' refuses thinking level MINIMAL (the API "
                     "answers 400); use LOW",
                     s->name, s->model);
    }
    if (!s->model || !models_ignores_sampling(s->model))
        return;
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        const struct ydoc_node *at = ydoc_get(st, keys[i]);
        if (!at)
            at = ydoc_get(ydoc_get(L->doc, "defaults"), keys[i]);
        if (!set[i] || !at)
            continue;
        diag_add(&L->wf->warnings, at->file, at->line, at->col,
                 "warning: stage '%s': '%s' has no effect on model '%s' (deprecated for gemini "
                 "3.6 and later, changelog 2026-07-21); it is sent but ignored",
                 s->name, keys[i], s->model);
    }
}

/* Every key some kind takes, for the unknown-key check and its suggestions (built once). */
static const char *const *all_keys(size_t *n)
{
    static const char **keys;
    static size_t count;
    if (keys) {
        *n = count;
        return keys;
    }
    size_t cap = 0;
    const char *const *groups[] = {base_keys, model_keys};
    const size_t sizes[] = {ARRAY_SIZE(base_keys), ARRAY_SIZE(model_keys)};
    for (size_t g = 0; g < ARRAY_SIZE(groups); g++)
        for (size_t i = 0; i < sizes[g]; i++)
            *VEC_PUSH(keys, count, cap) = groups[g][i];
    const char *const extra[] = {"foreach", "thinking", "references"};
    for (size_t i = 0; i < ARRAY_SIZE(extra); i++)
        *VEC_PUSH(keys, count, cap) = extra[i];
    for (const struct stage_kind *const *k = stage_kinds; *k; k++)
        for (const char *const *key = (*k)->keys; *key; key++)
            if (!one_of(*key, keys, count))
                *VEC_PUSH(keys, count, cap) = *key;
    *n = count;
    return keys;
}

bool wfl_stage_key_known(const char *key)
{
    size_t n;
    const char *const *keys = all_keys(&n);
    return one_of(key, keys, n);
}

const char *const *wfl_stage_keys(size_t *n)
{
    return all_keys(n);
}

/* Does a stage of kind `kind` take `key`? */
static bool kind_takes(const struct stage_kind *kind, const char *key)
{
    if (one_of(key, base_keys, ARRAY_SIZE(base_keys)))
        return true;
    if (one_of(key, model_keys, ARRAY_SIZE(model_keys)))
        return kind->common_keys & KIND_KEYS_MODEL;
    if (strcmp(key, "foreach") == 0)
        return kind->common_keys & KIND_KEYS_FOREACH;
    if (strcmp(key, "thinking") == 0)
        return kind->common_keys & KIND_KEYS_THINKING;
    if (strcmp(key, "references") == 0)
        return kind->common_keys & KIND_KEYS_REFS;
    return one_of(key, kind->keys, SIZE_MAX);
}

static const struct stage_kind *parse_kind(struct wf_loader *L, const struct stage_def *s,
                                           const struct ydoc_node *key, const struct ydoc_node *kn)
{
    struct buf list = BUF_INIT;
    stage_kind_list(&list);
    const char *name = NULL;
    const struct stage_kind *kind = NULL;
    if (!kn) {
        wfl_error(L, key, "stage '%s' has no 'kind' (one of %s)", s->name, list.data);
    } else if ((name = wfl_string(L, kn, "kind")) && !(kind = stage_kind_find(name))) {
        const char *names[32];
        size_t n = 0;
        for (const struct stage_kind *const *k = stage_kinds; *k && n < ARRAY_SIZE(names); k++)
            names[n++] = (*k)->name;
        struct buf b = BUF_INIT;
        wfl_add_suggestion(&b, name, names, n);
        if (!b.len)
            buf_addf(&b, " (kinds: %s)", list.data);
        wfl_error(L, kn, "unknown stage kind '%s'%s", name, b.data);
        buf_release(&b);
    }
    buf_release(&list);
    return kind;
}

static void parse_stage(struct wf_loader *L, struct stage_def *s, struct wf_stage_info *info,
                        const struct ydoc_node *key, const struct ydoc_node *st)
{
    const struct stage_kind *kind = parse_kind(L, s, key, ydoc_get(st, "kind"));
    s->kind = kind;
    info->kind_ok = kind != NULL;
    size_t n_keys;
    const char *const *keys = all_keys(&n_keys);
    char *where = xasprintf("in stage '%s'", s->name);
    for (size_t i = 0; i < st->n_pairs; i++) {
        const struct ydoc_node *k = st->pairs[i].key;
        if (!one_of(k->str, keys, n_keys))
            wfl_check_keys_one(L, k, keys, n_keys, where);
        else if (kind && !kind_takes(kind, k->str))
            wfl_error(L, k, "'%s' does not apply to a stage of kind %s", k->str, kind->name);
    }
    free(where);
    const struct ydoc_node *v;
    if ((v = ydoc_get(st, "output"))) {
        s->output = wfl_template_field(L, v, "output", false);
        info->output = v;
    } else {
        wfl_error(L, key,
                  "stage '%s' has no 'output' (required: the file it writes in the job "
                  "directory)",
                  s->name);
    }
    if ((v = ydoc_get(st, "needs")))
        needs_field(L, info, v);
    if (!kind)
        return;
    if (kind->common_keys & KIND_KEYS_MODEL)
        model_fields(L, s, st, key, kind->common_keys);
    if ((kind->common_keys & KIND_KEYS_FOREACH) && (v = ydoc_get(st, "foreach")))
        foreach_field(L, s, info, v);
    if ((kind->common_keys & KIND_KEYS_REFS) && (v = ydoc_get(st, "references")))
        wfl_references_field(L, s, info, v);
    kind->parse(L, s, info, st, key);
    if (kind->common_keys & KIND_KEYS_MODEL)
        warn_sampling(L, s, st);
}

void wfl_parse_stages(struct wf_loader *L, const struct ydoc_node *stages)
{
    struct workflow *wf = L->wf;
    if (stages->n_pairs > WF_MAX_STAGES) {
        wfl_error(L, stages->pairs[WF_MAX_STAGES].key,
                  "too many stages (more than %d; split the work into several workflows)",
                  WF_MAX_STAGES);
        return;
    }
    wf->stages = xcalloc(stages->n_pairs, sizeof *wf->stages);
    L->info = xcalloc(stages->n_pairs, sizeof *L->info);
    for (size_t i = 0; i < stages->n_pairs; i++) {
        const struct ydoc_node *k = stages->pairs[i].key, *v = stages->pairs[i].val;
        struct stage_def *s = &wf->stages[wf->n_stages];
        struct wf_stage_info *info = &L->info[wf->n_stages++];
        s->name = xstrdup(k->str);
        s->pos = (struct wf_pos){k->file, k->line, k->col};
        s->timeout_ms = L->timeout_ms;
        s->retries = L->retries;
        s->has_temperature = L->has_temperature;
        s->temperature = L->temperature;
        s->has_top_p = L->has_top_p;
        s->top_p = L->top_p;
        s->has_top_k = L->has_top_k;
        s->top_k = L->top_k;
        s->timeout_set = L->timeout_set;
        s->paid_retries = L->paid_retries;
        s->strict_model = L->strict_model;
        s->service_tier = L->service_tier ? xstrdup(L->service_tier) : NULL;
        info->key = k;
        check_name(L, k);
        if (v->kind != YDOC_MAP) {
            wfl_error(L, v,
                      "stage '%s' must be a mapping of keys (kind, prompt, output, ...), not %s",
                      s->name, ydoc_describe(v));
            continue;
        }
        parse_stage(L, s, info, k, v);
    }
}
