/* workflow_trust: what the workflow.yaml a drop brought may say (gemflow watch
 * --allow-job-workflows): never where requests go, and under `set` only content fields of a
 * workflow the operator chose, from one allow-list table. */
#include "util.h"
#include "workflow_int.h"

#include <errno.h>
#include <string.h>

/* --allow-job-workflows set: the only fields a dropped `set:` may change, as STAGE.FIELD
 * (also written stages.STAGE.FIELD) or defaults.FIELD. Content only: what is asked, of which
 * model, how it looks or sounds. Never the endpoint, inputs, outputs, foreach/scenes, needs,
 * kinds, schemas, timeouts, retries, limits or the video encoding (they choose where requests
 * go, which files are read or written, and how much work a job is). */
static const struct settable {
    const char *field;
    bool in_stage;    /* STAGE.FIELD */
    bool in_defaults; /* defaults.FIELD */
    bool inline_only; /* a template: inline text, never the name of a prompt file */
} settable[] = {
    {"prompt", true, false, true},        /* json, text, image */
    {"system", true, false, true},        /* json, text: the system instruction */
    {"text", true, false, true},          /* speech: the words spoken */
    {"style", true, false, true},         /* speech: how they are spoken */
    {"caption", true, false, true},       /* video: a scene's subtitle */
    {"model", true, true, false},         /* checked as a model id */
    {"voice", true, true, false},         /* speech: a prebuilt voice */
    {"language", true, false, false},     /* speech */
    {"aspect_ratio", true, false, false}, /* image: one of the listed ratios */
    {"image_size", true, false, false},   /* image: 1K, 2K, 4K */
    {"temperature", true, true, false},
};

/* The top-level keys of a dropped `use:` document under `set`. */
static const char *const drop_top_keys[] = {"version", "name", "use", "set"};
/* Heads of set paths that are never a stage. */
static const char *const not_stages[] = {"defaults", "limits",  "inputs", "endpoint",
                                         "name",     "version", "use",    "set"};

const char *workflow_trust_name(enum wf_trust t)
{
    switch (t) {
    case WF_TRUST_ALL:
        return "all";
    case WF_TRUST_FULL:
        return "full";
    case WF_TRUST_SET:
        return "set";
    case WF_TRUST_NONE:
        return "none";
    }
    return "?";
}

int workflow_trust_parse(const char *s, enum wf_trust *out)
{
    static const enum wf_trust words[] = {WF_TRUST_FULL, WF_TRUST_SET, WF_TRUST_NONE};
    for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
        if (strcmp(s, workflow_trust_name(words[i])) == 0) {
            *out = words[i];
            return 0;
        }
    }
    return -1;
}

static bool in_words(const char *s, size_t n, const char *const *words, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (strlen(words[i]) == n && strncmp(s, words[i], n) == 0)
            return true;
    return false;
}

/* The loader's rule for a template value naming a prompt file (workflow_stage.c): one line
 * ending in .md, .txt or .prompt. */
static bool looks_like_file(const char *s)
{
    return !strchr(s, '\n') &&
           (str_ends_with(s, ".md") || str_ends_with(s, ".txt") || str_ends_with(s, ".prompt"));
}

/* The table's entry for set path `path`, or NULL when a drop may not set it. */
static const struct settable *settable_of(const char *path)
{
    if (str_starts_with(path, "stages."))
        path += strlen("stages.");
    size_t head = strcspn(path, ".");
    if (!path[head])
        return NULL; /* a whole stage, or a top-level key */
    const char *field = path + head + 1;
    bool defaults = head == strlen("defaults") && strncmp(path, "defaults", head) == 0;
    if (!defaults && in_words(path, head, not_stages, ARRAY_SIZE(not_stages)))
        return NULL;
    for (size_t i = 0; i < ARRAY_SIZE(settable); i++) {
        const struct settable *e = &settable[i];
        if (strcmp(field, e->field) == 0 && (defaults ? e->in_defaults : e->in_stage))
            return e;
    }
    return NULL;
}

static void cannot_set(struct wf_loader *L, const struct ydoc_node *at, const char *path,
                       enum wf_trust t)
{
    wfl_error(L, at, "'%s' cannot be set by a dropped job (--allow-job-workflows %s)", path,
              workflow_trust_name(t));
}

