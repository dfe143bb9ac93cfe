/* cmd_run: `gemflow run JOB...` and `gemflow rerun JOB [STAGE...]`; what they print while the
 * jobs run is the display's (live bars on a terminal, plain lines elsewhere). */
#include "cli.h"
#include "display.h"
#include "engine.h"
#include "util.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { OPT_COLOR = 0x200, OPT_NO_COLOR };

static const struct option run_options[] = {
    {"set", required_argument, NULL, OPT_SET},
    {"workflow", required_argument, NULL, OPT_WORKFLOW},
    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
    {"api-key-file", required_argument, NULL, OPT_API_KEY_FILE},
    {"no-model-check", no_argument, NULL, OPT_NO_MODEL_CHECK},
    {"strict-models", no_argument, NULL, OPT_STRICT_MODELS},
    {"tier", required_argument, NULL, OPT_TIER},
    {"quota-dir", required_argument, NULL, OPT_QUOTA_DIR},
    {"no-wait-quota", no_argument, NULL, OPT_NO_WAIT_QUOTA},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"color", optional_argument, NULL, OPT_COLOR},
    {"no-color", no_argument, NULL, OPT_NO_COLOR},
    {NULL, 0, NULL, 0},
};

/* --color, --color=WHEN, --color WHEN (auto, always, never), --no-color. */
static int color_option(int opt, int argc, char **argv, enum display_color *color)
{
    static const char *const names[] = {"auto", "always", "never"};
    static const enum display_color modes[] = {DISPLAY_COLOR_AUTO, DISPLAY_COLOR_ALWAYS,
                                               DISPLAY_COLOR_NEVER};
    if (opt == OPT_NO_COLOR) {
        *color = DISPLAY_COLOR_NEVER;
        return 0;
    }
    const char *when = optarg;
    for (size_t i = 0; !when && optind < argc && i < ARRAY_SIZE(names); i++) {
        if (strcmp(argv[optind], names[i]) == 0)
            when = argv[optind++];
    }
    if (!when) {
        *color = DISPLAY_COLOR_ALWAYS;
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        if (strcmp(when, names[i]) == 0) {
            *color = modes[i];
            return 0;
        }
    }
    return -1;
}

static int parse(const char *cmd, int argc, char **argv, struct job_cli *jc,
                 enum display_color *color)
{
    optind = 1;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":qv", run_options, NULL)) != -1) {
        if (opt == ':')
            return cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
        if (opt == OPT_COLOR || opt == OPT_NO_COLOR) {
            if (color_option(opt, argc, argv, color) < 0)
                return cli_usage_error(cmd, "--color takes auto, always or never, got '%s'",
                                       optarg);
            continue;
        }
        int r = opt == '?' ? 0 : job_cli_option(jc, opt, optarg);
        if (r == 1)
            continue;
        if (r < 0)
            return cli_usage_error(cmd, "%s", job_cli_problem(opt, optarg));
        return cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
    }
    return 0;
}

/* Open the jobs, then run them all on one engine, the display following them. */
static int run_jobs(struct job_cli *jc, enum display_color color, char **dirs, size_t n_dirs)
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
    struct display_opts dopts = {.fd = STDERR_FILENO, .verbosity = jc->verbosity, .color = color};
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
    enum display_color color = DISPLAY_COLOR_AUTO;
    int rc = parse("run", argc, argv, &jc, &color);
    if (rc == 0) {
        if (optind >= argc)
            rc = cli_usage_error("run", "no job given: gemflow run JOB...");
        else if ((rc = cli_jobs_distinct("run", argv + optind, (size_t)(argc - optind))) == 0)
            rc = run_jobs(&jc, color, argv + optind, (size_t)(argc - optind));
    }
    job_cli_release(&jc);
    return rc;
}

int cmd_rerun(int argc, char **argv)
{
    struct job_cli jc = {0};
    enum display_color color = DISPLAY_COLOR_AUTO;
    int rc = parse("rerun", argc, argv, &jc, &color);
    if (rc == 0) {
        if (optind >= argc) {
            rc = cli_usage_error("rerun", "no job given: gemflow rerun JOB [STAGE...]");
        } else {
            jc.job.rerun = (const char *const *)argv + optind + 1;
            jc.job.n_rerun = (size_t)(argc - optind - 1);
            rc = run_jobs(&jc, color, argv + optind, 1);
        }
    }
    job_cli_release(&jc);
    return rc;
}
