/* planwhy: explaining cache misses from the call records, and estimating tokens. */
#include "planwhy.h"
#include "buf.h"
#include "callrec.h"
#include "fsutil.h"
#include "jsonutil.h"
#include "refs.h"
#include "reqdiff.h"
#include "util.h"

#include <string.h>

static cJSON *load_callrec(const struct job *job, const char *stage, const char *item)
{
    char *rel = callrec_path(stage, item);
    char *path = fs_join(job->dir, rel);
    struct buf b = BUF_INIT;
    cJSON *v = NULL;
    if (buf_read_file(&b, path) == 0)
        v = cJSON_ParseWithLength(b.data, b.len);
    buf_release(&b);
    free(path);
    free(rel);
    return v;
}

static const cJSON *at(const cJSON *v, const char *a, const char *b, const char *c)
{
    v = json_field(v, a);
    if (b)
        v = json_field(v, b);
    if (c)
        v = json_field(v, c);
    return v;
}

static bool same(const cJSON *a, const cJSON *b)
{
    if (!a && !b)
        return true;
    return a && b && cJSON_Compare(a, b, 1);
}

/* The model from ".../models/M:verb". */
static char *model_of(const char *url)
{
    const char *m = url ? strstr(url, "/models/") : NULL;
    if (!m)
        return xstrdup("?");
    m += 8;
    const char *colon = strchr(m, ':');
    return colon ? xstrndup(m, (size_t)(colon - m)) : xstrdup(m);
}

static const char *voice_of(const cJSON *body)
{
    return json_str(at(at(body, "generationConfig", "speechConfig", "voiceConfig"),
                       "prebuiltVoiceConfig", NULL, NULL),
                    "voiceName");
}

/* The stage's main template (its prompt, or the text it speaks). */
static const struct tmpl *main_template(const struct stage_def *def)
{
    struct stage_tmpl ts[8];
    size_t n = def->kind->templates(def, ts, ARRAY_SIZE(ts));
    return n ? ts[0].t : NULL;
}

/* Which stages and inputs a stage's prompt is rendered from. */
static void add_sources(const struct job *job, const struct stage_def *def, struct buf *out)
{
    const struct tmpl *t = main_template(def);
    size_t n = t ? tmpl_ref_count(t) : 0;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        const char *root = tmpl_ref_at(t, i)->root;
        const char *from = root;
        if (strcmp(root, "item") == 0 && def->foreach)
            from = job->wf.stages[def->foreach_stage].name;
        else if (strcmp(root, "item_index") == 0)
            continue;
        if (strstr(out->data, from))
            continue;
        buf_addf(out, "%s%s", any ? ", " : " (rendered from ", from);
        any = true;
    }
    if (any)
        buf_addc(out, ')');
}

/* The references a request sends (refs.h placeholders), in order: "PATH" and its sha256. */
struct ref_list {
    const char *path[REFS_MAX_FILES * 4];
    const char *sha[REFS_MAX_FILES * 4];
    size_t n;
};

static void collect_refs(const cJSON *j, struct ref_list *l)
{
    for (const cJSON *c = j ? j->child : NULL; c; c = c->next) {
        const char *sha, *path;
        size_t sha_len;
        if (cJSON_IsString(c) && refs_parse(c->valuestring, &sha, &sha_len, &path)) {
            if (l->n < ARRAY_SIZE(l->path)) {
                l->path[l->n] = path;
                l->sha[l->n++] = sha;
            }
        } else {
            collect_refs(c, l);
        }
    }
}

static const char *ref_sha(const struct ref_list *l, const char *path)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->path[i], path) == 0)
            return l->sha[i];
    return NULL;
}

/* A copy of `j` whose references are blanked: what remains is the text of the request. */
static cJSON *without_refs(const cJSON *j)
{
    cJSON *copy = j ? cJSON_Duplicate(j, 1) : NULL;
    cJSON *stack[64];
    size_t n = 0;
    if (copy)
        stack[n++] = copy;
    while (n) {
        cJSON *v = stack[--n];
        for (cJSON *c = v->child; c; c = c->next) {
            const char *sha, *path;
            size_t sha_len;
            if (cJSON_IsString(c) && refs_parse(c->valuestring, &sha, &sha_len, &path))
                cJSON_SetValuestring(c, "");
            else if (c->child && n < ARRAY_SIZE(stack))
                stack[n++] = c;
        }
    }
    return copy;
}

