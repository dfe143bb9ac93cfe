/* cmd_plan: `gemflow plan JOB...`: what a run would call, and why, without calling. */
#include "cli.h"
#include "look.h"
#include "util.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const struct option plan_options[] = {
    {"set", required_argument, NULL, OPT_SET},
    {"workflow", required_argument, NULL, OPT_WORKFLOW},
    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
    {NULL, 0, NULL, 0},
};

static const char *why(const struct job *job, const struct item *it)
{
    if (it->input_error)
        return it->input_error;
    if (look_failed_last(job, it))
        return "failed last time";
    return ckpt_verdict_name(it->verdict);
}

static void print_plan(struct job *job, struct look_stage *looks)
{
    const struct workflow *wf = &job->wf;
    printf("job %s (workflow %s, endpoint %s)\n", job->dir, wf->name ? wf->name : wf->path,
           job->endpoint);
    size_t now = 0, later = 0;
    bool unknown = false;
    for (size_t k = 0; k < wf->n_stages; k++) {
        size_t s = wf->order[k];
        const struct stage_def *def = &wf->stages[s];
        const struct look_stage *ls = &looks[s];
        printf("  %-12s %-7s %-32s ", def->name, stage_kind_name(def->kind), def->model);
        switch (ls->state) {
        case LOOK_AFTER:
            if (ls->expected)
                printf("after %s (about %zu item%s)\n", ls->after, ls->expected,
                       ls->expected == 1 ? "" : "s");
            else
                printf("after %s\n", ls->after);
            later += ls->expected;
            unknown |= ls->expected == 0;
            continue;
        case LOOK_ERROR:
            printf("cannot start: %s\n", ls->error);
            continue;
        default:
            break;
        }
        printf("%zu item%s: %zu cached", ls->n_items, ls->n_items == 1 ? "" : "s", ls->n_cached);
        if (ls->n_edited)
            printf(" (%zu edited)", ls->n_edited);
        printf(", %zu to call\n", ls->n_call);
        now += ls->n_call;
        const struct stage_run *sr = &job->st[s];
        for (size_t i = 0; i < sr->n_items; i++) {
            const struct item *it = &sr->items[i];
            if (it->verdict == CK_EDITED && !it->input_error)
                printf("      %-16s edited by hand: kept (gemflow rerun regenerates it)\n", it->id);
            if (!it->input_error && (it->verdict == CK_DONE || it->verdict == CK_EDITED))
                continue;
            printf("      %-16s %s\n", it->id, why(job, it));
        }
    }
    if (later && !unknown)
        printf("calls: %zu now, about %zu more once upstream stages are done\n", now, later);
    else if (later || unknown)
        printf("calls: %zu now, and more once upstream stages are done (their items are not "
               "known yet)\n",
               now);
    else
        printf("calls: %zu\n", now);
}

int cmd_plan(int argc, char **argv)
{
    struct job_cli jc = {0};
    optind = 1;
    opterr = 0;
    int opt, rc = GF_EXIT_OK;
    while ((opt = getopt_long(argc, argv, "", plan_options, NULL)) != -1) {
        int r = opt == '?' ? 0 : job_cli_option(&jc, opt, optarg);
        if (r != 1) {
            rc = cli_usage_error("plan", "bad option '%s'", argv[optind - 1]);
            goto out;
        }
    }
    if (optind >= argc) {
        rc = cli_usage_error("plan", "no job given: gemflow plan JOB...");
        goto out;
    }
    for (int i = optind; i < argc; i++) {
        struct job job;
        struct diag_list dl = DIAG_LIST_INIT;
        struct gf_err err = GF_ERR_INIT;
        if (job_open(&job, argv[i], &jc.job, JOB_LOOK, &dl, &err) < 0) {
            rc = cli_report_open_error(&dl, &err);
            diag_list_release(&dl);
            continue;
        }
        diag_list_release(&dl);
        struct look_stage *looks = xcalloc(job.wf.n_stages, sizeof *looks);
        look_job(&job, looks);
        print_plan(&job, looks);
        look_release(&job, looks);
        free(looks);
        job_close(&job);
    }
out:
    job_cli_release(&jc);
    return rc;
}
