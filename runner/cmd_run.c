/* cmd_run: `gemflow run JOB...` and `gemflow rerun JOB [STAGE...]`. */
#include "cli.h"
#include "engine.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const struct option run_options[] = {
    {"set", required_argument, NULL, OPT_SET},
    {"workflow", required_argument, NULL, OPT_WORKFLOW},
    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
    {"api-key-file", required_argument, NULL, OPT_API_KEY_FILE},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {NULL, 0, NULL, 0},
};

static int parse(const char *cmd, int argc, char **argv, struct job_cli *jc)
{
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "qv", run_options, NULL)) != -1) {
        int r = opt == '?' ? 0 : job_cli_option(jc, opt, optarg);
        if (r == 1)
            continue;
        if (r < 0)
            return cli_usage_error(cmd, "--set needs KEY=VALUE, got '%s'", optarg);
        return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
    }
    return 0;
}

/* Open the jobs, then run them all on one engine. */
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
        struct diag_list dl = DIAG_LIST_INIT;
        if (job_open(&jobs[i], dirs[i], &jc->job, JOB_RUN, &dl, &err) < 0) {
            rc = cli_report_open_error(&dl, &err);
            diag_list_release(&dl);
            goto out;
        }
        diag_list_release(&dl);
        opened++;
    }
    struct engine_opts eo = {.api_key = key, .verbosity = jc->verbosity};
    struct engine *e = engine_new(&eo, &err);
    if (!e) {
        fprintf(stderr, "gemflow: %s\n", err.msg);
        rc = GF_EXIT_FAILED;
        goto out;
    }
    engine_install_signals();
    for (size_t i = 0; i < n_dirs; i++)
        engine_add_job(e, &jobs[i]);
    rc = engine_run(e);
    engine_free(e);
out:
    for (size_t i = 0; i < opened; i++)
        job_close(&jobs[i]);
    free(jobs);
    memset(key, 0, strlen(key));
    free(key);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    struct job_cli jc = {0};
    int rc = parse("run", argc, argv, &jc);
    if (rc == 0) {
        if (optind >= argc)
            rc = cli_usage_error("run", "no job given: gemflow run JOB...");
        else
            rc = run_jobs(&jc, argv + optind, (size_t)(argc - optind));
    }
    job_cli_release(&jc);
    return rc;
}

int cmd_rerun(int argc, char **argv)
{
    struct job_cli jc = {0};
    int rc = parse("rerun", argc, argv, &jc);
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
