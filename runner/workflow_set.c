/* workflow_set: applying `set:` overrides and `--set K=V` arguments to the workflow document
 * before it is interpreted, so every overridden value goes through the normal checks. */
#include "util.h"
#include "workflow_int.h"

#include <string.h>

/* Where a set path was written: the key in a `set:` mapping, or a "--set K=V" argument. */
struct set_at {
    const char *file;
    int line, col;
};

static void set_error(struct wf_loader *L, const struct set_at *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_error(struct wf_loader *L, const struct set_at *at, const char *fmt, ...)
{
    struct buf b = BUF_INIT;
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    diag_add(L->dl, at->file, at->line, at->col, "%s", b.data);
    buf_release(&b);
}

static bool in_list(const char *s, const char *const *words, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, words[i]) == 0)
            return true;
    return false;
}

/* The mapping under `key` in `map`, created when absent; NULL when it is not a mapping (the
 * normal checks report that). */
static struct ydoc_node *child_map(struct ydoc_node *map, const char *key, const struct set_at *at)
{
    struct ydoc_node *n = ydoc_get(map, key);
    if (n)
        return n->kind == YDOC_MAP ? n : NULL;
    n = ydoc_new_map(at->file, at->line, at->col);
    ydoc_map_set(map, ydoc_new_scalar(key, at->file, at->line, at->col), n);
    return n;
}

static void unknown_field(struct wf_loader *L, const struct set_at *at, const char *field,
                          const char *where, const char *const *known, size_t n)
{
    struct buf b = BUF_INIT;
    buf_addf(&b, "unknown field '%s' in %s", field, where);
    const char *s = wfl_suggest(field, known, n);
    if (s) {
        buf_addf(&b, " (did you mean '%s'?)", s);
    } else {
        buf_adds(&b, " (fields: ");
        wfl_add_list(&b, known, n);
        buf_addc(&b, ')');
    }
    set_error(L, at, "%s", b.data);
    buf_release(&b);
}

static void unknown_stage(struct wf_loader *L, const struct set_at *at, const char *name)
{
    static const char *const heads[] = {"defaults", "limits", "inputs", "endpoint", "name"};
    const struct ydoc_node *stages = ydoc_get(L->doc, "stages");
    const char **names = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; stages && i < stages->n_pairs; i++)
        *VEC_PUSH(names, n, cap) = stages->pairs[i].key->str;
    struct buf b = BUF_INIT;
    const char *s = wfl_suggest(name, names, n);
    if (!s)
        s = wfl_suggest(name, heads, ARRAY_SIZE(heads));
    if (s) {
        buf_addf(&b, " (did you mean '%s'?)", s);
    } else {
        buf_adds(&b, " (stages: ");
        wfl_add_list(&b, names, n);
        buf_addc(&b, ')');
    }
    set_error(L, at, "unknown stage '%s'%s", name, b.data);
    buf_release(&b);
    free(names);
}

