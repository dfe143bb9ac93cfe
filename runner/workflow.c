/* workflow: loading a workflow file (whole, or `use:` + `set:`), the top-level keys, finding
 * bundled workflows, and releasing the result. Stages and cross-checks live in workflow_*.c. */
#include "fsutil.h"
#include "util.h"
#include "workflow_int.h"
#include "../stages/stage.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const top_keys[] = {"version",  "name",   "use",      "set",   "inputs",
                                       "defaults", "limits", "endpoint", "stages"};
static const char *const use_keys[] = {"version", "name", "use", "set"};
const char *const wfl_default_keys[] = {
    "model", "timeout",  "retries",      "temperature",  "top_p",        "top_k",
    "voice", "thinking", "service_tier", "strict_model", "paid_retries", "model_check"};
const size_t wfl_n_default_keys = ARRAY_SIZE(wfl_default_keys);
static const char *const limit_keys[] = {"concurrency", "rpm", "max_cost"};

/* ---- small helpers shared by the loader ---- */

const char *wfl_intern(struct workflow *wf, const char *s)
{
    for (size_t i = 0; i < wf->n_files; i++)
        if (strcmp(wf->files[i], s) == 0)
            return wf->files[i];
    return *VEC_PUSH(wf->files, wf->n_files, wf->cap_files) = xstrdup(s);
}

void wfl_add_dir(struct wf_loader *L, const char *file, const char *dir)
{
    struct wf_dir *d = VEC_PUSH(L->dirs, L->n_dirs, L->cap_dirs);
    d->file = file;
    d->dir = xstrdup(dir);
}

const char *wfl_dir_of(const struct wf_loader *L, const char *file)
{
    for (size_t i = 0; i < L->n_dirs; i++)
        if (L->dirs[i].file == file)
            return L->dirs[i].dir;
    return L->wf->dir ? L->wf->dir : ".";
}

char *wfl_join(const char *dir, const char *rel)
{
    if (rel[0] == '/' || strcmp(dir, ".") == 0)
        return xstrdup(rel);
    return xasprintf("%s%s%s", dir, str_ends_with(dir, "/") ? "" : "/", rel);
}

/* `name` without empty and "." components, or NULL when it is absolute, has a ".." component
 * or names nothing (caller frees). */
static char *inside_name(const char *name)
{
    if (name[0] == '/')
        return NULL;
    struct buf b = BUF_INIT;
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            buf_release(&b);
            return NULL;
        }
        if (n && !(n == 1 && p[0] == '.')) {
            if (b.len)
                buf_addc(&b, '/');
            buf_add(&b, p, n);
        }
        p += n + (p[n] == '/');
    }
    if (!b.len) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

int wfl_read_beside(struct wf_loader *L, const struct ydoc_node *n, const char *what,
                    const char *name, struct buf *text, char **path)
{
    const char *dir = wfl_dir_of(L, n->file);
    char *rel = inside_name(name);
    struct gf_err err = GF_ERR_INIT;
    *path = NULL;
    if (n->line == 0) {
        /* --set on the command line: the user's own choice, relative to the working directory */
        free(rel);
        *path = wfl_join(dir, name);
        if (buf_read_file_max(text, *path, WF_FILE_MAX) == 0)
            return 0;
        wfl_error(L, n, "cannot read %s file '%s': %s", what, *path, strerror(errno));
        free(*path);
        *path = NULL;
        return -1;
    }
    if (!rel) {
        wfl_error(L, n, "%s file '%s' is outside the workflow's directory", what, name);
        return -1;
    }
    *path = wfl_join(dir, name);
    int fd = fs_open_beneath(dir, rel, O_RDONLY | O_NONBLOCK, 0, &err), rc = -1;
    struct workflow *wf = L->wf;
    wf->reads = xrealloc(wf->reads, (wf->n_reads + 1) * sizeof *wf->reads);
    wf->reads[wf->n_reads++] = (struct wf_read){xstrdup(dir), rel};
    if (fd < 0 && (errno == ELOOP || errno == ENOTDIR || errno == EINVAL))
        wfl_error(L, n, "cannot read %s file '%s': %s", what, *path, err.msg);
    else if (fd < 0 || buf_read_fd_max(text, fd, WF_FILE_MAX) < 0)
        wfl_error(L, n, "cannot read %s file '%s': %s", what, *path, strerror(errno));
    else
        rc = 0;
    if (fd >= 0)
        close(fd);
    if (rc < 0) {
        free(*path);
        *path = NULL;
    }
    return rc;
}

