/* expand: turning a stage into items. Renders every template of each item against the job's
 * inputs and upstream outputs, builds the request body through the stage kind, computes the
 * key, and judges the item against the checkpoint. */
#include "buf.h"
#include "expand_int.h"
#include "fsutil.h"
#include "jsonutil.h"
#include "operation.h"
#include "refs.h"
#include "schema.h"
#include "strmap.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define ITEM_ID_MAX 64

static const cJSON *resolve(void *ctx, const char *root)
{
    struct render_ctx *rc = ctx;
    if (rc->item && strcmp(root, "item") == 0)
        return rc->item;
    if (rc->index && strcmp(root, "item_index") == 0)
        return rc->index;
    if (rc->each && strcmp(root, "each") == 0)
        return rc->each;
    const struct workflow *wf = &rc->job->wf;
    for (size_t i = 0; i < wf->n_inputs; i++) {
        if (strcmp(wf->inputs[i].name, root) == 0)
            return rc->job->inputs[i];
    }
    int s = workflow_stage_index(wf, root);
    return s >= 0 ? rc->job->st[s].value : NULL;
}

int job_load_stage_value(struct job *job, size_t s, struct gf_err *err)
{
    struct stage_run *sr = &job->st[s];
    const struct stage_def *def = &job->wf.stages[s];
    if (sr->value || def->foreach || sr->n_items != 1 || def->kind->value == VALUE_NONE)
        return 0;
    const char *rel = sr->items[0].out_path;
    char *path = fs_join(job->dir, rel);
    struct buf b = BUF_INIT;
    int rc = -1;
    if (buf_read_file(&b, path) < 0) {
        gf_error_errno(err, GF_ERR_INPUT, "cannot read '%s'", path);
        goto out;
    }
    if (def->kind->value == VALUE_TEXT) {
        sr->value = cJSON_CreateString(b.data);
        rc = 0;
        goto out;
    }
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(b.data, b.len, &end, 0);
    if (!v) {
        int line, col;
        json_text_place(b.data, b.len, end, &line, &col);
        gf_error(err, GF_ERR_INPUT, "%s:%d:%d: not valid JSON (was it edited by hand?)", path, line,
                 col);
        goto out;
    }
    /* A CK_DONE artifact was checked against this very schema when it was written or accepted
     * (the request key covers the schema) and its size and mtime have not changed since. */
    struct gf_err serr = GF_ERR_INIT;
    if (sr->items[0].verdict != CK_DONE && schema_check(def->kind->schema(def), v, &serr) < 0) {
        gf_error(err, GF_ERR_INPUT, "%s: does not match the schema of stage '%s': %s", path,
                 def->name, serr.msg);
        cJSON_Delete(v);
        goto out;
    }
    sr->value = v;
    rc = 0;
out:
    buf_release(&b);
    free(path);
    return rc;
}

/* The id of a foreach element: its "id" member made safe, else its position. */
char *expand_element_id(const cJSON *el, int index, char **why)
{
    const cJSON *id = cJSON_IsObject(el) ? cJSON_GetObjectItemCaseSensitive(el, "id") : NULL;
    if (!id)
        return xasprintf("%d", index);
    if (cJSON_IsNumber(id) && id->valuedouble > -1e18 && id->valuedouble < 1e18) /* no UB cast */
        return xasprintf("%lld", (long long)id->valuedouble);
    if (!cJSON_IsString(id)) {
        *why = xstrdup("its id is not a string or a number");
        return NULL;
    }
    size_t len = strlen(id->valuestring);
    if (len == 0) {
        *why = xstrdup("its id is empty");
        return NULL;
    }
    if (len > ITEM_ID_MAX) {
        *why = xasprintf("its id is %zu bytes long (at most %d): '%.40s...'", len, ITEM_ID_MAX,
                         id->valuestring);
        return NULL;
    }
    return tmpl_sanitize_component(id->valuestring);
}

