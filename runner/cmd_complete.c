/* cmd_complete: `gemflow __complete stages JOB`, `gemflow __complete items JOB STAGE` and
 * `gemflow __complete options COMMAND`, one name per line, for the shell completion
 * (contrib/gemflow.bash-completion). Hidden from the help; silent on errors (a completion must
 * not print into the user's command line). */
#include "cli.h"
#include "look.h"
#include "report.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

int cmd_complete(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "options") == 0)
        return cli_print_options(argv[2], stdout) < 0 ? GF_EXIT_USAGE : GF_EXIT_OK;
    if (argc < 3 || (strcmp(argv[1], "stages") != 0 && strcmp(argv[1], "items") != 0))
        return GF_EXIT_USAGE;
    bool items = strcmp(argv[1], "items") == 0;
    if (items && argc < 4)
        return GF_EXIT_USAGE;
    struct job job;
    struct job_opts opts = {0};
    struct diag_list dl = DIAG_LIST_INIT;
    struct gf_err err = GF_ERR_INIT;
    int rc = job_open(&job, argv[2], &opts, JOB_LOOK, &dl, &err);
    diag_list_release(&dl);
    if (rc < 0)
        return GF_EXIT_FAILED;
    if (!items) {
        for (size_t k = 0; k < job.wf.n_stages; k++)
            printf("%s\n", job.wf.stages[job.wf.order[k]].name);
        job_close(&job);
        return GF_EXIT_OK;
    }
    int s = workflow_stage_index(&job.wf, argv[3]);
    if (s < 0) {
        job_close(&job);
        return GF_EXIT_FAILED;
    }
    struct look_stage *looks = xcalloc(job.wf.n_stages, sizeof *looks);
    look_job(&job, looks);
    report_expand_from_disk(&job, looks); /* item ids from what is on disk, too */
    for (size_t i = 0; i < job.st[s].n_items; i++)
        printf("%s\n", job.st[s].items[i].id);
    look_release(&job, looks);
    free(looks);
    job_close(&job);
    return GF_EXIT_OK;
}