char *wfl_dirname(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == path)
        return xstrdup("/");
    return xstrndup(path, (size_t)(slash - path));
}

/* ---- the top-level keys ---- */

int wfl_parse_file(struct wf_loader *L, const char *file, const struct ydoc_node *at,
                   struct ydoc_node **doc)
{
    struct buf b = BUF_INIT;
    *doc = NULL;
    if (buf_read_file_max(&b, file, YDOC_MAX_BYTES) < 0) {
        if (errno == EFBIG)
            diag_add(L->dl, file, 1, 1,
                     "the workflow is too large (more than %u bytes; put long prompts in prompt "
                     "files)",
                     YDOC_MAX_BYTES);
        else if (at)
            wfl_error(L, at, "cannot read workflow '%s': %s", file, strerror(errno));
        else
            diag_add(L->dl, file, 0, 0, "cannot read the workflow: %s", strerror(errno));
        return -1;
    }
    /* On duplicate keys and the like the tree is still there: go on checking it. */
    int rc = ydoc_parse(b.data, b.len, file, doc, L->dl) < 0 && !*doc ? -1 : 0;
    buf_release(&b);
    if (rc == 0 && (!*doc || ydoc_is_null(*doc))) {
        diag_add(L->dl, file, 0, 0, "the workflow is empty (start with 'version: 1')");
        rc = -1;
    } else if (rc == 0 && (*doc)->kind != YDOC_MAP) {
        wfl_error(L, *doc, "a workflow must be a mapping of keys (version, stages, ...), not %s",
                  ydoc_describe(*doc));
        rc = -1;
    }
    if (rc < 0) {
        ydoc_free(*doc);
        *doc = NULL;
    }
    return rc;
}

void wfl_check_version(struct wf_loader *L, const struct ydoc_node *doc)
{
    const struct ydoc_node *v = ydoc_get(doc, "version");
    long long x;
    if (!v)
        wfl_error(L, doc, "missing key 'version' (add 'version: 1' at the top)");
    else if (v->kind == YDOC_SCALAR && ydoc_int(v, &x) && x != 1)
        wfl_error(L, v, "unsupported version %lld (this gemflow reads version 1)", x);
    else if (v->kind != YDOC_SCALAR || !ydoc_int(v, &x))
        wfl_error(L, v, "'version' must be the number 1, not %s", ydoc_describe(v));
}

static void parse_inputs(struct wf_loader *L, const struct ydoc_node *n)
{
    struct workflow *wf = L->wf;
    if (!wfl_mapping(L, n, "inputs"))
        return;
    if (n->n_pairs > WF_MAX_INPUTS) {
        wfl_error(L, n->pairs[WF_MAX_INPUTS].key, "too many inputs (more than %d)", WF_MAX_INPUTS);
        return;
    }
    for (size_t i = 0; i < n->n_pairs; i++) {
        const struct ydoc_node *k = n->pairs[i].key, *v = n->pairs[i].val;
        const char *path = wfl_string(L, v, k->str), *why;
        if (!wfl_is_name(k->str, false))
            wfl_error(L, k, "bad input name '%s' (use letters, digits, '_' and '-')", k->str);
        else if (!strcmp(k->str, "item") || !strcmp(k->str, "item_index"))
            wfl_error(L, k, "input name '%s' is reserved (it names the foreach element)", k->str);
        if (!path)
            continue;
        if ((why = wfl_path_problem(path)))
            wfl_error(L, v, "input '%s': path '%s' %s", k->str, path, why);
        else if (wfl_reserved_name(path))
            wfl_error(L, v, "input '%s': path '%s' is one of gemflow's own files", k->str, path);
        struct wf_input *in = VEC_PUSH(wf->inputs, wf->n_inputs, L->cap_inputs);
        in->name = xstrdup(k->str);
        in->path = xstrdup(path);
    }
}

