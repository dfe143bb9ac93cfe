/* report_sections: the parts of report.html around the scenes: the summary line, the stage
 * table (time, calls, tokens, cost), failures in the API's words, the inputs (the script), the
 * single-item outputs (the analysis), and the video when the job has one. */
#include "fsutil.h"
#include "jsonutil.h"
#include "report.h"
#include "textout.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#define DOC_SHOW_MAX (256 * 1024) /* bytes of a document shown in full */

static void add_duration(struct buf *b, double ms)
{
    char d[32];
    tx_duration(d, sizeof d, (int64_t)ms);
    html_esc(b, d);
}

static void add_time(struct buf *b, const char *ts)
{
    int64_t ms;
    char t[40];
    if (tx_parse_ts(ts, &ms) == 0) {
        tx_local_time(t, sizeof t, ms, true);
        html_esc(b, t);
    } else {
        buf_adds(b, "-");
    }
}

void report_summary(struct buf *b, const struct report_ctx *rc)
{
    const cJSON *st = rc->status;
    buf_adds(b, "<header>\n<h1>");
    html_esc(b, rc->job->name);
    buf_adds(b, "</h1>\n<p class=\"meta\">");
    html_badge(b, json_str(st, "state"));
    buf_adds(b, " workflow <b>");
    html_esc(b, json_str(st, "workflow"));
    buf_adds(b, "</b>");
    const cJSON *lr = json_field(st, "last_run");
    if (lr) {
        buf_adds(b, " · last run <b>");
        html_esc(b, json_str(lr, "state"));
        buf_adds(b, "</b> started ");
        add_time(b, json_str(lr, "started"));
        if (cJSON_IsNumber(json_field(lr, "ms"))) {
            buf_adds(b, ", took ");
            add_duration(b, json_num(lr, "ms", 0));
        }
    }
    buf_addf(b, " · <b>%.0f</b> calls · <b>%.0f</b> tokens · cost <b>", json_num(st, "calls", 0),
             json_num(st, "tokens", 0));
    report_job_cost(b, rc);
    buf_adds(b, "</b>");
    buf_adds(b, "</p>\n<nav><a href=\"#stages\">Stages</a><a href=\"#inputs\">Script</a>"
                "<a href=\"#documents\">Analysis</a><a href=\"#scenes\">Scenes</a></nav>\n"
                "</header>\n<main>\n");
}

static void stage_row(struct buf *b, const struct report_ctx *rc, const cJSON *s)
{
    buf_adds(b, "<tr><td>");
    html_esc(b, json_str(s, "name"));
    buf_adds(b, "</td><td>");
    html_esc(b, json_str(s, "kind"));
    buf_adds(b, "</td><td>");
    html_esc(b, json_str(s, "model"));
    const cJSON *sb;
    cJSON_ArrayForEach(sb, json_field(s, "served_by"))
    {
        buf_adds(b, "<br><span class=\"rerouted\">asked ");
        html_esc(b, json_str(sb, "model"));
        buf_adds(b, ", served by ");
        html_esc(b, json_str(sb, "served_by"));
        buf_addf(b, " (%.0f item%s)</span>", json_num(sb, "items", 0),
                 json_num(sb, "items", 0) == 1 ? "" : "s");
    }
    buf_adds(b, "</td><td>");
    html_badge(b, json_str(s, "state"));
    if (json_str(s, "after")) {
        buf_adds(b, " after ");
        html_esc(b, json_str(s, "after"));
    }
    buf_adds(b, "</td><td class=\"n\">");
    if (cJSON_IsNumber(json_field(s, "items")))
        buf_addf(b, "%.0f/%.0f", json_num(s, "done", 0), json_num(s, "items", 0));
    else
        buf_adds(b, "-");
    static const char *const notes[] = {"failed", "edited", "accepted", "paid_retries"};
    static const char *const words[] = {"failed", "edited", "accepted", "paid retries"};
    for (size_t i = 0; i < ARRAY_SIZE(notes); i++) {
        if (json_num(s, notes[i], 0) > 0)
            buf_addf(b, "<br><span class=\"%s\">%.0f %s</span>", notes[i], json_num(s, notes[i], 0),
                     words[i]);
    }
    buf_adds(b, "</td><td class=\"n\">");
    if (cJSON_IsNumber(json_field(s, "ms")))
        add_duration(b, json_num(s, "ms", 0));
    else
        buf_adds(b, "-");
    const cJSON *t = json_field(s, "tokens");
    buf_addf(b,
             "</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td>"
             "<td class=\"n\">%.0f</td><td class=\"n cost\">",
             json_num(s, "calls", 0), json_num(t, "prompt", 0), json_num(t, "output", 0),
             json_num(t, "total", 0));
    double usd;
    const char *why = NULL;
    if (!report_stage_cost(b, rc, s, &usd, &why) && why) {
        buf_adds(b, "<br><small>");
        html_esc(b, why);
        buf_adds(b, "</small>");
    }
    buf_adds(b, "</td></tr>\n");
}

