/* report_scenes: one card per foreach element ("scene"), gathering every foreach stage's item of
 * that id: image stages put their picture on the left and their prompt on the right, speech
 * stages their text and an audio player; failed, edited, accepted and outdated items say so. */
#include "fsutil.h"
#include "jobfacts.h"
#include "jsonutil.h"
#include "report.h"
#include "strmap.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

/* The foreach element behind an item (borrowed), or NULL. */
static const cJSON *element_of(const struct job *job, const struct item *it)
{
    const struct stage_def *def = &job->wf.stages[it->stage];
    const cJSON *v = job->st[def->foreach_stage].value;
    for (size_t i = 0; v && i < def->n_foreach_segs; i++) {
        const char *seg = def->foreach_segs[i];
        if (cJSON_IsArray(v)) {
            char *end;
            long k = strtol(seg, &end, 10);
            v = *end ? NULL : cJSON_GetArrayItem(v, (int)k);
        } else {
            v = cJSON_GetObjectItemCaseSensitive(v, seg);
        }
    }
    return cJSON_IsArray(v) && it->index > 0 ? cJSON_GetArrayItem(v, it->index - 1) : NULL;
}

static bool item_done(const struct item *it)
{
    return !it->input_error && (it->verdict == CK_DONE || it->verdict == CK_EDITED);
}

/* The label over a cell; `marks`: with the edited/accepted badges (once per item). */
static void label(struct buf *b, const struct report_ctx *rc, const struct item *it,
                  const char *what, bool marks)
{
    const struct stage_def *def = &rc->job->wf.stages[it->stage];
    buf_adds(b, "<div class=\"label\">");
    html_esc(b, def->name);
    if (what) {
        buf_adds(b, " ");
        html_esc(b, what);
    }
    buf_adds(b, " · ");
    html_esc(b, def->model);
    const struct ckpt_item *ci = ckpt_get(&rc->job->ck, def->name, it->id);
    if (marks && item_done(it) && it->verdict == CK_EDITED) {
        buf_adds(b, " ");
        html_badge(b, "edited");
    }
    if (marks && item_done(it) && ci && ci->accepted) {
        buf_adds(b, " ");
        html_badge(b, "accepted");
    }
    buf_adds(b, "</div>\n");
}

/* What is wrong with an item that is not done: its failure in the API's words, or why it
 * would be called. */
static void not_done(struct buf *b, const struct report_ctx *rc, const struct item *it)
{
    const struct stage_def *def = &rc->job->wf.stages[it->stage];
    const char *failed = it->input_error ? it->input_error : look_failed_last(rc->job, it);
    if (failed) {
        const cJSON *ev = jobfacts_failure(rc->facts, def->name, it->id);
        const cJSON *e = json_field(ev, "error");
        buf_adds(b, "<div class=\"fail\">");
        html_badge(b, "failed");
        if (!it->input_error && json_num(e, "http_status", 0) > 0)
            buf_addf(b, " HTTP %.0f", json_num(e, "http_status", 0));
        if (!it->input_error && json_str(e, "status")) {
            buf_adds(b, " ");
            html_esc(b, json_str(e, "status"));
        }
        buf_adds(b, "<div class=\"words\">");
        html_esc(b, it->input_error || !json_str(e, "message") ? failed : json_str(e, "message"));
        buf_adds(b, "</div></div>\n");
        return;
    }
    buf_adds(b, "<p class=\"missing\">not generated for this request yet (");
    html_esc(b, ckpt_verdict_name(it->verdict));
    buf_adds(b, ")</p>\n");
}

/* An artifact that exists on disk, even when it is from an earlier request. */
static bool on_disk(const struct report_ctx *rc, const struct item *it)
{
    struct fs_facts f;
    return it->out_path && fs_stat(rc->job->dir, it->out_path, &f) == 0;
}

static void image_cell(struct buf *b, const struct report_ctx *rc, const struct item *it)
{
    buf_adds(b, "<figure class=\"cell\" style=\"margin:0\">\n");
    label(b, rc, it, NULL, true);
    if (on_disk(rc, it) && !it->input_error) {
        buf_adds(b, "<img src=\"");
        html_rel_url(b, it->out_path);
        buf_adds(b, "\" alt=\"");
        html_esc(b, it->prompt);
        buf_adds(b, "\">\n");
        if (!item_done(it))
            buf_adds(b, "<p class=\"missing\">from an earlier request</p>\n");
    }
    if (!item_done(it))
        not_done(b, rc, it);
    buf_adds(b, "</figure>\n");
}