static void parse_defaults(struct wf_loader *L, const struct ydoc_node *n)
{
    if (!wfl_mapping(L, n, "defaults"))
        return;
    wfl_check_keys(L, n, wfl_default_keys, wfl_n_default_keys, "in defaults");
    const struct ydoc_node *v;
    const char *s;
    long long r;
    if ((v = ydoc_get(n, "model")) && (s = wfl_string(L, v, "model")) && wfl_model_id(L, v, s))
        L->model = xstrdup(s);
    if ((v = ydoc_get(n, "voice")) && (s = wfl_string(L, v, "voice")) && wfl_voice(L, v, s))
        L->voice = xstrdup(s);
    if ((v = ydoc_get(n, "timeout")))
        L->timeout_set = wfl_duration(L, v, "timeout", &L->timeout_ms);
    if ((v = ydoc_get(n, "retries")) && wfl_int(L, v, "retries", 0, 20, &r))
        L->retries = (int)r;
    if ((v = ydoc_get(n, "paid_retries")) && wfl_int(L, v, "paid_retries", 0, 5, &r))
        L->paid_retries = (int)r;
    if ((v = ydoc_get(n, "temperature")))
        L->has_temperature = wfl_number(L, v, "temperature", 0, 2, false, &L->temperature);
    if ((v = ydoc_get(n, "top_p")))
        L->has_top_p = wfl_number(L, v, "top_p", 0, 1, false, &L->top_p);
    if ((v = ydoc_get(n, "top_k")) && wfl_int(L, v, "top_k", 1, 1000, &r)) {
        L->has_top_k = true;
        L->top_k = (int)r;
    }
    if ((v = ydoc_get(n, "thinking")))
        L->thinking = wfl_thinking(L, v);
    if ((v = ydoc_get(n, "service_tier")))
        L->service_tier = wfl_service_tier(L, v);
    if ((v = ydoc_get(n, "strict_model")))
        wfl_bool(L, v, "strict_model", &L->strict_model);
    if ((v = ydoc_get(n, "model_check")))
        wfl_bool(L, v, "model_check", &L->model_check);
}

static void parse_limits(struct wf_loader *L, const struct ydoc_node *n)
{
    struct workflow *wf = L->wf;
    if (!wfl_mapping(L, n, "limits"))
        return;
    wfl_check_keys(L, n, limit_keys, ARRAY_SIZE(limit_keys), "in limits");
    const struct ydoc_node *v;
    long long c;
    if ((v = ydoc_get(n, "concurrency")) && wfl_int(L, v, "concurrency", 1, LLONG_MAX, &c))
        wf->concurrency = c > INT_MAX ? INT_MAX : (int)c;
    if ((v = ydoc_get(n, "max_cost")))
        wfl_number(L, v, "max_cost", 0, INFINITY, true, &wf->max_cost);
    if (!(v = ydoc_get(n, "rpm")) || !wfl_mapping(L, v, "rpm"))
        return;
    size_t cap = 0;
    for (size_t i = 0; i < v->n_pairs; i++) {
        const struct ydoc_node *k = v->pairs[i].key;
        double rpm;
        bool ok = wfl_model_id(L, k, k->str);
        if (!wfl_number(L, v->pairs[i].val, "rpm", 0, INFINITY, true, &rpm) || !ok)
            continue;
        struct wf_rpm *r = VEC_PUSH(wf->rpm, wf->n_rpm, cap);
        r->model = xstrdup(k->str);
        r->rpm = rpm;
    }
}

