/* checkpoint: replaying progress.jsonl into per-item done state, and judging items against
 * today's request keys. */
#include "checkpoint.h"
#include "fsutil.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *item_key(const char *stage, const char *item)
{
    return xasprintf("%s/%s", stage, item);
}

static void outputs_free(struct ckpt_item *it)
{
    free(it->model);
    it->model = NULL;
    free(it->served_by);
    it->served_by = NULL;
    cJSON_Delete(it->media);
    it->media = NULL;
    it->done_ts[0] = '\0';
    for (size_t i = 0; i < it->n_outs; i++)
        free(it->outs[i].path);
    free(it->outs);
    it->outs = NULL;
    it->n_outs = 0;
}

static void op_clear(struct ckpt_item *it)
{
    it->op_key[0] = '\0';
    free(it->op_id);
    it->op_id = NULL;
    it->op_ts[0] = '\0';
}

static void item_free(void *val, void *ctx)
{
    struct ckpt_item *it = val;
    outputs_free(it);
    op_clear(it);
    free(it->stage);
    free(it->item);
    free(it->fail_message);
    free(it);
}

struct ckpt_item *ckpt_get(const struct ckpt *ck, const char *stage, const char *item)
{
    char *k = item_key(stage, item);
    struct ckpt_item *it = strmap_get(&ck->items, k);
    free(k);
    return it;
}

static struct ckpt_item *get_or_add(struct ckpt *ck, const char *stage, const char *item)
{
    struct ckpt_item *it = ckpt_get(ck, stage, item);
    if (it)
        return it;
    it = xcalloc(1, sizeof *it);
    it->stage = xstrdup(stage);
    it->item = xstrdup(item);
    char *k = item_key(stage, item);
    strmap_put(&ck->items, k, it);
    free(k);
    return it;
}

static bool is_hex64(const char *s)
{
    if (!s || strlen(s) != SHA256_HEX_LEN)
        return false;
    for (const char *p = s; *p; p++) {
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    }
    return true;
}

static const char *str_field(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void apply_done(struct ckpt *ck, const cJSON *ev, const char *stage, const char *item)
{
    const char *key = str_field(ev, "key");
    const cJSON *outs = cJSON_GetObjectItemCaseSensitive(ev, "outputs");
    if (!is_hex64(key) || !cJSON_IsArray(outs))
        return;
    /* Validate every output before touching the state: a damaged line changes nothing. */
    size_t n = 0;
    const cJSON *o;
    cJSON_ArrayForEach(o, outs)
    {
        const char *path = str_field(o, "path");
        const cJSON *bytes = cJSON_GetObjectItemCaseSensitive(o, "bytes");
        /* a size must be a whole number a double holds exactly (a damaged line: 1e300, -1) */
        if (!path || !fs_rel_is_safe(path) || !cJSON_IsNumber(bytes) ||
            !(bytes->valuedouble >= 0 && bytes->valuedouble <= 9007199254740992.0) ||
            !is_hex64(str_field(o, "sha256")))
            return;
        n++;
    }
    struct ckpt_item *it = get_or_add(ck, stage, item);
    outputs_free(it);
    it->outs = xcalloc(n, sizeof *it->outs);
    cJSON_ArrayForEach(o, outs)
    {
        struct ckpt_output *out = &it->outs[it->n_outs++];
        out->path = xstrdup(str_field(o, "path"));
        out->bytes = (int64_t)cJSON_GetObjectItemCaseSensitive(o, "bytes")->valuedouble;
        /* A string: nanoseconds since the epoch do not fit a JSON number's double. */
        const char *mt = str_field(o, "mtime_ns");
        out->mtime_ns = mt ? strtoll(mt, NULL, 10) : -1;
        memcpy(out->sha256, str_field(o, "sha256"), SHA256_HEX_LEN + 1);
    }
    memcpy(it->key, key, SHA256_HEX_LEN + 1);
    it->accepted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "accepted"));
    const char *ts = str_field(ev, "ts"), *model = str_field(ev, "model");
    snprintf(it->done_ts, sizeof it->done_ts, "%s", ts ? ts : "");
    it->model = model ? xstrdup(model) : NULL;
    const char *served_by = str_field(ev, "served_by");
    it->served_by = served_by ? xstrdup(served_by) : NULL;
    const cJSON *media = cJSON_GetObjectItemCaseSensitive(ev, "media");
    it->media = cJSON_IsObject(media) ? cJSON_Duplicate(media, 1) : NULL;
    it->failed_key[0] = '\0';
    free(it->fail_message);
    it->fail_message = NULL;
    op_clear(it); /* whatever ran for it is over */
    it->lost_key[0] = '\0';
}

