/* manifest: the artifact list of a job, kept in memory and written atomically. */
#include "manifest.h"
#include "buf.h"
#include "fsutil.h"
#include "jsonutil.h"
#include "util.h"

#include <string.h>

void manifest_load(struct manifest *m, const char *job_dir)
{
    memset(m, 0, sizeof *m);
    char *path = fs_join(job_dir, "manifest.json");
    struct buf b = BUF_INIT;
    if (buf_read_file(&b, path) == 0) {
        cJSON *root = cJSON_ParseWithLength(b.data, b.len);
        cJSON *arts = cJSON_GetObjectItemCaseSensitive(root, "artifacts");
        /* Entries are moved out of the parsed tree, not copied. */
        cJSON *e = cJSON_IsArray(arts) ? arts->child : NULL;
        while (e) {
            cJSON *next = e->next;
            const char *p = json_str(e, "path");
            if (p && fs_rel_is_safe(p))
                manifest_put(m, cJSON_DetachItemViaPointer(arts, e));
            e = next;
        }
        cJSON_Delete(root);
        m->dirty = false;
    }
    buf_release(&b);
    free(path);
}

cJSON *manifest_entry_new(const char *path, const char *sha256, int64_t bytes, const char *stage,
                          const char *item, const char *key, const char *model, const char *prompt,
                          const char *created, const cJSON *media, const cJSON *tokens)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "path", path);
    cJSON_AddStringToObject(m, "sha256", sha256);
    json_add_i64(m, "bytes", bytes);
    cJSON_AddStringToObject(m, "stage", stage);
    cJSON_AddStringToObject(m, "item", item);
    cJSON_AddStringToObject(m, "key", key);
    json_add_str_or_null(m, "model", model);
    json_add_str_or_null(m, "prompt", prompt);
    json_add_str_or_null(m, "created", created && created[0] ? created : NULL);
    cJSON_AddItemToObject(m, "media", media ? cJSON_Duplicate(media, 1) : cJSON_CreateNull());
    if (tokens)
        cJSON_AddItemToObject(m, "tokens", cJSON_Duplicate(tokens, 1));
    cJSON_AddBoolToObject(m, "edited", false);
    return m;
}

void manifest_put(struct manifest *m, cJSON *entry)
{
    const char *p = json_str(entry, "path");
    if (!p) {
        cJSON_Delete(entry);
        return;
    }
    cJSON *old = strmap_put(&m->by_path, p, entry);
    cJSON_Delete(old);
    m->dirty = true;
}

cJSON *manifest_get(const struct manifest *m, const char *path)
{
    return strmap_get(&m->by_path, path);
}

void manifest_set_edited(struct manifest *m, const char *path, bool edited)
{
    cJSON *e = manifest_get(m, path);
    if (!e)
        return;
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(e, "edited");
    if (cur && cJSON_IsTrue(cur) == edited)
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(e, "edited");
    cJSON_AddBoolToObject(e, "edited", edited);
    m->dirty = true;
}

struct collect {
    cJSON **v;
    size_t n;
};

static void collect_one(void *val, void *ctx)
{
    struct collect *c = ctx;
    c->v[c->n++] = val;
}

static int by_path(const void *a, const void *b)
{
    return strcmp(json_str(*(cJSON *const *)a, "path"), json_str(*(cJSON *const *)b, "path"));
}

int manifest_write(struct manifest *m, const char *job_dir, const char *job_name,
                   const char *workflow_name, struct gf_err *err)
{
    if (!m->dirty)
        return 0;
    struct collect c = {xcalloc(m->by_path.n + 1, sizeof(cJSON *)), 0};
    strmap_each(&m->by_path, collect_one, &c);
    qsort(c.v, c.n, sizeof *c.v, by_path);
    /* Build the document around borrowed entries, print, then detach them again. */
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddStringToObject(root, "job", job_name);
    cJSON_AddStringToObject(root, "workflow", workflow_name);
    char ts[40];
    now_rfc3339(ts, sizeof ts);
    cJSON_AddStringToObject(root, "updated", ts);
    cJSON *arts = cJSON_AddArrayToObject(root, "artifacts");
    for (size_t i = 0; i < c.n; i++)
        cJSON_AddItemReferenceToArray(arts, c.v[i]);
    struct buf out = BUF_INIT;
    json_pretty(root, &out);
    cJSON_Delete(root); /* references only: the entries stay in the map */
    free(c.v);
    int rc = fs_write_atomic(job_dir, "manifest.json", out.data, out.len, FS_DURABLE, NULL, err);
    buf_release(&out);
    if (rc == 0)
        m->dirty = false;
    return rc;
}

static void free_entry(void *val, void *ctx)
{
    cJSON_Delete(val);
}

void manifest_release(struct manifest *m)
{
    strmap_each(&m->by_path, free_entry, NULL);
    strmap_release(&m->by_path);
}
