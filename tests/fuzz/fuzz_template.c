/* fuzz_template: compiling arbitrary template text (tmpl_compile, under three kinds of origin)
 * and rendering it (tmpl_render, plain and as an output path) against data from the input.
 * Input: TEMPLATE, optionally followed by a NUL byte and a JSON object whose members are the
 * names templates can use ({"item": {...}, "analysis": {...}}); without one a fixed object is
 * used. Invariants: a rendered output path is a safe relative path that is not one of gemflow's
 * own files, and a failed render leaves the output buffer as it was. */
#include "fuzz.h"
#include "fsutil.h"
#include "template.h"

#include <string.h>

static const char default_data[] =
    "{\"script\": \"SCENE 1\\nA lighthouse.\\n\\nSCENE 2\\nA storm.\","
    " \"item\": {\"id\": \"s01\", \"image_prompt\": \"a lighthouse at dawn\", \"mood\": \"calm\","
    " \"n\": 3, \"tags\": [\"a\", \"b\"], \"deep\": {\"x\": [1, {\"y\": null}]}, \"dots\": "
    "\"../..\","
    " \"slash\": \"/etc/x\", \"empty\": \"\", \"long\": \"" /* 130 bytes: over the 120 limit */
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"},"
    " \"item_index\": 1,"
    " \"analysis\": {\"title\": \"Gull Point\", \"scenes\": [{\"id\": \"s01\"}, {\"id\": "
    "\"s02\"}]}}";

static const cJSON *resolve(void *ctx, const char *root)
{
    return cJSON_GetObjectItemCaseSensitive(ctx, root);
}

static bool reserved(const char *path)
{
    static const char *const names[] = {"progress.jsonl", "manifest.json", "workflow.yaml",
                                        "report.html", ".gemflow"};
    size_t n = strcspn(path, "/");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strlen(names[i]) == n && strncmp(path, names[i], n) == 0)
            return true;
    return false;
}

static void render_both(const struct tmpl *t, cJSON *data)
{
    struct buf out = BUF_INIT;
    buf_adds(&out, "prefix");
    struct gf_err err = GF_ERR_INIT;
    if (tmpl_render(t, resolve, data, 0, &out, &err) < 0) {
        FUZZ_CHECK(out.len == 6 && err.msg[0]);
    }
    buf_release(&out);

    struct buf path = BUF_INIT;
    if (tmpl_render(t, resolve, data, TMPL_PATH, &path, &err) == 0) {
        FUZZ_CHECK(strlen(path.data) == path.len);
        FUZZ_CHECK(fs_rel_is_safe(path.data));
        FUZZ_CHECK(!reserved(path.data));
    } else {
        FUZZ_CHECK(path.len == 0 && err.msg[0]);
    }
    buf_release(&path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t tlen = nul ? (size_t)(nul - data) : size;
    char *text = malloc(tlen + 1);
    if (!text)
        abort();
    memcpy(text, data, tlen);
    text[tlen] = '\0';
    cJSON *values = NULL;
    if (nul)
        values = cJSON_ParseWithLength((const char *)nul + 1, size - tlen - 1);
    if (!cJSON_IsObject(values)) {
        cJSON_Delete(values);
        values = cJSON_Parse(default_data);
    }
    FUZZ_CHECK(values != NULL);

    const struct tmpl_origin origins[] = {
        {"prompt.md", 1, 1, 0, false}, /* a prompt file */
        {"wf.yaml", 12, 5, 6, false},  /* a block scalar */
        {"wf.yaml", 30, 13, 0, true},  /* a quoted scalar */
    };
    for (size_t o = 0; o < 3; o++) {
        struct tmpl *t = NULL;
        struct diag_list dl = DIAG_LIST_INIT;
        if (tmpl_compile(text, &origins[o], &t, &dl) == 0) {
            FUZZ_CHECK(t != NULL && dl.n == 0);
            FUZZ_CHECK(strcmp(tmpl_source(t), text) == 0);
            for (size_t i = 0; i < tmpl_ref_count(t); i++) {
                const struct tmpl_ref *r = tmpl_ref_at(t, i);
                FUZZ_CHECK(r->root && r->root[0] && r->line >= 1 && r->col >= 1);
            }
            render_both(t, values);
            tmpl_free(t);
        } else {
            FUZZ_CHECK(t == NULL && dl.n > 0);
            for (size_t i = 0; i < dl.n; i++) {
                FUZZ_CHECK(dl.v[i].line >= 1);
                free(diag_format(&dl.v[i]));
            }
        }
        diag_list_release(&dl);
    }
    char *safe = tmpl_sanitize_component(text);
    FUZZ_CHECK(safe[0] != '.' && !strchr(safe, '/'));
    free(safe);
    struct buf v = BUF_INIT;
    tmpl_render_value(values, &v);
    buf_release(&v);
    cJSON_Delete(values);
    free(text);
    return 0;
}
