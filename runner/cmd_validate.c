/* cmd_validate: `gemflow validate WORKFLOW|JOB`: load a workflow and report every problem. */
#include "cli.h"
#include "fsutil.h"
#include "util.h"

#include <unistd.h>
#include <stdio.h>

int cmd_validate(int argc, char **argv)
{
    struct job_cli jc = {0};
    int prc = cli_parse("validate", argc, argv, &jc, NULL, NULL);
    if (prc) {
        job_cli_release(&jc);
        return prc;
    }
    if (optind + 1 != argc) {
        job_cli_release(&jc);
        return cli_usage_error("validate", "give one workflow file or job directory");
    }
    if (jc.job.wf.workflow_path && jc.job.wf.trust == WF_TRUST_ALL) {
        job_cli_release(&jc);
        return cli_usage_error("validate", "--workflow goes with --allow-job-workflows (the "
                                           "watcher's workflow a drop's workflow.yaml uses)");
    }
    const char *target = argv[optind];
    struct workflow wf;
    struct diag_list dl = DIAG_LIST_INIT;
    int rc = fs_is_dir(target) ? workflow_load_job(&wf, target, &jc.job.wf, &dl)
                               : workflow_load_file(&wf, target, &jc.job.wf, &dl);
    for (size_t i = 0; i < dl.n; i++) {
        char *s = diag_format(&dl.v[i]);
        fprintf(stderr, "%s\n", s);
        free(s);
    }
    int exit_code = GF_EXIT_OK;
    if (rc < 0) {
        fprintf(stderr, "gemflow: %zu error%s in '%s'\n", dl.n, dl.n == 1 ? "" : "s", target);
        exit_code = GF_EXIT_USAGE;
    } else {
        for (size_t i = 0; i < wf.warnings.n; i++) {
            char *w = diag_format(&wf.warnings.v[i]);
            fprintf(stderr, "%s\n", w);
            free(w);
        }
        printf("%s: valid workflow '%s' with %zu stages:", wf.path, wf.name ? wf.name : "",
               wf.n_stages);
        for (size_t k = 0; k < wf.n_stages; k++) {
            const struct stage_def *d = &wf.stages[wf.order[k]];
            printf("%s %s (%s, %s", k ? "," : "", d->name, d->kind->name, d->model);
            for (size_t i = 0; i < d->n_deps; i++)
                printf("%s%s", i ? " " : "; after ", wf.stages[d->deps[i]].name);
            printf(")");
        }
        printf("\n");
        for (size_t k = 0; k < wf.n_off; k++)
            printf("%s: stage '%s' is disabled (enabled: false)%s%s\n", wf.path, wf.off[k].name,
                   wf.off[k].note ? ": " : "", wf.off[k].note ? wf.off[k].note : "");
        workflow_release(&wf);
    }
    diag_list_release(&dl);
    job_cli_release(&jc);
    return exit_code;
}