/* Places where the request differs that no part above names, shown with both values; the rest
 * are counted ("and 2 more"). */
#define UNNAMED_SHOWN 3

/* A copy of request body `j` without what the named parts compare (prompt text, system
 * instruction, schema, speech and generation settings, aspect ratio, image size) and without
 * serviceTier, which the key leaves out: whatever differs in what is left is named field by
 * field, for any stage kind. */
static cJSON *unnamed_fields(const cJSON *j)
{
    static const char *const named[] = {"contents", "instances", "input", "systemInstruction",
                                        "serviceTier"};
    cJSON *c = cJSON_IsObject(j) ? cJSON_Duplicate(j, 1) : cJSON_CreateObject();
    for (size_t i = 0; i < ARRAY_SIZE(named); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(c, named[i]);
    cJSON *gc = cJSON_GetObjectItemCaseSensitive(c, "generationConfig");
    for (cJSON *m = gc ? gc->child : NULL, *next; m; m = next) {
        next = m->next;
        if (strcmp(m->string, "imageConfig") != 0) /* "schema", "voice", "generation settings" */
            cJSON_Delete(cJSON_DetachItemViaPointer(gc, m));
    }
    cJSON *ic = cJSON_GetObjectItemCaseSensitive(gc, "imageConfig");
    cJSON_DeleteItemFromObjectCaseSensitive(ic, "aspectRatio");
    cJSON_DeleteItemFromObjectCaseSensitive(ic, "imageSize");
    if (ic && !ic->child)
        cJSON_DeleteItemFromObjectCaseSensitive(gc, "imageConfig");
    if (gc && !gc->child)
        cJSON_DeleteItemFromObjectCaseSensitive(c, "generationConfig");
    cJSON *pa = cJSON_GetObjectItemCaseSensitive(c, "parameters");
    cJSON_DeleteItemFromObjectCaseSensitive(pa, "aspectRatio");
    if (pa && !pa->child)
        cJSON_DeleteItemFromObjectCaseSensitive(c, "parameters");
    return c;
}

static void diff_parts(const struct job *job, const struct item *it, const cJSON *rec,
                       struct buf *out)
{
    const struct stage_def *def = &job->wf.stages[it->stage];
    const cJSON *old = at(rec, "request", "body", NULL);
    const char *old_url = json_str(json_field(rec, "request"), "url");
    cJSON *now = cJSON_ParseWithLength(it->body, it->body_len);
    char *now_url = xasprintf("%s%s", job->origin, it->method_path);
    int parts = 0;
#define PART(...)                                                                                  \
    do {                                                                                           \
        buf_adds(out, parts++ ? ", " : ": ");                                                      \
        buf_addf(out, __VA_ARGS__);                                                                \
    } while (0)
    char *m_old = model_of(old_url), *m_now = model_of(now_url);
    if (strcmp(m_old, m_now) != 0)
        PART("model (%s -> %s)", m_old, m_now);
    else if (old_url && !str_starts_with(old_url, job->origin))
        PART("endpoint (now %s)", job->origin);
    else if (old_url && strcmp(old_url, now_url) != 0)
        PART("method (%s -> %s)", old_url + strlen(job->origin), it->method_path);
    free(m_old);
    free(m_now);
    struct ref_list r_old = {0}, r_now = {0};
    collect_refs(old, &r_old);
    collect_refs(now, &r_now);
    for (size_t i = 0; i < r_now.n; i++) {
        const char *was = ref_sha(&r_old, r_now.path[i]);
        if (!was)
            PART("reference %s added", r_now.path[i]);
        else if (strncmp(was, r_now.sha[i], SHA256_HEX_LEN) != 0)
            PART("reference %s changed", r_now.path[i]);
    }
    for (size_t i = 0; i < r_old.n; i++)
        if (!ref_sha(&r_now, r_old.path[i]))
            PART("reference %s removed", r_old.path[i]);
    cJSON *t_old = without_refs(old), *t_now = without_refs(now);
    if (!same(json_field(t_old, "contents"), json_field(t_now, "contents")) ||
        !same(at(t_old, "instances", NULL, NULL), at(t_now, "instances", NULL, NULL)) ||
        !same(json_field(t_old, "input"), json_field(t_now, "input"))) {
        PART("prompt text");
        add_sources(job, def, out);
    }
    cJSON_Delete(t_old);
    cJSON_Delete(t_now);
    if (!same(json_field(old, "systemInstruction"), json_field(now, "systemInstruction")))
        PART("system instruction");
    const cJSON *gc_old = json_field(old, "generationConfig");
    const cJSON *gc_now = json_field(now, "generationConfig");
    if (!same(json_field(gc_old, "responseJsonSchema"), json_field(gc_now, "responseJsonSchema")))
        PART("schema");
    if (!same(json_field(gc_old, "speechConfig"), json_field(gc_now, "speechConfig"))) {
        const char *a = voice_of(old), *b = voice_of(now);
        if (a && b && strcmp(a, b) != 0)
            PART("voice (%s -> %s)", a, b);
        else
            PART("speech settings");
    }
    const cJSON *ic_old = json_field(gc_old, "imageConfig"),
                *ic_now = json_field(gc_now, "imageConfig");
    const cJSON *pa_old = json_field(old, "parameters"), *pa_now = json_field(now, "parameters");
    if (!same(json_field(ic_old, "aspectRatio"), json_field(ic_now, "aspectRatio")) ||
        !same(json_field(pa_old, "aspectRatio"), json_field(pa_now, "aspectRatio"))) {
        const char *a = json_str(ic_old, "aspectRatio"), *b = json_str(ic_now, "aspectRatio");
        if (a && b)
            PART("aspect ratio (%s -> %s)", a, b);
        else
            PART("aspect ratio");
    }
    if (!same(json_field(ic_old, "imageSize"), json_field(ic_now, "imageSize")))
        PART("image size");
    /* anything else in generationConfig: temperature and the like */
    static const char *known[] = {"responseJsonSchema", "speechConfig", "imageConfig"};
    bool other = false;
    for (const cJSON *c = gc_now ? gc_now->child : NULL; c; c = c->next) {
        bool k = false;
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
            k |= strcmp(c->string, known[i]) == 0;
        if (!k && !same(c, json_field(gc_old, c->string)))
            other = true;
    }
    for (const cJSON *c = gc_old ? gc_old->child : NULL; c; c = c->next) {
        if (!json_field(gc_now, c->string))
            other = true;
    }
    if (other)
        PART("generation settings");
    /* any kind's own fields (a clip's duration, a new kind's settings), by their JSON paths */
    cJSON *u_old = unnamed_fields(old), *u_now = unnamed_fields(now);
    struct buf fields = BUF_INIT;
    size_t n = reqdiff_describe(u_old, u_now, UNNAMED_SHOWN, &fields);
    if (n)
        PART("%s", fields.data);
    if (n > UNNAMED_SHOWN)
        PART("and %zu more", n - UNNAMED_SHOWN);
    buf_release(&fields);
    cJSON_Delete(u_old);
    cJSON_Delete(u_now);
#undef PART
    if (!parts) /* the bodies and the model agree: the key covers something else */
        buf_adds(out, " (the call record's request reads the same, field by field)");
    cJSON_Delete(now);
    free(now_url);
}

char *planwhy_reason(const struct job *job, const struct item *it)
{
    const struct stage_def *def = &job->wf.stages[it->stage];
    if (it->input_error && it->verdict == CK_EDITED) /* names the file and how to fix it */
        return xasprintf("edited by hand, not usable: %s", it->input_error);
    if (it->input_error)
        return xasprintf("cannot be built: %s", it->input_error);
    const struct ckpt_item *ci = ckpt_get(&job->ck, def->name, it->id);
    struct buf out = BUF_INIT;
    if (ci && ci->fail_message && strcmp(ci->failed_key, it->key) == 0) {
        buf_addf(&out, "failed last time: %s", ci->fail_message);
        return buf_detach(&out, NULL);
    }
    switch (it->verdict) {
    case CK_NEW:
        buf_adds(&out, "new");
        if (ci && ci->fail_message)
            buf_addf(&out, " (an earlier request failed: %s)", ci->fail_message);
        break;
    case CK_MISSING:
        buf_addf(&out, "output missing (%s)", it->out_path);
        break;
    case CK_CHANGED: {
        buf_adds(&out, "request changed");
        cJSON *rec = load_callrec(job, def->name, it->id);
        if (rec && cJSON_GetObjectItemCaseSensitive(rec, "request"))
            diff_parts(job, it, rec, &out);
        else
            buf_adds(&out, " (no call record to compare with)");
        cJSON_Delete(rec);
        break;
    }
    case CK_DONE:
    case CK_EDITED:
        buf_adds(&out, ckpt_verdict_name(it->verdict));
        break;
    }
    return buf_detach(&out, NULL);
}

struct obs {
    const char *stage;
    double in, out;
    int n;
};

static void observe_entry(void *val, void *ctx)
{
    const cJSON *e = val;
    struct obs *o = ctx;
    const char *stage = json_str(e, "stage");
    const cJSON *t = json_field(e, "tokens");
    double p = json_num(t, "prompt", -1), out = json_num(t, "output", -1);
    if (!stage || strcmp(stage, o->stage) != 0 || p < 0 || out < 0)
        return;
    o->in += p;
    o->out += out;
    o->n++;
}

/* Mean prompt/output tokens of the stage's recorded artifacts in the manifest. */
static bool observed(const struct job *job, const char *stage, double *in, double *out)
{
    struct obs o = {stage, 0, 0, 0};
    strmap_each((struct strmap *)&job->man.by_path, observe_entry, &o);
    if (!o.n)
        return false;
    *in = o.in / o.n;
    *out = o.out / o.n;
    return true;
}

/* Input tokens of one inline reference image: about 1120 at media_resolution_high, Gemini 3's
 * default for images (ai.google.dev/gemini-api/docs/media-resolution, "Token counts"; on
 * 2026-12-04 the official table itself was not in what we could read, the figure is from
 * summaries of it). The estimate takes the most, so that references do not pass a budget
 * unseen; what a call really used comes back in usageMetadata, which `report` and status count. */
#define REF_IMAGE_TOKENS 1120.0

/* The references one request sends: the placeholders in its body (refs.h), or for a stage not
 * expanded yet, one per `references:` entry (a list entry may name more). */
static size_t references_sent(const struct stage_def *def, const struct item *it)
{
    return it ? refs_count(it->body) : def->n_refs;
}

void planwhy_estimate(const struct job *job, size_t stage, const struct item *it,
                      struct call_estimate *out)
{
    const struct stage_def *def = &job->wf.stages[stage];
    memset(out, 0, sizeof *out);
    if (!def->kind->estimate)
        return;
    double chars = it && it->body ? (double)it->body_len : 0;
    if (!it) {
        /* not expandable yet: the template's own size, plus a paragraph of data */
        const struct tmpl *t = main_template(def);
        chars = (t ? (double)strlen(tmpl_source(t)) : 0) + 400;
    }
    struct stage_estimate se = {0};
    def->kind->estimate(def, chars, it ? it->prompt : NULL, &se);
    se.in_tokens += REF_IMAGE_TOKENS * (double)references_sent(def, it);
    out->images = se.images;
    out->seconds = se.seconds;
    double in = se.in_tokens;
    if (observed(job, def->name, &out->in_tokens, &out->out_tokens)) {
        out->observed = true;
        out->in_tokens = in > 0 ? in : out->in_tokens; /* the request itself is the better guess */
        return;
    }
    out->in_tokens = se.in_tokens;
    out->out_tokens = se.out_tokens;
}