/* Check a dropped document's top-level keys and `set:` paths; returns a copy holding only what
 * it may set (caller frees). */
static struct ydoc_node *allowed_part(struct wf_loader *L, const struct ydoc_node *drop,
                                      enum wf_trust t)
{
    struct ydoc_node *keep = ydoc_new_map(drop->file, drop->line, drop->col);
    for (size_t i = 0; i < drop->n_pairs; i++) {
        const struct ydoc_node *k = drop->pairs[i].key, *v = drop->pairs[i].val;
        bool ok = t == WF_TRUST_SET
                      ? in_words(k->str, strlen(k->str), drop_top_keys, ARRAY_SIZE(drop_top_keys))
                      : strcmp(k->str, "endpoint") != 0;
        if (!ok) {
            cannot_set(L, k, k->str, t);
            continue;
        }
        if (strcmp(k->str, "set") != 0 || v->kind != YDOC_MAP) {
            ydoc_map_set(keep, ydoc_copy(k), ydoc_copy(v));
            continue;
        }
        struct ydoc_node *set = ydoc_new_map(v->file, v->line, v->col);
        for (size_t j = 0; j < v->n_pairs; j++) {
            const struct ydoc_node *sk = v->pairs[j].key, *sv = v->pairs[j].val;
            const struct settable *e = t == WF_TRUST_SET ? settable_of(sk->str) : NULL;
            if (t == WF_TRUST_SET && !e) {
                cannot_set(L, sk, sk->str, t);
                continue;
            }
            if (t != WF_TRUST_SET && strcmp(sk->str, "endpoint") == 0) {
                cannot_set(L, sk, sk->str, t);
                continue;
            }
            if (e && e->inline_only && sv->kind == YDOC_SCALAR && looks_like_file(sv->str)) {
                wfl_error(L, sv,
                          "'%s' cannot be set by a dropped job (--allow-job-workflows %s): '%s' "
                          "would be read as a prompt file; write the text inline",
                          sk->str, workflow_trust_name(t), sv->str);
                continue;
            }
            ydoc_map_set(set, ydoc_copy(sk), ydoc_copy(sv));
        }
        ydoc_map_set(keep, ydoc_copy(k), set);
    }
    return keep;
}

/* The name a dropped `use:` gives the operator's workflow: its `name:`, else the workflow it
 * uses itself, else its file name. NULL (after a diagnostic) when it cannot be read. */
static char *operator_name(struct wf_loader *L, const char *path)
{
    struct ydoc_node *doc = NULL;
    if (wfl_parse_file(L, wfl_intern(L->wf, path), NULL, &doc) < 0)
        return NULL;
    const struct ydoc_node *v = ydoc_get(doc, "name");
    if (!v || v->kind != YDOC_SCALAR)
        v = ydoc_get(doc, "use");
    char *name = v && v->kind == YDOC_SCALAR ? xstrdup(v->str) : wfl_default_name(path);
    ydoc_free(doc);
    return name;
}

/* Start from the operator's workflow and apply the drop's name and set (as `use:` does). */
static int overlay(struct wf_loader *L, const char *base, const struct ydoc_node *drop,
                   const char *file)
{
    const struct ydoc_node *v;
    if (wfl_load_base(L, wfl_intern(L->wf, base)) < 0)
        return -1;
    free(L->wf->job_path);
    L->wf->job_path = xstrdup(file);
    char *dir = wfl_dirname(file);
    wfl_add_dir(L, file, dir);
    free(dir);
    if ((v = ydoc_get(drop, "name")) && wfl_string(L, v, "name"))
        ydoc_map_set(L->doc, ydoc_new_scalar("name", v->file, v->line, v->col), ydoc_copy(v));
    if ((v = ydoc_get(drop, "set")) && wfl_mapping(L, v, "set"))
        wfl_apply_set_map(L, v);
    return 0;
}

/* A `use:` document from a drop: the operator's workflow when it names it, else (not under
 * `set` with an operator's workflow) a bundled one. */