static void text_cell(struct buf *b, const struct report_ctx *rc, const struct item *it)
{
    const struct stage_def *def = &rc->job->wf.stages[it->stage];
    buf_adds(b, "<div class=\"cell\">\n");
    enum stage_media_kind media = def->kind->media;
    label(b, rc, it, def->kind->input_label, media != MEDIA_IMAGE);
    buf_adds(b, "<p class=\"text\">");
    html_esc(b, it->prompt);
    buf_adds(b, "</p>\n");
    if ((media == MEDIA_AUDIO || media == MEDIA_VIDEO) && on_disk(rc, it) && !it->input_error) {
        const char *tag = media == MEDIA_AUDIO ? "audio" : "video";
        buf_addf(b, "<%s controls preload=\"metadata\" src=\"", tag);
        html_rel_url(b, it->out_path);
        buf_addf(b, "\"></%s>\n", tag);
        if (!item_done(it))
            buf_addf(b, "<p class=\"missing\">%s from an earlier request</p>\n", tag);
    } else if (media == MEDIA_TEXT && item_done(it)) {
        buf_adds(b, "<p><a href=\"");
        html_rel_url(b, it->out_path);
        buf_adds(b, "\">");
        html_esc(b, it->out_path);
        buf_adds(b, "</a></p>\n");
    }
    if (media != MEDIA_IMAGE && !item_done(it))
        not_done(b, rc, it);
    buf_adds(b, "</div>\n");
}

/* The foreach stages whose items are known, in workflow order. */
static size_t scene_stages(const struct report_ctx *rc, size_t *out)
{
    size_t n = 0;
    const struct workflow *wf = &rc->job->wf;
    for (size_t k = 0; k < wf->n_stages; k++) {
        size_t s = wf->order[k];
        if (wf->stages[s].foreach && rc->job->st[s].n_items > 0)
            out[n++] = s;
    }
    return n;
}

static const struct item *find(const struct stage_run *sr, const char *id)
{
    for (size_t i = 0; i < sr->n_items; i++) {
        if (strcmp(sr->items[i].id, id) == 0)
            return &sr->items[i];
    }
    return NULL;
}

static void scene(struct buf *b, const struct report_ctx *rc, const char *id, const size_t *stages,
                  size_t n_stages)
{
    const char *title = NULL;
    for (size_t k = 0; k < n_stages && !title; k++) {
        const struct item *it = find(&rc->job->st[stages[k]], id);
        title = it ? json_str(element_of(rc->job, it), "title") : NULL;
    }
    buf_adds(b, "<article class=\"scene\" id=\"scene-");
    html_esc(b, id);
    buf_adds(b, "\">\n<h3>");
    html_esc(b, id);
    if (title) {
        buf_adds(b, " · ");
        html_esc(b, title);
    }
    buf_adds(b, "</h3>\n<div class=\"visual\">\n");
    for (size_t k = 0; k < n_stages; k++) {
        const struct item *it = find(&rc->job->st[stages[k]], id);
        if (it && rc->job->wf.stages[stages[k]].kind->media == MEDIA_IMAGE)
            image_cell(b, rc, it);
    }
    buf_adds(b, "</div>\n<div class=\"texts\">\n");
    for (size_t k = 0; k < n_stages; k++) {
        const struct item *it = find(&rc->job->st[stages[k]], id);
        if (it)
            text_cell(b, rc, it);
    }
    buf_adds(b, "</div>\n</article>\n");
}

void report_scenes(struct buf *b, const struct report_ctx *rc)
{
    size_t *stages = xcalloc(rc->job->wf.n_stages + 1, sizeof *stages);
    size_t n_stages = scene_stages(rc, stages);
    /* scene ids in the order they first appear */
    struct strmap seen = STRMAP_INIT;
    const char **ids = NULL;
    size_t n_ids = 0, cap = 0;
    for (size_t k = 0; k < n_stages; k++) {
        const struct stage_run *sr = &rc->job->st[stages[k]];
        for (size_t i = 0; i < sr->n_items; i++) {
            if (!strmap_get(&seen, sr->items[i].id)) {
                strmap_put(&seen, sr->items[i].id, (void *)sr->items[i].id);
                *VEC_PUSH(ids, n_ids, cap) = sr->items[i].id;
            }
        }
    }
    buf_addf(b, "<section id=\"scenes\">\n<h2>Scenes</h2>\n");
    if (!n_ids)
        buf_adds(b,
                 "<p class=\"missing\">No scenes yet: their stages wait for the analysis.</p>\n");
    for (size_t i = 0; i < n_ids; i++)
        scene(b, rc, ids[i], stages, n_stages);
    buf_adds(b, "</section>\n");
    free(ids);
    strmap_release(&seen);
    free(stages);
}
