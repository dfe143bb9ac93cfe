/* cmd_run: `gemflow run JOB...` and `gemflow rerun JOB [STAGE...]`; what they print while the
 * jobs run is the display's (live bars on a terminal, plain lines elsewhere). */
#include "cli.h"
#include "cost.h"
#include "display.h"
#include "engine.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A job with a budget (--max-cost, limits.max_cost) whose estimate is over it does not start
 * (exit 2, nothing called); the engine checks again as each stage's items become known. */
static int check_budget(const struct job_cli *jc, const struct job *job, const char *dir)
{
    if (job->wf.max_cost == 0)
        return 0;
    struct gf_err err = GF_ERR_INIT;
    int rc = cost_check_budget(dir, &jc->job, job->wf.max_cost, &err);
    if (rc)
        fprintf(stderr, "gemflow: %s\n", err.msg);
    return rc;
}

/* Open the jobs, then run them all on one engine, the display following them. */
static int run_jobs(struct job_cli *jc, char **dirs, size_t n_dirs)
{
    struct gf_err err = GF_ERR_INIT;
    /* The key first: without one nothing else happens. */
    char *key = cli_api_key(jc->api_key_file, &err);
    if (!key) {
        fprintf(stderr, "gemflow: %s\n", err.msg);
        return GF_EXIT_USAGE;
    }
    struct job *jobs = xcalloc(n_dirs, sizeof *jobs);
    size_t opened = 0;
    int rc = GF_EXIT_OK;
    for (size_t i = 0; i < n_dirs; i++) {
        if ((rc = cli_open_job(&jobs[i], dirs[i], &jc->job, JOB_RUN, &err)) != 0)
            goto out;
        opened++;
        if ((rc = check_budget(jc, &jobs[i], dirs[i])) != 0)
            goto out;
    }
    struct engine_opts eo = {.api_key = key,
                             .verbosity = jc->verbosity,
                             .share_concurrency = true,
                             .quota_dir = jc->quota_dir,
                             .no_wait_quota = jc->no_wait_quota};
    struct engine *e = engine_new(&eo, &err);
    if (!e) {
        fprintf(stderr, "gemflow: %s\n", err.msg);
        rc = GF_EXIT_FAILED;
        goto out;
    }
    engine_install_signals(e);
    struct display_opts dopts = {
        .fd = STDERR_FILENO, .verbosity = jc->verbosity, .color = jc->color};
    struct display *d = display_new(&dopts);
    struct engine_hooks hooks = {0};
    display_hooks(d, &hooks);
    engine_set_hooks(e, &hooks);
    display_watch_signals(d, engine_loop(e));
    for (size_t i = 0; i < n_dirs; i++)
        engine_add_job(e, &jobs[i]);
    rc = engine_run(e);
    engine_set_hooks(e, &(struct engine_hooks){0});
    display_free(d);
    engine_free(e);
out:
    for (size_t i = 0; i < opened; i++)
        job_close(&jobs[i]);
    free(jobs);
    cli_api_key_free(key);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    struct job_cli jc = {0};
    int rc = cli_parse("run", argc, argv, &jc, NULL, NULL);
    if (rc == 0) {
        if (optind >= argc)
            rc = cli_usage_error("run", "no job given: gemflow run JOB...");
        else if ((rc = cli_jobs_distinct("run", argv + optind, (size_t)(argc - optind))) == 0)
            rc = run_jobs(&jc, argv + optind, (size_t)(argc - optind));
    }
    job_cli_release(&jc);
    return rc;
}

int cmd_rerun(int argc, char **argv)
{
    struct job_cli jc = {0};
    int rc = cli_parse("rerun", argc, argv, &jc, NULL, NULL);
    if (rc == 0) {
        if (optind >= argc) {
            rc = cli_usage_error("rerun", "no job given: gemflow rerun JOB [STAGE...]");
        } else {
            jc.job.rerun = (const char *const *)argv + optind + 1;
            jc.job.n_rerun = (size_t)(argc - optind - 1);
            rc = run_jobs(&jc, argv + optind, 1);
        }
    }
    job_cli_release(&jc);
    return rc;
}