void report_stages(struct buf *b, const struct report_ctx *rc)
{
    buf_adds(b, "<section id=\"stages\">\n<h2>Stages</h2>\n<table>\n<thead><tr><th>Stage</th>"
                "<th>Kind</th><th>Model</th><th>State</th><th>Items</th><th>Time</th>"
                "<th>Calls</th><th>Prompt tokens</th><th>Output tokens</th><th>Total tokens</th>"
                "<th>Cost</th></tr></thead>\n<tbody>\n");
    const cJSON *s;
    cJSON_ArrayForEach(s, json_field(rc->status, "stages")) stage_row(b, rc, s);
    buf_addf(b,
             "</tbody>\n</table>\n<p class=\"meta\">Time: the last time each stage ended. "
             "Calls and tokens: every call recorded in progress.jsonl, over %.0f run%s. "
             "Cost: those tokens at the prices of ",
             json_num(rc->status, "runs", 0), json_num(rc->status, "runs", 0) == 1 ? "" : "s");
    if (rc->prices_problem) {
        html_esc(b, rc->prices_problem);
    } else {
        html_esc(b, rc->prices->file);
        buf_adds(b, " (an estimate; a model without a price there has none)");
    }
    buf_adds(b, ".</p>\n</section>\n");
}

static void failure_block(struct buf *b, const char *stage, const cJSON *f)
{
    buf_adds(b, "<div class=\"fail\"><b>");
    html_esc(b, stage);
    buf_adds(b, "/");
    html_esc(b, json_str(f, "item"));
    buf_adds(b, "</b> ");
    if (json_num(f, "http_status", 0) > 0)
        buf_addf(b, "HTTP %.0f ", json_num(f, "http_status", 0));
    html_esc(b, json_str(f, "status"));
    if (json_str(f, "kind")) {
        buf_adds(b, " (");
        html_esc(b, json_str(f, "kind"));
        buf_adds(b, ")");
    }
    if (json_num(f, "attempts", 0) > 0)
        buf_addf(b, ", %.0f attempt%s", json_num(f, "attempts", 0),
                 json_num(f, "attempts", 0) == 1 ? "" : "s");
    static const char *const reasons[] = {"finish_reason", "block_reason"};
    for (size_t i = 0; i < ARRAY_SIZE(reasons); i++) {
        if (json_str(f, reasons[i])) {
            buf_addf(b, ", %s ", reasons[i]);
            html_esc(b, json_str(f, reasons[i]));
        }
    }
    buf_adds(b, "<div class=\"words\">");
    html_esc(b, json_str(f, "message"));
    buf_adds(b, "</div></div>\n");
}

void report_failures(struct buf *b, const struct report_ctx *rc)
{
    struct buf inner = BUF_INIT;
    const cJSON *s, *f;
    cJSON_ArrayForEach(s, json_field(rc->status, "stages"))
    {
        if (json_str(s, "error")) {
            buf_adds(&inner, "<div class=\"fail\"><b>");
            html_esc(&inner, json_str(s, "name"));
            buf_adds(&inner, "</b> cannot start<div class=\"words\">");
            html_esc(&inner, json_str(s, "error"));
            buf_adds(&inner, "</div></div>\n");
        }
        cJSON_ArrayForEach(f, json_field(s, "failures"))
            failure_block(&inner, json_str(s, "name"), f);
    }
    if (inner.len) {
        buf_adds(b, "<section id=\"failures\">\n<h2 class=\"failed\">Failures</h2>\n"
                    "<p class=\"meta\">In the API's own words. <code>gemflow inspect JOB STAGE "
                    "ITEM</code> shows the whole call.</p>\n");
        buf_add(b, inner.data, inner.len);
        buf_adds(b, "</section>\n");
    }
    buf_release(&inner);
}

void report_inputs(struct buf *b, const struct report_ctx *rc)
{
    const struct workflow *wf = &rc->job->wf;
    buf_adds(b, "<section id=\"inputs\">\n<h2>Script</h2>\n");
    for (size_t i = 0; i < wf->n_inputs; i++) {
        buf_adds(b, "<details open><summary>");
        html_esc(b, wf->inputs[i].path);
        buf_adds(b, "</summary>\n<pre>");
        const cJSON *v = rc->job->inputs[i];
        html_esc(b, cJSON_IsString(v) ? v->valuestring : "");
        buf_adds(b, "</pre></details>\n");
    }
    buf_adds(b, "</section>\n");
}