static void parse_top(struct wf_loader *L)
{
    struct workflow *wf = L->wf;
    const struct ydoc_node *doc = L->doc, *v;
    const char *s;
    wfl_check_keys(L, doc, top_keys, ARRAY_SIZE(top_keys), "at the top level");
    wfl_check_version(L, doc);
    if ((v = ydoc_get(doc, "use")))
        wfl_error(L, ydoc_find(doc, "use")->key,
                  "'use' is not allowed here: '%s' is itself used by another workflow", wf->path);
    if ((v = ydoc_get(doc, "set")))
        wfl_error(L, ydoc_find(doc, "set")->key,
                  "'set' only works together with 'use: WORKFLOW' (edit this workflow directly, or "
                  "use --set)");
    if ((v = ydoc_get(doc, "name")) && (s = wfl_string(L, v, "name")))
        wf->name = xstrdup(s);
    if ((v = ydoc_get(doc, "endpoint")) && (s = wfl_string(L, v, "endpoint"))) {
        if (!str_starts_with(s, "http://") && !str_starts_with(s, "https://"))
            wfl_error(L, v, "bad endpoint '%s' (use an http:// or https:// URL)", s);
        wf->endpoint = xstrdup(s);
    }
    if ((v = ydoc_get(doc, "inputs")))
        parse_inputs(L, v);
    if ((v = ydoc_get(doc, "defaults")))
        parse_defaults(L, v);
    if ((v = ydoc_get(doc, "limits")))
        parse_limits(L, v);
    if (!(v = ydoc_get(doc, "stages")))
        wfl_error(L, doc, "missing key 'stages' (a workflow needs at least one stage)");
    else if (wfl_mapping(L, v, "stages") && v->n_pairs == 0)
        wfl_error(L, v, "'stages' is empty (a workflow needs at least one stage)");
    else if (v->kind == YDOC_MAP)
        wfl_parse_stages(L, v);
    if (wf->n_stages)
        wfl_check(L);
}

/* --tier wins over the workflow; a stage on flex without a timeout of its own waits as long as
 * flex may take. */
static void apply_service_tier(struct workflow *wf, const char *tier)
{
    for (size_t i = 0; i < wf->n_stages; i++) {
        struct stage_def *s = &wf->stages[i];
        if (!s->kind || !(s->kind->common_keys & KIND_KEYS_MODEL))
            continue;
        if (tier) {
            free(s->service_tier);
            s->service_tier = xstrdup(tier);
        }
        if (s->service_tier && strcmp(s->service_tier, "flex") == 0 && !s->timeout_set)
            s->timeout_ms = WF_FLEX_TIMEOUT_MS;
    }
}

/* ---- loading ---- */

void wfl_set_stage_file(struct wf_loader *L, const char *file)
{
    struct workflow *wf = L->wf;
    wf->path = xstrdup(file);
    wf->dir = wfl_dirname(file);
    wfl_add_dir(L, file, wf->dir);
}

int wfl_load_use(struct wf_loader *L, const struct ydoc_node *doc, const char *job_file)
{
    const struct ydoc_node *use = ydoc_get(doc, "use"), *v;
    struct buf path = BUF_INIT;
    const char *name = wfl_string(L, use, "use");
    for (size_t i = 0; i < doc->n_pairs; i++) {
        const struct ydoc_node *k = doc->pairs[i].key;
        bool ok = false, top = false;
        for (size_t j = 0; j < ARRAY_SIZE(use_keys); j++)
            ok = ok || strcmp(k->str, use_keys[j]) == 0;
        for (size_t j = 0; j < ARRAY_SIZE(top_keys); j++)
            top = top || strcmp(k->str, top_keys[j]) == 0;
        if (top && !ok)
            wfl_error(L, k,
                      "'%s' cannot be used with 'use' (a 'use' workflow has only version, name, "
                      "use and set; change the used workflow with set)",
                      k->str);
        else if (!ok)
            wfl_check_keys_one(L, k, use_keys, ARRAY_SIZE(use_keys), "at the top level");
    }
    if (!name)
        return -1;
    if (workflow_find_bundled(name, &path) < 0) {
        if (wfl_is_bundled_name(name))
            wfl_add_bundled_names(name, &path);
        else
            buf_adds(&path, " (bundled workflow names use lowercase letters, digits and '-')");
        wfl_error(L, use, "unknown bundled workflow '%s'%s", name, path.data);
        buf_release(&path);
        return -1;
    }
    const char *file = wfl_intern(L->wf, path.data);
    buf_release(&path);
    if (wfl_parse_file(L, file, use, &L->doc) < 0)
        return -1;
    wfl_set_stage_file(L, file);
    L->wf->job_path = xstrdup(job_file);
    char *dir = wfl_dirname(job_file);
    wfl_add_dir(L, job_file, dir);
    free(dir);
    if ((v = ydoc_get(doc, "name")) && wfl_string(L, v, "name"))
        ydoc_map_set(L->doc, ydoc_new_scalar("name", v->file, v->line, v->col), ydoc_copy(v));
    if ((v = ydoc_get(doc, "set")) && wfl_mapping(L, v, "set"))
        wfl_apply_set_map(L, v);
    return 0;
}