static int load_drop_use(struct wf_loader *L, const char *file, const struct ydoc_node *drop,
                         const struct wf_load_opts *opts)
{
    const struct ydoc_node *use = ydoc_get(drop, "use");
    const char *name = use->kind == YDOC_SCALAR ? use->str : NULL;
    char *ours = opts->workflow_path ? operator_name(L, opts->workflow_path) : NULL;
    int rc;
    if (opts->workflow_path && !ours)
        rc = -1;
    else if (ours && name && strcmp(name, ours) == 0)
        rc = overlay(L, opts->workflow_path, drop, file);
    else if (ours && opts->trust == WF_TRUST_SET) {
        wfl_error(L, use,
                  "'use: %s': a dropped job may only use '%s', the watcher's workflow "
                  "(--allow-job-workflows set)",
                  name ? name : ydoc_describe(use), ours);
        rc = -1;
    } else {
        rc = wfl_load_use(L, drop, file);
    }
    free(ours);
    return rc;
}

int wfl_load_dropped(struct wf_loader *L, const char *file, const struct wf_load_opts *opts)
{
    enum wf_trust t = opts->trust;
    if (t == WF_TRUST_NONE) {
        diag_add(L->dl, file, 0, 0,
                 "a dropped job cannot bring its own workflow (--allow-job-workflows none)");
        return -1;
    }
    struct ydoc_node *drop = NULL;
    if (wfl_parse_file(L, file, NULL, &drop) < 0)
        return -1;
    struct ydoc_node *keep = allowed_part(L, drop, t);
    int rc = -1;
    if (!ydoc_get(drop, "use") && t == WF_TRUST_SET) {
        wfl_error(L, drop,
                  "a dropped job's workflow.yaml may only start from a workflow ('use: NAME') and "
                  "change it with 'set:' (--allow-job-workflows set)");
    } else if (!ydoc_get(drop, "use")) { /* full: a whole workflow of its own */
        L->doc = keep;
        keep = NULL;
        wfl_set_stage_file(L, file);
        rc = 0;
    } else {
        wfl_check_version(L, drop);
        rc = load_drop_use(L, file, keep, opts);
    }
    ydoc_free(keep);
    ydoc_free(drop);
    return rc;
}

/* --- the marker of a job made from a drop ------------------------------------------------ */

char *workflow_drop_marker(enum wf_trust t, const char *workflow)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "allow", workflow_trust_name(t));
    if (workflow)
        cJSON_AddStringToObject(o, "workflow", workflow);
    else
        cJSON_AddNullToObject(o, "workflow");
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char *out = xasprintf("%s\n", text);
    cJSON_free(text);
    return out;
}

int wfl_drop_marker_load(const char *job_dir, struct wf_load_opts *opts, char **path,
                         struct diag_list *dl)
{
    *path = NULL;
    char *file = wfl_join(job_dir, WORKFLOW_DROP_MARKER);
    struct buf b = BUF_INIT;
    int rc = 0;
    if (buf_read_file_max(&b, file, 64 * 1024) < 0) {
        if (errno != ENOENT) {
            diag_add(dl, file, 0, 0, "cannot read how the watcher trusted this drop: %s",
                     strerror(errno));
            rc = -1;
        }
        goto out;
    }
    cJSON *o = cJSON_ParseWithLength(b.data, b.len);
    const cJSON *allow = cJSON_GetObjectItemCaseSensitive(o, "allow");
    const cJSON *wf = cJSON_GetObjectItemCaseSensitive(o, "workflow");
    enum wf_trust t;
    if (!cJSON_IsString(allow) || workflow_trust_parse(allow->valuestring, &t) < 0 ||
        !(cJSON_IsString(wf) || cJSON_IsNull(wf))) {
        diag_add(dl, file, 0, 0,
                 "cannot tell how the watcher trusted this drop (expected {\"allow\": "
                 "\"none|set|full\", \"workflow\": PATH|null})");
        rc = -1;
    } else {
        opts->trust = t;
        if (cJSON_IsString(wf) && !opts->workflow_path)
            opts->workflow_path = *path = xstrdup(wf->valuestring);
        rc = 1;
    }
    cJSON_Delete(o);
out:
    buf_release(&b);
    free(file);
    return rc;
}
