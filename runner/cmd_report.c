/* cmd_report: `gemflow report JOB`: write JOB/report.html, one self-contained page about the
 * job (script, analysis, scenes with prompt, image and narration, stage times, tokens and cost,
 * failures in the API's words), its media referenced by relative path. */
#include "cli.h"
#include "fsutil.h"
#include "jsonutil.h"
#include "report.h"
#include "status.h"
#include "textout.h"
#include "util.h"

#include <unistd.h>
#include <stdio.h>
#include <string.h>

#define REPORT_FILE "report.html"

static void footer(struct buf *b, const struct report_ctx *rc)
{
    char now[40];
    now_rfc3339(now, sizeof now);
    buf_adds(b, "</main>\n<footer>Written by gemflow " GEMFLOW_VERSION " at ");
    html_esc(b, now);
    buf_adds(b, " from <code>progress.jsonl</code>, <code>manifest.json</code> and the "
                "artifacts of ");
    html_esc(b, rc->job->dir);
    buf_adds(b, ". Media are referenced by their path in the job directory; "
                "<code>gemflow status</code>, <code>gemflow log</code> and <code>gemflow "
                "inspect</code> tell the rest.</footer>\n");
}

void report_expand_from_disk(struct job *job, const struct look_stage *looks)
{
    for (size_t k = 0; k < job->wf.n_stages; k++) {
        size_t s = job->wf.order[k];
        const struct stage_def *def = &job->wf.stages[s];
        if (looks[s].state != LOOK_AFTER || job->st[s].items)
            continue;
        struct gf_err err = GF_ERR_INIT;
        int rc = 0;
        for (size_t d = 0; d < def->n_deps && rc == 0; d++)
            rc = job->st[def->deps[d]].items ? job_load_stage_value(job, def->deps[d], &err) : -1;
        if (rc == 0)
            job_expand_stage(job, s, &err);
    }
}

static void count_media(const char *html, int *images, int *audio)
{
    *images = *audio = 0;
    for (const char *p = html; (p = strstr(p, "<img ")); p++)
        (*images)++;
    for (const char *p = html; (p = strstr(p, "<audio ")); p++)
        (*audio)++;
}

static int write_report(struct job *job, struct gf_err *err)
{
    struct job_facts facts;
    if (jobfacts_load(&facts, job->dir, err) < 0)
        return -1;
    struct look_stage *looks = xcalloc(job->wf.n_stages, sizeof *looks);
    look_job(job, looks);
    cJSON *status = status_job_json(job, looks, &facts);
    report_expand_from_disk(job, looks);
    struct prices prices;
    struct diag_list dl = DIAG_LIST_INIT;
    char *problem = NULL;
    if (prices_load_for_job(&prices, job->dir, NULL, &dl) < 0) {
        prices_release(&prices); /* what was read of a malformed table */
        memset(&prices, 0, sizeof prices);
        problem = dl.n ? diag_format(&dl.v[0]) : xstrdup("the price table cannot be read");
    } else if (!prices.file) {
        problem = xstrdup("no price table (workflows/prices.yaml or JOB/prices.yaml)");
    }
    diag_list_release(&dl);
    struct report_ctx rc = {job, looks, &facts, status, &prices, problem};
    struct buf b = BUF_INIT;
    char *title = xasprintf("%s · gemflow report", job->name);
    html_page_start(&b, title);
    free(title);
    report_summary(&b, &rc);
    report_stages(&b, &rc);
    report_failures(&b, &rc);
    report_video(&b, &rc);
    report_inputs(&b, &rc);
    report_documents(&b, &rc);
    report_scenes(&b, &rc);
    footer(&b, &rc);
    html_page_end(&b);
    int rc_write = fs_write_atomic(job->dir, REPORT_FILE, b.data, b.len, FS_ATOMIC, NULL, err);
    if (rc_write == 0) {
        int images, audio;
        count_media(b.data, &images, &audio);
        printf("wrote %s/%s: %d image%s, %d audio clip%s, job %s\n", job->dir, REPORT_FILE, images,
               images == 1 ? "" : "s", audio, audio == 1 ? "" : "s", json_str(status, "state"));
    }
    buf_release(&b);
    prices_release(&prices);
    free(problem);
    cJSON_Delete(status);
    look_release(job, looks);
    free(looks);
    jobfacts_release(&facts);
    return rc_write;
}

int cmd_report(int argc, char **argv)
{
    struct job_cli jc = {0};
    int rc = cli_parse("report", argc, argv, &jc, NULL, NULL);
    if (rc)
        goto out;
    if (optind >= argc) {
        rc = cli_usage_error("report", "no job given: gemflow report JOB...");
        goto out;
    }
    for (int i = optind; i < argc; i++) {
        struct job job;
        struct gf_err err = GF_ERR_INIT;
        int orc = cli_open_job(&job, argv[i], &jc.job, JOB_LOOK, &err);
        if (orc) {
            rc = orc;
            continue;
        }
        if (write_report(&job, &err) < 0) {
            fprintf(stderr, "gemflow: %s\n", err.msg);
            rc = GF_EXIT_FAILED;
        }
        job_close(&job);
    }
out:
    job_cli_release(&jc);
    return rc;
}