/* op_create {key}: a create was sent; op_started {key, operation}: the API accepted it;
 * op_ended: it is over (failed, expired, lost, refused). */
static void apply_op(struct ckpt *ck, const cJSON *ev, const char *event, const char *stage,
                     const char *item)
{
    struct ckpt_item *it = get_or_add(ck, stage, item);
    const char *key = str_field(ev, "key"), *id = str_field(ev, "operation");
    const char *ts = str_field(ev, "ts");
    if (strcmp(event, "op_ended") == 0 || !is_hex64(key)) {
        const char *status = str_field(ev, "status");
        if (is_hex64(key) && status && strcmp(status, "lost") == 0) {
            memcpy(it->lost_key, key, SHA256_HEX_LEN + 1);
            snprintf(it->lost_ts, sizeof it->lost_ts, "%s",
                     it->op_ts[0] ? it->op_ts
                     : ts         ? ts
                                  : "");
        }
        op_clear(it);
        return;
    }
    if (strcmp(event, "op_started") == 0 && (!id || !id[0]))
        return;
    if (strcmp(event, "op_create") == 0)
        it->lost_key[0] = '\0'; /* a new attempt, asked for */
    op_clear(it);
    memcpy(it->op_key, key, SHA256_HEX_LEN + 1);
    it->op_id = strcmp(event, "op_started") == 0 ? xstrdup(id) : NULL;
    snprintf(it->op_ts, sizeof it->op_ts, "%s", ts ? ts : "");
}

static void apply_failed(struct ckpt *ck, const cJSON *ev, const char *stage, const char *item)
{
    struct ckpt_item *it = get_or_add(ck, stage, item);
    const char *key = str_field(ev, "key");
    snprintf(it->failed_key, sizeof it->failed_key, "%s", is_hex64(key) ? key : "");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(ev, "error");
    const char *msg = str_field(e, "message");
    free(it->fail_message);
    it->fail_message = xstrdup(msg ? msg : "failed");
}

struct reset_ctx {
    struct ckpt *ck;
    const char *stage;
    const char *item; /* NULL: every item of the stage */
};

/* stage_reset {stage} and item_reset {stage, item} (gemflow rerun): regenerate, whatever was
 * done, and a lost create may be created anew. */
static void reset_one(void *val, void *ctx)
{
    struct ckpt_item *it = val;
    struct reset_ctx *rc = ctx;
    if (strcmp(it->stage, rc->stage) == 0 && (!rc->item || strcmp(it->item, rc->item) == 0)) {
        outputs_free(it);
        it->key[0] = '\0';
        it->accepted = false;
        it->lost_key[0] = '\0';
    }
}

void ckpt_apply(struct ckpt *ck, const cJSON *ev)
{
    const char *event = str_field(ev, "event");
    const char *stage = str_field(ev, "stage");
    const char *item = str_field(ev, "item");
    if (!event || !stage)
        return;
    if (strcmp(event, "stage_reset") == 0) {
        struct reset_ctx rc = {ck, stage, NULL};
        strmap_each(&ck->items, reset_one, &rc);
        return;
    }
    if (!item)
        return;
    if (strcmp(event, "item_reset") == 0) {
        struct ckpt_item *it = ckpt_get(ck, stage, item);
        struct reset_ctx rc = {ck, stage, item};
        if (it)
            reset_one(it, &rc);
        return;
    }
    if (strcmp(event, "item_done") == 0)
        apply_done(ck, ev, stage, item);
    else if (strcmp(event, "item_failed") == 0)
        apply_failed(ck, ev, stage, item);
    else if (strcmp(event, "op_create") == 0 || strcmp(event, "op_started") == 0 ||
             strcmp(event, "op_ended") == 0)
        apply_op(ck, ev, event, stage, item);
}

static int replay_one(void *ctx, const cJSON *ev, size_t lineno)
{
    ckpt_apply(ctx, ev);
    return 0;
}

int ckpt_load(struct ckpt *ck, const char *job_dir, struct gf_err *err)
{
    memset(ck, 0, sizeof *ck);
    char *path = fs_join(job_dir, "progress.jsonl");
    /* The events ckpt_apply acts on; the rest (calls, progress) are skipped unparsed. */
    static const char *const events[] = {"item_done", "item_failed", "stage_reset", "item_reset",
                                         "op_create", "op_started",  "op_ended",    NULL};
    int rc = joblog_replay_events(path, events, replay_one, ck, &ck->stats, err);
    free(path);
    if (rc < 0)
        ckpt_release(ck);
    return rc;
}