/* Top-level scalars of a JSON document as a definition list; arrays as their length. */
static void doc_facts(struct buf *b, const cJSON *v)
{
    if (!cJSON_IsObject(v))
        return;
    buf_adds(b, "<dl class=\"kv\">");
    const cJSON *c;
    cJSON_ArrayForEach(c, v)
    {
        buf_adds(b, "<dt>");
        html_esc(b, c->string);
        buf_adds(b, "</dt><dd>");
        if (cJSON_IsString(c))
            html_esc(b, c->valuestring);
        else if (cJSON_IsArray(c))
            buf_addf(b, "%d item%s", cJSON_GetArraySize(c), cJSON_GetArraySize(c) == 1 ? "" : "s");
        else {
            char *s = cJSON_PrintUnformatted(c);
            html_esc(b, s);
            free(s);
        }
        buf_adds(b, "</dd>");
    }
    buf_adds(b, "</dl>\n");
}

static void document(struct buf *b, const struct report_ctx *rc, size_t s)
{
    const struct stage_def *def = &rc->job->wf.stages[s];
    const struct item *it = &rc->job->st[s].items[0];
    char *path = fs_join(rc->job->dir, it->out_path);
    struct buf text = BUF_INIT;
    if (buf_read_file(&text, path) < 0) {
        free(path);
        return;
    }
    free(path);
    buf_adds(b, "<h3>");
    html_esc(b, def->name);
    buf_adds(b, " <small class=\"meta\">");
    html_esc(b, it->out_path);
    buf_adds(b, "</small> ");
    /* an edit the kind's check refuses is a failure, listed with the stage's */
    if (it->verdict == CK_EDITED)
        html_badge(b, it->input_error ? "failed" : "edited");
    else if (it->verdict != CK_DONE)
        buf_adds(b, "<span class=\"missing\">from an earlier request</span>");
    buf_adds(b, "</h3>\n");
    cJSON *v = def->kind->value == VALUE_JSON ? cJSON_ParseWithLength(text.data, text.len) : NULL;
    doc_facts(b, v);
    buf_adds(b, "<details><summary>the whole document</summary><pre>");
    if (v) {
        struct buf pretty = BUF_INIT;
        json_pretty(v, &pretty);
        buf_reset(&text);
        buf_add(&text, pretty.data, pretty.len);
        buf_release(&pretty);
    }
    if (text.len > DOC_SHOW_MAX)
        buf_setlen(&text, DOC_SHOW_MAX);
    html_esc(b, text.data);
    buf_adds(b, "</pre></details>\n");
    cJSON_Delete(v);
    buf_release(&text);
}

void report_documents(struct buf *b, const struct report_ctx *rc)
{
    buf_adds(b, "<section id=\"documents\">\n<h2>Analysis</h2>\n");
    const struct workflow *wf = &rc->job->wf;
    int shown = 0;
    for (size_t k = 0; k < wf->n_stages; k++) {
        size_t s = wf->order[k];
        const struct stage_def *def = &wf->stages[s];
        if (def->foreach || def->kind->value == VALUE_NONE || rc->job->st[s].n_items != 1)
            continue;
        document(b, rc, s);
        shown++;
    }
    if (!shown)
        buf_adds(b, "<p class=\"missing\">No analysis yet.</p>\n");
    buf_adds(b, "</section>\n");
}

static void find_video(void *val, void *ctx)
{
    const char **rel = ctx;
    const char *type = json_str(json_field(val, "media"), "type");
    const char *p = json_str(val, "path");
    if (!*rel && p && ((type && str_starts_with(type, "video/")) || str_ends_with(p, ".mp4")))
        *rel = p;
}

void report_video(struct buf *b, const struct report_ctx *rc)
{
    /* the video stage's artifact when the manifest knows one, else a plain video.mp4 */
    const char *rel = NULL;
    strmap_each(&rc->job->man.by_path, find_video, &rel);
    struct fs_facts facts;
    if (!rel && fs_stat(rc->job->dir, "video.mp4", &facts) == 0)
        rel = "video.mp4";
    if (!rel || fs_stat(rc->job->dir, rel, &facts) < 0)
        return;
    buf_adds(b, "<section id=\"video\">\n<h2>Video</h2>\n<video controls preload=\"metadata\" "
                "src=\"");
    html_rel_url(b, rel);
    buf_adds(b, "\"></video>\n<p class=\"meta\">");
    html_esc(b, rel);
    buf_addf(b, ", %lld bytes", (long long)facts.bytes);
    if (fs_stat(rc->job->dir, "subtitles.srt", &facts) == 0)
        buf_adds(b, " · subtitles: <a href=\"subtitles.srt\">subtitles.srt</a>");
    buf_adds(b, "</p>\n</section>\n");
}