int expand_render(const struct tmpl *t, struct render_ctx *rc, int flags, char **out,
                  struct gf_err *err)
{
    if (!t) {
        *out = NULL;
        return 0;
    }
    struct buf b = BUF_INIT;
    if (tmpl_render(t, resolve, rc, flags, &b, err) < 0) {
        buf_release(&b);
        return -1;
    }
    *out = buf_detach(&b, NULL);
    return 0;
}

/* The serviceTier field as the API takes it (captured from @google/genai 3.x, see
 * tests/data/sdk/README.md). */
static const char *service_tier_wire(const char *tier)
{
    return tier;
}

/* Whether writing `a` would replace `b` or a directory `b` is in (or the other way round). */
static bool paths_overlap(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;
    return strncmp(a, b, n) == 0 && (la == lb || (la < lb ? b[la] : a[lb]) == '/');
}

static char *clash_with(const char *path, const char *other, const char *whose)
{
    if (strcmp(path, other) == 0)
        return xasprintf("output path '%s' is also %s", path, whose);
    return xasprintf("output path '%s' overlaps '%s', %s", path, other, whose);
}

static bool same_dir(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

struct done_clash {
    const char *stage, *path;
    char *why;
};

/* What an earlier run recorded as written by another stage (a done item of the checkpoint). */
static void clash_done(void *val, void *ctx)
{
    const struct ckpt_item *ci = val;
    struct done_clash *dc = ctx;
    if (dc->why || strcmp(ci->stage, dc->stage) == 0)
        return;
    for (size_t k = 0; !dc->why && k < ci->n_outs; k++)
        if (paths_overlap(dc->path, ci->outs[k].path)) {
            char *whose = xasprintf("the output of %s/%s", ci->stage, ci->item);
            dc->why = clash_with(dc->path, ci->outs[k].path, whose);
            free(whose);
        }
}

char *expand_output_clash(const struct job *job, size_t s, const char *path)
{
    const struct workflow *wf = &job->wf;
    for (size_t k = 0; k < wf->n_inputs; k++)
        if (paths_overlap(path, wf->inputs[k].path))
            return xasprintf("output path '%s' is the job's input '%s' ('%s'): it is never "
                             "overwritten",
                             path, wf->inputs[k].name, wf->inputs[k].path);
    for (size_t k = 0; k < wf->n_reads; k++)
        if (paths_overlap(path, wf->reads[k].rel) && same_dir(wf->reads[k].dir, job->dir))
            return xasprintf("output path '%s' is a file the workflow reads ('%s'): it is never "
                             "overwritten",
                             path, wf->reads[k].rel);
    struct done_clash dc = {wf->stages[s].name, path, NULL};
    strmap_each(&((struct job *)job)->ck.items, clash_done, &dc);
    if (dc.why)
        return dc.why;
    for (size_t t = 0; t < wf->n_stages; t++) {
        if (t == s)
            continue;
        const struct stage_def *o = &wf->stages[t];
        const struct stage_run *sr = &job->st[t];
        char *whose = NULL, *why = NULL;
        if (!sr->items && tmpl_is_literal(o->output) &&
            paths_overlap(path, tmpl_source(o->output))) {
            whose = xasprintf("the output of stage '%s'", o->name);
            why = clash_with(path, tmpl_source(o->output), whose);
        }
        for (size_t i = 0; !why && i < sr->n_items; i++) {
            const struct item *it = &sr->items[i];
            if (!why && it->out_path && !it->input_error && paths_overlap(path, it->out_path)) {
                whose = xasprintf("the output of %s/%s", o->name, it->id);
                why = clash_with(path, it->out_path, whose);
            }
        }
        free(whose);
        if (why)
            return why;
    }
    return NULL;
}

/* Why an output edited by hand cannot be kept: the kind's artifact check (the one `gemflow
 * accept` applies) refuses it. NULL when it passes. Runs only for an edited output (its size or
 * mtime is not the recorded one and ckpt_judge found other bytes); the file is never touched:
 * the item fails until the user fixes or deletes it, and no call overwrites it. */
static char *edited_unusable(const struct job *job, const struct item *it)
{
    const struct stage_def *def = &job->wf.stages[it->stage];
    if (!def->kind->check_artifact) /* made here (local): nothing the kind could adopt */
        return NULL;
    char *path = fs_join(job->dir, it->out_path);
    struct buf data = BUF_INIT;
    struct gf_err err = GF_ERR_INIT;
    cJSON *media = NULL;
    char *why = NULL;
    if (buf_read_file(&data, path) < 0)
        gf_error_errno(&err, GF_ERR_IO, "cannot read it");
    else if (def->kind->check_artifact(def, data.data, data.len, &media, &err) == 0)
        goto out;
    why = xasprintf("'%s' was edited by hand and is not a usable %s output: %s; fix the file, or "
                    "delete it so the next run generates it again",
                    it->out_path, def->kind->name, err.msg);
out:
    cJSON_Delete(media);
    buf_release(&data);
    free(path);
    return why;
}

static void build_item(struct job *job, size_t s, struct item *it, struct render_ctx *rc)
{
    const struct stage_def *def = &job->wf.stages[s];
    struct gf_err err = GF_ERR_INIT;
    struct stage_input in = {0};
    struct item_refs refs = {0};
    if (expand_render(def->output, rc, TMPL_PATH, &it->out_path, &err) < 0) {
        it->input_error = xstrdup(err.msg);
        goto out;
    }
    if (!fs_rel_is_safe(it->out_path)) {
        it->input_error =
            xasprintf("output path '%s' is not inside the job directory", it->out_path);
        goto out;
    }
    it->input_error = expand_output_clash(job, s, it->out_path);
    if (it->input_error)
        goto out;
    int rendered = def->kind->render(def, rc, &in, &it->input_error);
    it->prompt = in.prompt; /* what the item shows, even when it cannot be asked */
    it->system = in.system;
    in.prompt = in.system = NULL;
    if (rendered < 0 || refs_render(def, rc, &refs, &it->input_error) < 0)
        goto out;
    in.prompt = it->prompt;
    in.system = it->system;
    in.media = refs.media;
    in.n_media = refs.n;
    struct stage_request req = {0};
    int built = def->kind->build(def, &in, &req, &err);
    in.prompt = in.system = NULL; /* the item's */
    if (built < 0) {
        it->input_error = xstrdup(err.msg);
        goto out;
    }
    it->verb = req.verb;
    if (def->kind->exec == EXEC_OPERATION) /* the model is in the body */
        it->method_path = xasprintf("%s/%s", job->api_root, def->kind->op->create_path);
    else
        it->method_path = xasprintf("%s/models/%s:%s", job->api_root, def->model,
                                    req.verb == GEMINI_PREDICT ? "predict" : "generateContent");
    /* The key covers what is asked for, not the price paid for it: serviceTier is added after
     * the key (design notes, "the service tier is not part of the key"). */
    char *keyed = cJSON_PrintUnformatted(req.body);
    job_request_key(job->origin, it->method_path, keyed, strlen(keyed), it->key);
    if (def->service_tier && req.verb == GEMINI_GENERATE) {
        cJSON_AddStringToObject(req.body, "serviceTier", service_tier_wire(def->service_tier));
        it->body = cJSON_PrintUnformatted(req.body);
        free(keyed);
    } else {
        it->body = keyed;
    }
    it->body_len = strlen(it->body);
    cJSON_Delete(req.body);
    it->verdict = ckpt_judge(&job->ck, job->dir, def->name, it->id, it->key, NULL);
    if (it->verdict == CK_DONE || it->verdict == CK_EDITED) {
        /* The output template may have moved the artifact: it must be where we expect it. */
        const struct ckpt_item *ci = ckpt_get(&job->ck, def->name, it->id);
        if (ci->n_outs != 1 || strcmp(ci->outs[0].path, it->out_path) != 0)
            it->verdict = CK_MISSING;
    }
    if (it->verdict == CK_EDITED) /* kept only when the kind would have written it */
        it->input_error = edited_unusable(job, it);
out:
    stage_input_release(&in);
    refs_release(&refs);
}

const cJSON *expand_array(struct job *job, size_t src_stage, char *const *segs, size_t n_segs,
                          const char *key, const char *text, struct gf_err *err)
{
    const struct stage_run *src = &job->st[src_stage];
    const cJSON *v = src->value;
    const char *file = src->n_items ? src->items[0].out_path : "?";
    for (size_t i = 0; v && i < n_segs; i++) {
        const char *seg = segs[i];
        if (cJSON_IsArray(v)) {
            char *end;
            long k = strtol(seg, &end, 10);
            v = *end ? NULL : cJSON_GetArrayItem(v, (int)k);
        } else {
            v = cJSON_GetObjectItemCaseSensitive(v, seg);
        }
    }
    if (!cJSON_IsArray(v)) {
        gf_error(err, GF_ERR_INPUT, "%s '%s': %s holds no array there", key, text, file);
        return NULL;
    }
    return v;
}

struct item *expand_one_item(struct job *job, size_t s)
{
    struct stage_run *sr = &job->st[s];
    sr->items = xcalloc(1, sizeof *sr->items);
    sr->n_items = 1;
    struct item *it = &sr->items[0];
    it->job = job;
    it->stage = s;
    it->id = xstrdup(job->wf.stages[s].name);
    return it;
}

int job_expand_stage(struct job *job, size_t s, struct gf_err *err)
{
    const struct stage_def *def = &job->wf.stages[s];
    struct stage_run *sr = &job->st[s];
    struct render_ctx rc = {job, NULL, NULL, NULL};
    if (def->kind->expand)
        return def->kind->expand(job, s, err);
    if (!def->foreach) {
        build_item(job, s, expand_one_item(job, s), &rc);
        return 0;
    }
    const cJSON *arr = expand_array(job, def->foreach_stage, def->foreach_segs, def->n_foreach_segs,
                                    "foreach", def->foreach, err);
    if (!arr)
        return -1;
    int n = cJSON_GetArraySize(arr);
    sr->items = xcalloc((size_t)n + 1, sizeof *sr->items);
    struct strmap ids = STRMAP_INIT, paths = STRMAP_INIT;
    int index = 0;
    const cJSON *el;
    cJSON_ArrayForEach(el, arr)
    {
        struct item *it = &sr->items[sr->n_items++];
        it->job = job;
        it->stage = s;
        it->index = ++index;
        char *why = NULL;
        it->id = expand_element_id(el, index, &why);
        if (!it->id) {
            it->id = xasprintf("%d", index);
            it->input_error =
                xasprintf("element %d of %s cannot be an item: %s", index, def->foreach, why);
            free(why);
            continue;
        }
        struct item *dup = strmap_get(&ids, it->id);
        if (dup) {
            it->input_error = xasprintf("element %d of %s has the same id '%s' as element %d",
                                        index, def->foreach, it->id, dup->index);
            char *alt = xasprintf("%s~%d", it->id, index);
            free(it->id);
            it->id = alt;
            continue;
        }
        strmap_put(&ids, it->id, it);
        rc.item = el;
        rc.index = cJSON_CreateNumber(index);
        build_item(job, s, it, &rc);
        cJSON_Delete(rc.index);
        rc.index = NULL;
        if (!it->input_error) {
            struct item *same = strmap_get(&paths, it->out_path);
            if (same)
                it->input_error = xasprintf("element %d of %s writes '%s' like element %d", index,
                                            def->foreach, it->out_path, same->index);
            else
                strmap_put(&paths, it->out_path, it);
        }
    }
    strmap_release(&ids);
    strmap_release(&paths);
    return 0;
}