void ckpt_release(struct ckpt *ck)
{
    strmap_each(&ck->items, item_free, NULL);
    strmap_release(&ck->items);
}

void ckpt_set_done(struct ckpt *ck, const char *stage, const char *item, const char *key,
                   const struct ckpt_output *outs, size_t n_outs, const char *model,
                   const cJSON *media)
{
    struct ckpt_item *it = get_or_add(ck, stage, item);
    outputs_free(it);
    it->outs = xcalloc(n_outs, sizeof *it->outs);
    for (size_t i = 0; i < n_outs; i++) {
        it->outs[i] = outs[i];
        it->outs[i].path = xstrdup(outs[i].path);
    }
    it->n_outs = n_outs;
    snprintf(it->key, sizeof it->key, "%s", key);
    now_rfc3339(it->done_ts, sizeof it->done_ts);
    it->model = model ? xstrdup(model) : NULL;
    it->media = media ? cJSON_Duplicate(media, 1) : NULL;
    it->accepted = false;
    it->failed_key[0] = '\0';
    free(it->fail_message);
    it->fail_message = NULL;
    op_clear(it);
    it->lost_key[0] = '\0';
}

const struct ckpt_item *ckpt_pending_op(const struct ckpt *ck, const char *stage, const char *item,
                                        const char *key)
{
    const struct ckpt_item *it = ckpt_get(ck, stage, item);
    return it && it->op_key[0] && strcmp(it->op_key, key) == 0 ? it : NULL;
}

const struct ckpt_item *ckpt_lost_op(const struct ckpt *ck, const char *stage, const char *item,
                                     const char *key)
{
    const struct ckpt_item *it = ckpt_get(ck, stage, item);
    return it && it->lost_key[0] && strcmp(it->lost_key, key) == 0 ? it : NULL;
}

void ckpt_set_served_by(struct ckpt *ck, const char *stage, const char *item, const char *served_by)
{
    struct ckpt_item *it = ckpt_get(ck, stage, item);
    if (!it)
        return;
    free(it->served_by);
    it->served_by = served_by ? xstrdup(served_by) : NULL;
}

enum ckpt_verdict ckpt_judge(const struct ckpt *ck, const char *job_dir, const char *stage,
                             const char *item, const char *key, const char **edited_path)
{
    const struct ckpt_item *it = ckpt_get(ck, stage, item);
    if (edited_path)
        *edited_path = NULL;
    if (!it || !it->key[0])
        return CK_NEW;
    if (strcmp(it->key, key) != 0)
        return CK_CHANGED;
    enum ckpt_verdict v = CK_DONE;
    for (size_t i = 0; i < it->n_outs; i++) {
        const struct ckpt_output *o = &it->outs[i];
        struct fs_facts f;
        if (fs_stat(job_dir, o->path, &f) < 0)
            return CK_MISSING;
        if (f.bytes == o->bytes && f.mtime_ns == o->mtime_ns)
            continue;
        char *full = fs_join(job_dir, o->path);
        char hex[SHA256_HEX_LEN + 1];
        size_t size;
        int rc = sha256_file(full, hex, &size);
        free(full);
        if (rc < 0)
            return CK_MISSING;
        if (strcmp(hex, o->sha256) != 0) {
            if (edited_path && !*edited_path)
                *edited_path = o->path;
            v = CK_EDITED;
        }
    }
    return v;
}

const char *ckpt_verdict_name(enum ckpt_verdict v)
{
    switch (v) {
    case CK_NEW:
        return "new";
    case CK_CHANGED:
        return "request changed";
    case CK_MISSING:
        return "output missing";
    case CK_DONE:
        return "done";
    case CK_EDITED:
        return "edited";
    }
    return "?";
}

cJSON *ckpt_outputs_json(const struct ckpt_output *outs, size_t n_outs)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n_outs; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", outs[i].path);
        cJSON_AddNumberToObject(o, "bytes", (double)outs[i].bytes);
        cJSON_AddStringToObject(o, "sha256", outs[i].sha256);
        char mt[24];
        snprintf(mt, sizeof mt, "%lld", (long long)outs[i].mtime_ns);
        cJSON_AddStringToObject(o, "mtime_ns", mt);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}