/* The mapping and key that set path `key` addresses; NULL after a diagnostic. */
static struct ydoc_node *resolve(struct wf_loader *L, const char *key, const struct set_at *at,
                                 const char **field)
{
    struct ydoc_node *doc = L->doc, *limits;
    size_t head_len = strcspn(key, ".");
    char *head = xstrndup(key, head_len);
    const char *rest = key[head_len] ? key + head_len + 1 : NULL;
    struct ydoc_node *target = NULL;
    *field = NULL;
    if (!strcmp(head, "stages")) {
        free(head);
        if (rest)
            return resolve(L, rest, at, field);
        set_error(L, at, "'stages' cannot be set as a whole (use STAGE.FIELD)");
        return NULL;
    }
    if (!strcmp(head, "name") || !strcmp(head, "endpoint")) {
        if (rest)
            set_error(L, at, "'%s' has no fields (use %s=VALUE)", head, head);
        else
            target = doc, *field = key;
    } else if (!strcmp(head, "defaults")) {
        if (!rest)
            set_error(L, at, "set path 'defaults' needs a field (e.g. defaults.model)");
        else if (!in_list(rest, wfl_default_keys, wfl_n_default_keys))
            unknown_field(L, at, rest, "defaults", wfl_default_keys, wfl_n_default_keys);
        else
            target = child_map(doc, "defaults", at), *field = rest;
    } else if (!strcmp(head, "limits")) {
        if (rest && (!strcmp(rest, "concurrency") || !strcmp(rest, "rpm")))
            target = child_map(doc, "limits", at), *field = rest;
        else if (rest && str_starts_with(rest, "rpm.") && rest[4])
            target = (limits = child_map(doc, "limits", at)) ? child_map(limits, "rpm", at) : NULL,
            *field = rest + 4;
        else
            set_error(L, at,
                      "unknown field '%s' in limits (use limits.concurrency or "
                      "limits.rpm.MODEL)",
                      rest ? rest : "");
    } else if (!strcmp(head, "inputs")) {
        if (!rest)
            set_error(L, at, "set path 'inputs' needs an input name (inputs.NAME)");
        else
            target = child_map(doc, "inputs", at), *field = rest;
    } else if (!strcmp(head, "version") || !strcmp(head, "use") || !strcmp(head, "set")) {
        set_error(L, at, "'%s' cannot be set", head);
    } else {
        struct ydoc_node *st = ydoc_get(ydoc_get(doc, "stages"), head);
        char *where = xasprintf("stage '%s'", head);
        if (!st)
            unknown_stage(L, at, head);
        else if (!rest)
            set_error(L, at, "set path '%s' names a stage, not a field (e.g. %s.model)", head,
                      head);
        else if (!wfl_stage_key_known(rest)) {
            size_t n_keys;
            const char *const *keys = wfl_stage_keys(&n_keys);
            unknown_field(L, at, rest, where, keys, n_keys);
        } else if (st->kind == YDOC_MAP)
            target = st, *field = rest;
        free(where);
    }
    free(head);
    return target;
}

/* Set `key` to `val` (owned) in L->doc. */
static void set_one(struct wf_loader *L, const char *key, struct ydoc_node *val,
                    const struct set_at *at)
{
    const char *field;
    struct ydoc_node *target = resolve(L, key, at, &field);
    if (target && field)
        ydoc_map_set(target, ydoc_new_scalar(field, at->file, at->line, at->col), val);
    else
        ydoc_free(val);
}

void wfl_apply_set_map(struct wf_loader *L, const struct ydoc_node *set)
{
    for (size_t i = 0; i < set->n_pairs; i++) {
        const struct ydoc_node *k = set->pairs[i].key;
        struct set_at at = {k->file, k->line, k->col};
        set_one(L, k->str, ydoc_copy(set->pairs[i].val), &at);
    }
}

static void clear_positions(struct ydoc_node *n)
{
    n->line = n->col = n->end_line = n->end_col = 0;
    for (size_t i = 0; i < n->n_pairs; i++) {
        clear_positions(n->pairs[i].key);
        clear_positions(n->pairs[i].val);
    }
    for (size_t i = 0; i < n->n_items; i++)
        clear_positions(n->items[i]);
}

/* The value of "--set K=V": a plain scalar, or YAML when it starts with a quote or bracket
 * (but not "{{", which starts a template). */
static struct ydoc_node *cli_value(struct wf_loader *L, const char *file, const char *text)
{
    struct ydoc_node *root = NULL;
    if (!text[0] || !strchr("\"'[{", text[0]) || str_starts_with(text, "{{"))
        return ydoc_new_scalar(text, file, 0, 0);
    struct diag_list tmp = DIAG_LIST_INIT;
    if (ydoc_parse(text, strlen(text), file, &root, &tmp) < 0 || !root) {
        diag_add(L->dl, file, 0, 0, "cannot parse the value as YAML: %s",
                 tmp.n ? tmp.v[0].msg : "empty document");
        ydoc_free(root);
        root = NULL;
    } else {
        clear_positions(root);
    }
    diag_list_release(&tmp);
    return root;
}

void wfl_apply_cli_sets(struct wf_loader *L, const char *const *sets, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *arg = sets[i], *eq = strchr(arg, '=');
        char *label = xasprintf("--set %s", arg);
        struct set_at at = {wfl_intern(L->wf, label), 0, 0};
        free(label);
        wfl_add_dir(L, at.file, ".");
        if (!eq || eq == arg) {
            set_error(L, &at, "expected KEY=VALUE (e.g. --set images.model=gemini-3-pro-image)");
            continue;
        }
        char *key = xstrndup(arg, (size_t)(eq - arg));
        struct ydoc_node *val = cli_value(L, at.file, eq + 1);
        if (val)
            set_one(L, key, val, &at);
        free(key);
    }
}