int wfl_load_base(struct wf_loader *L, const char *file)
{
    struct ydoc_node *doc = NULL;
    if (wfl_parse_file(L, file, NULL, &doc) < 0)
        return -1;
    if (!ydoc_get(doc, "use")) {
        L->doc = doc;
        wfl_set_stage_file(L, file);
        return 0;
    }
    wfl_check_version(L, doc);
    int rc = wfl_load_use(L, doc, file);
    ydoc_free(doc);
    return rc;
}

static void release_loader(struct wf_loader *L)
{
    ydoc_free(L->doc);
    for (size_t i = 0; i < L->wf->n_stages && L->info; i++)
        free(L->info[i].needs);
    free(L->info);
    for (size_t i = 0; i < L->n_dirs; i++)
        free(L->dirs[i].dir);
    free(L->dirs);
    free(L->model);
    free(L->voice);
    free(L->thinking);
    free(L->service_tier);
}

char *wfl_default_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (str_ends_with(base, ".yaml"))
        n -= 5;
    else if (str_ends_with(base, ".yml"))
        n -= 4;
    return xstrndup(base, n);
}

/* A diagnostic with what orders it: its file's rank (order of first appearance) and index. */
struct diag_key {
    struct diag d;
    size_t rank, index;
};

static int by_place(const void *a, const void *b)
{
    const struct diag_key *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    if (x->d.line != y->d.line)
        return x->d.line < y->d.line ? -1 : 1;
    if (x->d.col != y->d.col)
        return x->d.col < y->d.col ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Order the diagnostics from index `from` on by file (in order of first appearance), line and
 * column, so `validate` lists them as they appear; equal places keep their order. O(n log n):
 * a hostile document may make many. */
static void sort_diags(struct diag_list *dl, size_t from)
{
    size_t n = dl->n - from, n_files = 0, cap = 0;
    const char **files = NULL;
    struct diag_key *keys = xcalloc(n ? n : 1, sizeof *keys);
    for (size_t i = 0; i < n; i++) {
        const char *f = dl->v[from + i].file;
        size_t r = 0;
        while (r < n_files && strcmp(files[r], f) != 0) /* few files: a workflow and its prompts */
            r++;
        if (r == n_files)
            *VEC_PUSH(files, n_files, cap) = f;
        keys[i] = (struct diag_key){dl->v[from + i], r, i};
    }
    qsort(keys, n, sizeof *keys, by_place);
    for (size_t i = 0; i < n; i++)
        dl->v[from + i] = keys[i].d;
    free(keys);
    free(files);
}

int workflow_load_file(struct workflow *wf, const char *path, const struct wf_load_opts *opts,
                       struct diag_list *dl)
{
    memset(wf, 0, sizeof *wf);
    wf->concurrency = WF_DEFAULT_CONCURRENCY;
    struct wf_loader L = {.wf = wf, .dl = dl};
    L.timeout_ms = WF_DEFAULT_TIMEOUT_MS;
    L.retries = WF_DEFAULT_RETRIES;
    L.paid_retries = WF_DEFAULT_PAID_RETRIES;
    L.model_check = true;
    size_t errors = dl->n;
    const char *file = wfl_intern(wf, path);
    if (opts && opts->trust != WF_TRUST_ALL ? wfl_load_dropped(&L, file, opts) < 0
                                            : wfl_load_base(&L, file) < 0)
        goto out;
    if (opts && opts->n_sets)
        wfl_apply_cli_sets(&L, opts->sets, opts->n_sets);
    parse_top(&L);
    wf->model_check = L.model_check;
    apply_service_tier(wf, opts ? opts->service_tier : NULL);
    if (!wf->name)
        wf->name = wfl_default_name(wf->path);
out:
    release_loader(&L);
    if (dl->n > errors) {
        sort_diags(dl, errors);
        workflow_release(wf);
        return -1;
    }
    return 0;
}

int workflow_load_job(struct workflow *wf, const char *job_dir, const struct wf_load_opts *opts,
                      struct diag_list *dl)
{
    /* a job made from a drop loads as its watcher loaded it */
    struct wf_load_opts marked = opts ? *opts : (struct wf_load_opts){0};
    char *marked_path = NULL;
    if (marked.trust == WF_TRUST_ALL) {
        int m = wfl_drop_marker_load(job_dir, &marked, &marked_path, dl);
        if (m < 0) {
            memset(wf, 0, sizeof *wf);
            return -1;
        }
        if (m > 0) {
            int rc = workflow_load_job(wf, job_dir, &marked, dl);
            free(marked_path);
            return rc;
        }
    }
    char *own = wfl_join(job_dir, "workflow.yaml");
    bool has_own = access(own, F_OK) == 0;
    /* The operator's files (workflow_path, the bundled default) are trusted whatever the job's
     * own workflow.yaml is. */
    struct wf_load_opts ours = opts ? *opts : (struct wf_load_opts){0};
    ours.trust = WF_TRUST_ALL;
    int rc;
    if (ours.workflow_path && !(opts->trust != WF_TRUST_ALL && has_own)) {
        rc = workflow_load_file(wf, ours.workflow_path, &ours, dl);
        if (rc == 0 && !wf->job_path)
            wf->job_path = xstrdup(ours.workflow_path);
    } else if (has_own) {
        rc = workflow_load_file(wf, own, opts, dl);
        if (rc == 0 && !wf->job_path)
            wf->job_path = xstrdup(own);
    } else {
        struct buf path = BUF_INIT;
        if (workflow_find_bundled("script-to-media", &path) < 0) {
            memset(wf, 0, sizeof *wf);
            diag_add(dl, job_dir, 0, 0,
                     "no workflow.yaml in the job and the bundled workflow 'script-to-media' was "
                     "not found (set GEMFLOW_WORKFLOWS)");
            rc = -1;
        } else {
            rc = workflow_load_file(wf, path.data, &ours, dl);
        }
        buf_release(&path);
    }
    free(own);
    return rc;
}

void wfl_stage_release(struct stage_def *s)
{
    free(s->name);
    free(s->model);
    if (s->kind)
        s->kind->release(s->k);
    for (size_t k = 0; k < s->n_refs; k++) {
        tmpl_free(s->refs[k].path);
        tmpl_free(s->refs[k].each);
    }
    free(s->refs);
    free(s->thinking);
    free(s->service_tier);
    tmpl_free(s->output);
    free(s->foreach);
    for (size_t j = 0; j < s->n_foreach_segs; j++)
        free(s->foreach_segs[j]);
    free(s->foreach_segs);
    free(s->deps);
    memset(s, 0, sizeof *s);
}

void workflow_release(struct workflow *wf)
{
    diag_list_release(&wf->warnings);
    free(wf->name);
    free(wf->path);
    free(wf->dir);
    free(wf->job_path);
    free(wf->endpoint);
    for (size_t i = 0; i < wf->n_inputs; i++) {
        free(wf->inputs[i].name);
        free(wf->inputs[i].path);
    }
    free(wf->inputs);
    for (size_t i = 0; i < wf->n_stages; i++)
        wfl_stage_release(&wf->stages[i]);
    free(wf->stages);
    free(wf->order);
    for (size_t i = 0; i < wf->n_off; i++) {
        free(wf->off[i].name);
        free(wf->off[i].note);
    }
    free(wf->off);
    for (size_t i = 0; i < wf->n_rpm; i++)
        free(wf->rpm[i].model);
    free(wf->rpm);
    for (size_t i = 0; i < wf->n_reads; i++) {
        free(wf->reads[i].dir);
        free(wf->reads[i].rel);
    }
    free(wf->reads);
    for (size_t i = 0; i < wf->n_files; i++)
        free(wf->files[i]);
    free(wf->files);
    memset(wf, 0, sizeof *wf);
}

int workflow_stage_index(const struct workflow *wf, const char *name)
{
    for (size_t i = 0; i < wf->n_stages; i++)
        if (strcmp(wf->stages[i].name, name) == 0)
            return (int)i;
    return -1;
}

bool workflow_stage_is_off(const struct workflow *wf, const char *name)
{
    for (size_t i = 0; i < wf->n_off; i++)
        if (strcmp(wf->off[i].name, name) == 0)
            return true;
    return false;
}

double workflow_rpm(const struct workflow *wf, const char *model)
{
    for (size_t i = 0; i < wf->n_rpm; i++)
        if (strcmp(wf->rpm[i].model, model) == 0)
            return wf->rpm[i].rpm;
    return 0;
}
